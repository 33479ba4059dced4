"""``python -m yotta_async.cli``: the same as the ``yotta-async`` console script."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m yotta_async.testing``: serve the simulator as a process."""

from __future__ import annotations

import sys

from ._serve import main

if __name__ == "__main__":
    sys.exit(main())

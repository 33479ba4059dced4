"""The ``yotta-async`` command line: ``main()`` is the console script's entry point.

::

    yotta-async --simulate launch --count 20 --wait --then delete
    yotta-async pods list --status RUNNING --output json

Only the CLI uses rich, and only once something is drawn; the SDK never imports it.
"""

from ._main import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, main

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]

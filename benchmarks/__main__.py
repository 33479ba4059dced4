"""``python -m benchmarks``: run every benchmark and write ``benchmarks/RESULTS.md``."""

from benchmarks.run import main

if __name__ == "__main__":
    raise SystemExit(main())

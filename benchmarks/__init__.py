"""Benchmarks of yotta-async against the alternatives users would pick (run ``python -m benchmarks``)."""

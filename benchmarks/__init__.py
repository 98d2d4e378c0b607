"""Benchmarks: ``python -m benchmarks`` or ``watchfloor bench``; one JSON line each."""

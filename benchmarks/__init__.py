"""Benchmarks: ``python -m benchmarks [NAME…]`` (all without a name); one JSON line each.

They measure the app from outside: nothing under console/, widgets/ or engine/ imports them
(an import-linter contract in pyproject.toml).
"""

#!/usr/bin/env python3
"""Where the test suite's time goes, from a pytest JUnit XML report.

    scripts/check.sh --junitxml=/tmp/tests.xml
    .venv/bin/python scripts/test_durations.py /tmp/tests.xml [--top 40]

Prints the modules by total time (setup + call + teardown of their tests, so a module's
shared fixtures count in the first test that uses them) and the slowest single tests, as
the Markdown tables of tests/DURATIONS.md. Times are worker seconds: with N xdist workers
the wall time is about their sum / N."""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="a pytest --junitxml report")
    parser.add_argument("--top", type=int, default=30, help="rows per table (default 30)")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        parser.error(f"{args.report}: not a file")
    try:
        cases = list(ET.parse(args.report).getroot().iter("testcase"))
    except ET.ParseError as exc:
        parser.error(f"{args.report}: not a JUnit XML report ({exc})")
    if not cases:
        parser.error(f"{args.report}: no test cases in it")

    per_module: dict[str, float] = {}
    count: Counter[str] = Counter()
    tests: list[tuple[float, str]] = []
    for case in cases:
        module = case.get("classname", "?")
        seconds = float(case.get("time", "0") or 0)
        per_module[module] = per_module.get(module, 0.0) + seconds
        count[module] += 1
        tests.append((seconds, f"{module}::{case.get('name', '?')}"))
    total = sum(per_module.values())

    print(f"{len(cases)} tests, {total:.0f} worker seconds\n")
    print("| seconds | tests | cumulative | module |")
    print("|--------:|------:|-----------:|--------|")
    running = 0.0
    for module, seconds in sorted(per_module.items(), key=lambda m: -m[1])[: args.top]:
        running += seconds
        print(f"| {seconds:.1f} | {count[module]} | {running / total:.0%} | {module} |")
    print("\n| seconds | test |")
    print("|--------:|------|")
    for seconds, name in sorted(tests, reverse=True)[: args.top]:
        print(f"| {seconds:.1f} | {name} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

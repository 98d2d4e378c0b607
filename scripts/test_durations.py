#!/usr/bin/env python3
"""Where the test suite's time goes, from a pytest JUnit XML report.

    scripts/check.sh --junitxml=/tmp/tests.xml
    .venv/bin/python scripts/test_durations.py /tmp/tests.xml [--top 40]

Prints the modules by total time (setup + call + teardown of their tests, so a module's
shared fixtures count in the first test that uses them) and the slowest single tests, as
the Markdown tables of tests/DURATIONS.md. Times are worker seconds: with N xdist workers
the wall time is about their sum / N. Where the report has each test's CPU seconds (the
``cpu_s`` property tests/conftest.py records: the worker's threads and the child processes
it waited for), the tables show them too, and a table of the modules by CPU follows: when
the workers keep every core busy, the CPU is what a change must save."""

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
    cpu_module: dict[str, float] = {}
    count: Counter[str] = Counter()
    tests: list[tuple[float, float | None, str]] = []
    for case in cases:
        module = case.get("classname", "?")
        seconds = float(case.get("time", "0") or 0)
        cpu = _cpu_of(case)
        per_module[module] = per_module.get(module, 0.0) + seconds
        if cpu is not None:
            cpu_module[module] = cpu_module.get(module, 0.0) + cpu
        count[module] += 1
        tests.append((seconds, cpu, f"{module}::{case.get('name', '?')}"))
    with_cpu = bool(cpu_module)

    line = f"{len(cases)} tests, {sum(per_module.values()):.0f} worker seconds"
    print(line + (f", {sum(cpu_module.values()):.0f} CPU seconds\n" if with_cpu else "\n"))
    _module_table(per_module, cpu_module, count, args.top, by_cpu=False)
    print("\n| seconds |" + (" CPU s |" if with_cpu else "") + " test |")
    print("|--------:|" + ("------:|" if with_cpu else "") + "------|")
    for seconds, cpu, name in sorted(tests, key=lambda t: -t[0])[: args.top]:
        print(f"| {seconds:.1f} |" + (f" {_figure(cpu)} |" if with_cpu else "") + f" {name} |")
    if with_cpu:
        print()
        _module_table(cpu_module, per_module, count, args.top, by_cpu=True)
    return 0


def _cpu_of(case: ET.Element) -> float | None:
    for prop in case.iter("property"):
        if prop.get("name") == "cpu_s":
            try:
                return float(prop.get("value", ""))
            except ValueError:
                return None
    return None


def _figure(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.1f}"


def _module_table(
    first: dict[str, float],
    other: dict[str, float],
    count: Counter[str],
    top: int,
    *,
    by_cpu: bool,
) -> None:
    """Modules by ``first`` (worker seconds, or CPU seconds with ``by_cpu``), with the
    cumulative share of their sum and, when known, the other figure beside it."""
    shown = bool(other)
    total = sum(first.values())
    names = ("CPU s", "seconds") if by_cpu else ("seconds", "CPU s")
    print(
        f"| {names[0]} |" + (f" {names[1]} |" if shown else "") + " tests | cumulative | module |"
    )
    print("|--------:|" + ("------:|" if shown else "") + "------:|-----------:|--------|")
    running = 0.0
    for module, seconds in sorted(first.items(), key=lambda m: -m[1])[:top]:
        running += seconds
        beside = f" {_figure(other.get(module))} |" if shown else ""
        print(f"| {seconds:.1f} |{beside} {count[module]} | {running / total:.0%} | {module} |")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

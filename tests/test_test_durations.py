"""scripts/test_durations.py: the tables of tests/DURATIONS.md from a JUnit XML report, with
each test's CPU seconds where the report has them (tests/conftest.py records ``cpu_s``)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.a" name="test_busy" time="4.0">
  <properties><property name="cpu_s" value="3.500"/></properties></testcase>
<testcase classname="tests.a" name="test_waits" time="6.0">
  <properties><property name="cpu_s" value="0.250"/></properties></testcase>
<testcase classname="tests.b" name="test_heavy" time="2.0">
  <properties><property name="cpu_s" value="5.000"/></properties></testcase>
</testsuite></testsuites>
"""


def durations(report: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "test_durations.py"), str(report)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_modules_and_tests_by_time_with_their_cpu_and_modules_by_cpu(tmp_path: Path) -> None:
    report = tmp_path / "tests.xml"
    report.write_text(REPORT)
    out = durations(report)
    assert out.startswith("3 tests, 12 worker seconds, 9 CPU seconds")
    by_time, slowest, by_cpu = out.split("\n\n")[1:4]
    # Module a waited most; module b used the most CPU.
    assert by_time.splitlines()[2] == "| 10.0 | 3.8 | 2 | 83% | tests.a |"
    assert slowest.splitlines()[2] == "| 6.0 | 0.2 | tests.a::test_waits |"
    assert by_cpu.splitlines()[0].startswith("| CPU s | seconds |")
    assert by_cpu.splitlines()[2] == "| 5.0 | 2.0 | 1 | 57% | tests.b |"


def test_a_report_without_cpu_figures_has_the_time_tables_only(tmp_path: Path) -> None:
    report = tmp_path / "tests.xml"
    report.write_text(REPORT.replace('name="cpu_s"', 'name="other"'))
    out = durations(report)
    assert out.startswith("3 tests, 12 worker seconds\n")
    assert "CPU" not in out
    assert "| 10.0 | 2 | 83% | tests.a |" in out


def test_the_suite_records_each_tests_cpu_seconds(tmp_path: Path) -> None:
    """A run of one of this module's tests, as scripts/check.sh runs tests: its report
    carries the CPU seconds tests/conftest.py measured."""
    report = tmp_path / "run.xml"
    subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xvfb"),
            *("-n", "0", f"--junitxml={report}"),
            f"{Path(__file__).relative_to(REPO)}::test_a_report_without_cpu_figures_has_the_time_tables_only",
        ],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    (case,) = ET.parse(report).getroot().iter("testcase")
    (cpu,) = [p.get("value") for p in case.iter("property") if p.get("name") == "cpu_s"]
    assert cpu is not None and float(cpu) > 0
    assert durations(report).startswith("1 tests, ")

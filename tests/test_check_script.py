"""The README's test command (scripts/check.sh) must fail when a check fails: each lint and
type check line stops the script under its own `set -euo pipefail`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check.sh"
TOOLS = ("ruff", "mypy", "lint-imports")


def _check_lines() -> list[str]:
    return [
        line
        for line in SCRIPT.read_text(encoding="utf-8").splitlines()
        if line.startswith('echo "== ') and any(tool in line for tool in TOOLS)
    ]


def test_the_script_has_its_lint_and_type_check_lines() -> None:
    assert {tool for line in _check_lines() for tool in TOOLS if tool in line} == set(TOOLS)


@pytest.mark.parametrize("line", _check_lines())
def test_a_failing_check_stops_the_script(tmp_path: Path, line: str) -> None:
    for tool in TOOLS:  # every tool fails: whichever the line runs first must stop it
        stub = tmp_path / tool
        stub.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
        stub.chmod(0o755)
    script = f'set -euo pipefail\nlap() {{ :; }}\n{line}\necho "went on"\n'
    done = subprocess.run(
        ["bash", "-c", script],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0, line
    assert "went on" not in done.stdout, line

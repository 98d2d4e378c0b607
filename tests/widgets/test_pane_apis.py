"""Each pane's api module (widgets/<pane>/api.py) loads without Qt, so the console's backends
that satisfy it stay Qt-free (import-linter checks the imports; this checks run time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WIDGETS = Path(__file__).resolve().parents[2] / "widgets"
QT_PACKAGES = ("PySide6", "shiboken6", "pyqtgraph")


def pane_api_modules() -> list[str]:
    return sorted(f"widgets.{api.parent.name}.api" for api in WIDGETS.glob("*/api.py"))


def test_every_pane_package_has_an_api() -> None:
    panes = sorted(p.name for p in WIDGETS.iterdir() if (p / "__init__.py").is_file())
    assert panes, "no pane packages under widgets/"
    assert [f"widgets.{pane}.api" for pane in panes] == pane_api_modules()


def test_pane_apis_import_without_qt() -> None:
    modules = pane_api_modules()
    script = "\n".join(
        [
            "import importlib, sys",
            *(f"importlib.import_module({module!r})" for module in modules),
            f"qt = sorted(m for m in sys.modules if m.split('.')[0] in {QT_PACKAGES!r})",
            "print('\\n'.join(qt))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=WIDGETS.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [], f"{len(modules)} pane apis loaded Qt: {result.stdout}"

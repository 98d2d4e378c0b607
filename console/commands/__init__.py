"""Subcommands of ``watchfloor``: each module registers its parser and runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def emit_report(report: dict[str, Any], path: Path | None, as_json: bool) -> None:
    """Write ``report`` to ``path`` whole (temp file, then rename) and, with ``as_json``,
    print it on stdout as one line."""
    if path is not None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=2), encoding="utf-8")
        tmp.replace(path)
    if as_json:
        print(json.dumps(report))

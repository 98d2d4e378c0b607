"""MkDocs hooks (``hooks:`` in mkdocs.yml): regenerate the reference pages from the code
before each build, so ``mkdocs build`` and ``mkdocs serve`` always show this version's
command line, permissions and site-file keys."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

_GENERATOR = Path(__file__).resolve().parent / "gen_reference.py"


def on_pre_build(config: Any, **_: Any) -> None:
    spec = importlib.util.spec_from_file_location("watchfloor_docs_reference", _GENERATOR)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = generator  # its dataclasses look their module up
    spec.loader.exec_module(generator)
    generator.write_reference()


# A picture on a line of its own: ![alt](images/….jpg), optionally with {attributes}.
_PICTURE_LINE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<image>!\[[^\]]*\]\((?P<src>[^)\s]+)\))\s*$", re.M
)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Each screenshot on a line of its own links to itself, so a click shows it at full
    size: the console's pictures are 1400 px wide, the page's text column about 700."""
    return _PICTURE_LINE.sub(lambda m: f"{m['indent']}[{m['image']}]({m['src']})", markdown)

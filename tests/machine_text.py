"""What must never reach a person's eyes: machine text in an operator-visible string."""

from __future__ import annotations

import re

_PATTERNS = (
    ("a brace", re.compile(r"[{}]")),
    ("a list of mappings", re.compile(r"\[\{")),
    ("a quoted key", re.compile(r"'[a-z_]+'\s*:|\"[a-z_]+\"\s*:|'link'")),
    (
        "a dotted event kind",
        re.compile(
            r"\b(?:person|face|sensing|camera|gesture|speech|clip|media|retention|settings"
            r"|activity|alert|incident|system)\.[a-z_]+\b"
        ),
    ),
    ("an H3 cell index", re.compile(r"\b8[0-9a-f]{14}\b")),
    ("a float in exponent form", re.compile(r"\d[eE][+-]?\d")),
    ("a repr", re.compile(r"\b[A-Z][A-Za-z]+\([a-z_]+=")),
    ("an account label", re.compile(r"\baccount:[a-z]")),
    ("a microsecond ISO stamp", re.compile(r"\d{2}:\d{2}:\d{2}\.\d{4,}")),
)


def machine_text(text: str) -> str | None:
    """What kind of machine text ``text`` holds (None: none)."""
    for what, pattern in _PATTERNS:
        if pattern.search(text):
            return what
    return None

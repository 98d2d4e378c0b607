"""Text safe to show in a terminal: stored names and messages without control characters.

A name or message stored in the database may carry terminal escapes (a colour, a new
window title, a cursor move that overwrites earlier lines, a bell): set by hand, by an
older version that did not refuse them, or read from a file name on disk. Shown as they
are, the terminal obeys them. :func:`printable` removes them; :func:`control_character_at`
finds one so a new name can be refused.
"""

from __future__ import annotations

import re

# ECMA-48 escape sequences, in the 7-bit (ESC ...) and 8-bit (C1) forms:
_ESCAPE_SEQUENCE = re.compile(
    r"""
      (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]  # CSI: colours, cursor moves
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])                # OSC, DCS, SOS, PM, APC
      [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)                  # ... up to BEL or ST
    | \x1b [\x20-\x2f]* [\x30-\x7e]                          # any other ESC sequence
    """,
    re.VERBOSE,
)


def _is_control(code: int) -> bool:
    """C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F): Unicode category Cc."""
    return code < 0x20 or 0x7F <= code <= 0x9F


# Control characters that separate words (tab, newline, form feed, NEL...) become a space,
# so "Ann\nLee" reads "Ann Lee"; the others are removed. U+2028/U+2029 (line and
# paragraph separators) end a line in some terminals: a space too.
_CONTROL_TO_PRINTABLE: dict[int, str | None] = {
    code: (" " if chr(code).isspace() else None) for code in (*range(0x20), *range(0x7F, 0xA0))
} | {0x2028: " ", 0x2029: " "}
# Bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder what follows
# them, so a name could make the rest of a line read backwards: removed too.
_CONTROL_TO_PRINTABLE |= {code: None for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def printable(text: str) -> str:
    """``text`` as it may be shown in a terminal: ANSI/ECMA-48 escape sequences removed,
    control characters that separate words (tab, newline, carriage return...) turned
    into spaces and every other C0 or C1 control character removed. Letters, marks,
    punctuation and symbols of every script, emoji included, are kept as they are."""
    return _ESCAPE_SEQUENCE.sub("", text).translate(_CONTROL_TO_PRINTABLE)


def control_character_at(text: str) -> int | None:
    """The index of the first C0 or C1 control character (or DEL) in ``text``, or None
    when there is none."""
    for index, char in enumerate(text):
        if _is_control(ord(char)):
            return index
    return None

"""Text for the terminal: escape sequences and control characters never reach it."""

from __future__ import annotations

import pytest

from engine.text import control_character_at, printable


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("\x1b[31mMallory\x1b[0m", "Mallory"),  # colour (CSI)
        ("Ann\x07", "Ann"),  # bell
        ("\x1b]0;pwned\x07Bob", "Bob"),  # window title (OSC ... BEL)
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),  # hyperlink (OSC ... ST)
        ("Eve\x1b[2K\x1b[1A\rTrusted", "Eve Trusted"),  # erase line, cursor up, return
        ("\x9b31mC1\x9b0m", "C1"),  # the 8-bit CSI
        ("Ann\tLee\nSmith", "Ann Lee Smith"),  # tabs and newlines become spaces
        ("nul\x00del\x7f", "nuldel"),
        ("x\x1b", "x"),  # an escape cut short
        ("\u2028line", " line"),
    ],
)
def test_printable_removes_escapes_and_control_characters(stored: str, shown: str) -> None:
    assert printable(stored) == shown


@pytest.mark.parametrize(
    "text",
    [
        "Zoë Ødegård",
        "Владимир",
        "王秀英",
        "محمد",
        "José-María O'Neil",
        "👩‍👩‍👧 family",  # joined by zero-width joiners
        "50% [ok] ~#",
    ],
)
def test_printable_keeps_every_script_punctuation_and_emoji(text: str) -> None:
    assert printable(text) == text


def test_control_character_at_finds_the_first_one() -> None:
    assert control_character_at("Ann Lee") is None
    assert control_character_at("Ann\x1b[31m") == 3
    assert control_character_at("a\x85b") == 1  # C1 too
    assert control_character_at("Zoë 王") is None


def test_bidirectional_overrides_cannot_reorder_the_rest_of_a_line() -> None:
    assert printable("Ann\u202egnp.exe Lee\u2066x\u2069") == "Anngnp.exe Leex"

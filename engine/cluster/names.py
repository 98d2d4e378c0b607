"""Engine names of a shared site (no dependencies: the site file's parser checks them)."""

from __future__ import annotations

from typing import Final

ENGINE_NAME_MAX: Final = 64


def check_engine_name(name: str) -> str:
    """``name`` when it is a usable engine name (1–64 of letters, digits, ``-_.``), else
    ValueError saying what is wrong."""
    if not 1 <= len(name) <= ENGINE_NAME_MAX:
        raise ValueError(f"engine name: expected 1–{ENGINE_NAME_MAX} characters, got {len(name)}")
    bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "-_."))})
    if bad:
        raise ValueError(
            f"engine name {name!r}: only letters, digits, '-', '_' and '.' may be used "
            f"(not {' '.join(repr(c) for c in bad)})"
        )
    return name

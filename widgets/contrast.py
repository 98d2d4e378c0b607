"""How far apart two colours are for a reader: WCAG 2.x relative luminance and contrast ratio.

Pure functions over ``#rrggbb`` strings (or 0-255 RGB triples), no Qt, so the theme's test
can check every colour pair the theme declares and a view can check a colour it computes.
The thresholds are WCAG 2.2's level AA: 4.5:1 for body text, 3:1 for large text (18 pt, or
14 pt bold) and for what is not text but must be seen (an indicator's border, a focus ring,
a slider handle, a table's grid or selection).
"""

from __future__ import annotations

from typing import Final

AA_TEXT: Final = 4.5
"""WCAG AA minimum contrast ratio for body text."""

AA_LARGE_TEXT: Final = 3.0
"""WCAG AA minimum contrast ratio for large text (18 pt, or 14 pt bold)."""

AA_NON_TEXT: Final = 3.0
"""WCAG AA minimum contrast ratio for user-interface parts and graphics (1.4.11)."""

RGB = tuple[int, int, int]


def parse_hex(colour: str) -> RGB:
    """The 0-255 red, green and blue of ``#rgb`` or ``#rrggbb`` (case-insensitive).

    Raises ValueError naming the colour when it is neither.
    """
    text = colour.strip()
    digits = text[1:] if text.startswith("#") else ""
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    if len(digits) != 6 or any(d not in "0123456789abcdefABCDEF" for d in digits):
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _channel(value: int) -> float:
    """One sRGB channel (0-255) made linear (0.0-1.0), as WCAG 2.x defines it."""
    if not 0 <= value <= 255:
        raise ValueError(f"a colour channel runs 0 to 255, not {value}")
    c = value / 255.0
    # WCAG 2.x states 0.03928; the sRGB standard's 0.04045 gives the same result for 8-bit.
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str | RGB) -> float:
    """WCAG relative luminance of an opaque colour: 0.0 for black to 1.0 for white."""
    r, g, b = parse_hex(colour) if isinstance(colour, str) else colour
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str | RGB, second: str | RGB) -> float:
    """WCAG contrast ratio of two opaque colours, 1.0 (the same) to 21.0 (black on white).

    The order does not matter: the lighter colour is always the numerator.
    """
    a = relative_luminance(first)
    b = relative_luminance(second)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


def blend(top: str | RGB, alpha: float, bottom: str | RGB) -> RGB:
    """The opaque colour seen when ``top`` at opacity ``alpha`` (0.0-1.0) lies on ``bottom``.

    For see-through row backgrounds: contrast is only defined between opaque colours.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"an opacity runs 0.0 to 1.0, not {alpha}")
    t = parse_hex(top) if isinstance(top, str) else top
    b = parse_hex(bottom) if isinstance(bottom, str) else bottom
    r, g, bl = (round(alpha * x + (1.0 - alpha) * y) for x, y in zip(t, b, strict=True))
    return r, g, bl

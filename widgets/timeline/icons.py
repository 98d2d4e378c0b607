"""The replay bar's and the timeline's icons, drawn from the SVGs shipped in
``resources/icons/`` (bundled by build.spec).

The transport symbols (⏮ ⏭ ⏸) are not in the fonts a stock Debian desktop has, so as text
they showed as empty boxes; drawn paths need no font. Each SVG is rendered with QtSvg (an
explicit import, so a frozen build carries the module whatever its icon plugins) into
pixmaps of the usual tool-button sizes at the screen's pixel ratio.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from resources import RESOURCES_DIR

ICONS_DIR: Final = RESOURCES_DIR / "icons"
ICON_NAMES: Final = (
    "play",
    "pause",
    "frame-back",
    "frame-forward",
    "event-previous",
    "event-next",
)
_SIZES_PX: Final = (16, 20, 24, 32, 48)


def icon_path(name: str) -> Path:
    """The SVG of icon ``name`` (one of :data:`ICON_NAMES`)."""
    if name not in ICON_NAMES:
        raise ValueError(f"no icon named {name!r}; the icons are {', '.join(ICON_NAMES)}")
    return ICONS_DIR / f"{name}.svg"


@cache
def icon(name: str) -> QIcon:
    """Icon ``name`` (:data:`ICON_NAMES`) as a QIcon with pixmaps of 16–48 px at the
    screen's pixel ratio; a null icon when its SVG is missing or unreadable (the caller's
    button keeps its words). GUI thread, after the QApplication exists."""
    renderer = QSvgRenderer(str(icon_path(name)))
    made = QIcon()
    if not renderer.isValid():
        return made
    app = QGuiApplication.instance()
    ratio = app.devicePixelRatio() if isinstance(app, QGuiApplication) else 1.0
    for size in _SIZES_PX:
        pixels = max(1, round(size * ratio))
        pixmap = QPixmap(QSize(pixels, pixels))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        try:
            renderer.render(painter, QRectF(0, 0, pixels, pixels))
        finally:
            painter.end()
        pixmap.setDevicePixelRatio(ratio)
        made.addPixmap(pixmap)
    return made

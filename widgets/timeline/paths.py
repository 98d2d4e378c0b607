"""People's paths across senses drawn over the timeline's lanes.

A :class:`~engine.history.paths.PersonPath` is drawn as one line across the lanes it
crossed: a coloured bar per camera or sensing stretch on that camera's or room's lane
(``camera:<id>``, ``sensing:<room>``), consecutive bars joined by a thin connector, the
person's name (or "Someone unknown") on the first bar, and a device (BLE) stretch as a
thin underline below the bars it overlaps with the device's label in a small badge after
the path's last bar. A lane a path crosses grows a band under its markers for the bars (so
no marker is hidden under one); paths that overlap in time take different rows of the band
(:func:`assign_rows`), so two people in one room at once stay apart, and a path keeps its
row in every lane, so its connectors run straight down.

:func:`layout_paths` turns paths into :class:`PathBar` rectangles in the bands of the lanes
shown (pure geometry, cached by the pane with its static picture); :func:`paint_paths` draws
them, :func:`paint_path_outline` marks the hovered or selected path. GUI thread only.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen

from engine.history.paths import PersonPath, Stretch
from engine.history.timeline import CAMERA_PREFIX, SENSING_PREFIX
from engine.text import printable
from widgets.colours import CANVAS, MARK_WHITE, PATH_UNKNOWN
from widgets.colours import PATH_COLOURS as PATH_PALETTE

BAR_HEIGHT: Final = 14  # px: a name fits on the bar
BAR_MIN_WIDTH: Final = 3.0  # px: a stretch of a second in a week still shows
ROW_GAP: Final = 4  # px between the rows of a band (a device's underline runs in it)
BAND_PAD: Final = 2  # px above the first row and below the last
ROWS: Final = 3  # rows of a band: more paths at once than this share rows
LABEL_PAD: Final = 4  # px of bar left of the name
BADGE_GAP: Final = 4  # px between a path's last bar and its device badge
UNDERLINE_GAP: Final = 2.25  # px from a bar's bottom to its device underline (clear of an outline)

# Teal, lilac, green, orange, sky, pink (widgets.colours): dark text on each.
PATH_COLOURS: Final = tuple(QColor(colour) for colour in PATH_PALETTE)
UNKNOWN_COLOUR: Final = QColor(PATH_UNKNOWN)  # someone unknown: grey, never a person's colour
LABEL_INK: Final = QColor(CANVAS)
CONNECTOR_ALPHA: Final = 200
OUTLINE: Final = QColor(MARK_WHITE)


def lane_of(stretch: Stretch) -> str | None:
    """The timeline lane a stretch is drawn on (None: a device, drawn under the others)."""
    if stretch.sense == "camera":
        return f"{CAMERA_PREFIX}{stretch.source}"
    if stretch.sense == "sensing":
        return f"{SENSING_PREFIX}{stretch.source}"
    return None


def path_colour(path: PersonPath) -> QColor:
    """One colour per person, the same on every redraw (from their id or name); grey for
    someone nobody knows."""
    key = path.person_public_id or path.name
    if not key:
        return UNKNOWN_COLOUR
    return PATH_COLOURS[zlib.crc32(key.encode("utf-8")) % len(PATH_COLOURS)]


@dataclass(frozen=True, slots=True)
class PathBar:
    """One stretch of a path where it is drawn: the path's index in the pane's list, the
    stretch's index in the path, its lane and its rectangle on the canvas."""

    path: int
    stretch: int
    lane: str
    rect: QRectF


@dataclass(frozen=True, slots=True)
class DeviceMark:
    """A device stretch drawn under path ``path``'s bars: the underlines and the badge's
    anchor (the right end of the path's last bar, in its lane's row)."""

    path: int
    stretch: int
    underlines: tuple[QLineF, ...]
    anchor: QPointF
    label: str


@dataclass(frozen=True, slots=True)
class PathsLayout:
    """Everything drawn of the paths: bars in paint order, the device marks, and which
    row of its lanes each path took."""

    bars: tuple[PathBar, ...]
    devices: tuple[DeviceMark, ...]
    rows: tuple[int, ...]

    def bars_of(self, path: int) -> list[PathBar]:
        return [bar for bar in self.bars if bar.path == path]

    def bar_at(self, point: QPointF, slack: float = 2.0) -> PathBar | None:
        """The bar under ``point`` (``slack`` px around each), the topmost when several."""
        for bar in reversed(self.bars):
            if bar.rect.adjusted(-slack, -slack, slack, slack).contains(point):
                return bar
        return None


def band_height(rows: int) -> float:
    """The height of the band under a lane's markers holding ``rows`` rows of bars."""
    return 0.0 if rows <= 0 else rows * BAR_HEIGHT + (rows - 1) * ROW_GAP + 2 * BAND_PAD


def lanes_crossed(paths: Sequence[PersonPath]) -> set[str]:
    """The lanes ``paths`` have stretches on (each grows a band)."""
    return {lane for path in paths for s in path.stretches if (lane := lane_of(s)) is not None}


def assign_rows(paths: Sequence[PersonPath]) -> list[int]:
    """The row of its lanes each path takes: the first row whose last path has ended
    before this one starts, earliest paths first; past :data:`ROWS` rows paths share."""
    order = sorted(range(len(paths)), key=lambda i: (paths[i].start, paths[i].event_id))
    ends: list[float] = []
    rows = [0] * len(paths)
    for index in order:
        start = paths[index].start.timestamp()
        free = next((row for row, end in enumerate(ends) if end < start), None)
        if free is None:
            if len(ends) < ROWS:
                free = len(ends)
                ends.append(0.0)
            else:
                free = index % ROWS
        ends[free] = max(ends[free], paths[index].end.timestamp())
        rows[index] = free
    return rows


def layout_paths(
    paths: Sequence[PersonPath],
    rows: Sequence[int],
    band_rect: Callable[[str], QRectF | None],
    x_of: Callable[[float], float],
    plot: tuple[float, float],
) -> PathsLayout:
    """Where each path is drawn: ``rows`` the row of each path (:func:`assign_rows`),
    ``band_rect(name)`` a shown lane's band (None: not shown, its stretches are left out),
    ``x_of(seconds since the epoch)`` the canvas x of a time, ``plot`` the time area's left
    and right x."""
    left, right = plot
    bars: list[PathBar] = []
    devices: list[DeviceMark] = []
    for index, path in enumerate(paths):
        mine: list[PathBar] = []
        for number, stretch in enumerate(path.stretches):
            lane = lane_of(stretch)
            band = band_rect(lane) if lane is not None else None
            if lane is None or band is None:
                continue
            x0, x1 = x_of(stretch.start.timestamp()), x_of(stretch.end.timestamp())
            if x1 < left or x0 > right:
                continue
            x0, x1 = max(x0, left), min(x1, right)
            if x1 - x0 < BAR_MIN_WIDTH:
                middle = (x0 + x1) / 2
                x0, x1 = middle - BAR_MIN_WIDTH / 2, middle + BAR_MIN_WIDTH / 2
            y = band.top() + BAND_PAD + rows[index] * (BAR_HEIGHT + ROW_GAP)
            mine.append(PathBar(index, number, lane, QRectF(x0, y, x1 - x0, BAR_HEIGHT)))
        bars.extend(mine)
        if not mine:
            continue
        last = max(mine, key=lambda bar: bar.rect.right())
        for number, stretch in enumerate(path.stretches):
            if stretch.sense != "ble":
                continue
            x0 = max(x_of(stretch.start.timestamp()), left)
            x1 = min(x_of(stretch.end.timestamp()), right)
            underlines = tuple(
                QLineF(
                    max(x0, bar.rect.left()),
                    bar.rect.bottom() + UNDERLINE_GAP,
                    min(x1, bar.rect.right()),
                    bar.rect.bottom() + UNDERLINE_GAP,
                )
                for bar in mine
                if min(x1, bar.rect.right()) > max(x0, bar.rect.left())
            )
            if underlines:
                anchor = QPointF(last.rect.right() + BADGE_GAP, last.rect.center().y())
                devices.append(
                    DeviceMark(index, number, underlines, anchor, printable(stretch.label))
                )
    return PathsLayout(tuple(bars), tuple(devices), tuple(rows))


def connectors(bars: Sequence[PathBar]) -> list[QLineF]:
    """The thin lines joining one path's bars in time order: from where a bar is left
    (its end, or the next one's start while they overlap) to the next bar."""
    ordered = sorted(bars, key=lambda bar: (bar.rect.left(), bar.stretch))
    lines = []
    for before, after in pairwise(ordered):
        leave_x = min(before.rect.right(), after.rect.left())
        if before.lane == after.lane and before.rect.center().y() == after.rect.center().y():
            if after.rect.left() > before.rect.right():
                y = before.rect.center().y()
                lines.append(QLineF(before.rect.right(), y, after.rect.left(), y))
            continue
        y0 = before.rect.bottom() if after.rect.top() > before.rect.top() else before.rect.top()
        y1 = after.rect.top() if after.rect.top() > before.rect.top() else after.rect.bottom()
        lines.append(QLineF(leave_x, y0, max(leave_x, after.rect.left()), y1))
    return lines


def paint_paths(
    painter: QPainter,
    paths: Sequence[PersonPath],
    layout: PathsLayout,
    plot_right: float,
) -> None:
    """Draw every path of ``layout``: connectors under bars, bars, names, device marks."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont(painter.font())
    font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
    font.setBold(True)
    painter.setFont(font)
    metrics = QFontMetrics(font)
    for index, path in enumerate(paths):
        bars = layout.bars_of(index)
        if not bars:
            continue
        colour = path_colour(path)
        joint = QColor(colour)
        joint.setAlpha(CONNECTOR_ALPHA)
        painter.setPen(QPen(joint, 1.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLines(connectors(bars))
    for bar in layout.bars:
        colour = path_colour(paths[bar.path])
        painter.setPen(QPen(colour.darker(160), 1))
        painter.setBrush(colour)
        painter.drawRoundedRect(bar.rect, 3, 3)
    for index, path in enumerate(paths):
        bars = layout.bars_of(index)
        if bars:
            _paint_name(painter, metrics, path, bars, layout, plot_right)
    for mark in layout.devices:
        colour = path_colour(paths[mark.path])
        painter.setPen(
            QPen(colour.lighter(130), 1.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
        )
        painter.drawLines(list(mark.underlines))
        _paint_badge(painter, metrics, mark, colour, plot_right)
    painter.restore()


def name_place(
    name_width: float, bars: Sequence[PathBar], layout: PathsLayout, plot_right: float
) -> tuple[PathBar, QRectF]:
    """Where a path's name goes: on the earliest of its ``bars`` it fits on whole; else
    just after the earliest bar that leaves room for it before anything else drawn in that
    row; else on its widest bar, cut short with "…"."""
    ordered = sorted(bars, key=lambda bar: bar.rect.left())
    for bar in ordered:
        inside = bar.rect.adjusted(LABEL_PAD, 0, -2, 0)
        if name_width <= inside.width():
            return bar, inside
    for bar in ordered:
        tab = QRectF(bar.rect.right() + LABEL_PAD, bar.rect.top(), name_width, BAR_HEIGHT)
        clear = tab.adjusted(0, 0, BADGE_GAP, 0)
        if tab.right() <= plot_right and not any(
            other is not bar and other.rect.intersects(clear) for other in layout.bars
        ):
            return bar, tab
    widest = max(ordered, key=lambda bar: bar.rect.width())
    return widest, widest.rect.adjusted(LABEL_PAD, 0, -2, 0)


def _paint_name(
    painter: QPainter,
    metrics: QFontMetrics,
    path: PersonPath,
    bars: Sequence[PathBar],
    layout: PathsLayout,
    plot_right: float,
) -> None:
    """The person's name on their bar, or after a narrow one in their colour (text only:
    a filled tab would read as a longer stretch)."""
    name = printable(path.label)
    bar, box = name_place(metrics.horizontalAdvance(name), bars, layout, plot_right)
    if box.left() >= bar.rect.right():
        painter.setPen(path_colour(path))
        painter.drawText(box, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
        return
    text = metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(box.width()))
    painter.setPen(LABEL_INK)
    painter.drawText(box, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)


def _paint_badge(
    painter: QPainter, metrics: QFontMetrics, mark: DeviceMark, colour: QColor, right: float
) -> None:
    """The device's label in an outlined pill after the path's last bar (left out when it
    would run past the time area)."""
    text = mark.label
    width = metrics.horizontalAdvance(text) + 2 * LABEL_PAD
    height = metrics.height() + 2
    box = QRectF(mark.anchor.x(), mark.anchor.y() - height / 2, width, height)
    if box.right() > right:
        return
    painter.setPen(QPen(colour, 1))
    painter.setBrush(QColor(13, 17, 23, 220))
    painter.drawRoundedRect(box, height / 2, height / 2)
    painter.setPen(colour.lighter(115))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def paint_path_outline(painter: QPainter, layout: PathsLayout, path: int, width: float) -> None:
    """Outline path ``path``'s bars and connectors in white (hovered: thin, selected:
    thicker), so one person's path stands out of the others."""
    bars = layout.bars_of(path)
    if not bars:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(OUTLINE, width))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for bar in bars:  # on the bar's edge, leaving its device underline in view
        painter.drawRoundedRect(bar.rect, 3, 3)
    painter.setPen(QPen(OUTLINE, max(1.0, width - 0.5)))
    painter.drawLines(connectors(bars))
    painter.restore()

"""The replay bar's icons: drawn from the SVGs in resources/icons (stock Debian fonts have
no ⏮/⏭/⏸ glyphs, which showed as empty boxes), bundled by build.spec, and on the bar's
buttons."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from widgets.timeline.icons import ICON_NAMES, ICONS_DIR, icon, icon_path
from widgets.timeline.replay_bar import ReplayBar

ROOT = Path(__file__).resolve().parents[2]


def opaque_share(image: QImage) -> float:
    """The share of an image's pixels that are not fully transparent."""
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    seen = sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if image.pixelColor(x, y).alpha() > 0
    )
    return seen / (image.width() * image.height())


@pytest.mark.parametrize("name", ICON_NAMES)
def test_every_icon_loads_and_draws_something(qtbot: QtBot, name: str) -> None:
    drawn = icon(name)
    assert not drawn.isNull()
    image = drawn.pixmap(QSize(24, 24)).toImage()
    assert not image.isNull()
    # A symbol, not an empty or a filled square.
    assert 0.1 < opaque_share(image) < 0.8, name


def test_icons_differ_and_unknown_names_are_refused(qtbot: QtBot) -> None:
    images = {name: icon(name).pixmap(QSize(24, 24)).toImage() for name in ICON_NAMES}
    for name, image in images.items():
        others = [other for other in ICON_NAMES if other != name]
        assert all(image != images[other] for other in others), name
    with pytest.raises(ValueError, match="no icon named 'rewind'"):
        icon_path("rewind")


def test_the_frozen_build_bundles_the_icons() -> None:
    spec = (ROOT / "build.spec").read_text(encoding="utf-8")
    # The line that ships resources/icons/*.svg under resources/icons in the bundle.
    assert '(str(p), "resources/icons") for p in sorted((ROOT / "resources" / "icons")' in spec
    assert ICONS_DIR == ROOT / "resources" / "icons"
    for name in ICON_NAMES:
        assert icon_path(name).parent == ICONS_DIR and icon_path(name).suffix == ".svg"
        assert icon_path(name).is_file()


def test_the_replay_bar_shows_the_icons_not_glyphs(qtbot: QtBot) -> None:
    bar = ReplayBar()
    qtbot.addWidget(bar)
    bar.show()
    buttons = (
        bar.play_button,
        bar.step_back_button,
        bar.step_forward_button,
        bar.previous_event_button,
        bar.next_event_button,
    )
    for button in buttons:
        assert not button.icon().isNull(), button.toolTip()
        assert not any(glyph in button.text() for glyph in "⏮⏭⏸▶◀"), button.text()
    playing_icon = bar.play_button.icon().pixmap(QSize(24, 24)).toImage()
    bar.set_playing(True)
    assert bar.play_button.icon().pixmap(QSize(24, 24)).toImage() != playing_icon
    assert bar.play_button.text() == "Pause"
    # The buttons render something where the icon is (not an empty box).
    grabbed = bar.play_button.grab().toImage()
    assert not grabbed.isNull() and grabbed.width() > 0

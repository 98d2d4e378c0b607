"""The Introductions pane follows the site's cameras while the console runs: a file may be
fed as an added camera's microphone, offers, names given and microphones name a renamed
camera by its new name, and a removed camera is no longer offered to feed as while its
offers and names given keep its last name."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.bus import EventBus
from engine.introductions import NameOffered
from tests.widgets.test_activity_follows_cameras import CallsAtOnce, site_cameras_changed
from widgets.introductions import plugin as introductions_plugin
from widgets.introductions.api import GivenName
from widgets.introductions.view import GIVEN_CAMERA, IntroductionsPane

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
OFFER = NameOffered(
    at=T0,
    offer_id=3,
    camera="gate",
    name="John",
    transcript="hi I'm John",
    track_id=None,
    person_id=None,
    current_name=None,
    given=False,
    detail="Heard “John”.",
)


class _Introductions:
    def offers(self) -> list[NameOffered]:
        return [OFFER]

    def recent_names(self) -> list[GivenName]:
        return [GivenName(T0, "gate", "p-1", "Ada", None, "account:olga")]


def _feedable(pane: IntroductionsPane) -> list[tuple[str, str]]:
    combo = pane.camera_combo
    return [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]


def test_introductions_feed_as_an_added_camera_and_name_cameras_as_they_are_now(
    qtbot: QtBot,
) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    queries = CallsAtOnce()
    ctx = SimpleNamespace(
        name="introductions",
        cameras=[("gate", "Front gate"), ("yard", "Yard")],
        site=SimpleNamespace(cameras=[]),  # no microphones to open
        queries=queries,
        backend=_Introductions(),
        events=bridge,
        actor=None,
        dedicated_queries=lambda _workers: queries,
        set_pane_title=lambda *_: None,
        show_message=lambda *_: None,
    )
    try:
        pane = introductions_plugin.build(ctx)  # type: ignore[arg-type]
        assert isinstance(pane, IntroductionsPane)
        qtbot.addWidget(pane)
        pane.refresh()
        pane.on_microphone_status_changed("gate", True, "listening")
        row = pane.offer_row(OFFER.offer_id)
        assert row is not None and "Front gate" in row.heading_label.text()
        assert pane.given_text(0, GIVEN_CAMERA) == "Front gate"
        pane.camera_combo.setCurrentIndex(pane.camera_combo.findData("yard"))

        site_cameras_changed(
            qtbot,
            bus,
            bridge,
            ctx,
            [("gate", "Main gate"), ("yard", "Yard"), ("dock", "Loading dock")],
            added=("dock",),
            renamed=("gate",),
        )
        assert _feedable(pane) == [
            ("gate", "Main gate"),
            ("yard", "Yard"),
            ("dock", "Loading dock"),
        ]
        assert pane.camera_combo.currentData() == "yard"  # the choice stays
        assert "Main gate" in row.heading_label.text()
        assert "Main gate" in row.give_button.toolTip()  # nobody tracked on it
        assert pane.given_text(0, GIVEN_CAMERA) == "Main gate"
        assert pane.microphone_text("gate") == "Main gate: listening"

        site_cameras_changed(
            qtbot, bus, bridge, ctx, [("dock", "Loading dock")], removed=("gate", "yard")
        )
        assert _feedable(pane) == [("dock", "Loading dock")]
        assert "Main gate" in row.heading_label.text()  # its last name
        assert pane.given_text(0, GIVEN_CAMERA) == "Main gate"

        site_cameras_changed(qtbot, bus, bridge, ctx, [], removed=("dock",))
        assert _feedable(pane) == [] and not pane.camera_combo.isEnabled()
        assert pane.no_cameras_label.isVisibleTo(pane)
    finally:
        bridge.close()

"""The Activity pane follows the site's cameras while the console runs: an added camera is
listed, a renamed one is named by its new name, and a removed one keeps its last name on
its counts while it has events in the hour (then leaves the list).

``site_cameras_changed`` is shared by the other panes' ``*_follows_cameras`` tests: the
engine's event published on a real bus, delivered to the GUI thread by the console's
bridge after the host has its new cameras (as ``console/pane_host.py`` does)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from pytestqt.qtbot import QtBot

from console.bridge import QtBridge
from engine.bus import EventBus
from engine.history.query_service import CallRequest, QueryRequest, QueryResult
from engine.site_reload import SiteCamerasChanged
from widgets.activity import plugin as activity_plugin
from widgets.activity.view import ActivityPane

T0 = datetime(2026, 3, 29, 9, 0, tzinfo=UTC)


def site_cameras_changed(
    qtbot: QtBot,
    bus: EventBus,
    bridge: QtBridge,
    ctx: SimpleNamespace,
    cameras: list[tuple[str, str]],
    *,
    added: tuple[str, ...] = (),
    removed: tuple[str, ...] = (),
    renamed: tuple[str, ...] = (),
) -> None:
    """The site's cameras are now ``cameras``: the host's list changes, then the engine's
    event reaches the panes' handlers on the GUI thread."""
    ctx.cameras = list(cameras)
    with qtbot.waitSignal(bridge.signal_of(SiteCamerasChanged)):
        bus.publish(
            SiteCamerasChanged(
                at=datetime.now(UTC), added=added, removed=removed, changed=(), renamed=renamed
            )
        )


class CallsAtOnce:
    """A query client answering before ``submit`` returns: a call (``CallRequest``) or an
    action is run; another read is answered from ``answers`` by its request's type (left
    unanswered when it has none there). The requests are recorded."""

    def __init__(self, answers: dict[type, object] | None = None) -> None:
        self.answers = dict(answers or {})
        self.asked: list[QueryRequest[Any]] = []

    def submit(self, channel: str, request: QueryRequest[Any], on_done: Callable[..., None]) -> int:
        self.asked.append(request)
        if isinstance(request, CallRequest):
            on_done(QueryResult(channel, request, 1, value=request.call()))
        elif type(request) in self.answers:
            on_done(QueryResult(channel, request, 1, value=self.answers[type(request)]))
        return 1

    def submit_action(
        self, channel: str, action: Callable[[], Any], on_done: Callable[..., None], **_: Any
    ) -> int:
        request = CallRequest(action)
        on_done(QueryResult(channel, request, 1, value=action()))
        return 1


@dataclass(frozen=True)
class Stored:
    id: int
    ts: datetime
    kind: str
    source: str
    camera: str | None


def test_activity_lists_an_added_camera_renames_and_keeps_a_removed_one_while_it_counts(
    qtbot: QtBot,
) -> None:
    bus = EventBus()
    bridge = QtBridge(bus)
    now = [T0]
    ctx = SimpleNamespace(
        cameras=[("gate", "Front gate"), ("yard", "Yard")],
        rooms=[("lab", "Lab")],
        queries=CallsAtOnce(),  # the history read at start: not answered
        events=bridge,
        now=lambda: now[0],
    )
    try:
        pane = activity_plugin.build(ctx)  # type: ignore[arg-type]
        assert isinstance(pane, ActivityPane)
        qtbot.addWidget(pane)
        pane.on_events_stored([Stored(1, T0, "person.appeared", "camera:gate", "gate")])
        assert [row.name for row in pane.rows()] == ["Front gate", "Yard", "Lab"]

        site_cameras_changed(
            qtbot,
            bus,
            bridge,
            ctx,
            [("yard", "Back yard"), ("dock", "Loading dock")],
            added=("dock",),
            removed=("gate",),
            renamed=("yard",),
        )
        rows = pane.rows()
        assert [(row.key, row.name) for row in rows] == [
            ("yard", "Back yard"),
            ("dock", "Loading dock"),
            ("sensing:lab", "Lab"),
            ("gate", "Front gate"),  # its person this hour, under its last name
        ]
        assert rows[-1].counts[0] == 1 and rows[1].counts == (0, 0, 0, 0, 0)

        # The new camera's events count on its row; the removed one leaves once quiet.
        pane.on_events_stored([Stored(2, T0, "person.appeared", "camera:dock", "dock")])
        assert pane.rows()[1].counts[0] == 1
        now[0] = T0 + timedelta(minutes=61)
        pane.show_counts()
        assert [row.name for row in pane.rows()] == ["Back yard", "Loading dock", "Lab"]
    finally:
        bridge.close()

"""The Sensing pane's declaration: its title, who is offered it, its place in each layout,
and how it is built and linked (live snapshots, the live blob explanation, pairing, the
room's recording failing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.events import MediaWriteFailed, MediaWriteRecovered
from engine.fusion.service import FusionUpdated
from engine.history.query_service import QueryResult
from engine.sensing.service import SensingUpdated
from engine.sitetime import display
from engine.text import printable
from engine.wording import counted
from widgets.pane import RIGHT, Layout, PaneContext, PaneSpec, Place
from widgets.sensing.api import SensingActions
from widgets.sensing.view import SensingPane

ROOM_KEY = "sensing/room"  # the room last chosen in the room selector at this desk


def build(ctx: PaneContext) -> QWidget:
    actions: SensingActions = ctx.backend
    pane = SensingPane()
    pane.set_rooms(actions.rooms())
    pane.select_room(str(ctx.settings.value(ROOM_KEY, "") or ""))  # kept from last time
    pane.pairing_unavailable = actions.pairing_unavailable()
    pane.set_pairing_allowed(False)
    # Backends written before consoles could attach do not say: their room runs here.
    runs_elsewhere = getattr(actions, "runs_elsewhere", lambda room_id=None: "")
    pane.set_live_room_elsewhere(runs_elsewhere(pane.current_room_id))

    def room_selected(room_id: str) -> None:
        ctx.settings.setValue(ROOM_KEY, room_id)
        pane.set_live_room_elsewhere(runs_elsewhere(room_id))  # each room's own engine

    def explain(room_id: str, track_id: int) -> None:
        if pane.replaying:  # a replayed blob is the replay's to explain
            return
        elsewhere = runs_elsewhere(room_id)  # memory only: which engine holds the room now
        if elsewhere:
            pane.set_live_room_elsewhere(elsewhere)
            pane.set_explanation_elsewhere(room_id, track_id)
        else:
            pane.set_explanation(actions.explain(room_id, track_id))

    def opened(result: QueryResult[Any]) -> None:
        if result.error is not None or not isinstance(result.value, datetime):
            ctx.show_message(f"Pairing not opened: {printable(str(result.error))}")
        else:
            ctx.show_message(f"Node pairing open until {display().clock(result.value)}", 10_000)

    def open_pairing(room_id: str, seconds: int) -> None:
        if ctx.actor is not None:
            ctx.queries.submit_action(
                "sensing-pairing", lambda: actions.open_pairing(seconds, room_id), opened
            )

    def recording_changed(event: MediaWriteFailed | MediaWriteRecovered) -> None:
        if event.room is not None:  # a camera's clips are the Cameras pane's
            pane.set_recording_problem(event.room, recording_problem(event))

    pane.sig_blob_clicked.connect(explain)
    pane.sig_pairing_requested.connect(open_pairing)
    pane.sig_room_selected.connect(room_selected)
    ctx.events.on(SensingUpdated, lambda event: pane.set_snapshot(event.snapshot))

    def fused(update: FusionUpdated) -> None:
        pane.set_fused_names(
            {room_id: update.names_on("sensing", room_id) for room_id in pane.room_ids}
        )
        pane.set_tags_inside({room_id: update.tags_inside(room_id) for room_id in pane.room_ids})

    ctx.events.on(FusionUpdated, fused)
    ctx.events.on(MediaWriteFailed, recording_changed)
    ctx.events.on(MediaWriteRecovered, recording_changed)
    return pane


def recording_problem(event: MediaWriteFailed | MediaWriteRecovered) -> str | None:
    """What the Sensing pane says about a room's recording: why it is failing and what was
    lost so far, or None once it is written again."""
    if isinstance(event, MediaWriteRecovered):
        return None
    reason = printable(event.reason)
    if not event.lost:
        return f"Recording failing: {reason} (kept in memory to retry; nothing lost yet)"
    return f"Recording failing: {reason} ({counted(event.lost, 'record')} lost)"


PANE = PaneSpec(
    name="sensing",
    title="Sensing",
    permission=Permission.WATCH,
    build=build,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events"),
        Layout.INVESTIGATOR: Place(RIGHT, onto="people", hidden=True),
        Layout.ADMIN: Place(RIGHT, width=2, height=1),
    },
)

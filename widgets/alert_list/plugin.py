"""The Alert list pane's declaration: its title, who is offered it, its place in each
layout, and how it is built and linked (kept current by the engine's alerts; a clip plays
in the Events pane)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.alerts.service import AlertChanged, AlertRaised, SequenceAdded
from widgets.alert_list.view import AlertListPane
from widgets.events.view import EventHistoryPane
from widgets.pane import LEFT, RIGHT, Layout, PaneContext, PaneSpec, Place, other_pane


def build(ctx: PaneContext) -> QWidget:
    pane = AlertListPane(ctx.queries, ctx.backend)
    for kind in (AlertRaised, AlertChanged, SequenceAdded):
        ctx.events.on(kind, lambda _event: pane.on_alerts_changed())
    pane.refresh()
    return pane


def link(widget: QWidget, ctx: PaneContext) -> None:
    events = other_pane(ctx, "events", EventHistoryPane)
    if isinstance(widget, AlertListPane) and events is not None:
        widget.sig_clip_requested.connect(lambda path: events.play_clip(Path(path)))
        widget.sig_clip_requested.connect(lambda _path: ctx.show_pane("events"))


PANE = PaneSpec(
    name="alert_list",
    title="Alert list",
    permission=Permission.WATCH,
    build=build,
    link=link,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="alerts"),
        Layout.INVESTIGATOR: Place(LEFT, onto="events"),
        Layout.ADMIN: Place(RIGHT, onto="events"),
    },
)

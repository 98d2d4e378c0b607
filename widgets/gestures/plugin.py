"""The Gestures page's declaration: its title and who is offered it (a page of the
administration window), and how it is built and linked (usage counts follow detections)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.history.events import EventsStored, EventView
from engine.site_reload import SiteCamerasChanged
from widgets.gestures.view import GesturesPane
from widgets.pane import Home, PaneContext, PaneSpec


def build(ctx: PaneContext) -> QWidget:
    pane = GesturesPane(ctx.queries, ctx.backend, cameras=ctx.cameras)

    def stored(views: Sequence[EventView]) -> None:
        # The usage columns: the detection was counted by a command the writer took before
        # the detection's row (the bus serves GestureDetected's own subscribers before
        # Event's), so the count is committed by now.
        if pane.isVisible() and any(view.kind == "gesture.detected" for view in views):
            pane.refresh()

    ctx.events.on(EventsStored, lambda event: stored(event.views))
    # Cameras added, removed or renamed while the console runs.
    ctx.events.on(SiteCamerasChanged, lambda _event: pane.set_cameras(ctx.cameras))
    # A recording underway stops before the workers close.
    ctx.when_closing(before_workers_stop=pane.close_dialogs)
    return pane


PANE = PaneSpec(
    name="gestures",
    title="Gestures",
    permission=Permission.MANAGE_GESTURES,
    build=build,
    home=Home.ADMIN,
)

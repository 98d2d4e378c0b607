"""The Timeline pane's declaration: its title, who is offered it, its place in each
layout, and how it is built (the timeline with its replay bar and export button) and linked
(it replays into the camera tiles and the sensing view)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from widgets.cameras.view import CameraGrid
from widgets.pane import LEFT, Layout, PaneContext, PaneSpec, Place, other_pane
from widgets.sensing.view import SensingPane
from widgets.timeline.investigation import InvestigationPane


def build(ctx: PaneContext) -> QWidget:
    pane = InvestigationPane(
        ctx.queries,
        ctx.backend,
        cameras=ctx.cameras,
        rooms=ctx.room_ids,
        room_names=ctx.rooms,
        media_root=ctx.media_root,
        fetch_recording=ctx.fetch_recording,
    )
    ctx.when_closing(after_workers_stop=pane.shut_down)
    return pane


def link(widget: QWidget, ctx: PaneContext) -> None:
    grid = other_pane(ctx, "cameras", CameraGrid)
    if isinstance(widget, InvestigationPane) and grid is not None:
        widget.attach(grid, other_pane(ctx, "sensing", SensingPane))


PANE = PaneSpec(
    name="timeline",
    title="Timeline",
    permission=Permission.REPLAY,
    build=build,
    link=link,
    places={
        Layout.OPERATOR: Place(LEFT, hidden=True),
        Layout.INVESTIGATOR: Place(LEFT, height=1),
        Layout.ADMIN: Place(LEFT, hidden=True),
    },
)

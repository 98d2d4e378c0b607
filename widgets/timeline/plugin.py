"""The Timeline pane's declaration: its title, who is offered it, its place in each
layout, and how it is built (the timeline with its replay bar and export button) and linked
(it replays into the camera tiles and the sensing view)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.site_reload import SiteCamerasChanged
from widgets.cameras.view import CameraGrid
from widgets.pane import LEFT, Layout, PaneContext, PaneSpec, Place, other_pane
from widgets.sensing.view import SensingPane
from widgets.timeline.investigation import InvestigationPane


def build(ctx: PaneContext) -> QWidget:
    # The pane keeps this list (the export dialog offers its cameras): changed in place.
    cameras = ctx.cameras
    pane = InvestigationPane(
        ctx.queries,
        ctx.backend,
        cameras=cameras,
        rooms=ctx.room_ids,
        room_names=ctx.rooms,
        media_root=ctx.media_root,
        fetch_recording=ctx.fetch_recording,
        now=ctx.now,
    )
    ctx.when_closing(after_workers_stop=pane.shut_down)

    def cameras_changed(_event: SiteCamerasChanged) -> None:
        """Cameras added, removed or renamed while the console runs: lanes are named by
        the cameras' names now (a removed camera's lane keeps its last name), and an export
        opened from now on offers the site's cameras as they are."""
        cameras[:] = ctx.cameras
        pane.timeline.set_names(dict(cameras))

    ctx.events.on(SiteCamerasChanged, cameras_changed)
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

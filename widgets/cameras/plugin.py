"""The Cameras pane's declaration: its title, who is offered it, its place in each layout,
and how it is built (one live tile per camera, the tile count this desk chose) and linked
(camera status, recording failures)."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.config import SourceKind
from engine.events import CameraStatusChanged, MediaWriteFailed, MediaWriteRecovered
from engine.fusion.service import FusionUpdated
from engine.site_reload import SiteCamerasChanged
from widgets.cameras.api import TILE_COUNTS, CameraFeed
from widgets.cameras.view import CameraGrid
from widgets.pane import LEFT, RIGHT, Layout, PaneContext, PaneSpec, Place

TILES_KEY = "grid/tiles"  # this desk's choice, whoever logs in


def build(ctx: PaneContext) -> QWidget:
    # A context made before consoles could attach has no ``camera_engine``: its cameras
    # run in this console.
    engine_of = getattr(ctx, "camera_engine", None)
    video_state = getattr(ctx, "camera_video_state", None)
    # Nor a camera's main stream at full size (a context made before streams by role).
    main_frame_of = getattr(ctx, "main_frame_of", None)
    watch_main = getattr(ctx, "watch_main", None)

    def feeds() -> list[CameraFeed]:
        simulated = {cam.id for cam in ctx.site.cameras if cam.kind is SourceKind.SIMULATED}
        return [
            CameraFeed(
                cam_id,
                name,
                partial(ctx.frame_of, cam_id),
                None if engine_of is None else partial(engine_of, cam_id),
                None if video_state is None else partial(video_state, cam_id),
                simulated=cam_id in simulated,
                main_getter=None if main_frame_of is None else partial(main_frame_of, cam_id),
                watch_main=None if watch_main is None else partial(watch_main, cam_id),
            )
            for cam_id, name in ctx.cameras
        ]

    grid = CameraGrid(
        feeds(),
        empty_hint=("Add a camera in Administration → Cameras, or with `watchfloor cameras add`"),
    )
    # Cameras the site file added or removed while the console runs.
    ctx.events.on(SiteCamerasChanged, lambda _event: grid.set_feeds(feeds()))
    tiles = int(str(ctx.settings.value(TILES_KEY, 0) or 0))
    if tiles in TILE_COUNTS:
        grid.choose_tile_count(tiles)

    def tile_count_changed(count: int) -> None:
        if not grid.fits_cameras:  # the operator's choice, not the count fitting the cameras
            ctx.settings.setValue(TILES_KEY, count)

    grid.sig_tile_count_changed.connect(tile_count_changed)

    def status_changed(event: CameraStatusChanged) -> None:
        grid.on_camera_status_changed(event.camera_id, event.status, event.detail, event.since)

    ctx.events.on(CameraStatusChanged, status_changed)

    def recording_changed(event: MediaWriteFailed | MediaWriteRecovered) -> None:
        if event.camera is not None:  # a sensing room's recording is the Sensing pane's
            grid.on_recording_changed(event.camera, recording_problem(event))

    ctx.events.on(MediaWriteFailed, recording_changed)
    ctx.events.on(MediaWriteRecovered, recording_changed)
    ctx.events.on(
        FusionUpdated,
        lambda update: grid.on_fused_names(
            {cam_id: update.names_on("camera", cam_id) for cam_id, _ in ctx.cameras}
        ),
    )
    return grid


def recording_problem(event: MediaWriteFailed | MediaWriteRecovered) -> str | None:
    """What the tile says about a camera's recording: why it is failing and what was
    lost so far, or None once clips and snapshots are written again. Losses after a
    spell's first are published at most once a minute, so the count is a floor ("at
    least"); the status bar's recording light has the running count."""
    if isinstance(event, MediaWriteRecovered):
        return None
    lost = f"at least {event.lost} file{'s' if event.lost != 1 else ''} lost"
    return f"Recording failing: {event.reason} ({lost})"


PANE = PaneSpec(
    name="cameras",
    title="Cameras",
    permission=Permission.WATCH,
    build=build,
    places={
        Layout.OPERATOR: Place(LEFT, width=5),
        Layout.INVESTIGATOR: Place(RIGHT, width=2, height=1),
        Layout.ADMIN: Place(LEFT, width=3),
    },
)

"""The Floor calibration page's declaration: its title and who is offered it (a page of the
administration window, for whoever may configure cameras), and how it is built (a still of
the camera's newest frame to click on)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from widgets.camera_picture import newest_pictures
from widgets.floor_calibration.view import FloorCalibrationPane
from widgets.pane import Home, PaneContext, PaneSpec


def build(ctx: PaneContext) -> QWidget:
    return FloorCalibrationPane(
        ctx.queries,
        ctx.backend,
        cameras=[(camera.id, camera.name) for camera in ctx.site.cameras],
        site=ctx.site,
        frame_of=newest_pictures(ctx),
        no_picture_reason=ctx.camera_video_state,
    )


PANE = PaneSpec(
    name="floor_calibration",
    title="Floor calibration",
    permission=Permission.CONFIGURE_CAMERAS,
    build=build,
    home=Home.ADMIN,
)

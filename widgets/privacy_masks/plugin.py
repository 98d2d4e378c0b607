"""The Privacy masks page's declaration: its title and who is offered it (a page of the
administration window, for whoever may configure cameras), and how it is built (a still of
the camera's newest frame to draw on)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from widgets.camera_picture import newest_pictures
from widgets.pane import Home, PaneContext, PaneSpec
from widgets.privacy_masks.view import PrivacyMasksPane


def build(ctx: PaneContext) -> QWidget:
    # The pictures are already masked: the page shows what the engine sees.
    return PrivacyMasksPane(
        ctx.queries,
        ctx.backend,
        cameras=[(camera.id, camera.name) for camera in ctx.site.cameras],
        frame_of=newest_pictures(ctx),
        no_picture_reason=ctx.camera_video_state,
    )


PANE = PaneSpec(
    name="privacy_masks",
    title="Privacy masks",
    permission=Permission.CONFIGURE_CAMERAS,
    build=build,
    home=Home.ADMIN,
)

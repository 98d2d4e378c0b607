"""The Privacy masks page's declaration: its title and who is offered it (a page of the
administration window, for whoever may configure cameras), and how it is built (a still of
the camera's newest frame to draw on)."""

from __future__ import annotations

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from engine.access import Permission
from widgets.pane import Home, PaneContext, PaneSpec
from widgets.privacy_masks.view import PrivacyMasksPane


def build(ctx: PaneContext) -> QWidget:
    def latest_picture(camera: str) -> QImage | None:
        """The camera's newest decoded frame, copied (in memory: no I/O). Already masked:
        the page shows what the engine sees."""
        frame = ctx.frame_of(camera)
        if frame is None:
            return None
        image = frame.image
        height, width = image.shape[:2]
        return QImage(
            image.data, width, height, image.strides[0], QImage.Format.Format_BGR888
        ).copy()

    return PrivacyMasksPane(
        ctx.queries,
        ctx.backend,
        cameras=[(camera.id, camera.name) for camera in ctx.site.cameras],
        frame_of=latest_picture,
        no_picture_reason=ctx.camera_video_state,
    )


PANE = PaneSpec(
    name="privacy_masks",
    title="Privacy masks",
    permission=Permission.CONFIGURE_CAMERAS,
    build=build,
    home=Home.ADMIN,
)

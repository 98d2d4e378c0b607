"""The Privacy masks page's declaration: its title and who is offered it (a page of the
administration window, for whoever may configure cameras), and how it is built (a still of
the camera's newest frame to draw on)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.site_reload import SiteCamerasChanged
from widgets.camera_picture import newest_pictures
from widgets.pane import Home, PaneContext, PaneSpec
from widgets.privacy_masks.view import PrivacyMasksPane


def build(ctx: PaneContext) -> QWidget:
    # The pictures are already masked: the page shows what the engine sees.
    pane = PrivacyMasksPane(
        ctx.queries,
        ctx.backend,
        cameras=_cameras(ctx),
        frame_of=newest_pictures(ctx),
        no_picture_reason=ctx.camera_video_state,
    )
    # Cameras added, removed or renamed while the console runs (the site is the new one).
    ctx.events.on(SiteCamerasChanged, lambda _event: pane.set_cameras(_cameras(ctx)))
    return pane


def _cameras(ctx: PaneContext) -> list[tuple[str, str]]:
    return [(camera.id, camera.name) for camera in ctx.site.cameras]


PANE = PaneSpec(
    name="privacy_masks",
    title="Privacy masks",
    permission=Permission.CONFIGURE_CAMERAS,
    build=build,
    home=Home.ADMIN,
)

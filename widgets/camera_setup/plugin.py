"""The Cameras page's declaration: its title and who is offered it (a page of the
administration window, for whoever may configure cameras), and how it is built."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.events import CameraStatusChanged
from engine.site_reload import SiteCamerasChanged
from widgets.camera_setup.view import CameraSetupPane
from widgets.pane import Home, PaneContext, PaneSpec


def build(ctx: PaneContext) -> QWidget:
    pane = CameraSetupPane(ctx.queries, ctx.backend)  # console/backends/camera_setup.py
    # The file changed (here, by the CLI or by hand) and the engine took it: list it anew.
    ctx.events.on(SiteCamerasChanged, lambda _event: pane.refresh())
    # A camera went online, offline, …: its row's state follows at once.
    ctx.events.on(CameraStatusChanged, lambda _event: pane.on_camera_status_changed())
    return pane


PANE = PaneSpec(
    name="camera_setup",
    title="Cameras",
    permission=Permission.CONFIGURE_CAMERAS,
    build=build,
    home=Home.ADMIN,
)

"""The Site page's declaration: its title and who is offered it (a page of the
administration window), and how it is built and kept current (camera status)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.events import CameraStatusChanged
from engine.site_reload import SiteCamerasChanged
from widgets.pane import Home, PaneContext, PaneSpec
from widgets.site.view import SiteOverview


def build(ctx: PaneContext) -> QWidget:
    overview = SiteOverview(ctx.site)

    def status_changed(event: CameraStatusChanged) -> None:
        overview.on_camera_status_changed(event.camera_id, event.status, event.detail)

    ctx.events.on(CameraStatusChanged, status_changed)
    # Cameras added, removed or renamed while the console runs (the site is the new one).
    ctx.events.on(SiteCamerasChanged, lambda _event: overview.set_cameras(ctx.site))
    return overview


PANE = PaneSpec(
    name="site", title="Site", permission=Permission.WATCH, build=build, home=Home.ADMIN
)

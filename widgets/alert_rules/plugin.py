"""The Alert rules page's declaration: its title and who is offered it (a page of the
administration window), and how it is built (zones drawn on a camera's latest frame)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.site_reload import SiteCamerasChanged
from widgets.alert_rules.view import AlertRulesPane
from widgets.camera_picture import newest_pictures
from widgets.pane import Home, PaneContext, PaneSpec


def build(ctx: PaneContext) -> QWidget:
    pane = AlertRulesPane(
        ctx.queries,
        ctx.backend,
        cameras=ctx.cameras,
        rooms=ctx.rooms,
        frame_of=newest_pictures(ctx),
        camera_offline_s=ctx.site.alerts.camera_offline_s,
    )
    pane.refresh()
    # Cameras added, removed or renamed while the console runs.
    ctx.events.on(SiteCamerasChanged, lambda _event: pane.set_cameras(ctx.cameras))
    return pane


PANE = PaneSpec(
    name="alert_rules",
    title="Alert rules",
    permission=Permission.CONFIGURE_RULES,
    build=build,
    home=Home.ADMIN,
)

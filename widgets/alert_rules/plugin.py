"""The Alert rules page's declaration: its title and who is offered it (a page of the
administration window), and how it is built (zones drawn on a camera's latest frame)."""

from __future__ import annotations

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from engine.access import Permission
from widgets.alert_rules.view import AlertRulesPane
from widgets.pane import Home, PaneContext, PaneSpec


def build(ctx: PaneContext) -> QWidget:
    def latest_picture(camera: str) -> QImage | None:
        """The camera's newest decoded frame, copied (in memory: no I/O)."""
        frame = ctx.frame_of(camera)
        if frame is None:
            return None
        image = frame.image
        height, width = image.shape[:2]
        return QImage(
            image.data, width, height, image.strides[0], QImage.Format.Format_BGR888
        ).copy()

    pane = AlertRulesPane(
        ctx.queries, ctx.backend, cameras=ctx.cameras, rooms=ctx.rooms, frame_of=latest_picture
    )
    pane.refresh()
    return pane


PANE = PaneSpec(
    name="alert_rules",
    title="Alert rules",
    permission=Permission.CONFIGURE_RULES,
    build=build,
    home=Home.ADMIN,
)

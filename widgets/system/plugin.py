"""The System and settings page's declaration: its title and who is offered it (a page of the
administration window), and how it is built."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from widgets.pane import Home, PaneContext, PaneSpec
from widgets.system.view import SystemPane


def build(ctx: PaneContext) -> QWidget:
    actions = ctx.backend  # console/backends/system.py
    pane = SystemPane(
        ctx.queries,
        actions.status_request,
        actions.run_retention_now,
        actions.change_setting,
        tiers_request=actions.recording_tiers_request,
        change_tiers=actions.change_recording_tiers,
    )
    pane.sig_settings_saved.connect(ctx.settings_changed)
    return pane


PANE = PaneSpec(
    name="system",
    title="System and settings",
    permission=Permission.WATCH,
    build=build,
    home=Home.ADMIN,
)

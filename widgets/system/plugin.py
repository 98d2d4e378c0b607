"""The System and settings page's declaration: its title and who is offered it (a page of the
administration window)."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import Home, PaneSpec

PANE = PaneSpec(
    name="system", title="System and settings", permission=Permission.WATCH, home=Home.ADMIN
)

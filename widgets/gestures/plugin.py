"""The Gestures page's declaration: its title and who is offered it (a page of the
administration window)."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import Home, PaneSpec

PANE = PaneSpec(
    name="gestures", title="Gestures", permission=Permission.MANAGE_GESTURES, home=Home.ADMIN
)

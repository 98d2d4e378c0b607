"""The Alert rules page's declaration: its title and who is offered it (a page of the
administration window)."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import Home, PaneSpec

PANE = PaneSpec(
    name="alert_rules", title="Alert rules", permission=Permission.CONFIGURE_RULES, home=Home.ADMIN
)

"""The Site page's declaration: its title and who is offered it (a page of the
administration window)."""

from __future__ import annotations

from engine.access import Permission
from widgets.pane import Home, PaneSpec

PANE = PaneSpec(name="site", title="Site", permission=Permission.WATCH, home=Home.ADMIN)

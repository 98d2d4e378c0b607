"""The Accounts page's declaration: its title and who is offered it (a page of the
administration window), and how it is built (read when its page is shown)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from widgets.accounts.view import AccountsPane
from widgets.pane import Home, PaneContext, PaneSpec


def build(ctx: PaneContext) -> QWidget:
    pane = AccountsPane(ctx.queries, ctx.backend, now=ctx.now)
    pane.sig_account_changed.connect(ctx.account_changed)
    return pane


PANE = PaneSpec(
    name="accounts",
    title="Accounts",
    permission=Permission.MANAGE_ACCOUNTS,
    build=build,
    home=Home.ADMIN,
)

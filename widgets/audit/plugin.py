"""The Audit trail page's declaration: its title and who is offered it (a page of the
administration window), and how it is built (read when its page is shown)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from widgets.audit.view import AuditPane
from widgets.pane import Home, PaneContext, PaneSpec


def build(ctx: PaneContext) -> QWidget:
    actions = ctx.backend  # the console session: the audit trail as the person logged in
    return AuditPane(ctx.queries, actions.list_audit, actions.verify_audit)


PANE = PaneSpec(
    name="audit",
    title="Audit trail",
    permission=Permission.READ_AUDIT,
    build=build,
    home=Home.ADMIN,
)

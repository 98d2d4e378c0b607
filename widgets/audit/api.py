"""The two reads the Audit page is handed (:data:`ListAudit`, :data:`VerifyAudit`).

No Qt here (``import widgets.audit.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.audit_records import AuditRecord, AuditVerification

ListAudit = Callable[[int, int | None, str | None, str | None], list[AuditRecord]]
"""(limit, before seq or None, actor or None, action or None) -> entries, newest first."""


VerifyAudit = Callable[[], AuditVerification]

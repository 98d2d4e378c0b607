"""The one export use case the console and the CLI both run: refusals come before a byte is
written and are audited, whoever asked (the console's export used to refuse without a word
in the audit trail, while the CLI audited its refusals)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.access import Actor, PermissionDeniedError
from engine.clock import REAL_CLOCK
from engine.history.export_case import EvidenceDesk, ExportRequest
from engine.sitetime import UTC_TIME
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR


def request(folder: Path, lock: str | None) -> ExportRequest:
    end = datetime.now(UTC)
    return ExportRequest(end - timedelta(minutes=5), end, None, None, folder, lock_reason=lock)


@pytest.mark.parametrize("lock", [None, "case 17"], ids=["without a lock", "with a lock"])
def test_a_refused_export_writes_nothing_and_is_audited(
    store: Store, tmp_path: Path, lock: str | None
) -> None:
    actor: Actor = OPERATOR  # an operator watches; exporting is the investigators'
    folder = tmp_path / "out"
    with StoreWriter.running(store) as writer:
        desk = EvidenceDesk(store, writer, REAL_CLOCK, tmp_path, tmp_path, UTC_TIME)
        with pytest.raises(PermissionDeniedError):
            desk.export(actor, request(folder, lock), via="console")
    assert not folder.exists()
    entries = AuditListRequest(reader=ADMIN, action="evidence.export").run(store)
    assert [(e.actor, e.outcome, e.detail) for e in entries] == [
        (actor.label, "denied", {"needs": "export", "via": "console"})
    ]

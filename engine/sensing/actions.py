"""A sensing room's use cases: opening its pairing window for new nodes. The console's
backends call them; each names the permission it needs (the store writer checks it and
audits). Each blocks on the store writer: call it off the GUI thread."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from engine.access import Actor, Permission, needs
from engine.clock import Clock
from engine.sensing.records import OpenNodePairing
from engine.sensing.service import SensingService
from engine.store.writer import StoreWriter


@needs(Permission.CONFIGURE_NODES)
def open_pairing(
    services: Mapping[str, SensingService],
    writer: StoreWriter | None,
    clock: Clock,
    actor: Actor,
    seconds: float,
    room_id: str | None = None,
) -> datetime:
    """Open sensing room ``room_id``'s pairing window (None: the only room of ``services``,
    the rooms running in this engine) for ``seconds`` as ``actor``: audited by the store
    writer first; raises :class:`~engine.access.PermissionDeniedError`, or ``RuntimeError``
    when that room does not run here (or, with None, when several do)."""
    if room_id is None and len(services) > 1:
        raise RuntimeError(
            f"this engine runs {len(services)} sensing rooms: say which one to pair in"
        )
    sensing = services.get(room_id) if room_id is not None else next(iter(services.values()), None)
    if sensing is None or writer is None:
        if room_id is None:
            raise RuntimeError("this site has no running sensing room")
        raise RuntimeError(f"sensing room {room_id} does not run in this engine")
    writer.execute(
        OpenNodePairing(room=sensing.room.room_id, seconds=seconds, at=clock.now(), actor=actor)
    )
    return sensing.open_pairing(seconds)

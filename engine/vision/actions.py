"""The cameras' use cases: setting a camera's privacy mask. The console's backends call
it; it names the permission it needs (the store writer checks it and audits). It blocks on
the store writer: call it off the GUI thread."""

from __future__ import annotations

from engine.access import Actor, Permission, needs
from engine.clock import Clock
from engine.store.writer import StoreWriter
from engine.vision.host import PrivacyMasks
from engine.vision.privacy import PrivacyMask, SetPrivacyMasks


@needs(Permission.CONFIGURE_CAMERAS)
def set_privacy_mask(
    masks: PrivacyMasks,
    writer: StoreWriter | None,
    site_id: int | None,
    clock: Clock,
    camera: str,
    mask: PrivacyMask,
    actor: Actor,
) -> PrivacyMask:
    """Store ``mask`` for ``camera`` as ``actor`` (audited as ``camera.mask``; no areas
    clears it) and apply it from the camera's next frame on, without a restart (``masks``:
    the running engine's). Raises :class:`~engine.vision.privacy.PrivacyMaskError` for an
    unknown camera, :class:`~engine.access.PermissionDeniedError` for an actor who may not."""
    if writer is None or site_id is None:
        raise RuntimeError("no database: a privacy mask cannot be stored")
    with masks.lock:
        stored: PrivacyMask = writer.execute(
            SetPrivacyMasks(site_id=site_id, camera=camera, mask=mask, at=clock.now(), actor=actor)
        )
        masks.apply(camera, stored)
    return stored

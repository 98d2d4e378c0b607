"""What the Privacy masks page asks of the console (:class:`PrivacyMaskActions`).

No Qt here (``import widgets.privacy_masks.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from typing import Protocol

from engine.vision.privacy import PrivacyMask, StoredPrivacyMask


class PrivacyMaskActions(Protocol):
    """What the page asks of the console. Every call blocks (a store read, a wait on the
    store writer): the page runs them off the GUI thread."""

    def stored_mask(self, camera: str) -> StoredPrivacyMask | None:
        """Camera ``camera``'s stored privacy mask (its key), or None when nothing is
        masked."""
        ...

    def save_mask(self, camera: str, mask: PrivacyMask) -> StoredPrivacyMask | None:
        """Store ``mask`` for ``camera`` as the person logged in (the engine checks the
        configure-cameras permission and audits it) and apply it to the running camera at
        once; a mask without areas clears it. Returns it as stored (None: cleared)."""
        ...

"""What the Cameras page asks of the console (:class:`CameraSetupActions`) and what it is
told of each camera (:class:`CameraRow`).

No Qt here (``import widgets.camera_setup.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.vision.onvif import DiscoveredDevice, OnvifDevice
from engine.vision.probe import StreamProbe
from engine.vision.setup import CameraChange, CameraChangeDone


@dataclass(frozen=True, slots=True)
class CameraRow:
    """One camera of the site file as the page lists it: ``url`` with any password shown
    as ``***``; ``user`` the URL's user name (""); ``password`` where its password comes
    from ("" none, ``keyring``, ``env``, ``url``) and ``password_env`` the variable;
    ``state`` and ``detail`` what the running engine says of it (``disabled``: switched
    off in the file; ``not running``: this console's engine does not run it);
    ``picture`` its live size and frame rate in words ("" unknown)."""

    id: str
    name: str
    url: str
    user: str
    enabled: bool
    continuous: bool
    password: str
    password_env: str | None
    state: str
    detail: str
    picture: str
    sub_url: str | None = None  # the analysed sub stream ("" / None: one stream)


@dataclass(frozen=True, slots=True)
class CameraList:
    """The site file's cameras (file order), and the file they are in."""

    file: str
    cameras: tuple[CameraRow, ...]
    changes_followed: bool  # this console's engine starts and stops cameras as the file says
    read_only: str = ""  # why the file is not changed here ("": it may be)


class CameraSetupActions(Protocol):
    """What the page asks of the console. Every call blocks (the site file, a probe of a
    camera over the network, the store writer): the page runs them off the GUI thread."""

    def cameras(self) -> CameraList:
        """The site file's cameras, read now, with the running engine's word on each."""
        ...

    def probe(self, url: str, password: str | None, password_env: str | None) -> StreamProbe:
        """What ``url`` gives over a few seconds (codec, size, frame rate, bitrate, a
        snapshot), with the password typed (``password``) or read from the environment
        variable ``password_env``; raises :class:`~engine.vision.probe.ProbeError`."""
        ...

    def change(self, change: CameraChange) -> CameraChangeDone:
        """Carry out ``change`` as the person logged in (the configure-cameras permission;
        audited) and have the running engine take it at once. Raises
        :class:`~engine.vision.setup.CameraChangeError` (nothing saved)."""
        ...

    def discover(self) -> list[DiscoveredDevice]:
        """The ONVIF cameras that answer WS-Discovery on the local network within a few
        seconds; raises :class:`~engine.vision.onvif.OnvifError` when none can be asked."""
        ...

    def read_onvif(
        self, address: str, user: str | None, password: str | None, password_env: str | None
    ) -> OnvifDevice:
        """The ONVIF camera at ``address`` read with its user and password (typed, or from
        the environment variable ``password_env``): maker, model and media profiles with
        their stream addresses; raises :class:`~engine.vision.onvif.OnvifError`."""
        ...

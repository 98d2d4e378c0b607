"""What the Cameras page may do, bound to the running engine: list the site file's cameras
with the engine's word on each, probe a URL, and add, change or remove a camera through
the same use case as ``watchfloor cameras add | edit | remove``
(:func:`engine.vision.setup.change_camera`), as the person logged in. The engine then takes
the change at once (:meth:`~engine.runtime.EngineRuntime.reload_site_file`).

Every method blocks (the site file, a probe over the network, the store writer): the
console runs them on the query service's workers, never on the GUI thread.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from console.session import ConsoleSession
from engine.config import CameraConfig, load_site
from engine.runtime import EngineRuntime
from engine.vision.onvif import (
    MULTICAST_GROUP,
    DiscoveredDevice,
    OnvifDevice,
    OnvifError,
    discover,
    read_device,
)
from engine.vision.probe import ProbeError, StreamProbe, probe_with_password
from engine.vision.setup import CameraChange, CameraChangeDone, built_in_site, change_camera
from widgets.camera_setup.api import CameraList, CameraRow

STATE_WORDS = {
    "starting": "starting",
    "online": "online",
    "offline": "offline",
    "error": "cannot be opened",
    "no_footage": "no footage",
    "stopped": "stopped",
}


class CameraSetupBackend:
    """Satisfies :class:`widgets.camera_setup.api.CameraSetupActions`."""

    def __init__(self, runtime: EngineRuntime, session: ConsoleSession) -> None:
        self._runtime = runtime
        self._session = session
        # Where WS-Discovery asks: the local network's multicast group (a test adds the
        # unicast address of its camera).
        self.discovery_targets: tuple[tuple[str, int], ...] = (MULTICAST_GROUP,)

    def cameras(self) -> CameraList:
        rt = self._runtime
        site = load_site(rt.site.file)  # as the file says now (a SiteConfigError says why)
        sources = rt.cameras.sources
        rows = []
        for camera in (*site.cameras, *site.disabled_cameras):
            state, detail, picture = "not running", "", ""
            source = sources.get(camera.id)
            if not camera.enabled:
                state = "disabled"
            elif rt.attached:
                state, detail = "run by the site's engines", ""
            elif source is not None:
                status, detail, _since = source.status
                state = STATE_WORDS.get(status.value, status.value)
                frame = source.slot.latest()
                if frame is not None:
                    height, width = frame.image.shape[:2]
                    picture = f"{width}×{height}"
                    if frame.source_fps > 0:
                        picture += f" at {frame.source_fps:.1f} fps"
            rows.append(
                CameraRow(
                    id=camera.id,
                    name=camera.name,
                    url=camera.url,
                    user=_user(camera),
                    enabled=camera.enabled,
                    continuous=site.recording_of(camera.id).continuous,
                    password=_password_source(camera),
                    password_env=camera.secret.env if camera.secret is not None else None,
                    state=state,
                    detail=detail,
                    picture=picture,
                    sub_url=camera.sub_url,
                )
            )
        return CameraList(
            str(site.file),
            tuple(rows),
            rt.site_follower is not None,
            read_only=built_in_site(site.file),
        )

    def probe(self, url: str, password: str | None, password_env: str | None) -> StreamProbe:
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise ProbeError(
                    f"${password_env} is not set in this console's environment: the engine "
                    "reads the camera's password from it",
                    "password_needed",
                )
        return probe_with_password(url, password or None)

    def discover(self) -> list[DiscoveredDevice]:
        self._session.require_actor("discover cameras")
        return discover(targets=self.discovery_targets)

    def read_onvif(
        self, address: str, user: str | None, password: str | None, password_env: str | None
    ) -> OnvifDevice:
        self._session.require_actor("read a camera")
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise OnvifError(
                    f"${password_env} is not set in this console's environment: the engine "
                    "reads the camera's password from it"
                )
        return read_device(address, user or None, password or None)

    def change(self, change: CameraChange) -> CameraChangeDone:
        actor = self._session.require_actor("configure cameras")
        rt = self._runtime
        writer = rt.writer
        if writer is None:
            raise RuntimeError("the engine runs without a database")
        if rt.attached:
            raise RuntimeError(
                "this console is attached to a shared site: change cameras in the site file "
                "of the site's engines (`watchfloor cameras add` there)"
            )
        done = change_camera(rt.site.file, change, actor, writer.execute, rt.clock)
        rt.reload_site_file()  # the cameras start and stop now, not within 2 s
        return done


def _user(camera: CameraConfig) -> str:
    try:
        return urlsplit(camera.url).username or ""
    except ValueError:
        return ""


def _password_source(camera: CameraConfig) -> str:
    secret = camera.secret
    if secret is None:
        return ""
    if secret.env is not None:
        return "env"
    if secret.keyring_service is not None:
        return "keyring"
    return "url"

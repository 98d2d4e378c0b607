"""A real ONVIF camera for tests, written by others: ipycam's (PyPI ``ipycam``, test-only,
installed by ``scripts/bootstrap.sh --dev``) ONVIF device and media service
(``ONVIFService`` behind its ``IPCameraHTTPHandler``) and its WS-Discovery responder
(``WSDiscoveryServer``), on 127.0.0.1 on ports the system picks.

Only the ONVIF side runs: no video is encoded (the stream addresses it gives lead nowhere).
ipycam's responder binds UDP port 3702 on every interface; here it binds a port the
system picks (its ``MULTICAST_PORT`` class attribute, on a subclass) so tests on
pytest-xdist workers do not fight over 3702 or answer each other's probes: a test sends
its Probe there by unicast (multicast may not be routed in a sandbox).
With ``user`` and ``password`` the camera checks each SOAP request's WS-Security
UsernameToken (PasswordDigest, Created within 5 minutes) and answers 401 otherwise.
"""

from __future__ import annotations

import http.server
import threading
from types import SimpleNamespace, TracebackType
from typing import Any


class OnvifCamera:
    """The camera as a context manager: ``device_url`` is its device service,
    ``discovery_port`` the UDP port its WS-Discovery responder answers on."""

    def __init__(
        self,
        *,
        name: str = "Loading Dock",
        user: str = "",
        password: str = "",
        manufacturer: str = "PythonCam",
        model: str = "VirtualCam-1",
        main: tuple[int, int, int] = (1920, 1080, 25),
        sub: tuple[int, int, int] = (640, 360, 15),
    ) -> None:
        from ipycam import CameraConfig

        self.config = CameraConfig(
            name=name,
            manufacturer=manufacturer,
            model=model,
            local_ip="127.0.0.1",
            username=user,
            password=password,
            main_width=main[0],
            main_height=main[1],
            main_fps=main[2],
            sub_width=sub[0],
            sub_height=sub[1],
            sub_fps=sub[2],
        )
        self._http: http.server.ThreadingHTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self._discovery: Any = None
        self._discovery_port: int | None = None

    @property
    def port(self) -> int:
        return int(self.config.onvif_port)

    @property
    def device_url(self) -> str:
        return str(self.config.onvif_url)

    @property
    def discovery_port(self) -> int:
        assert self._discovery_port is not None, "the camera is not running"
        return self._discovery_port

    @property
    def endpoint(self) -> str:
        return str(self.onvif.device_uuid)

    def __enter__(self) -> OnvifCamera:
        from ipycam import IPCameraHTTPHandler, ONVIFService, WSDiscoveryServer

        self.onvif = ONVIFService(self.config, None)
        # ipycam's handler reads its camera from a class attribute: one subclass per camera.
        handler = type(
            "OnvifCameraHandler",
            (IPCameraHTTPHandler,),
            {"camera": SimpleNamespace(onvif=self.onvif, config=self.config)},
        )
        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._http.daemon_threads = True
        self.config.onvif_port = self._http.server_address[1]
        self._http_thread = threading.Thread(
            target=self._http.serve_forever, name="onvif-camera-http", daemon=True
        )
        self._http_thread.start()
        responder = type("AnyPortDiscovery", (WSDiscoveryServer,), {"MULTICAST_PORT": 0})
        self._discovery = responder(self.onvif)
        self._discovery_port = int(self._discovery.sock.getsockname()[1])
        # Its Hello (and Bye) go to port 0 and fail with a logged warning: no matter.
        self._discovery.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._discovery is not None:
            self._discovery.stop()
            self._discovery.join(timeout=10)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._http_thread is not None:
            self._http_thread.join(timeout=10)

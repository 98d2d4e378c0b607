"""A real RTSP camera for tests: GStreamer's RTSP server (Debian's gir1.2-gst-rtsp-server-1.0,
run under the system Python) serving H.264 MP4 files as a camera's streams, each mount a
file (``--stream main=/path/main.mp4 --stream sub=/path/sub.mp4``) sent from its start to
each client at its own rate (a real-time stream; it ends with the file), with basic
authentication when ``RTSP_CAMERA_PASSWORD`` is set (user ``--user``).

Run by :class:`RtspCamera` (a context manager) from the tests; it prints ``READY <port>``
once it listens and ends when its stdin closes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

SCRIPT = Path(__file__)


def has_rtsp_server(python: str) -> bool:
    probe = (
        "import gi; gi.require_version('GstRtspServer', '1.0'); "
        "from gi.repository import GstRtspServer"
    )
    try:
        return subprocess.run([python, "-c", probe], capture_output=True).returncode == 0
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RtspCamera:
    """The server above as a context manager: ``url(mount)`` is where a stream is served."""

    def __init__(
        self,
        python: str,
        streams: Mapping[str, Path],
        *,
        user: str = "viewer",
        password: str | None = None,
    ) -> None:
        self.port = free_port()
        self.user = user
        self._password = password
        self._command = [python, str(SCRIPT), "--port", str(self.port), "--user", user]
        for mount, path in streams.items():
            self._command += ["--stream", f"{mount}={path}"]
        self._process: subprocess.Popen[str] | None = None

    def url(self, mount: str, *, password: str | None = None) -> str:
        credentials = f"{self.user}:{password}@" if password is not None else ""
        return f"rtsp://{credentials}127.0.0.1:{self.port}/{mount}"

    def __enter__(self) -> RtspCamera:
        env = dict(os.environ)
        env.pop("RTSP_CAMERA_PASSWORD", None)
        if self._password is not None:
            env["RTSP_CAMERA_PASSWORD"] = self._password
        self._process = subprocess.Popen(
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert self._process.stdout is not None
        ready: list[str] = []
        reader = threading.Thread(
            target=lambda: ready.append(self._process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(30)
        line = ready[0].strip() if ready else ""
        if not line.startswith("READY"):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the RTSP camera did not start: {line or 'no answer'}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def main() -> int:  # pragma: no cover - runs under the system Python
    import argparse

    import gi  # type: ignore[import-not-found]

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer  # type: ignore[import-not-found]

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--stream", action="append", default=[])
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    password = os.environ.get("RTSP_CAMERA_PASSWORD")
    role = "viewer"
    if password is not None:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", role)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, password), token)
        server.set_auth(auth)
    mounts = server.get_mount_points()
    for stream in args.stream:
        mount, path = stream.split("=", 1)
        factory = GstRtspServer.RTSPMediaFactory()
        # A pipeline per client (not shared), paced by the file's timestamps.
        factory.set_launch(
            f'( filesrc location="{path}" ! qtdemux ! h264parse config-interval=-1 '
            "! rtph264pay name=pay0 pt=96 )"
        )
        if password is not None:
            factory.add_role_from_structure(
                Gst.Structure.from_string(
                    f"{role}, media.factory.access=(boolean)true, "
                    "media.factory.construct=(boolean)true"
                )[0]
            )
        mounts.add_factory(f"/{mount}", factory)
    if server.attach(None) == 0:
        print(f"ERROR cannot listen on {args.port}", flush=True)
        return 1
    loop = GLib.MainLoop()

    def watch_stdin() -> None:
        sys.stdin.read()
        loop.quit()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"READY {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

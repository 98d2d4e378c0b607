"""A real RTSP camera sending MPEG-TS over RTP (``rtpmp2tpay``), as some encoders and NVRs
do: GStreamer's RTSP server (as in tests/rtsp_camera.py) sending an MP4 file's H.264 video,
and with ``--audio`` its AAC audio too. Its SDP says only "MP2T": the video's codec and
picture size are in the transport stream itself, and with audio they come after the
audio's first packets, so a client that reads one packet to open it does not know the
picture size yet.

:func:`camera` gives a :class:`tests.rtsp_camera.RtspCamera` running this script
(``--stream name=/path/file.mp4``, no password).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the server side runs under the system Python, without the tests
    from tests.rtsp_camera import RtspCamera

SCRIPT = Path(__file__)


def camera(python: str, streams: Mapping[str, Path], *, audio: bool) -> RtspCamera:
    """An :class:`~tests.rtsp_camera.RtspCamera` (a context manager) serving ``streams``
    (mount → MP4 file with H.264 video, and AAC audio when ``audio``) as MPEG-TS over RTP."""
    from tests.rtsp_camera import RtspCamera

    served = RtspCamera(python, streams)
    served._command[1] = str(SCRIPT)  # the same server and arguments, this pipeline
    if audio:
        served._command.append("--audio")
    return served


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
    parser.add_argument("--audio", action="store_true")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for stream in args.stream:
        mount, path = stream.split("=", 1)
        factory = GstRtspServer.RTSPMediaFactory()
        audio = "d.audio_0 ! queue ! aacparse ! mux. " if args.audio else ""
        factory.set_launch(
            f'( filesrc location="{path}" ! qtdemux name=d '
            f"d.video_0 ! queue ! h264parse ! mux. {audio}"
            "mpegtsmux name=mux ! rtpmp2tpay name=pay0 pt=33 )"
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

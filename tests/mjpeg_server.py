"""A real MJPEG-over-HTTP camera on loopback whose feed can be paused (a stalled camera)."""

from __future__ import annotations

import base64
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from engine.cv import import_cv2


class MjpegCamera:
    """Serves ``multipart/x-mixed-replace`` JPEG frames at ``fps`` on 127.0.0.1."""

    def __init__(self, fps: float = 20.0, basic_auth: tuple[str, str] | None = None) -> None:
        """``basic_auth`` (user, password): answer 401 to a request without them, as an IP
        camera does."""
        cv2 = import_cv2()
        image = np.zeros((120, 160, 3), np.uint8)
        image[:, :80] = (40, 160, 40)
        self._jpeg = cv2.imencode(".jpg", image)[1].tobytes()
        self._interval = 1.0 / fps
        self.streaming = threading.Event()
        self.streaming.set()
        self._closing = threading.Event()
        camera = self

        expected = (
            "Basic " + base64.b64encode(":".join(basic_auth).encode()).decode()
            if basic_auth
            else None
        )
        self.authorized = threading.Event()  # a request with the right password arrived

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if expected is not None:
                    if self.headers.get("Authorization") != expected:
                        self.send_response(401)
                        self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    camera.authorized.set()
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    while not camera._closing.is_set():
                        if not camera.streaming.is_set():
                            time.sleep(0.05)  # stalled: connection open, nothing sent
                            continue
                        part = (
                            b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d"
                            b"\r\n\r\n" % len(camera._jpeg)
                        )
                        self.wfile.write(part + camera._jpeg + b"\r\n")
                        time.sleep(camera._interval)
                except OSError:
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/stream.mjpg"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

"""A real MJPEG-over-HTTP camera on loopback whose feed can be paused (a stalled camera)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from engine.cv import import_cv2


class MjpegCamera:
    """Serves ``multipart/x-mixed-replace`` JPEG frames at ``fps`` on 127.0.0.1."""

    def __init__(self, fps: float = 20.0) -> None:
        cv2 = import_cv2()
        image = np.zeros((120, 160, 3), np.uint8)
        image[:, :80] = (40, 160, 40)
        self._jpeg = cv2.imencode(".jpg", image)[1].tobytes()
        self._interval = 1.0 / fps
        self.streaming = threading.Event()
        self.streaming.set()
        self._closing = threading.Event()
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
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

"""``watchfloor --selftest``: start engine and window offscreen and check each subsystem."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from engine.access import machine_actor

if TYPE_CHECKING:
    from engine.config import SiteConfig
    from engine.store import Store

FRAME_WAIT_S = 8.0


def run_selftest(site_file: Path, db_url: str) -> int:
    """Exit 0 if every check that can run here passes, else 1; prints one summary line."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    results: list[tuple[str, bool, str]] = []

    def check(name: str, action: Callable[[], str]) -> bool:
        try:
            results.append((name, True, action()))
            return True
        except Exception as exc:
            results.append((name, False, f"{type(exc).__name__}: {exc}"))
            return False

    from engine.config import load_site
    from engine.store import Store
    from engine.store.database import current_revision, head_revision

    site_holder: list[SiteConfig] = []
    store_holder: list[Store] = []

    def site_check() -> str:
        site = load_site(site_file)
        site_holder.append(site)
        return f"{site.name}: {len(site.cameras)} cameras, {len(site.sensing_nodes)} nodes"

    def store_check() -> str:
        store = Store(db_url)
        store_holder.append(store)
        revision = current_revision(store.engine)
        if revision != head_revision():
            raise RuntimeError(f"schema at {revision}, expected {head_revision()}")
        return f"{store.backend} rev {revision}"

    def video_check() -> str:
        import numpy as np

        from engine.cv import import_cv2

        cv2 = import_cv2()
        frame = np.zeros((48, 64, 3), np.uint8)
        frame[:, 32:] = 200
        ok, encoded = cv2.imencode(".png", frame)
        if not ok or cv2.imdecode(encoded, cv2.IMREAD_COLOR).shape != frame.shape:
            raise RuntimeError("OpenCV encode/decode round trip failed")
        return f"OpenCV {cv2.__version__}"

    def analytics_check() -> str:
        import numpy as np

        from engine.identity.faces import FaceEncoder
        from engine.vision.detect import HogPersonDetector

        blank = np.zeros((240, 320, 3), np.uint8)
        HogPersonDetector().detect(blank, None)
        encoder = FaceEncoder()
        encoder.load()
        if encoder.encode(blank):
            raise RuntimeError("face detector found a face in a blank image")
        return "people detector and face models loaded"

    def accounts_check() -> str:
        from engine.accounts import hash_password, password_matches

        hashed = hash_password("selftest-password")  # scrypt needs OpenSSL's KDF
        if not password_matches("selftest-password", hashed) or password_matches("x", hashed):
            raise RuntimeError("the password hash does not round-trip")
        return "scrypt password hashing works"

    def incidents_check() -> str:
        import tempfile

        import numpy as np

        from engine.incidents.classify import KeywordClassifier, train_text_model
        from engine.incidents.forecast import fit_forecast
        from engine.incidents.nightly import RiskScheduler
        from engine.incidents.risk import RiskSettings, cells_around, cells_of_points

        if KeywordClassifier().classify("a man with a knife").category != "weapons":
            raise RuntimeError("the keyword classifier misread a plain report")
        cells, _ = cells_around(51.5, -0.14, RiskSettings())
        times = np.arange(200, dtype=np.float64) * 3600.0
        points = cells_of_points(np.full(200, 51.5), np.full(200, -0.14), 9)
        forecast = fit_forecast(points, times, now_s=float(times[-1]) + 3600)
        texts = [f"{w} report {i}" for i in range(10) for w in ("theft", "fire", "knife")]
        labels = [c for _ in range(10) for c in ("theft", "fire", "weapons")]
        model, _ = train_text_model(texts, labels, min_total=30)
        if model is None:
            raise RuntimeError("the text classifier (scikit-learn) did not train")
        with tempfile.TemporaryDirectory() as tmp:
            model.save(Path(tmp) / "m.bin")
        import anthropic  # the LLM classifier's SDK, imported when configured

        RiskScheduler(lambda slot: None, hour_utc=2, last_slot=lambda: None, now=lambda: None)  # type: ignore[arg-type,return-value]
        return (
            f"H3 grid {cells.size} cells in 2 km, forecast over {forecast.cells.size} cells, "
            f"text model, anthropic {anthropic.__version__}, APScheduler"
        )

    def gestures_check() -> str:
        import numpy as np

        from engine.gestures.pose import PoseEstimator
        from engine.gestures.templates import GestureSet

        with PoseEstimator() as estimator:  # the bundled model and mediapipe's native library
            if estimator.estimate(np.zeros((256, 192, 3), np.uint8)) is not None:
                raise RuntimeError("the pose landmarker found a body in a blank image")
        GestureSet(())
        return "pose landmarker loaded"

    def speech_check() -> str:
        import numpy as np

        from engine.speech.recognise import SpeechRecogniser

        hiss = np.random.default_rng(0).normal(0.0, 30.0, 16_000).astype(np.int16)
        loaded = []
        for model in ("base", "tiny.en"):  # both bundled; the setting picks one
            with SpeechRecogniser(model) as recogniser:
                heard = recogniser.recognise(hiss)
            if heard.name is not None:
                raise RuntimeError(
                    f"Whisper {model} heard a name ({heard.name}) in a second of hiss"
                )
            loaded.append(model)
        return f"Whisper {' and '.join(loaded)} loaded"

    def meaning_check() -> str:
        import numpy as np

        from engine.text_search.encoder import SentenceEncoder

        vectors = SentenceEncoder().encode(
            ["a man fell down on the stairs", "someone collapsed", "the parking barrier is stuck"]
        )
        near, far = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
        if not np.isfinite(near) or near <= far:
            raise RuntimeError(
                "sentence model ranks a paraphrase below an unrelated text "
                f"({near:.2f} ≤ {far:.2f})"
            )
        return f"sentence model loaded (paraphrase {near:.2f} > unrelated {far:.2f})"

    def docs_check() -> str:
        from console.docs_site import INDEX_PAGE, locate_site, page_path

        index = page_path(locate_site().site, INDEX_PAGE)
        return f"docs site bundled ({index.parent.name}/{INDEX_PAGE})"

    site_ok = check("site", site_check)
    store_ok = check("store", store_check)
    check("accounts", accounts_check)
    check("video", video_check)
    check("analytics", analytics_check)
    check("gestures", gestures_check)
    check("incidents", incidents_check)
    check("speech", speech_check)
    check("meaning search", meaning_check)
    if getattr(sys, "frozen", False):  # a checkout builds its docs on demand (Help)
        check("docs", docs_check)
    if site_ok and store_ok:
        _check_engine_and_gui(site_holder[0], store_holder[0], check)
    for store in store_holder:
        store.close()

    failed = [r for r in results if not r[1]]
    summary = "; ".join(
        f"{name} {'ok' if ok else 'FAIL'} ({detail})" for name, ok, detail in results
    )
    print(f"watchfloor selftest: {'FAIL' if failed else 'PASS'} — {summary}")
    sys.stdout.flush()
    return 1 if failed else 0


def _check_engine_and_gui(
    site: SiteConfig, store: Store, check: Callable[[str, Callable[[], str]], bool]
) -> None:
    from PySide6.QtCore import QPoint, QRect

    from console.app import application
    from console.bridge import QtBridge
    from console.host import console_settings
    from console.main_window import MainWindow
    from engine.events import CameraStatus
    from engine.runtime import EngineRuntime
    from engine.sensing.service import SensingService
    from widgets.alerts.view import AlertSound, AlertStreamPane
    from widgets.login_panel import LoginMode
    from widgets.sensing.view import SensingPane

    app = application()
    runtime = EngineRuntime(site, store)
    bridge = QtBridge(runtime.bus)
    settings_dir = tempfile.TemporaryDirectory(prefix="watchfloor-selftest-")
    window = None
    try:
        runtime.start()
        window = MainWindow(runtime, bridge, console_settings(Path(settings_dir.name) / "c.ini"))
        window.show()

        def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                app.processEvents()
                if condition():
                    return True
                time.sleep(0.02)
            return condition()

        def cameras_check() -> str:
            if not runtime.cameras.sources:
                return "no cameras configured"
            # A configured camera that shows nothing fails the check, naming the camera and
            # why (before: a missing file passed as "without footage").
            wait_for(
                lambda: all(
                    s.status[0] in (CameraStatus.ONLINE, CameraStatus.NO_FOOTAGE)
                    for s in runtime.cameras.sources.values()
                ),
                FRAME_WAIT_S,
            )
            bad = [
                f"{s.camera.id}: {s.status[0].value} ({s.status[1]})"
                for s in runtime.cameras.sources.values()
                if s.status[0] is not CameraStatus.ONLINE
            ]
            if bad:
                raise RuntimeError("; ".join(bad))
            return f"{len(runtime.cameras.sources)} online"

        def gui_check() -> str:
            grid = window.camera_grid
            online = {
                i for i, s in runtime.cameras.sources.items() if s.status[0] is CameraStatus.ONLINE
            }
            live = [t for t in grid.tiles if t.camera_id in online]
            drawn = wait_for(
                lambda: all(t.frames_shown > 0 and t.status is CameraStatus.ONLINE for t in live),
                FRAME_WAIT_S,
            )
            if not drawn:
                raise RuntimeError("camera tiles drew no frame or did not show the camera online")
            if "store" not in window.status.health_bar.labels:
                raise RuntimeError("status bar shows no store health")
            # The window opens locked, live view on: no login here, but the panel must
            # have read whether any account exists (the session reaches the store).
            panel = window.login_panel
            ready = wait_for(lambda: panel.mode is not LoginMode.CHECKING, FRAME_WAIT_S)
            card = window.lock_view.card
            inside = window.rect().contains(QRect(card.mapTo(window, QPoint(0, 0)), card.size()))
            if not window.locked or not panel.isVisible() or not inside:
                raise RuntimeError("the window did not open locked, its login panel in view")
            if not ready or panel.failure_text():
                raise RuntimeError(f"the login panel is not ready: {panel.failure_text()}")
            return (
                f"window shown locked ({panel.mode.value}), "
                f"{sum(t.frames_shown for t in live)} frames drawn"
            )

        def sensing_check() -> str:
            services = runtime.sensing.services
            if not services:
                problem = next(
                    (r.detail for r in runtime.health() if r.subsystem == "sensing"), None
                )
                if problem:
                    raise RuntimeError(problem)
                return "no sensing room"
            view = window.pane("sensing", SensingPane).view
            drawn = "3D view ready" if view.gl_view is not None else f"no 3D view ({view.gl_error})"
            return "; ".join(room_check(sensing) for sensing in services.values()) + f"; {drawn}"

        def room_check(sensing: SensingService) -> str:
            # A simulated room's nodes connect over loopback within a second or two; a real
            # room's nodes may be anywhere, so only the server is checked there.
            if sensing.simulated:
                wait_for(
                    lambda: (
                        (s := sensing.snapshot()) is not None and all(n.online for n in s.nodes)
                    ),
                    FRAME_WAIT_S,
                )
            snapshot = sensing.snapshot()
            if snapshot is None:
                raise RuntimeError(f"room {sensing.room.name}: the fusion grid has not ticked")
            online = sum(n.online for n in snapshot.nodes)
            if sensing.simulated and online < len(snapshot.nodes):
                raise RuntimeError(
                    f"room {snapshot.room_name}: only {online}/{len(snapshot.nodes)} simulated "
                    "nodes online"
                )
            kind = "simulated " if sensing.simulated else ""
            return (
                f"{kind}room {snapshot.room_name}: {online}/{len(snapshot.nodes)} nodes online, "
                f"{len(snapshot.links)} links, port {sensing.port}"
            )

        def alerts_check() -> str:
            service = runtime.alerts
            if service is None:
                raise RuntimeError("the alert service did not start")
            pane = window.pane("alerts", AlertStreamPane)
            wait_for(lambda: pane.listings > 0 or bool(pane.strip.error()), FRAME_WAIT_S)
            if pane.strip.error():
                raise RuntimeError(pane.strip.error())
            if pane.listings == 0:
                raise RuntimeError("the Alerts pane did not list the alerts")
            sound = pane.sound
            if not isinstance(sound, AlertSound):
                raise RuntimeError("the Alerts pane has no chime")
            chime = (
                "chime ready"
                if sound.prepare() == "effect"
                else f"chime falls back to a beep ({sound.detail})"
            )
            return (
                f"{service.open_alerts()} open, {service.webhooks} webhooks, "
                f"{len(pane.alerts())} listed; {chime}"
            )

        check("cameras", cameras_check)
        check("gui", gui_check)
        check("sensing", sensing_check)
        check("alerts", alerts_check)
    finally:
        if window is not None:
            window.shut_down("selftest", machine_actor())
            window.deleteLater()
        runtime.stop()
        bridge.close()
        app.processEvents()
        settings_dir.cleanup()

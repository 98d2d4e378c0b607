"""What the tests of the pages about a camera's picture share (Floor calibration, Privacy
masks; the Alert rules zone editor's picture): the sample picture, a page shown until it
has read what is stored, clicks on its picture, and the engine's actions as the console
runs them, recording the threads they ran on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from engine.access import Actor
from engine.clock import REAL_CLOCK
from engine.cv import import_cv2
from engine.store import Store
from engine.store.writer import StoreWriter
from tests.conftest import TESTDATA
from widgets.camera_picture import CameraPicturePage

VTEST = TESTDATA / "video" / "vtest.avi"  # 768×576: a 4:3 picture


def vtest_picture(size: tuple[int, int] | None = None) -> QImage:
    """The first frame of the pedestrian sample, as the console hands frames over;
    resized to ``size`` (width, height in pixels) when given."""
    cv2 = import_cv2()
    capture = cv2.VideoCapture(str(VTEST))
    try:
        ok, bgr = capture.read()
    finally:
        capture.release()
    assert ok, f"cannot read {VTEST}"
    if size is not None:
        bgr = cv2.resize(bgr, size)
    height, width = bgr.shape[:2]
    return QImage(bgr.data, width, height, bgr.strides[0], QImage.Format.Format_BGR888).copy()


def show_page(qtbot: QtBot, pane: CameraPicturePage[Any, Any]) -> None:
    """Show ``pane`` at 1300 × 820 and wait for its first showing to read what is stored
    for its camera."""
    qtbot.addWidget(pane)
    pane.resize(1300, 820)
    with qtbot.waitSignal(pane.sig_stored_loaded, timeout=10_000):
        pane.show()


def click(
    qtbot: QtBot, pane: CameraPicturePage[Any, Any], x: float, y: float, right: bool = False
) -> None:
    """Click ``pane``'s picture at (x, y) in its canvas's terms (the picture's pixels on
    Floor calibration, fractions of it on Privacy masks); ``right``: the right button."""
    button = Qt.MouseButton.RightButton if right else Qt.MouseButton.LeftButton
    qtbot.mouseClick(pane.canvas, button, pos=pane.canvas.widget_point(x, y).toPoint())


class EngineActions:
    """A page's actions as the console's backend runs them: the real store read and the
    real command through the real writer (:meth:`_execute`), as ``actor``. Each call says it
    ran (:meth:`_ran`), so :attr:`threads` holds the names of the threads they ran on."""

    def __init__(self, store: Store, writer: StoreWriter, site_id: int, actor: Actor) -> None:
        self.store = store
        self.writer = writer
        self.site_id = site_id
        self.actor = actor
        self.threads: set[str] = set()

    def _ran(self) -> None:
        self.threads.add(threading.current_thread().name)

    def _execute(self, command: Callable[..., Any], camera: str, **fields: Any) -> None:
        """Run ``command`` about ``camera`` (with ``fields``) through the writer, now, as the
        actor, and wait for it."""
        self.writer.execute(
            command(
                site_id=self.site_id,
                camera=camera,
                at=REAL_CLOCK.now(),
                actor=self.actor,
                **fields,
            ),
            timeout_s=30,
        )

"""Python's cyclic garbage is collected on the console's GUI thread, never on a worker: a
Qt object in the garbage is destroyed where Qt expects it."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from console.app import GuiThreadCollector


def _garbage_with_a_qt_object(freed_on: list[str]) -> None:
    """Drop a reference cycle holding a QObject; ``freed_on`` gets the name of the thread
    that frees it."""

    class Holder:
        pass

    holder = Holder()
    holder.me = holder  # type: ignore[attr-defined]  # a cycle: only the collector frees it
    holder.qt = QObject()  # type: ignore[attr-defined]
    weakref.finalize(holder, lambda: freed_on.append(threading.current_thread().name))


def _allocate_in_a_worker() -> list[list[int]]:
    """A worker making many containers, as a query worker turning rows into objects (the
    rows it returns)."""
    rows: list[list[int]] = []

    def work() -> None:
        rows.extend([n] for n in range(50_000))

    worker = threading.Thread(target=work, name="query-worker")
    worker.start()
    worker.join()
    return rows


def test_without_it_a_worker_frees_the_guis_garbage() -> None:
    """The hazard itself: the automatic collector runs on the thread that allocates."""
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        gc.collect()
        freed_on: list[str] = []
        _garbage_with_a_qt_object(freed_on)
        assert _allocate_in_a_worker() and freed_on == ["query-worker"]
    finally:
        if not was_enabled:
            gc.disable()


def test_with_it_the_gui_thread_frees_it_and_stop_turns_collection_back_on(
    qtbot: QtBot,
) -> None:
    collector = GuiThreadCollector()
    gc.enable()  # as in a console before it starts (the test's own collector turned it off)
    collector.start()
    try:
        assert not gc.isenabled()
        freed_on: list[str] = []
        _garbage_with_a_qt_object(freed_on)
        rows = _allocate_in_a_worker()
        assert rows and freed_on == []  # the worker did not collect
        qtbot.waitUntil(lambda: freed_on != [], timeout=3 * GuiThreadCollector.INTERVAL_MS)
        assert freed_on == [threading.main_thread().name]
    finally:
        collector.stop()
    assert gc.isenabled()
    gc.disable()  # the test's own collector (conftest) turns it back on at its end

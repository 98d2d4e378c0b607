"""One live engine per data dir: a second one refuses to start and says which process holds
the data dir; a killed engine's lock is no obstacle to the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import load_site
from engine.data_dirs import data_dir
from engine.instance import (
    EngineAlreadyRunningError,
    EngineLock,
    final_path_of,
    partial_owner,
    partial_path,
)
from engine.runtime import EngineRuntime
from engine.store import Store
from tests.conftest import write_site

REPO = Path(__file__).resolve().parents[2]
HOLD_LOCK = (
    "import sys, time; from pathlib import Path; from engine.instance import EngineLock; "
    "lock = EngineLock(Path(sys.argv[1])); lock.acquire(); print('LOCKED', flush=True); "
    "time.sleep(120)"
)


def lock_holder(directory: Path) -> subprocess.Popen[str]:
    """Another process holding the engine lock of ``directory`` (a running engine)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(directory)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "LOCKED"
    return proc


def test_the_lock_is_exclusive_names_its_holder_and_is_released(tmp_path: Path) -> None:
    first = EngineLock(tmp_path / "data")
    second = EngineLock(tmp_path / "data")
    with first:
        with pytest.raises(EngineAlreadyRunningError) as refused:
            second.acquire()
        message = str(refused.value)
        assert f"pid {os.getpid()}" in message and str(tmp_path / "data") in message
        assert refused.value.pid == os.getpid() and not second.held
    second.acquire()  # released on exit
    second.release()
    assert (tmp_path / "data" / "engine.lock").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_second_engine_on_the_data_dir_refuses_to_start(tmp_path: Path) -> None:
    site = load_site(write_site(tmp_path / "site.toml"))
    stores = [Store(f"sqlite:///{tmp_path / name}") for name in ("a.db", "b.db", "c.db")]
    first = EngineRuntime(site, stores[0])
    second = EngineRuntime(site, stores[1])
    try:
        first.start()
        with pytest.raises(EngineAlreadyRunningError, match=f"pid {os.getpid()}"):
            second.start()
        assert second.upkeep.retention is None  # refused before anything started
    finally:
        first.stop()
        second.stop()
    second = EngineRuntime(site, stores[1])
    try:
        second.start()  # the first one stopped: its lock went with it
    finally:
        second.stop()

    # An engine in another process; once it is killed, its lock is no obstacle.
    holder = lock_holder(data_dir())
    third = EngineRuntime(site, stores[2])
    try:
        with pytest.raises(EngineAlreadyRunningError, match=f"pid {holder.pid}"):
            third.start()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        assert holder.stdout is not None
        holder.stdout.close()
        third.stop()
    try:
        third.start()
    finally:
        third.stop()
        for store in stores:
            store.close()


def test_watchfloor_engine_says_another_engine_runs_and_exits_1(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site.toml")
    holder = lock_holder(data_dir())
    try:
        result = subprocess.run(
            [
                *(sys.executable, "-m", "console", "--db", f"sqlite:///{tmp_path / 'e.db'}"),
                *("engine", "--site", str(site), "--duration", "5"),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.kill()
        holder.wait(10)
        assert holder.stdout is not None
        holder.stdout.close()
    assert result.returncode == 1, result.stderr
    assert f"already running on the data dir {data_dir()}" in result.stderr
    assert f"pid {holder.pid}" in result.stderr and "Traceback" not in result.stderr


def test_temp_names_carry_their_process_and_lose_it_when_complete(tmp_path: Path) -> None:
    final = tmp_path / "plaza_20260504T030205.000Z.mp4"
    temp = partial_path(final)
    assert temp.name == f"plaza_20260504T030205.000Z.{os.getpid()}.mp4.partial"
    assert partial_owner(temp) == os.getpid() and final_path_of(temp) == final
    assert partial_owner(tmp_path / "a.jpg.partial") is None  # older versions: no owner

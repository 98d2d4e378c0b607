"""Which process owns what in a data dir: the engine lock and pid-stamped temp files.

Several processes may share one data dir: one live ``watchfloor engine`` (or console) and
any number of ``watchfloor analyze`` runs beside it. Two rules keep them from harming
each other:

- **One engine per data dir.** :class:`EngineLock` holds an exclusive ``flock`` on
  ``<data dir>/engine.lock`` (with the holder's pid written inside) for as long as the engine
  runs; a second engine gets :class:`EngineAlreadyRunningError` naming that pid. The kernel
  drops the lock when its process dies, kill -9 included, so a stale lock never blocks a
  restart. ``analyze`` does not take it.
- **Temp files carry their writer's pid.** A file being written lives under
  ``<stem>.<pid><suffix>.partial`` (see :func:`partial_path`) until it is complete and
  renamed. A sweep may remove a partial file only when :func:`partial_owner_alive` says
  its process is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path
from typing import IO

from engine.data_dirs import open_private_file, secure_data_dir

LOCK_FILE_NAME = "engine.lock"
PARTIAL_SUFFIX = ".partial"
# <stem>.<pid><suffix>.partial, e.g. plaza_20260504T030205.000Z.4242.mp4.partial
_OWNED_PARTIAL = re.compile(r"^(?P<stem>.+)\.(?P<pid>\d{1,10})(?P<suffix>\.[^.]+)\.partial$")


class EngineAlreadyRunningError(RuntimeError):
    """Another live engine holds the data dir's lock; the message names its pid and the dir."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        holder = f"pid {pid}" if pid is not None else "another process"
        super().__init__(
            f"another Watchfloor engine ({holder}) is already running on the data dir "
            f"{data_dir}; stop it first, or give this one its own data dir "
            f"(WATCHFLOOR_DATA_DIR)"
        )
        self.data_dir = data_dir
        self.pid = pid


class EngineLock:
    """The exclusive lock of one data dir for a running engine.

    ``acquire`` takes it without waiting (raising :class:`EngineAlreadyRunningError` if
    another process, or another runtime in this process, holds it) and writes this pid into
    the file; ``release`` gives it up. The lock file itself is left in place: removing it
    would let two processes lock two different files of the same name. Any thread.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILE_NAME
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> None:
        """Take the lock now or raise :class:`EngineAlreadyRunningError`."""
        if self._handle is not None:
            return
        secure_data_dir(self.data_dir)
        fd = open_private_file(self.path, os.O_RDWR | os.O_APPEND)
        handle = os.fdopen(fd, "a+", encoding="ascii")  # kept open while held
        try:
            if not _try_lock(handle):
                raise EngineAlreadyRunningError(self.data_dir, _read_pid(self.path))
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
        except BaseException:
            handle.close()
            raise
        self._handle = handle

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        with contextlib.suppress(OSError):
            handle.seek(0)
            handle.truncate()
            handle.flush()
        _unlock(handle)
        handle.close()

    def __enter__(self) -> EngineLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(handle: IO[str]) -> bool:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# -- pid-stamped temp files ----------------------------------------------------------------
def partial_path(final: Path, pid: int | None = None) -> Path:
    """The temp name under which ``final`` is written by process ``pid`` (default: this
    one): ``<stem>.<pid><suffix>.partial`` in the same directory, so the rename that
    completes it stays within one file system."""
    owner = os.getpid() if pid is None else pid
    return final.with_name(f"{final.stem}.{owner}{final.suffix}{PARTIAL_SUFFIX}")


def write_private_file(target: Path, data: bytes) -> None:
    """``data`` at ``target`` (0600), complete or not at all: written and synced under its
    :func:`partial_path` name, then renamed (a crash or a full disk leaves no half file)."""
    temp = partial_path(target)
    try:
        with os.fdopen(open_private_file(temp, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def partial_owner(path: Path) -> int | None:
    """The pid in a temp file's name, or None for a name without one (written by an older
    version, whose owner cannot be known)."""
    match = _OWNED_PARTIAL.match(path.name)
    return int(match["pid"]) if match else None


def final_path_of(partial: Path) -> Path:
    """The name a temp file gets once it is complete (its pid and ``.partial`` removed)."""
    match = _OWNED_PARTIAL.match(partial.name)
    if match:
        return partial.with_name(match["stem"] + match["suffix"])
    return partial.with_name(partial.name.removesuffix(PARTIAL_SUFFIX))


def process_alive(pid: int) -> bool:
    """Is process ``pid`` running? This process counts as running. Where that cannot be
    asked (Windows), every process counts as running, so nothing of another is removed."""
    if pid == os.getpid():
        return True
    if pid <= 0 or os.name != "posix":
        return pid > 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def partial_owner_alive(path: Path) -> bool:
    """May ``path`` (a ``.partial`` file) still be written to? True while the process named
    in it runs; False for a dead owner or a name without a pid (left by an older version)."""
    pid = partial_owner(path)
    return pid is not None and process_alive(pid)

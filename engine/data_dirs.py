"""Where Watchfloor keeps its data (the platform user-data dir unless overridden), and
keeping it private to the user who runs Watchfloor.

The data dir holds face embeddings, clips and snapshots of people: it is created 0700 and
every file in it 0600, whatever the umask of the process the engine runs in. The console
and the CLI also set the umask to 077 at start (:func:`restrict_new_files`); the helpers
here are the engine's own guarantee for programs that embed it without doing so.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import platformdirs

APP_NAME = "watchfloor"
PRIVATE_UMASK = 0o077  # new files and folders: no access for group and others
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_GROUP_OR_OTHERS = 0o077  # permission bits that let anyone but the owner in

log = logging.getLogger(__name__)


def data_dir() -> Path:
    """The data directory (database, media). ``WATCHFLOOR_DATA_DIR`` overrides it."""
    override = os.environ.get("WATCHFLOOR_DATA_DIR")
    return Path(override) if override else platformdirs.user_data_path(APP_NAME)


def config_dir() -> Path:
    """Per-user settings (window layouts). ``WATCHFLOOR_CONFIG_DIR`` overrides it."""
    override = os.environ.get("WATCHFLOOR_CONFIG_DIR")
    return Path(override) if override else platformdirs.user_config_path(APP_NAME)


def restrict_new_files() -> int:
    """Make every file and folder this process creates from now on private to its user
    (umask 077: folders 0700, files 0600) and return the previous umask. The umask is
    per process: call it once at start-up, before threads start."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create the folder ``path`` and any missing parents, each 0700 (owner only) whatever
    the umask, and return ``path``. A folder that already exists is left as it is; a file
    in the way raises :class:`FileExistsError` (as ``Path.mkdir(exist_ok=True)``). Safe
    when several threads or processes create the same folder. Any thread."""
    if path.is_dir():
        return path
    if path.parent != path:
        private_dir(path.parent)
    try:
        os.mkdir(path, PRIVATE_DIR_MODE)
    except FileExistsError:
        if not path.is_dir():
            raise
        return path
    os.chmod(path, PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def secure_data_dir(path: Path | None = None) -> Path:
    """The data dir (``path``, default :func:`data_dir`), created 0700 if missing. One that
    exists and lets group or others in (made by an older version, or by hand) is
    chmod-ed to 0700 with a warning. Returns the folder. Any thread."""
    folder = data_dir() if path is None else path
    private_dir(folder)
    if os.name != "posix":  # Windows: private by the user profile's ACLs
        return folder
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & _GROUP_OR_OTHERS:
        log.warning(
            "data dir %s was open to other users (mode %03o); making it private (700)",
            folder,
            mode,
        )
        try:
            os.chmod(folder, PRIVATE_DIR_MODE)
        except OSError as exc:
            log.warning("cannot make the data dir %s private: %s", folder, exc)
    return folder


def open_private_file(path: Path, flags: int) -> int:
    """Open ``path`` with ``flags`` (``os.O_WRONLY``, ``os.O_APPEND``...), creating it 0600
    (owner only) if missing, and return the file descriptor. A file that exists and lets
    group or others in is made 0600. Wrap the descriptor with :func:`os.fdopen`."""
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE_MODE)
    if os.name == "posix":
        try:
            if stat.S_IMODE(os.fstat(fd).st_mode) & _GROUP_OR_OTHERS:
                os.fchmod(fd, PRIVATE_FILE_MODE)
        except BaseException:
            os.close(fd)
            raise
    return fd


def create_private_file(path: Path) -> None:
    """Create ``path`` 0600 (an existing file keeps its content and is made 0600), for a
    library that then writes it by name (an MP4 muxer, SQLite): a file that exists keeps
    its mode when they open it, so it is private from its first byte."""
    os.close(open_private_file(path, os.O_WRONLY))


def make_private(path: Path) -> None:
    """Make the existing file ``path`` 0600 (owner only) if group or others may read it.
    Raises :class:`OSError` when it cannot (not found, owned by another user)."""
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & _GROUP_OR_OTHERS:
        os.chmod(path, PRIVATE_FILE_MODE)


def sensing_recording_dir(site: str, room_id: str, root: Path | None = None) -> Path:
    """Where a sensing room's recording (:mod:`engine.sensing.recording.recorder`) lives:
    ``<data>/sensing/<site>/<room>/``, names reduced by :func:`path_safe_name`. The path
    only: the recorder creates it."""
    site_dir = path_safe_name(site).strip("._") or "site"
    return (root or data_dir()) / "sensing" / site_dir / path_safe_name(room_id)


def path_safe_name(name: str) -> str:
    """``name`` as one path component: every character but ASCII letters, digits, ``.``,
    ``_`` and ``-`` replaced by ``_`` (a room's recording directory is its id so reduced)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)

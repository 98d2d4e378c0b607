"""An attached console's recordings: fetched from the engine that keeps them, checked, cached.

A console attached to a shared site (``watchfloor --attach``) records nothing; each clip,
snapshot and sensing recording stays in the data dir of the engine that recorded it, which
serves it over HTTP when started with ``--clip-port`` (:mod:`engine.cluster.files`).
:class:`RemoteMedia` gives the console's panes the same thing a single machine's data dir
does, a file at ``root / <media row's path>``:

- :meth:`RemoteMedia.fetch` (blocking: call it on a worker) finds which engine keeps the
  file (``media.engine``), where that engine serves (its heartbeat), downloads the file into
  a temporary file beside its place, reading no more than the stored size, checks its
  SHA-256 against the stored one and only then renames it into place;
- a thread fetches each new snapshot as it is stored, so alert pictures and thumbnails are
  there when a pane draws them;
- the cache keeps at most ``cache_bytes`` (least recently used files go first).

Each failure is a :class:`RecordingUnavailableError` whose text says what to do: which engine
keeps the file, that it is not running, that it does not serve its recordings, a wrong
``media_password``, a file purged since, or one that changed on the way.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx2
from sqlalchemy import func, select

from engine.cluster.files import SHA_HEADER, file_url, path_problem
from engine.cluster.media import DEFAULT_USER
from engine.cluster.status import RUNNING, engines_status
from engine.events import HealthState
from engine.health import HealthReport
from engine.secrets import SecretError, read_secret
from engine.store import Store
from engine.store.models import Media
from engine.wording import counted

log = logging.getLogger(__name__)

CACHE_BYTES: Final = 4 * 1024**3  # what an attached console keeps of other machines' files
FOLLOW_EVERY_S: Final = 2.0  # how often new snapshots are looked for
FOLLOW_BATCH: Final = 100
FIRST_SNAPSHOTS: Final = 50  # the newest snapshots fetched on attaching
CHUNK: Final = 256 * 1024
CONNECT_TIMEOUT_S: Final = 5.0
READ_TIMEOUT_S: Final = 30.0


class RecordingUnavailableError(RuntimeError):
    """A recording cannot be fetched: the text says why and what to do."""


@dataclass(frozen=True, slots=True)
class _Row:
    engine: str | None
    sha256: str
    size: int


class RemoteMedia:
    """See the module doc. ``root``: this console's cache (the panes' media root);
    ``site``: the site's name (whose engines to ask); ``password``: the ``media_password``
    secret (read when first needed by default); ``transport``: httpx2's (tests)."""

    def __init__(
        self,
        store: Store,
        root: Path,
        *,
        site: str,
        user: str = DEFAULT_USER,
        password: Callable[[], str] | None = None,
        cache_bytes: int = CACHE_BYTES,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self.root = Path(root)
        self._store = store
        self._site = site
        self._user = user
        self._password = password or (lambda: read_secret("media_password").reveal())
        self._cache_bytes = cache_bytes
        self._transport = transport
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fetched = 0
        self.fetched_bytes = 0
        self.failed = 0
        self.problem: str | None = None  # the last prefetch failure, for the System pane

    # -- fetching ---------------------------------------------------------------------------
    def local(self, path: str) -> Path:
        """Where recording ``path`` is (or will be) in this console's cache."""
        return self.root / path

    def fetch_file(self, file: Path) -> Path:
        """:meth:`fetch` for a file named under :attr:`root` (what panes hold); a file
        elsewhere that exists is returned as it is."""
        file = Path(file)
        if not file.is_relative_to(self.root):
            if file.is_file():
                return file
            raise RecordingUnavailableError(f"{file} is not a recording of this site")
        return self.fetch(file.relative_to(self.root).as_posix())

    def fetch(self, path: str, progress: Callable[[int, int], None] | None = None) -> Path:
        """The local file of recording ``path`` (a ``media`` row's path), fetched from the
        engine keeping it when not cached yet. Blocks: call it on a worker thread. Raises
        :class:`RecordingUnavailableError`."""
        problem = path_problem(path)
        if problem is not None:
            raise RecordingUnavailableError(f"{path!r} names no recording: {problem}")
        with self._lock_for(path):
            target = self.local(path)
            if _regular(target):
                with contextlib.suppress(OSError):
                    os.utime(target)  # most recently used: the cache keeps it longest
                return target
            try:
                row = self._row(path)
                base = self._base_url(row, path)
            except RecordingUnavailableError as exc:
                self.failed += 1
                self.problem = str(exc)
                raise
            try:
                self._download(file_url(base, path), target, row, progress)
            except RecordingUnavailableError as exc:
                self.failed += 1
                self.problem = str(exc)
                raise
        self.problem = None
        self._trim(keep=target)
        return target

    def _lock_for(self, path: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(path, threading.Lock())

    def _row(self, path: str) -> _Row:
        with self._store.transaction() as session:
            row = session.execute(
                select(Media.engine, Media.sha256, Media.size_bytes).where(Media.path == path)
            ).first()
        if row is None:
            raise RecordingUnavailableError(f"no recording {path} is stored (purged by retention?)")
        return _Row(row.engine, str(row.sha256), int(row.size_bytes))

    def _base_url(self, row: _Row, path: str) -> str:
        if row.engine is None:
            raise RecordingUnavailableError(
                f"{path} was recorded before this site was shared, by an engine that did "
                "not sign its recordings: it can be played only on that machine"
            )
        lines = [e for e in engines_status(self._store).engines if e.site == self._site]
        line = next((e for e in lines if e.name == row.engine), None)
        if line is None or line.state != RUNNING:
            raise RecordingUnavailableError(
                f"{row.engine} keeps this recording and is not running: start it to play here"
            )
        base = (line.media or {}).get("files")
        if not isinstance(base, str):
            raise RecordingUnavailableError(
                f"{row.engine} keeps this recording and does not serve its recordings: "
                "start it with --clip-port to play them on other machines"
            )
        return base

    def _download(
        self,
        url: str,
        target: Path,
        row: _Row,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        engine = row.engine
        try:
            password = self._password()
        except SecretError as exc:
            raise RecordingUnavailableError(
                f"recordings of {engine} need the site's media_password on this console: {exc}"
            ) from None
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".fetch-", dir=target.parent)
        digest = hashlib.sha256()
        received = 0
        try:
            with (
                os.fdopen(handle, "wb") as out,
                httpx2.Client(
                    auth=httpx2.BasicAuth(self._user, password),
                    timeout=httpx2.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
                    transport=self._transport,
                ) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    raise RecordingUnavailableError(_refusal(engine, response))
                said = response.headers.get(SHA_HEADER)
                if said is not None and said != row.sha256:
                    raise RecordingUnavailableError(
                        f"{engine} holds a different file under this name than the one "
                        "stored (changed since it was recorded): not shown"
                    )
                for chunk in response.iter_bytes(CHUNK):
                    received += len(chunk)
                    if received > row.size:  # never more than what was stored
                        raise RecordingUnavailableError(
                            f"{engine} sent more than the recording's stored "
                            f"{row.size} bytes: not shown"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                    if progress is not None:
                        progress(received, row.size)
            if received != row.size or digest.hexdigest() != row.sha256:
                raise RecordingUnavailableError(
                    f"the recording from {engine} arrived damaged ({received} of {row.size} "
                    "bytes, or a checksum that is not the stored one): try again"
                )
            os.replace(temporary, target)
        except httpx2.TransportError as exc:
            raise RecordingUnavailableError(
                f"{engine} could not be reached for its recording ({type(exc).__name__}: "
                f"{exc or 'no answer'})"
            ) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        self.fetched += 1
        self.fetched_bytes += received

    def _trim(self, keep: Path) -> None:
        """Delete the least recently used cached files until the cache fits its size."""
        files: list[tuple[float, int, Path]] = []
        total = 0
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                path = Path(folder) / name
                try:
                    info = path.lstat()
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode) and not name.startswith(".fetch-"):
                    files.append((info.st_mtime, info.st_size, path))
                    total += info.st_size
        for _used, size, path in sorted(files):
            if total <= self._cache_bytes:
                break
            if path == keep:
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size

    # -- following new snapshots ------------------------------------------------------------
    def start(self) -> None:
        """Fetch the newest snapshots now and each new one as it is stored (a thread)."""
        self._thread = threading.Thread(target=self._follow, name="remote-media", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=READ_TIMEOUT_S)

    def _follow(self) -> None:
        last: int | None = None
        while not self._stop.is_set():
            try:
                last = self._fetch_new(last)
            except Exception as exc:  # the database away: the next round tries again
                log.debug("remote media: new snapshots not looked up: %s", exc)
            self._stop.wait(FOLLOW_EVERY_S)

    def health(self) -> HealthReport:
        """The status bar's "recordings" line: what was fetched, or the last failure."""
        fetched = f"{counted(self.fetched, 'file')} ({self.fetched_bytes / 1e6:.1f} MB) fetched"
        if self.problem:
            return HealthReport(
                "recordings",
                HealthState.DEGRADED,
                f"{fetched}; the last could not be: {self.problem}",
            )
        return HealthReport("recordings", HealthState.OK, f"{fetched} from the site's engines")

    def _fetch_new(self, last: int | None) -> int:
        """Fetch the snapshots stored after id ``last`` (None: the newest few); the last
        id looked at."""
        with self._store.transaction() as session:
            if last is None:
                newest = session.execute(select(func.max(Media.id))).scalar() or 0
                last = max(0, int(newest) - FIRST_SNAPSHOTS)
            rows = session.execute(
                select(Media.id, Media.path)
                .where(Media.kind == "snapshot", Media.id > last, Media.engine.is_not(None))
                .order_by(Media.id)
                .limit(FOLLOW_BATCH)
            ).all()
        for row in rows:
            if self._stop.is_set():
                break
            try:
                self.fetch(str(row.path))
            except RecordingUnavailableError as exc:
                log.info("snapshot %s not fetched: %s", row.path, exc)
            last = int(row.id)
        return last


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _refusal(engine: str | None, response: httpx2.Response) -> str:
    if response.status_code == 401:
        return (
            f"{engine} refused this console's media_password: set the site's password "
            "(watchfloor secrets set media_password)"
        )
    response.read()
    said = response.text.strip()[:200] if response.text else ""
    shown = f": {said}" if said else ""
    return f"{engine} did not send the recording ({response.status_code}{shown})"


def fetched(media_root: Path, recordings: RemoteMedia | None, path: str) -> Path:
    """``media_root / path``: on an attached console (``recordings`` given) fetched first
    from the engine keeping it. A picture that cannot be fetched is left missing (its
    reader shows none; the reason is logged and kept in :attr:`RemoteMedia.problem`).
    Blocking: a worker thread."""
    if recordings is not None:
        try:
            return recordings.fetch(path)
        except RecordingUnavailableError as exc:
            log.info("recording %s not fetched: %s", path, exc)
    return media_root / path

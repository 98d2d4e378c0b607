"""A shared site's engine serves its recordings over HTTP, for consoles on other machines.

Clips, snapshots and sensing recordings stay in the data dir of the engine that recorded
them (``media.engine`` names it). An engine started with ``--clip-port`` serves them with
aiohttp (PyPI; ranges, so a player may seek, and ``sendfile``) at
``http://HOST:PORT/media/<path>``, where ``<path>`` is the ``media`` row's path. It serves
nothing else: a path must be a row this engine signed, a regular file (no symlink, FIFO or
device) under its data dir. Every request needs the user and the ``media_password`` secret
(HTTP Basic, the RTSP streams' credentials); the row's SHA-256 goes with the file so the
console checks what it received. The engine tells consoles where it serves in its heartbeat
(``media.files`` in the engines table's health).

A file is opened in one step, descriptor-relative: each directory of its path from a
descriptor of the data dir with ``O_NOFOLLOW | O_DIRECTORY``, the file itself with
``O_NOFOLLOW | O_NONBLOCK``, and the opened descriptor checked to be a regular file; what is
sent is that descriptor's file. So a symlink swapped in anywhere on the path, at any moment,
is refused or too late: there is no check of a path that is then opened again (issue 64,
scenario 14).

The port is anyone's to connect to: it listens through a
:class:`~engine.listening.ConnectionGate` (caps on connections per server and per address, a
request head within ``first_message_s``, ``idle_s`` between requests, refusals counted and
summarised), and a connection that fails the password is closed after its answer.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import errno
import hmac
import logging
import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final
from urllib.parse import quote

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.web_request import BaseRequest
from sqlalchemy import select

from engine.clock import REAL_CLOCK, Clock
from engine.cluster.media import DEFAULT_USER, MediaServerError
from engine.listening import ConnectionGate, ListenLimits
from engine.store import Store
from engine.store.models import Media

log = logging.getLogger(__name__)

ROUTE: Final = "/media/"
SHA_HEADER: Final = "X-Watchfloor-Sha256"
START_TIMEOUT_S: Final = 10.0
REALM: Final = 'Basic realm="watchfloor", charset="UTF-8"'


@dataclass(frozen=True, slots=True)
class FileOptions:
    """``port``: the HTTP port (0: any free one); ``host``: the name consoles reach this
    engine by (it goes in the URL); ``bind``: the address listened on."""

    port: int
    host: str
    bind: str = "0.0.0.0"
    user: str = DEFAULT_USER


def file_url(base: str, path: str) -> str:
    """The URL of recording ``path`` (a ``media`` row's path) at a server whose base URL
    (``…/media/``) is ``base``."""
    return base + quote(path, safe="/")


def path_problem(path: str) -> str | None:
    """What makes ``path`` unfit to name a recording (None: fit): it must be relative,
    forward-slashed, without ``..`` or empty parts."""
    if not path or len(path) > 1000:
        return "empty or too long"
    if "\\" in path or "\x00" in path or path.startswith("/"):
        return "not a relative path"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "has '.', '..' or empty parts"
    return None


class MediaFileServer:
    """See the module doc. ``root`` is the data dir the rows' paths are relative to;
    ``password`` the ``media_password`` secret; ``limits`` what its port may take
    (:class:`~engine.listening.ListenLimits`, the engine's share of its descriptors);
    ``clock`` times the refusal summaries. :meth:`start` raises
    :class:`~engine.cluster.media.MediaServerError` when the port cannot be listened on."""

    def __init__(
        self,
        store: Store,
        options: FileOptions,
        *,
        engine: str,
        root: Path,
        password: str,
        on_served: Callable[[str, int], None] | None = None,
        limits: ListenLimits | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        if not password:
            raise MediaServerError("the recordings need a password: media_password is empty")
        self.options = options
        self._store = store
        self._engine = engine
        self._root = Path(root)
        self._expected = "Basic " + base64.b64encode(f"{options.user}:{password}".encode()).decode(
            "ascii"
        )
        self._on_served = on_served
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="media-files-db")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.port = options.port
        self.served = 0
        self.refused = 0
        self.gate = ConnectionGate("recordings server", limits or ListenLimits(), clock=clock)

    @property
    def url(self) -> str:
        """Where consoles fetch from: ``http://HOST:PORT/media/``."""
        return f"http://{self.options.host}:{self.port}{ROUTE}"

    def start(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="media-files", daemon=True
        )
        self._thread.start()
        if not ready.wait(START_TIMEOUT_S):
            raise MediaServerError("the recordings server did not start in time")
        if failure:
            self._thread.join(timeout=5)
            raise MediaServerError(
                f"the recordings server could not listen on port {self.options.port}: {failure[0]}"
            )
        log.info("recordings served at %s", self.url)

    def stop(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the server thread ----------------------------------------------------------------
    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(ready, failure))
        except BaseException as exc:  # told to start(), which raises it
            if not ready.is_set():
                failure.append(exc)
                ready.set()
            else:
                log.exception("the recordings server stopped")
        finally:
            loop.close()

    async def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        self._stopped = asyncio.Event()
        app = web.Application()
        app.router.add_get(ROUTE + "{path:.+}", self._handle)
        # keepalive_timeout: aiohttp closes a connection idle this long, from its start too.
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, keepalive_timeout=self.gate.limits.idle_s
        )
        await runner.setup()
        try:
            try:
                listener = self.gate.listen(self.options.bind, self.options.port)
                await web.SockSite(runner, listener).start()
            except OSError as exc:
                failure.append(exc)
                ready.set()
                return
            self.port = int(listener.getsockname()[1])
            ready.set()
            await self._stopped.wait()
        finally:
            await runner.cleanup()
            self.gate.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.gate.heard(request.transport)  # a whole request head came: no longer timed
        given = request.headers.get("Authorization", "")
        if not _same(given, self._expected):
            self.refused += 1
            refusal = web.Response(
                status=401,
                text="user or media_password wrong\n",
                headers={"WWW-Authenticate": REALM},
            )
            refusal.force_close()  # a guesser does not keep a connection
            return refusal
        path = request.match_info["path"]
        problem = path_problem(path)
        if problem is not None:
            return web.Response(status=400, text=f"bad recording path: {problem}\n")
        loop = asyncio.get_running_loop()
        sha = await loop.run_in_executor(self._pool, self._signed, path)
        if sha is None:
            return web.Response(status=404, text=f"{self._engine} keeps no recording {path}\n")
        try:
            opened = await loop.run_in_executor(self._pool, self._open, path)
        except FileNotFoundError:
            return web.Response(
                status=410, text=f"{self._engine} no longer has {path} (purged or lost)\n"
            )
        except OSError:  # a symlink (ELOOP, ENOTDIR), a FIFO or device, unreadable
            return web.Response(status=404, text=f"{path} is not a regular file\n")
        self.served += 1
        try:
            if self._on_served is not None:
                self._on_served(path, os.fstat(opened.fileno()).st_size)
            return _OpenedFileResponse(
                opened, path, headers={SHA_HEADER: sha, "Cache-Control": "private, max-age=86400"}
            )
        except BaseException:
            opened.close()
            raise

    def _open(self, path: str) -> BinaryIO:
        """Recording ``path`` opened beneath the data dir (see the module doc); raises
        ``FileNotFoundError`` when it is gone, another ``OSError`` when it is not a regular
        file reached without symlinks. Pool thread."""
        root_fd = os.open(self._root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            return os.fdopen(open_beneath(root_fd, path), "rb")
        finally:
            os.close(root_fd)

    def _signed(self, path: str) -> str | None:
        """The SHA-256 of ``path`` when it is a recording this engine keeps (None: not)."""
        with self._store.transaction() as session:
            row = session.execute(
                select(Media.sha256, Media.engine).where(Media.path == path)
            ).first()
        if row is None or row.engine != self._engine:
            return None
        return str(row.sha256)


def open_beneath(root_fd: int, path: str) -> int:
    """A read-only descriptor of the regular file at ``path`` (relative, ``/``-separated)
    beneath the directory ``root_fd``, reached without following any symlink: each directory
    is opened from the one before with ``O_NOFOLLOW | O_DIRECTORY``, the file with
    ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO does not block), and the descriptor itself is
    checked. Raises ``FileNotFoundError`` when a part is missing, ``OSError`` (``ELOOP``,
    ``ENOTDIR``, ``EINVAL`` for not a regular file) otherwise. Any thread."""
    *folders, name = path.split("/")
    directory = os.dup(root_fd)
    try:
        for folder in folders:
            inner = os.open(
                folder,
                os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                dir_fd=directory,
            )
            os.close(directory)
            directory = inner
        fd = os.open(
            name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory
        )
    finally:
        os.close(directory)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


class _OpenedFileResponse(web.FileResponse):
    """aiohttp's file response (ranges, conditional requests' headers, ``sendfile``) for a
    file already opened, never by its path. It uses aiohttp's ``_prepare_open_file``, the
    step after its own open (aiohttp 3.14, pinned; the ranges test would catch a change).
    The file is closed once sent."""

    def __init__(self, opened: BinaryIO, name: str, *, headers: dict[str, str]) -> None:
        super().__init__(name, headers=headers)  # the name only picks the content type
        self._opened = opened

    async def prepare(self, request: BaseRequest) -> AbstractStreamWriter | None:
        try:
            info = os.fstat(self._opened.fileno())
            return await self._prepare_open_file(
                request,
                self._opened,  # type: ignore[arg-type]
                info,
                None,
            )
        finally:
            self._opened.close()


def _same(given: str, expected: str) -> bool:
    """Whether the Authorization header ``given`` carries the expected credentials (in
    constant time; the scheme's case does not matter)."""
    scheme, _, token = given.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(("Basic " + token.strip()).encode(), expected.encode())

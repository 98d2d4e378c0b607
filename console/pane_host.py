"""Builds the panes of the plugin list (console/plugins.py) for one window and is their
:class:`~widgets.pane.PaneContext`: each pane gets the query client, the site, its own
backend and the engine's signals while it is built, then finds the others by name while
it is linked. Afterwards the host tells the panes who is logged in, closes what a person
opened when they leave, and stops what the panes handed it when the window closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow, QWidget

from console.bridge import QtBridge
from console.layouts import pane_allowed
from console.plugins import PLUGINS, EngineParts, Plugin
from console.queries import QtQueryClient
from console.remote_media import RemoteMedia
from console.remote_video import RemoteVideo
from console.session import ConsoleSession
from console.tab_flags import TabFlags
from engine.access import Actor
from engine.config import SiteConfig
from engine.frames import Frame
from engine.history.query_service import QueryService
from engine.media import is_view_path
from engine.record.views import ViewFileRequest
from engine.sensing.host import rooms_shown
from engine.site_reload import SiteCamerasChanged
from widgets.pane import ActorAware, EngineSignals, PersonScoped, ShownOnDemand
from widgets.queries import QueryClient

if TYPE_CHECKING:
    from engine.runtime import EngineRuntime
    from engine.store.database import Store

log = logging.getLogger(__name__)

ATTACHED_MEDIA_DIR = "from-engines"  # an attached console's cache of other machines' files
QUERY_WORKERS = 2  # store reads, logins and pane actions run here, never on the GUI thread


class PaneHost:
    """The panes of one window (``panes``, by name) and what they were given."""

    def footage_file(self, file: Path) -> Path:
        """The playable file of ``file`` (a media path under :attr:`media_root`): a
        clip that is a view onto its camera's segments is cut from them
        (:class:`~engine.record.views.ViewFileRequest`); on an attached console a file
        is fetched from the engine keeping it. Raises FileNotFoundError (or the fetch's
        error) saying why it cannot. Blocking: a query worker."""
        remote = self.remote_media
        try:
            relative = file.relative_to(self.media_root).as_posix()
        except ValueError:
            return file if remote is None else remote.fetch_file(file)
        if remote is None and not is_view_path(relative):
            if not file.is_file():
                raise FileNotFoundError(f"{relative} is no longer on the disk")
            return file
        fetch = remote.fetch_file if remote is not None else None
        return ViewFileRequest(relative, self.media_root, fetch).run(self._store)

    def __init__(
        self,
        window: QMainWindow,
        runtime: EngineRuntime,
        store: Store,
        bridge: QtBridge,
        session: ConsoleSession,
        settings: QSettings,
        media_root: Path,
        *,
        show_pane: Callable[[str], None],
        set_pane_title: Callable[[str, str], None],
        settings_changed: Callable[[list[str]], None],
        account_changed: Callable[[str], None],
        plugins: tuple[Plugin, ...] = PLUGINS,
    ) -> None:
        self.window = window
        self.runtime = runtime
        self.bridge = bridge
        self.session = session
        self.settings = settings
        # Attached: the recordings are other machines'; this console keeps what it fetched.
        self.remote_media: RemoteMedia | None = None
        data_root = media_root
        if runtime.shared.follower is not None:
            self.remote_media = RemoteMedia(
                store, media_root / ATTACHED_MEDIA_DIR, site=runtime.site.name
            )
            media_root = self.remote_media.root
        self.media_root = media_root
        self.show_pane = show_pane
        self.set_pane_title = set_pane_title
        self.settings_changed = settings_changed
        self.account_changed = account_changed
        self.queries = QtQueryClient(QueryService(store, workers=QUERY_WORKERS), window)
        self._own_queries: list[QtQueryClient] = []
        self.tab_flags = TabFlags(window)
        self._store = store
        self._before_workers_stop: list[Callable[[], None]] = []
        self._after_workers_stop: list[Callable[[], None]] = []
        self.cameras = _cameras_of(runtime)
        live = {cam_id for cam_id, _name in self.cameras}
        recorded = runtime.site_ids.recordings if runtime.site_ids is not None else {}
        self.recorded_cameras = [(key, name) for key, name in recorded.items() if key not in live]
        self.rooms = _rooms_of(runtime)
        self._latest = {cam_id: s.slot.latest for cam_id, s in runtime.cameras.sources.items()}
        # Before any pane links its handlers: the host's cameras are new when theirs run.
        bridge.on(SiteCamerasChanged, self._site_cameras_changed)
        # Attached: each camera's picture from the RTSP stream of the engine running it.
        self.remote_video: RemoteVideo | None = None
        if runtime.shared.follower is not None:
            self.remote_video = RemoteVideo(runtime.shared.follower, [c for c, _ in self.cameras])
            self.remote_video.start()
        if self.remote_media is not None:
            self.remote_media.start()
            runtime.add_health(self.remote_media.health)
        parts = EngineParts(
            runtime, store, session, media_root, self.frame_of, self.remote_media, data_root
        )
        self.backends: dict[str, Any] = {
            p.pane.name: p.backend(parts) for p in plugins if p.backend is not None
        }
        self.panes: dict[str, QWidget] = {}
        # Kept for the window's life: a pane may connect a signal to a context's method,
        # and Qt holds a method of a plain object only weakly.
        self._contexts = {p.pane.name: _Context(self, p.pane.name) for p in plugins}
        for plugin in plugins:
            self.panes[plugin.pane.name] = plugin.pane.build(self._contexts[plugin.pane.name])
        for plugin in plugins:
            if plugin.pane.link is not None:
                plugin.pane.link(self.panes[plugin.pane.name], self._contexts[plugin.pane.name])

    # -- what every pane is given ------------------------------------------------------------
    def _site_cameras_changed(self, _event: SiteCamerasChanged) -> None:
        """The engine started or stopped cameras the site file changed: the cameras panes
        show, and where each one's picture is, from now on. GUI thread (memory only)."""
        runtime = self.runtime
        self.cameras = _cameras_of(runtime)
        self._latest = {cam_id: s.slot.latest for cam_id, s in runtime.cameras.sources.items()}

    def frame_of(self, camera: str) -> Frame | None:
        if self.remote_video is not None:
            return self.remote_video.frame_of(camera)
        latest = self._latest.get(camera)
        return latest() if latest is not None else None

    def video_state(self, camera: str) -> str | None:
        """Attached: why ``camera`` has no picture now (None: it has one, or is not
        attached). Memory only."""
        state = self.remote_video.state(camera) if self.remote_video is not None else None
        return state.text if state is not None else None

    def engine_of(self, camera: str) -> str | None:
        """An attached console: the engine running ``camera`` as the site's engines last
        told (None: none does, or not told yet). A dict read: fine on the GUI thread."""
        follower = self.runtime.shared.follower
        state = follower.cameras.get(camera) if follower is not None else None
        return state.engine if state is not None else None

    def dedicated_queries(self, workers: int) -> QueryClient:
        client = QtQueryClient(QueryService(self._store, workers=workers), self.window)
        self._own_queries.append(client)
        return client

    def when_closing(
        self, before: Callable[[], None] | None, after: Callable[[], None] | None
    ) -> None:
        if before is not None:
            self._before_workers_stop.append(before)
        if after is not None:
            self._after_workers_stop.append(after)

    # -- the person at the console -----------------------------------------------------------
    def tell_actor(self, actor: Actor | None) -> None:
        """Each pane that offers changes hears who may make them now (None: nobody)."""
        for pane in self.panes.values():
            if isinstance(pane, ActorAware):
                pane.on_actor_changed(actor)

    def close_what_was_opened(self) -> None:
        """A lock or logout ends a person's session: the next person does not find the
        clips, dialogs and replays they had open."""
        for pane in self.panes.values():
            if isinstance(pane, PersonScoped):
                pane.close_what_was_opened()

    def page_shown(self, name: str) -> None:
        """An administration page came into view for the person logged in."""
        pane = self.panes.get(name)
        if isinstance(pane, ShownOnDemand) and pane_allowed(self.session.actor, name):
            pane.on_page_shown()

    def close(self) -> None:
        """Stop what the panes handed over, the query workers (waiting for a running read:
        no query thread outlives the window), then the backends' own resources."""
        if self.remote_video is not None:
            self.remote_video.stop()
        if self.remote_media is not None:
            self.remote_media.stop()
        for stop in self._before_workers_stop:
            stop()
        for client in self._own_queries:
            client.close()  # waits for a file being recognised
        self.queries.close()
        for stop in self._after_workers_stop:
            stop()
        for backend in self.backends.values():
            close = getattr(backend, "close", None)  # the chat's HTTP client
            if callable(close):
                close()


def _cameras_of(runtime: EngineRuntime) -> list[tuple[str, str]]:
    """The live cameras a pane shows, ``(id, name)``: those this console's engine runs, or
    attached (``watchfloor --attach``), every camera of the site: the site's engines run
    them, and this console hears their states (it has no frames of them)."""
    if runtime.attached:
        return [(camera.id, camera.name) for camera in runtime.site.cameras]
    return [(cam_id, s.camera.name) for cam_id, s in runtime.cameras.sources.items()]


def _rooms_of(runtime: EngineRuntime) -> list[tuple[str, str]]:
    """The sensing rooms a pane shows, ``(id, name)``: those this console's engine runs,
    or attached, every room of the site (see :func:`~engine.runtime.rooms_shown`)."""
    return rooms_shown(runtime.site, attached=runtime.attached, running=runtime.sensing.services)


class _Context:
    """One pane's :class:`~widgets.pane.PaneContext`."""

    def __init__(self, host: PaneHost, name: str) -> None:
        self._host = host
        self.name = name

    @property
    def queries(self) -> QueryClient:
        return self._host.queries

    @property
    def backend(self) -> Any:
        return self._host.backends.get(self.name)

    @property
    def site(self) -> SiteConfig:
        return self._host.runtime.site

    @property
    def cameras(self) -> list[tuple[str, str]]:
        return list(self._host.cameras)

    @property
    def recorded_cameras(self) -> list[tuple[str, str]]:
        return list(self._host.recorded_cameras)

    @property
    def rooms(self) -> list[tuple[str, str]]:
        return list(self._host.rooms)

    @property
    def room_ids(self) -> list[str]:
        return [room for room, _name in self._host.rooms]

    @property
    def media_root(self) -> Path:
        return self._host.media_root

    @property
    def fetch_recording(self) -> Callable[[Path], Path] | None:
        remote = self._host.remote_media
        return remote.fetch_file if remote is not None else None

    @property
    def footage_file(self) -> Callable[[Path], Path]:
        return self._host.footage_file

    @property
    def events(self) -> EngineSignals:
        return self._host.bridge

    @property
    def settings(self) -> QSettings:
        return self._host.settings

    @property
    def window(self) -> QWidget:
        return self._host.window

    @property
    def actor(self) -> Actor | None:
        return self._host.session.actor

    def now(self) -> datetime:
        return self._host.runtime.clock.now()

    def frame_of(self, camera: str) -> Frame | None:
        return self._host.frame_of(camera)

    def main_frame_of(self, camera: str) -> Frame | None:
        runtime = self._host.runtime
        return None if runtime.attached else runtime.cameras.main_frame(camera)

    def watch_main(self, camera: str, watching: bool) -> bool:
        runtime = self._host.runtime
        return False if runtime.attached else runtime.cameras.watch_main(camera, watching)

    @property
    def camera_engine(self) -> Callable[[str], str | None] | None:
        return self._host.engine_of if self._host.runtime.attached else None

    @property
    def camera_video_state(self) -> Callable[[str], str | None] | None:
        return self._host.video_state if self._host.runtime.attached else None

    def dedicated_queries(self, workers: int) -> QueryClient:
        return self._host.dedicated_queries(workers)

    def pane(self, name: str) -> QWidget | None:
        return self._host.panes.get(name)

    def show_pane(self, name: str) -> None:
        self._host.show_pane(name)

    def flag_pane(self, name: str) -> bool:
        return self._host.tab_flags.flag(name)

    def set_pane_title(self, name: str, title: str) -> None:
        self._host.set_pane_title(name, title)

    def show_message(self, text: str, timeout_ms: int = 0) -> None:
        self._host.window.statusBar().showMessage(text, timeout_ms)

    def when_closing(
        self,
        before_workers_stop: Callable[[], None] | None = None,
        after_workers_stop: Callable[[], None] | None = None,
    ) -> None:
        self._host.when_closing(before_workers_stop, after_workers_stop)

    def settings_changed(self, keys: list[str]) -> None:
        self._host.settings_changed(keys)

    def account_changed(self, name: str) -> None:
        self._host.account_changed(name)

"""What a pane declares about itself: its title, the permission that shows it, where it
lives (the live wall or the administration window), on the wall its place in each role
layout, how it is built, and how it links to the engine's events and to other panes.

Each pane package says it once, in its ``plugin.py`` (``PANE = PaneSpec(...)``); the
console's plugin list (:mod:`console.plugins`) names them in order with the engine-side
actions each is given, and the role layouts are derived from the places
(:func:`arrangement_of`), so nothing about a pane is written in a hub file.

Building goes in two rounds, as Spyder's plugins do: every pane's ``build`` first (it gets
a :class:`PaneContext`: the query client, the site, its own backend…), then every pane's
``link`` (the same context, now able to find the other panes by name): a pane subscribes
to the engine's events it shows (``ctx.events.on(EventClass, handler)``) and connects the
other panes' signals it follows there. What a pane does
when the person changes, when they leave and when its page is shown, it says by having
the methods of :class:`ActorAware`, :class:`PersonScoped` and :class:`ShownOnDemand`;
what it must stop when the window closes, it hands to :meth:`PaneContext.when_closing`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QWidget

from engine.access import Actor, Permission
from engine.config import SiteConfig
from engine.events import Event
from engine.frames import Frame
from widgets.queries import QueryClient

E = TypeVar("E", bound=Event)

Area = Qt.DockWidgetArea
LEFT = Area.LeftDockWidgetArea
RIGHT = Area.RightDockWidgetArea
BOTTOM = Area.BottomDockWidgetArea


@runtime_checkable
class ActorAware(Protocol):
    """A pane that offers changes: told whenever who is logged in changes (None: the
    console locked or logged out), it offers what that person's roles allow and closes
    what it had open for someone else. GUI thread."""

    def on_actor_changed(self, actor: Actor | None) -> None: ...


@runtime_checkable
class PersonScoped(Protocol):
    """A pane that opens things for a person (a clip player, a dialog, a replay): a lock
    or logout closes them, so the next person does not find them. GUI thread."""

    def close_what_was_opened(self) -> None: ...


@runtime_checkable
class ShownOnDemand(Protocol):
    """An administration page that reads what it shows when its page comes into view
    (not live): told each time it is shown to someone who may see it. GUI thread."""

    def on_page_shown(self) -> None: ...


class EngineSignals(Protocol):
    """The engine's announcements, delivered on the GUI thread: a pane subscribes by event
    class (``events.on(AlertRaised, handler)``); the kinds that reach panes, and how, are
    declared with the classes (:func:`engine.events.to_console`)."""

    def on(self, kind: type[E], handler: Callable[[E], object]) -> None:
        """Call ``handler(event)`` on the GUI thread for every event of ``kind`` (exactly
        that class); a kind not declared to the console is refused (ValueError)."""
        ...


class PaneContext(Protocol):
    """What the console gives one pane while it is built and linked. GUI thread."""

    @property
    def name(self) -> str:
        """The pane's own name."""
        ...

    @property
    def queries(self) -> QueryClient:
        """Reads and blocking actions on the console's query workers."""
        ...

    @property
    def backend(self) -> Any:
        """This pane's engine-side actions, as its ``api.py`` describes them (None: the
        plugin list gives it none). Their calls block: submit them through ``queries``."""
        ...

    @property
    def site(self) -> SiteConfig: ...

    @property
    def cameras(self) -> list[tuple[str, str]]:
        """The site's cameras, ``(id, name)``, in order."""
        ...

    @property
    def recorded_cameras(self) -> list[tuple[str, str]]:
        """The cameras of recordings analysed into the site (``watchfloor analyze``),
        ``(id, name)``: stored events and clips, no live feed."""
        ...

    @property
    def rooms(self) -> list[tuple[str, str]]:
        """The sensing rooms this engine runs, ``(id, name)``."""
        ...

    @property
    def room_ids(self) -> list[str]:
        """The ids of those rooms."""
        ...

    @property
    def media_root(self) -> Path:
        """Where clips, snapshots and exports are stored (paths in the store are below)."""
        ...

    @property
    def fetch_recording(self) -> Callable[[Path], Path] | None:
        """None: every recording is on this machine, under :attr:`media_root`. Otherwise
        (a console attached to a shared site) a blocking function that returns the local
        file of a recording named under :attr:`media_root`, fetching it from the engine
        that keeps it; it raises an exception whose text says why it cannot. Submit it
        through ``queries``."""
        ...

    @property
    def footage_file(self) -> Callable[[Path], Path]:
        """A blocking function that returns the playable file of a clip named under
        :attr:`media_root`: a clip that is a view onto its camera's continuous recording
        is cut from it, and on an attached console a file is fetched from the engine that
        keeps it; it raises an exception whose text says why it cannot. Submit it through
        ``queries``."""
        ...

    @property
    def events(self) -> EngineSignals: ...

    @property
    def settings(self) -> QSettings:
        """This console's settings (layouts, choices made at this desk)."""
        ...

    @property
    def window(self) -> QWidget:
        """The main window: the parent of the pane's dialogs and objects."""
        ...

    @property
    def actor(self) -> Actor | None:
        """Who is logged in (None: nobody, the console is locked)."""
        ...

    def now(self) -> datetime:
        """The engine clock's time (UTC)."""
        ...

    def frame_of(self, camera: str) -> Frame | None:
        """The camera's newest decoded frame (memory only, no I/O); None before the first."""
        ...

    def main_frame_of(self, camera: str) -> Frame | None:
        """The camera's newest main-stream picture while :meth:`watch_main` watches it,
        with its sub stream's analysis (memory only); None otherwise."""
        ...

    def watch_main(self, camera: str, watching: bool) -> bool:
        """Start (``watching``) or stop decoding the camera's main stream for a full-size
        view (memory only; the engine's decoder runs on its own thread). False: the camera
        has no main stream to decode here (one stream, or it runs in another engine)."""
        ...

    @property
    def camera_engine(self) -> Callable[[str], str | None] | None:
        """A console attached to a shared site (``watchfloor --attach``): which engine runs
        a camera now, by camera id, as the site's engines last told (None: none does); its
        frames stay on that engine's machine (:meth:`frame_of` gives None). None here: the
        cameras run in this console's own engine."""
        ...

    @property
    def camera_video_state(self) -> Callable[[str], str | None] | None:
        """A console attached to a shared site: why there is no picture of a camera now,
        by camera id, in one line (None: its picture is coming or shown); None here: the
        cameras run in this console's own engine."""
        ...

    def dedicated_queries(self, workers: int) -> QueryClient:
        """A query client of the pane's own (``workers`` threads) for slow work that must
        not hold up the shared workers; the console stops it when the window closes."""
        ...

    def pane(self, name: str) -> QWidget | None:
        """Another pane's widget (only once every pane is built: in ``link``)."""
        ...

    def show_pane(self, name: str) -> None:
        """Bring a wall pane forward (shown, in front of the panes sharing its place) for
        someone logged in who may see it; nothing while the console is locked."""
        ...

    def flag_pane(self, name: str) -> bool:
        """Ask for the person's eyes on a wall pane without moving anything: its tab, when
        it is behind another, turns red and blinks until shown. False: nothing to flag
        (the pane is in front, alone in its place, or hidden)."""
        ...

    def set_pane_title(self, name: str, title: str) -> None: ...

    def show_message(self, text: str, timeout_ms: int = 0) -> None:
        """A line in the window's status bar."""
        ...

    def when_closing(
        self,
        before_workers_stop: Callable[[], None] | None = None,
        after_workers_stop: Callable[[], None] | None = None,
    ) -> None:
        """What to stop when the window closes: ``before_workers_stop`` while the query
        workers still run (a recording to end, a microphone), ``after_workers_stop`` once
        they have (a decoder nothing feeds any more)."""
        ...

    def settings_changed(self, keys: list[str]) -> None:
        """Stored settings were changed here: the console re-reads those it uses itself
        (the idle lock)."""
        ...

    def account_changed(self, name: str) -> None:
        """An account was changed here: if it is the logged-in person's, the console
        offers what their roles now allow."""
        ...


W = TypeVar("W", bound=QWidget)


def other_pane(ctx: PaneContext, name: str, kind: type[W]) -> W | None:
    """Pane ``name`` if this console has it and it is a ``kind`` (in ``link``): a pane that
    follows another names it and its view class, as Spyder's plugins name the plugins they
    need; without it, the link is simply not made."""
    widget = ctx.pane(name)
    return widget if isinstance(widget, kind) else None


class Layout(StrEnum):
    """The role layouts of the live wall, in menu order."""

    OPERATOR = "Operator"
    INVESTIGATOR = "Investigator"
    ADMIN = "Admin"


class Home(StrEnum):
    """Where a pane lives: a dock on the live wall, or a page of the administration
    window (what is set up rather than watched)."""

    WALL = "wall"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a wall pane sits in one layout: its dock ``area``; ``onto``: a tab behind
    that pane (which stays in front); ``hidden``: closed until opened from View → Panes;
    ``width``: this pane heads a column that takes this share of the window's width (two
    panes per layout say it); ``height``: its share of its column's height (the panes
    stacked in one column say it)."""

    area: Area
    onto: str | None = None
    hidden: bool = False
    width: int = 0
    height: int = 0


Build = Callable[[PaneContext], QWidget]
Link = Callable[[QWidget, PaneContext], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class PaneSpec:
    """A pane's declaration. ``name`` is its stable key (saved layouts and settings use
    it); ``title`` what a person reads on its tab or in the sidebar; ``permission`` what an
    actor needs to be offered it; ``places`` (wall panes) one per layout; ``build`` makes
    its widget; ``link`` (optional) connects it, once every pane is built."""

    name: str
    title: str
    permission: Permission
    build: Build
    link: Link | None = None
    home: Home = Home.WALL
    places: Mapping[Layout, Place] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.home is Home.WALL and set(self.places) != set(Layout):
            raise ValueError(f"pane {self.name!r}: a wall pane needs a place in every layout")
        if self.home is Home.ADMIN and self.places:
            raise ValueError(f"pane {self.name!r}: an administration page has no dock place")


@dataclass(frozen=True, slots=True)
class Arrangement:
    """One layout's default arrangement, derived from the panes' places: where each pane
    goes, which start hidden, how the two heading panes share the width, which panes are
    tabs behind which (``(pane, onto)``), and how stacked panes share a column's height."""

    areas: tuple[tuple[str, Area], ...]
    hidden: tuple[str, ...]
    split: tuple[tuple[str, int], tuple[str, int]]
    tabs: tuple[tuple[str, str], ...] = ()
    heights: tuple[tuple[tuple[str, int], ...], ...] = ()


def arrangement_of(layout: Layout, panes: Iterable[PaneSpec]) -> Arrangement:
    """``layout``'s arrangement from the wall panes' places (in the panes' order)."""
    placed = [(spec.name, spec.places[layout]) for spec in panes if spec.home is Home.WALL]
    split = [(name, place.width) for name, place in placed if place.width]
    if len(split) != 2:
        raise ValueError(f"{layout.value}: two panes must share the width, not {split}")
    columns: dict[Area, list[tuple[str, int]]] = {}
    for name, place in placed:
        if place.height:
            columns.setdefault(place.area, []).append((name, place.height))
    return Arrangement(
        areas=tuple((name, place.area) for name, place in placed),
        hidden=tuple(name for name, place in placed if place.hidden),
        split=(split[0], split[1]),
        tabs=tuple((name, place.onto) for name, place in placed if place.onto),
        heights=tuple(tuple(column) for column in columns.values() if len(column) > 1),
    )

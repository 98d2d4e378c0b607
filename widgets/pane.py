"""What a pane declares about itself: its title, the permission that shows it, where it
lives (the live wall or the administration window) and, on the wall, its place in each
role layout.

Each pane package says it once, in its ``plugin.py`` (``PANE = PaneSpec(...)``); the
console's plugin list (:mod:`widgets.panes`) names them in order, and the role layouts are
derived from the places (:func:`arrangement_of`), so a pane's placement is never written in
a hub file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from PySide6.QtCore import Qt

from engine.access import Actor, Permission

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


@dataclass(frozen=True, slots=True)
class PaneSpec:
    """A pane's declaration. ``name`` is its stable key (saved layouts and settings use
    it); ``title`` what a person reads on its tab or in the sidebar; ``permission`` what an
    actor needs to be offered it; ``places`` (wall panes) one per layout."""

    name: str
    title: str
    permission: Permission
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

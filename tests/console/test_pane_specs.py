"""Panes declare themselves (widgets/<pane>/plugin.py) and the plugin list (console/plugins.py)
names them all;
the role layouts are derived from those declarations, so a pane is added by its package and
one line in the list."""

from __future__ import annotations

import importlib
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from console.layouts import STATE_VERSION, state_version
from console.plugins import PANES
from engine.access import Permission
from widgets.pane import LEFT, RIGHT, Home, Layout, PaneSpec, Place, arrangement_of

WIDGETS = Path(__file__).resolve().parents[2] / "widgets"


def _nothing(_ctx: object) -> QWidget:
    raise AssertionError("not built here")


def test_every_plugin_is_listed_once_under_its_own_package() -> None:
    declared = sorted(p.parent.name for p in WIDGETS.glob("*/plugin.py"))
    listed = [spec.name for spec in PANES]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == declared
    for spec in PANES:
        plugin = importlib.import_module(f"widgets.{spec.name}.plugin")
        assert plugin.PANE is spec


def test_every_wall_pane_has_a_place_and_every_tab_a_pane_in_front() -> None:
    wall = {spec.name for spec in PANES if spec.home is Home.WALL}
    for layout in Layout:
        arrangement = arrangement_of(layout, PANES)
        assert {name for name, _area in arrangement.areas} == wall
        for name, onto in arrangement.tabs:
            assert onto in wall and onto not in dict(arrangement.tabs), (layout, name, onto)
        assert {name for name, _part in arrangement.split} <= wall - dict(arrangement.tabs).keys()


def test_a_new_pane_is_placed_from_its_declaration_alone() -> None:
    clock = PaneSpec(
        name="site_clock",
        title="Site clock",
        permission=Permission.WATCH,
        build=_nothing,
        places={
            Layout.OPERATOR: Place(RIGHT, onto="events"),
            Layout.INVESTIGATOR: Place(RIGHT, hidden=True, onto="people"),
            Layout.ADMIN: Place(RIGHT, height=1),
        },
    )
    panes = (*PANES, clock)
    operator = arrangement_of(Layout.OPERATOR, panes)
    assert ("site_clock", RIGHT) in operator.areas and ("site_clock", "events") in operator.tabs
    assert "site_clock" in arrangement_of(Layout.INVESTIGATOR, panes).hidden
    admin = arrangement_of(Layout.ADMIN, panes)
    assert (("sensing", 1), ("events", 1), ("site_clock", 1)) in admin.heights


def test_declarations_that_cannot_be_laid_out_are_refused() -> None:
    with pytest.raises(ValueError, match="a place in every layout"):
        PaneSpec(
            name="odd",
            title="Odd",
            permission=Permission.WATCH,
            build=_nothing,
            places={Layout.OPERATOR: Place(LEFT)},
        )
    with pytest.raises(ValueError, match="no dock place"):
        PaneSpec(
            name="odd",
            title="Odd",
            permission=Permission.WATCH,
            build=_nothing,
            home=Home.ADMIN,
            places={Layout.ADMIN: Place(LEFT)},
        )
    cameras = next(spec for spec in PANES if spec.name == "cameras")
    no_split = replace(cameras, places={**cameras.places, Layout.OPERATOR: Place(LEFT)})
    with pytest.raises(ValueError, match="two panes must share the width"):
        arrangement_of(Layout.OPERATOR, [no_split, *(s for s in PANES if s is not cameras)])


def test_saved_arrangements_are_versioned_by_the_wall_panes_themselves() -> None:
    wall = tuple(spec for spec in PANES if spec.home is Home.WALL)
    assert state_version(wall) == STATE_VERSION == state_version(tuple(wall))
    assert 0 < STATE_VERSION < 2**31  # what QMainWindow.saveState takes
    events = next(spec for spec in wall if spec.name == "events")
    moved = replace(events, places={**events.places, Layout.OPERATOR: Place(LEFT, height=1)})
    assert state_version(tuple(moved if s is events else s for s in wall)) != STATE_VERSION
    renamed = replace(events, name="history")
    assert state_version(tuple(renamed if s is events else s for s in wall)) != STATE_VERSION

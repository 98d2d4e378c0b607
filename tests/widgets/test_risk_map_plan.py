"""The site plan on the risk map, drawn for real (offscreen): the plan's picture lies where
its two pins say (a pinned pixel is drawn on the place it was pinned to, a third pixel where
the scale and rotation put it), the cells turn translucent over it, the line above the map
names it; without a plan an admin is told how to add one. An admin pins a plan through the
dialog with the mouse (the picture checked on a worker, two clicks, two places, save), a bad
picture and a refused save are shown in words.

The backend is a stand-in for the console's (it checks the picture with the engine's own
check); the plan picture is drawn here with OpenCV, a floor outline with room labels."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from engine.access import Permission, PermissionDeniedError
from engine.history.query_service import QueryResult
from engine.incidents.site_plan import (
    PinPlace,
    PlanImage,
    PlanPin,
    SitePlanError,
    SitePlanShown,
    SitePlanView,
    check_plan_image,
    degrees_of,
)
from tests.actors import ADMIN, OPERATOR
from tests.machine_text import machine_text
from tests.widgets.test_risk_map import CENTRE, FakeIncidents, FakeQueryClient
from widgets.risk_map.view import (
    NO_PLAN_ADMIN_TEXT,
    NO_PLAN_TEXT,
    PLAN_CELL_OPACITY,
    REPLACE_PLAN_TEXT,
    RiskMapPane,
)

NOW = datetime(2026, 2, 3, 10, 25, tzinfo=UTC)
PLAN_W, PLAN_H = 400, 300


def draw_plan() -> bytes:
    """A floor plan: an outline, two rooms and their labels, dark on light."""
    image = np.full((PLAN_H, PLAN_W, 3), 235, np.uint8)
    cv2.rectangle(image, (8, 8), (PLAN_W - 8, PLAN_H - 8), (30, 30, 30), 4)
    cv2.line(image, (200, 8), (200, PLAN_H - 8), (30, 30, 30), 3)
    cv2.putText(image, "Lobby", (40, 160), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (20, 20, 20), 2)
    cv2.putText(image, "Store", (240, 160), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (20, 20, 20), 2)
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


# The picture's top-left corner 60 m west, 40 m north of the site's centre; its top edge
# runs 80 m long, turned 25° anticlockwise from east.
TURN = math.radians(25.0)
TOP_LEFT_M = (-60.0, 40.0)
TOP_RIGHT_M = (TOP_LEFT_M[0] + 80.0 * math.cos(TURN), TOP_LEFT_M[1] + 80.0 * math.sin(TURN))


def true_metres(u: float, v: float) -> tuple[float, float]:
    """Where picture pixel (u, v) truly is, metres east and north (scale 0.2 m/pixel)."""
    x, y = u * 0.2, -v * 0.2
    return (
        TOP_LEFT_M[0] + x * math.cos(TURN) - y * math.sin(TURN),
        TOP_LEFT_M[1] + x * math.sin(TURN) + y * math.cos(TURN),
    )


def plan_view(path: str = "site_plans/ab.png", name: str = "ground floor.png") -> SitePlanView:
    pins = tuple(
        PlanPin(u, v, *degrees_of(CENTRE, *true_metres(u, v))) for u, v in ((0, 0), (PLAN_W, 0))
    )
    return SitePlanView(
        site_id=1,
        path=path,
        original_name=name,
        width_px=PLAN_W,
        height_px=PLAN_H,
        pins=(pins[0], pins[1]),
        pinned_by="account:ada",
        pinned_at=NOW,
    )


class PlanBackend(FakeIncidents):
    """The incident backend with a site plan: ``plan`` is what the map reads; pinning
    records the call and stores what it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.plan: SitePlanShown | None = None
        self.pin_calls: list[tuple[Path, tuple[PinPlace, PinPlace]]] = []
        self.pin_failure: Exception | None = None

    def site_plan(self) -> SitePlanShown | None:  # type: ignore[override]
        self.calls.append(("site_plan",))
        return self.plan

    def check_plan_image(self, path: Path) -> PlanImage:
        return check_plan_image(path)

    def pin_site_plan(self, path: Path, pins: tuple[PinPlace, PinPlace]) -> SitePlanView:
        self.pin_calls.append((path, pins))
        if self.pin_failure is not None:
            raise self.pin_failure
        image = check_plan_image(path)
        resolved = []
        for pin in pins:
            assert pin.east_m is not None and pin.north_m is not None
            resolved.append(
                PlanPin(
                    pin.image_x_px, pin.image_y_px, *degrees_of(CENTRE, pin.east_m, pin.north_m)
                )
            )
        view = SitePlanView(
            1, "site_plans/new.png", path.name, image.width_px, image.height_px,
            (resolved[0], resolved[1]), "account:ada", NOW,
        )  # fmt: skip
        self.plan = SitePlanShown(view, image.data, CENTRE)
        return view


class ActingQueryClient(FakeQueryClient):
    """The fake query client that also runs actions (the pin dialog's save)."""

    def submit_action(self, channel: str, action: Any, on_done: Any, *, name: str = "") -> int:  # type: ignore[override]
        try:
            result: QueryResult[Any] = QueryResult(channel, None, 1, value=action())  # type: ignore[arg-type]
        except Exception as exc:
            result = QueryResult(channel, None, 1, error=exc)  # type: ignore[arg-type]
        QTimer.singleShot(0, lambda: on_done(result))
        return 1


def make_pane(qtbot: QtBot, backend: PlanBackend) -> tuple[RiskMapPane, ActingQueryClient]:
    client = ActingQueryClient()
    pane = RiskMapPane(client, backend, now=lambda: NOW)  # type: ignore[arg-type]
    qtbot.addWidget(pane)
    pane.resize(1000, 760)
    pane.show()
    qtbot.waitExposed(pane)
    qtbot.waitUntil(lambda: pane.prepared_map() is not None and not pane.is_loading())
    qtbot.waitUntil(lambda: client.pending() == 0)
    QTest.qWait(0)
    return pane, client


def test_the_plan_is_drawn_where_its_pins_put_it_under_translucent_cells(
    qtbot: QtBot,
) -> None:
    backend = PlanBackend()
    backend.plan = SitePlanShown(plan_view(), draw_plan(), CENTRE)
    pane, _client = make_pane(qtbot, backend)
    qtbot.waitUntil(pane.plan_is_drawn)

    for u, v in ((0, 0), (PLAN_W, 0), (PLAN_W, PLAN_H), (120, 250)):
        lat, lon = degrees_of(CENTRE, *true_metres(u, v))
        expected = pane.view_point(lat, lon)
        drawn = pane.plan_point(u, v)
        assert abs(drawn.x() - expected.x()) <= 1 and abs(drawn.y() - expected.y()) <= 1, (u, v)
    # The map zooms to the plan: it is drawn large, not a speck of the 3 km grid.
    corners = [pane.plan_point(u, v) for u, v in ((0, 0), (PLAN_W, 0), (0, PLAN_H))]
    assert math.dist(corners[0].toTuple(), corners[1].toTuple()) > 300
    # The picture itself is on screen: the light floor inside the plan is light there.
    image = pane.plot_widget.viewport().grab().toImage()
    inside = pane.plan_point(100, 60)
    outside_far = QPoint(2, 2)
    floor = image.pixelColor(inside)
    assert floor.lightness() > image.pixelColor(outside_far).lightness() + 40
    assert pane._level_items[0].opacity() == pytest.approx(PLAN_CELL_OPACITY)
    text = pane.plan_label.text()
    assert text.startswith("Site plan: ground floor.png, pinned by ada on 2026-02-03 10:25")
    assert not machine_text(text)


def test_without_a_plan_the_map_says_how_an_admin_adds_one(qtbot: QtBot) -> None:
    pane, _client = make_pane(qtbot, PlanBackend())
    qtbot.waitUntil(lambda: pane.plan_label.text() != "")
    assert not pane.plan_is_drawn()
    assert pane._level_items[0].opacity() == 1.0
    assert pane.plan_label.text() == NO_PLAN_TEXT
    assert not pane.plan_button.isVisible()
    pane.on_actor_changed(ADMIN)
    assert ADMIN.may(Permission.CHANGE_SETTINGS)
    assert pane.plan_label.text() == NO_PLAN_ADMIN_TEXT
    assert pane.plan_button.isVisible() and pane.plan_button.text() == "Add site plan…"
    pane.on_actor_changed(OPERATOR)
    assert not pane.plan_button.isVisible()
    assert pane.open_pin_dialog(Path("/nowhere.png")) is None


def test_an_admin_pins_a_plan_with_two_clicks_and_it_is_drawn(qtbot: QtBot, tmp_path: Path) -> None:
    source = tmp_path / "ground floor.png"
    source.write_bytes(draw_plan())
    backend = PlanBackend()
    pane, _client = make_pane(qtbot, backend)
    pane.on_actor_changed(ADMIN)
    dialog = pane.open_pin_dialog(source)
    assert dialog is not None
    with qtbot.waitSignal(dialog.sig_picture_checked) as checked:
        pass
    assert checked.args == [True]
    assert dialog.picture_size() == (PLAN_W, PLAN_H)
    assert not dialog.save_button.isEnabled()
    qtbot.waitExposed(dialog)

    picture = dialog.picture
    first = picture.widget_point(20, 30).toPoint()
    qtbot.mouseClick(picture, Qt.MouseButton.LeftButton, pos=first)
    assert dialog.point_buttons[1].isChecked()  # the next click places point 2
    second = picture.widget_point(380, 30).toPoint()
    qtbot.mouseClick(picture, Qt.MouseButton.LeftButton, pos=second)
    dialog.set_place(0, -35.0, 12.5)
    dialog.set_place(1, 37.0, 12.5)
    assert dialog.save_button.isEnabled()
    with qtbot.waitSignal(dialog.sig_plan_pinned):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    ((path, pins),) = backend.pin_calls
    assert path == source
    # The clicks land on the picture's pixels (within a pixel of the scaled display).
    assert pins[0].image_x_px == pytest.approx(20, abs=1.5)
    assert pins[0].image_y_px == pytest.approx(30, abs=1.5)
    assert pins[1].image_x_px == pytest.approx(380, abs=1.5)
    assert (pins[0].east_m, pins[0].north_m, pins[1].east_m) == (-35.0, 12.5, 37.0)
    # The map reads the new plan and draws it: the pinned pixel on its place.
    qtbot.waitUntil(pane.plan_is_drawn)
    assert pane.plan_button.text() == REPLACE_PLAN_TEXT
    lat, lon = degrees_of(CENTRE, -35.0, 12.5)
    at, expected = (
        pane.plan_point(pins[0].image_x_px, pins[0].image_y_px),
        pane.view_point(lat, lon),
    )
    assert abs(at.x() - expected.x()) <= 1 and abs(at.y() - expected.y()) <= 1
    qtbot.waitUntil(lambda: pane._pin_dialog is None)


def test_a_bad_picture_and_a_refused_save_are_said_in_words(qtbot: QtBot, tmp_path: Path) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")
    backend = PlanBackend()
    pane, _client = make_pane(qtbot, backend)
    pane.on_actor_changed(ADMIN)
    dialog = pane.open_pin_dialog(notes)
    assert dialog is not None
    with qtbot.waitSignal(dialog.sig_picture_checked) as checked:
        pass
    assert checked.args == [False]
    assert dialog.error_label.text() == (
        "This picture cannot be the plan: notes.png is not a PNG or JPEG picture"
    )
    assert not dialog.save_button.isEnabled()
    dialog.close()

    good = tmp_path / "plan.png"
    good.write_bytes(draw_plan())
    backend.pin_failure = PermissionDeniedError(OPERATOR, Permission.CHANGE_SETTINGS, "pin it")
    dialog = pane.open_pin_dialog(good)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.picture_size() is not None)
    qtbot.waitExposed(dialog)
    for u in (10, 390):
        point = dialog.picture.widget_point(u, 150).toPoint()
        qtbot.mouseClick(dialog.picture, Qt.MouseButton.LeftButton, pos=point)
    dialog.set_place(1, 40.0, 0.0)
    with qtbot.waitSignal(dialog.sig_save_failed) as failed:
        dialog.save()
    assert failed.args[0].startswith("The plan was not saved: olga (operator) may not pin it")
    assert dialog.isVisible() and dialog.error_label.isVisible()
    assert backend.plan is None
    with pytest.raises(SitePlanError):
        check_plan_image(notes)

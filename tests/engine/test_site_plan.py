"""The site plan on real databases (SQLite and PostgreSQL): two pins recover a known scale,
rotation and offset; the plan is copied into the data dir and stored with an audit entry;
a new plan replaces the old one and its file; bad files and bad pins are refused with the
problem named and nothing stored; someone without the settings permission is refused
before anything is read, and the refusal is audited."""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from engine.access import PermissionDeniedError
from engine.incidents.site_plan import (
    MAX_PLAN_BYTES,
    PinPlace,
    PlanPin,
    SitePlanError,
    check_plan_image,
    degrees_of,
    load_site_plan,
    metres_of,
    pins_transform,
    read_site_plan,
    site_plan_shown,
    transform_from_pins,
)
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.models import Site
from engine.store.site_plan_models import SitePlanRow
from engine.store.writer import StoreWriter
from engine.wording import audit_action, fields_of
from tests.actors import ADMIN, INVESTIGATOR, OPERATOR
from tests.machine_text import machine_text

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CENTRE = (51.50135, -0.14189)


def plan_png(width: int = 400, height: int = 300) -> bytes:
    """A floor outline with two rooms, drawn (no downloaded picture)."""
    image = np.full((height, width, 3), 245, np.uint8)
    cv2.rectangle(image, (10, 10), (width - 10, height - 10), (40, 40, 40), 3)
    cv2.line(image, (width // 2, 10), (width // 2, height - 10), (40, 40, 40), 2)
    cv2.putText(image, "Lobby", (30, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


@pytest.fixture
def site(db_url: str) -> Iterator[tuple[Store, StoreWriter, int]]:
    store = Store(db_url)
    try:
        with store.transaction() as session:
            row = Site(name="Plaza", geo_lat=CENTRE[0], geo_lon=CENTRE[1], updated_at=T0)
            session.add(row)
            session.flush()
            site_id = int(row.id)
        with StoreWriter.running(store) as writer:
            yield store, writer, site_id
    finally:
        store.close()


def pin_metres(u: float, v: float, east: float, north: float) -> PinPlace:
    return PinPlace(u, v, east_m=east, north_m=north)


# -- the transform ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scale", "rotation_deg", "offset"),
    [(0.05, 0.0, (0.0, 0.0)), (0.1, 30.0, (-12.0, 40.0)), (0.025, -125.0, (300.0, -80.0))],
)
def test_two_pins_recover_a_known_scale_rotation_and_offset(
    scale: float, rotation_deg: float, offset: tuple[float, float]
) -> None:
    turn = math.radians(rotation_deg)

    def truth(u: float, v: float) -> tuple[float, float]:
        # The picture's x turned ``rotation_deg`` anticlockwise from east; its y runs down.
        x, y = u * scale, -v * scale
        return (
            x * math.cos(turn) - y * math.sin(turn) + offset[0],
            x * math.sin(turn) + y * math.cos(turn) + offset[1],
        )

    points = [(35.0, 20.0), (780.0, 410.0)]
    transform = transform_from_pins(points, [truth(*p) for p in points])
    assert transform.scale_m_per_px == pytest.approx(scale, rel=1e-9)
    assert transform.rotation_deg == pytest.approx(rotation_deg, abs=1e-9)
    assert (transform.east_m, transform.north_m) == pytest.approx(offset, abs=1e-9)
    for u, v in [(0.0, 0.0), (1000.0, 0.0), (123.0, 999.0)]:
        assert transform.to_metres(u, v) == pytest.approx(truth(u, v), abs=1e-9)
    # Qt's QTransform maps (u, v) to (m11·u + m21·v + dx, m12·u + m22·v + dy).
    m11, m12, m21, m22, dx, dy = transform.matrix()
    assert (m11 * 500 + m21 * 250 + dx, m12 * 500 + m22 * 250 + dy) == pytest.approx(
        truth(500, 250)
    )


def test_a_north_up_plan_has_no_rotation_and_its_top_is_north() -> None:
    transform = transform_from_pins([(0, 0), (100, 100)], [(0, 0), (10, -10)])
    assert transform.rotation_deg == pytest.approx(0.0)
    assert transform.scale_m_per_px == pytest.approx(0.1)
    assert transform.to_metres(0, 100) == pytest.approx((0.0, -10.0))


def test_pins_too_close_are_refused_with_how_far_apart_they_are() -> None:
    with pytest.raises(SitePlanError, match="5 pixels apart on the picture"):
        transform_from_pins([(10, 10), (13, 14)], [(0, 0), (50, 0)])
    with pytest.raises(SitePlanError, match=r"0\.3 m apart"):
        transform_from_pins([(10, 10), (300, 10)], [(0, 0), (0.3, 0)])


def test_degrees_and_metres_round_trip_around_the_site_centre() -> None:
    lat, lon = degrees_of(CENTRE, 120.0, -45.0)
    assert metres_of(CENTRE, lat, lon) == pytest.approx((120.0, -45.0), abs=1e-6)


# -- storing -----------------------------------------------------------------------------------
def test_an_admin_loads_a_plan_it_is_copied_stored_and_audited(
    site: tuple[Store, StoreWriter, int], tmp_path: Path
) -> None:
    store, writer, site_id = site
    source = tmp_path / "ground floor.png"
    source.write_bytes(plan_png())
    lat2, lon2 = degrees_of(CENTRE, 30.0, 0.0)
    view = load_site_plan(
        writer,
        actor=ADMIN,
        site_id=site_id,
        centre=CENTRE,
        source=source,
        # The picture's top-left corner is at the site's centre, its top-right 30 m east.
        pins=[pin_metres(0, 0, 0.0, 0.0), PinPlace(400, 0, latitude=lat2, longitude=lon2)],
        at=T0,
        root=tmp_path / "data",
    )
    copy = tmp_path / "data" / view.path
    assert copy.read_bytes() == source.read_bytes()
    assert view.path.startswith("site_plans/") and view.path.endswith(".png")
    assert not list((tmp_path / "data" / "site_plans").glob("*.partial"))

    stored = read_site_plan(store, site_id)
    assert stored is not None
    assert (stored.width_px, stored.height_px) == (400, 300)
    assert stored.original_name == "ground floor.png"
    assert stored.pinned_by == "account:ada" and stored.pinned_at == T0
    transform = pins_transform(CENTRE, stored.pins)
    assert transform.scale_m_per_px == pytest.approx(30.0 / 400, rel=1e-6)
    assert transform.rotation_deg == pytest.approx(0.0, abs=1e-6)
    # The bottom-right corner: 30 m east, 22.5 m south.
    assert transform.to_metres(400, 300) == pytest.approx((30.0, -22.5), abs=1e-3)

    shown = site_plan_shown(store, site_id, CENTRE, tmp_path / "data")
    assert shown is not None and shown.problem is None
    assert shown.image == source.read_bytes()

    (entry,) = AuditListRequest(reader=ADMIN, action="site_plan.pin").run(store)
    assert entry.actor == "account:ada" and entry.outcome == "ok"
    assert entry.detail["file"] == "ground floor.png"
    assert entry.detail["size"] == "400 × 300 pixels"
    assert entry.detail["scale"] == "7.50 cm per pixel"
    assert entry.detail["point_2"].startswith("pixel 400 across, 0 down at latitude 51.50135")
    shown = "; ".join(f"{label}: {value}" for label, value in fields_of(entry.detail))
    assert "Point 1: pixel 0 across, 0 down" in shown, shown
    assert not machine_text(shown), shown
    assert audit_action(entry.action) == "Pinned the site plan"


def test_a_new_plan_replaces_the_old_one_and_its_file(
    site: tuple[Store, StoreWriter, int], tmp_path: Path
) -> None:
    store, writer, site_id = site
    root = tmp_path / "data"
    pins = [pin_metres(0, 0, -10.0, 10.0), pin_metres(200, 0, 10.0, 10.0)]
    first = tmp_path / "old.png"
    first.write_bytes(plan_png(400, 300))
    old = load_site_plan(
        writer, actor=ADMIN, site_id=site_id, centre=CENTRE, source=first, pins=pins, at=T0,
        root=root,
    )  # fmt: skip
    second = tmp_path / "new.png"
    second.write_bytes(plan_png(500, 300))
    new = load_site_plan(
        writer, actor=ADMIN, site_id=site_id, centre=CENTRE, source=second, pins=pins, at=T0,
        root=root,
    )  # fmt: skip
    assert not (root / old.path).exists()
    assert (root / new.path).exists()
    with store.sessions() as session:
        rows = session.scalars(select(SitePlanRow)).all()
    assert [(r.original_name, r.width_px) for r in rows] == [("new.png", 500)]
    (latest, _first) = AuditListRequest(reader=ADMIN, action="site_plan.pin").run(store)
    assert latest.detail["replaced"] is True


def test_someone_without_the_settings_permission_is_refused_and_it_is_audited(
    site: tuple[Store, StoreWriter, int], tmp_path: Path
) -> None:
    store, writer, site_id = site
    source = tmp_path / "plan.png"
    source.write_bytes(plan_png())
    for actor in (OPERATOR, INVESTIGATOR):
        with pytest.raises(PermissionDeniedError, match="change_settings"):
            load_site_plan(
                writer,
                actor=actor,
                site_id=site_id,
                centre=CENTRE,
                source=source,
                pins=[pin_metres(0, 0, 0, 0), pin_metres(400, 0, 30, 0)],
                at=T0,
                root=tmp_path / "data",
            )
    writer.flush()
    assert read_site_plan(store, site_id) is None
    assert not (tmp_path / "data").exists()  # nothing read or copied
    refused = AuditListRequest(reader=ADMIN, action="site_plan.pin").run(store)
    assert [(e.actor, e.outcome) for e in refused] == [
        ("account:ian", "denied"),
        ("account:olga", "denied"),
    ]


# -- bad files and pins ---------------------------------------------------------------------
def test_bad_files_are_refused_naming_the_problem(tmp_path: Path) -> None:
    real = tmp_path / "real.png"
    real.write_bytes(plan_png())
    link = tmp_path / "link.png"
    link.symlink_to(real)
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    broken = tmp_path / "broken.png"
    broken.write_bytes(plan_png()[:60])
    big = tmp_path / "huge.png"
    with big.open("wb") as handle:
        handle.write(plan_png())
        handle.truncate(MAX_PLAN_BYTES + 1)
    tiny = tmp_path / "tiny.png"
    _ok, encoded = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))
    tiny.write_bytes(encoded.tobytes())
    server = socket.socket(socket.AF_UNIX)
    sock = tmp_path / "s.png"
    server.bind(str(sock))
    try:
        cases = {
            link: "link.png is a symbolic link",
            fifo: r"pipe.png is a FIFO \(named pipe\), not a picture file",
            Path("/dev/zero"): "zero is a device, not a picture file",
            tmp_path: "is a folder, not a picture file",
            sock: "s.png is a socket",
            text: "notes.png is not a PNG or JPEG picture",
            empty: r"empty.png is empty \(0 bytes\)",
            broken: "broken.png is a damaged PNG picture",
            big: "huge.png is larger than 30 MB",
            tiny: "tiny.png is only 4 × 4 pixels",
            tmp_path / "gone.png": "gone.png: no such file",
        }
        for path, problem in cases.items():
            with pytest.raises(SitePlanError, match=problem):
                check_plan_image(path)
    finally:
        server.close()
    assert check_plan_image(real).width_px == 400


def test_bad_pins_store_nothing_and_leave_no_file(
    site: tuple[Store, StoreWriter, int], tmp_path: Path
) -> None:
    store, writer, site_id = site
    source = tmp_path / "plan.png"
    source.write_bytes(plan_png())
    root = tmp_path / "data"
    cases = [
        ([pin_metres(0, 0, 0, 0), PinPlace(400, 0)], "point 2: say where it is"),
        ([pin_metres(0, 0, 0, 0), pin_metres(900, 0, 30, 0)], "point 2 is outside the picture"),
        (
            [pin_metres(0, 0, 0, 0), PinPlace(400, 0, latitude=95.0, longitude=0.0)],
            "point 2: latitude must be between -90 and 90",
        ),
        ([pin_metres(0, 0, 0, 0), pin_metres(2, 1, 30, 0)], "pixels apart on the picture"),
        # 400 pixels for 9 km: the plan would reach far beyond the site.
        ([pin_metres(0, 0, 0, 0), pin_metres(400, 0, 9000, 0)], "would reach"),
    ]
    for pins, problem in cases:
        with pytest.raises(SitePlanError, match=problem):
            load_site_plan(
                writer, actor=ADMIN, site_id=site_id, centre=CENTRE, source=source, pins=pins,
                at=T0, root=root,
            )  # fmt: skip
    assert read_site_plan(store, site_id) is None
    assert not root.exists() or not any((root / "site_plans").iterdir())
    assert site_plan_shown(store, site_id, CENTRE, root) is None


def test_a_plan_whose_file_is_gone_says_so(
    site: tuple[Store, StoreWriter, int], tmp_path: Path
) -> None:
    store, writer, site_id = site
    source = tmp_path / "plan.jpg"
    _ok, encoded = cv2.imencode(".jpg", np.full((200, 300, 3), 200, np.uint8))
    source.write_bytes(encoded.tobytes())
    root = tmp_path / "data"
    view = load_site_plan(
        writer, actor=ADMIN, site_id=site_id, centre=CENTRE, source=source,
        pins=[pin_metres(0, 0, 0, 0), pin_metres(300, 0, 30, 0)], at=T0, root=root,
    )  # fmt: skip
    assert view.path.endswith(".jpg")
    (root / view.path).unlink()
    shown = site_plan_shown(store, site_id, CENTRE, root)
    assert shown is not None and shown.image is None
    assert shown.problem is not None and "plan.jpg) is missing" in shown.problem
    assert shown.transform().scale_m_per_px == pytest.approx(0.1, rel=1e-6)
    assert isinstance(shown.plan.pins[0], PlanPin)

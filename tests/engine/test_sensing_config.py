"""The site file's sensing parts: node MACs in ``[[sensing_nodes]]``, the ``[sensing]`` table,
and the sensing room the engine builds from them. Errors name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import SensingConfig, SiteConfigError, load_site
from engine.sensing.host import sensing_rooms

HEAD = '[site]\nname = "Lab"\ngeo = { lat = 51.5, lon = -0.14 }\n'
ROOM = "[room]\nwidth_m = 5.0\ndepth_m = 4.0\nheight_m = 2.5\n"


def node(node_id: str, x: float, mac: str | None = None) -> str:
    text = f'[[sensing_nodes]]\nid = "{node_id}"\nposition = {{ x = {x}, y = 0.1, z = 1.0 }}\n'
    return text + (f'mac = "{mac}"\n' if mac is not None else "")


TWO_NODES = node("a", 0.1, "24:6f:28:a1:b2:c3") + node("b", 4.9)


def write(tmp_path: Path, body: str) -> Path:
    site = tmp_path / "site.toml"
    site.write_text(body, encoding="utf-8")
    return site


def error_for(tmp_path: Path, body: str) -> SiteConfigError:
    with pytest.raises(SiteConfigError) as info:
        load_site(write(tmp_path, body))
    return info.value


def line_of(body: str, text: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line of ``body`` that contains ``text``."""
    hits = [n for n, line in enumerate(body.splitlines(), start=1) if text in line]
    return hits[occurrence - 1]


def test_a_node_mac_is_read_in_upper_case_and_is_optional(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, HEAD + ROOM + TWO_NODES))
    assert [(n.id, n.mac) for n in site.sensing_nodes] == [
        ("a", "24:6F:28:A1:B2:C3"),
        ("b", None),
    ]


@pytest.mark.parametrize(
    "mac", ["24-6F-28-A1-B2-C3", "24:6F:28:A1:B2", "24:6F:28:A1:B2:C3:D4", "24:6F:28:A1:B2:G3"]
)
def test_a_malformed_mac_is_refused_naming_the_field(tmp_path: Path, mac: str) -> None:
    body = HEAD + ROOM + node("a", 0.1) + node("b", 4.9, mac)
    error = error_for(tmp_path, body)
    assert error.field == "sensing_nodes[1].mac"
    assert error.line == line_of(body, "mac =")
    assert mac in error.message and "AA:BB:CC:DD:EE:FF" in error.message
    assert str(error).startswith(f"{tmp_path / 'site.toml'}:{error.line}: sensing_nodes[1].mac")


def test_a_mac_given_twice_is_refused_whatever_its_case(tmp_path: Path) -> None:
    body = (
        HEAD
        + ROOM
        + node("a", 0.1, "24:6F:28:A1:B2:C3")
        + node("b", 2.5)
        + node("c", 4.9, "24:6f:28:a1:b2:c3")
    )
    error = error_for(tmp_path, body)
    assert error.field in ("sensing_nodes[0].mac", "sensing_nodes[2].mac")
    index = int(error.field.split("[")[1].split("]")[0])
    assert error.line == line_of(body, "mac =", 1 if index == 0 else 2)
    assert "duplicate MAC 24:6F:28:A1:B2:C3" in error.message


def test_sensing_defaults_without_a_sensing_table(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, HEAD + ROOM + TWO_NODES))
    assert site.sensing == SensingConfig()
    # No port given: the engine picks (8080 for real nodes, any free one when simulated).
    assert (site.sensing.host, site.sensing.port) == ("127.0.0.1", None)
    assert (site.sensing.simulate, site.sensing.walkers, site.sensing.seed) == (False, 1, 0)
    assert site.sensing.voxel_m == 0.2


def test_a_full_sensing_table_is_read(tmp_path: Path) -> None:
    sensing = (
        '[sensing]\nhost = "0.0.0.0"\nport = 0\nsimulate = true\nwalkers = 8\nseed = 12\n'
        "voxel_m = 0.25\n"
    )
    site = load_site(write(tmp_path, HEAD + ROOM + sensing + TWO_NODES))
    assert site.sensing == SensingConfig("0.0.0.0", 0, True, 8, 12, 0.25)
    edge = load_site(write(tmp_path, HEAD + "[sensing]\nport = 65535\nwalkers = 0\n"))
    assert (edge.sensing.port, edge.sensing.walkers) == (65535, 0)


@pytest.mark.parametrize(
    ("setting", "field", "message"),
    [
        ("port = 65536", "sensing.port", "65536 is outside 0..65535"),
        ("port = -1", "sensing.port", "-1 is outside 0..65535"),
        ('port = "8080"', "sensing.port", "expected a whole number, got a string"),
        ("port = 80.5", "sensing.port", "expected a whole number, got a number"),
        ("walkers = 9", "sensing.walkers", "9 is outside 0..8"),
        ("walkers = -1", "sensing.walkers", "-1 is outside 0..8"),
        ('simulate = "yes"', "sensing.simulate", "expected true or false, got a string"),
        ("simulate = 1", "sensing.simulate", "expected true or false, got an integer"),
        ("seed = -3", "sensing.seed", "outside 0.."),
        ("voxel_m = 0.01", "sensing.voxel_m", "0.01 is outside 0.05..1"),
        ("voxel_m = 2", "sensing.voxel_m", "2 is outside 0.05..1"),
        ('host = ""', "sensing.host", "expected a non-empty string"),
        ("mac = 1", "sensing.mac", "unknown field"),
    ],
)
def test_each_bad_sensing_value_is_named(
    tmp_path: Path, setting: str, field: str, message: str
) -> None:
    body = HEAD + ROOM + "\n[sensing]\n" + setting + "\n" + TWO_NODES
    error = error_for(tmp_path, body)
    assert error.field == field
    assert error.line == line_of(body, setting)
    assert message in error.message


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (HEAD + "[sensing]\nsimulate = true\n" + TWO_NODES, "no [room]"),
        (HEAD + ROOM + "[sensing]\nsimulate = true\n", "no nodes"),
        # The service refuses a simulated room of fewer than two nodes, and the error
        # message itself says "at least two".
        (HEAD + ROOM + "[sensing]\nsimulate = true\n" + node("a", 0.1), "one node"),
    ],
)
def test_simulate_needs_a_room_and_two_nodes(tmp_path: Path, body: str, why: str) -> None:
    error = error_for(tmp_path, body)
    assert error.field == "sensing.simulate", why
    assert error.line == line_of(body, "simulate = true")
    assert "[room]" in error.message and "two" in error.message


def test_the_sensing_room_carries_positions_macs_and_voxel_size(tmp_path: Path) -> None:
    body = HEAD + ROOM + "[sensing]\nvoxel_m = 0.25\n" + TWO_NODES
    (room,) = sensing_rooms(load_site(write(tmp_path, body)))
    assert (room.room_id, room.name) == ("room", "Lab sensing")
    assert room.size == (5.0, 4.0, 2.5) and room.voxel_m == 0.25
    assert [(n.node_id, n.position, n.mac) for n in room.nodes] == [
        ("a", (0.1, 0.1, 1.0), "24:6F:28:A1:B2:C3"),
        ("b", (4.9, 0.1, 1.0), None),
    ]
    assert sensing_rooms(load_site(write(tmp_path, HEAD + TWO_NODES))) == ()  # no [room]
    assert sensing_rooms(load_site(write(tmp_path, HEAD + ROOM + node("a", 0.1)))) == ()


def test_a_rooms_fall_settings_are_read_into_its_fall_policy(tmp_path: Path) -> None:
    from engine.sensing.falls import FallPolicy

    body = HEAD + ROOM + '[sensing.falls]\nalerts = "everywhere"\nconfirm_s = 10\n' + TWO_NODES
    site = load_site(write(tmp_path, body))
    assert (site.sensing.fall_alerts, site.sensing.fall_confirm_s) == ("everywhere", 10.0)
    (room,) = sensing_rooms(site)
    assert room.falls == FallPolicy("everywhere", 10.0)
    (default,) = sensing_rooms(load_site(write(tmp_path, HEAD + ROOM + TWO_NODES)))
    assert default.falls == FallPolicy("confirmable", 8.0)


@pytest.mark.parametrize(
    ("setting", "field", "message"),
    [
        ('alerts = "sometimes"', "sensing.falls.alerts", "one of confirmable, everywhere, off"),
        ("alerts = true", "sensing.falls.alerts", "expected a non-empty string"),
        ("confirm_s = 20", "sensing.falls.confirm_s", "20 is outside 3..14"),
        ("sound = 1", "sensing.falls.sound", "unknown field"),
    ],
)
def test_each_bad_fall_setting_is_named(
    tmp_path: Path, setting: str, field: str, message: str
) -> None:
    body = HEAD + ROOM + "\n[sensing.falls]\n" + setting + "\n" + TWO_NODES
    error = error_for(tmp_path, body)
    assert error.field == field
    assert error.line == line_of(body, setting)
    assert message in error.message

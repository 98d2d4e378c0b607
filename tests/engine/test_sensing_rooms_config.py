"""A site of several sensing rooms: the ``[[rooms]]`` form of the site file, each node's
``room``, each room's node port, and the rooms the engine builds from them. The one-room
``[room]`` form keeps its id ``"room"``. Errors name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import SINGLE_ROOM_ID, load_site
from engine.runtime import place_names
from engine.sensing.host import room_blob_numbering, sensing_rooms
from tests.engine.test_sensing_config import HEAD, ROOM, error_for, line_of, write


def room(room_id: str, name: str | None = None, port: int | None = None) -> str:
    text = f'[[rooms]]\nid = "{room_id}"\n'
    text += f'name = "{name}"\n' if name is not None else ""
    text += "width_m = 5.0\ndepth_m = 4.0\nheight_m = 2.5\n"
    return text + (f"port = {port}\n" if port is not None else "")


def node(node_id: str, x: float, in_room: str | None = None) -> str:
    text = f'[[sensing_nodes]]\nid = "{node_id}"\nposition = {{ x = {x}, y = 0.1, z = 1.0 }}\n'
    return text + (f'room = "{in_room}"\n' if in_room is not None else "")


SIMULATE = "[sensing]\nsimulate = true\nseed = 7\n"
LAB_AND_OFFICE = (
    HEAD
    + room("lab", "Lab", 8101)
    + room("office", "Front office", 8102)
    + node("a", 0.1, "lab")
    + node("b", 4.9, "lab")
    + node("c", 0.1, "office")
    + node("d", 4.9, "office")
    + node("e", 2.5, "office")
)


def test_two_rooms_each_with_their_nodes_and_port(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, LAB_AND_OFFICE))
    assert [(r.id, r.name, r.port) for r in site.rooms] == [
        ("lab", "Lab", 8101),
        ("office", "Front office", 8102),
    ]
    assert [(n.id, n.room) for n in site.sensing_nodes] == [
        ("a", "lab"),
        ("b", "lab"),
        ("c", "office"),
        ("d", "office"),
        ("e", "office"),
    ]
    assert [site.node_port(r) for r in site.rooms] == [8101, 8102]
    rooms = sensing_rooms(site)
    assert [(r.room_id, r.name, [n.node_id for n in r.nodes]) for r in rooms] == [
        ("lab", "Lab", ["a", "b"]),
        ("office", "Front office", ["c", "d", "e"]),
    ]
    assert rooms[0].size == (5.0, 4.0, 2.5)
    # Events, reports and answers name each room by its name.
    assert place_names(site) == {"lab": "Lab", "office": "Front office"}


def test_the_one_room_form_keeps_its_id_and_takes_the_sensing_port(tmp_path: Path) -> None:
    body = HEAD + ROOM + "[sensing]\nport = 9000\n" + node("a", 0.1) + node("b", 4.9, "room")
    site = load_site(write(tmp_path, body))
    assert [(r.id, r.name, r.port) for r in site.rooms] == [(SINGLE_ROOM_ID, "Lab sensing", None)]
    assert {n.room for n in site.sensing_nodes} == {"room"}
    assert site.node_port(site.rooms[0]) == 9000
    assert place_names(site) == {"room": "Lab sensing"}


def test_one_entry_of_rooms_needs_no_node_room_and_its_name_defaults_to_its_id(
    tmp_path: Path,
) -> None:
    site = load_site(write(tmp_path, HEAD + room("lab") + node("a", 0.1) + node("b", 4.9)))
    assert [(r.id, r.name) for r in site.rooms] == [("lab", "lab")]
    assert {n.room for n in site.sensing_nodes} == {"lab"}
    assert site.node_port(site.rooms[0]) == 8080  # real nodes: the [sensing] default


def test_simulated_rooms_listen_on_any_free_port_without_one_each(tmp_path: Path) -> None:
    body = (
        HEAD
        + SIMULATE
        + room("lab")
        + room("office")
        + node("a", 0.1, "lab")
        + node("b", 4.9, "lab")
        + node("c", 0.1, "office")
        + node("d", 4.9, "office")
    )
    site = load_site(write(tmp_path, body))
    assert [site.node_port(r) for r in site.rooms] == [0, 0]


def test_room_and_rooms_together_are_refused(tmp_path: Path) -> None:
    body = HEAD + ROOM + room("lab") + node("a", 0.1) + node("b", 4.9)
    error = error_for(tmp_path, body)
    assert error.field == "rooms"
    assert error.line == line_of(body, "[[rooms]]")
    assert "[room] and [[rooms]] cannot both be given" in error.message


def test_a_node_of_a_site_of_several_rooms_must_say_its_room(tmp_path: Path) -> None:
    body = LAB_AND_OFFICE + node("f", 1.0)
    error = error_for(tmp_path, body)
    assert error.field == "sensing_nodes[5].room"
    assert error.line == line_of(body, "[[sensing_nodes]]", 6)
    assert error.message == "required when the site has more than one room (rooms: lab, office)"


@pytest.mark.parametrize(
    ("rooms", "message"),
    [
        (
            room("lab", port=8101) + room("office", port=8102),
            "unknown room 'attic' (rooms: lab, office)",
        ),
        ("", "unknown room 'attic' (the site has no [room] or [[rooms]])"),
        (ROOM, "unknown room 'attic' (rooms: room)"),
    ],
)
def test_a_node_in_an_unknown_room_is_refused(tmp_path: Path, rooms: str, message: str) -> None:
    body = HEAD + rooms + node("a", 0.1, "attic")
    error = error_for(tmp_path, body)
    assert error.field == "sensing_nodes[0].room"
    assert error.line == line_of(body, 'room = "attic"')
    assert error.message == message


@pytest.mark.parametrize("count", [0, 1])
def test_each_room_needs_two_nodes(tmp_path: Path, count: int) -> None:
    nodes = node("a", 0.1, "lab") + node("b", 4.9, "lab")
    nodes += "".join(node(f"o{i}", 1.0, "office") for i in range(count))
    body = HEAD + room("lab", port=8101) + room("office", port=8102) + nodes
    error = error_for(tmp_path, body)
    assert error.field == "rooms[1]"
    assert error.line == line_of(body, "[[rooms]]", 2)
    assert error.message.startswith(f"room 'office' has {count} sensing node")
    assert "it needs at least two (give them room = 'office' in [[sensing_nodes]])" in error.message


def test_rooms_of_real_nodes_need_a_port_each(tmp_path: Path) -> None:
    body = (
        HEAD
        + room("lab", port=8101)
        + room("office")
        + node("a", 0.1, "lab")
        + node("b", 4.9, "lab")
        + node("c", 0.1, "office")
        + node("d", 4.9, "office")
    )
    error = error_for(tmp_path, body)
    assert error.field == "rooms[1].port"
    assert error.line == line_of(body, "[[rooms]]", 2)
    assert "required when the site has more than one room of real nodes" in error.message


def test_two_rooms_on_one_port_are_refused(tmp_path: Path) -> None:
    body = LAB_AND_OFFICE.replace("port = 8102", "port = 8101")
    error = error_for(tmp_path, body)
    assert error.field == "rooms[1].port"
    assert error.line == line_of(body, "port = 8101", 2)
    assert error.message == "port 8101 is already room 'lab''s"


def test_the_sensing_port_is_refused_beside_several_rooms(tmp_path: Path) -> None:
    body = LAB_AND_OFFICE + "[sensing]\nport = 9000\n"
    error = error_for(tmp_path, body)
    assert error.field == "sensing.port"
    assert error.line == line_of(body, "port = 9000")
    assert "give each [[rooms]] entry its own port" in error.message


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        (room("lab").replace('id = "lab"\n', ""), "rooms[0].id", "required field is missing"),
        (room("a b"), "rooms[0].id", "'a b' must be 1-64 letters, digits, '_' or '-'"),
        (room("lab").replace("width_m = 5.0", "width_m = 0"), "rooms[0].width_m", "0 is outside"),
        (room("lab").replace("height_m = 2.5\n", ""), "rooms[0].height_m", "required field"),
        (room("lab", port=70000), "rooms[0].port", "70000 is outside 0..65535"),
        (room("lab") + 'floor = "1"\n', "rooms[0].floor", "unknown field"),
        (room("lab").replace('id = "lab"', 'id = "lab"\nname = ""'), "rooms[0].name", "non-empty"),
    ],
)
def test_a_bad_room_entry_names_its_field(
    tmp_path: Path, entry: str, field: str, message: str
) -> None:
    body = HEAD + entry + node("a", 0.1) + node("b", 4.9)
    error = error_for(tmp_path, body)
    assert error.field == field
    assert message in error.message
    assert error.line is not None and error.line > HEAD.count("\n")


def test_two_rooms_of_one_id_are_refused(tmp_path: Path) -> None:
    body = HEAD + room("lab", port=8101) + room("lab", port=8102) + node("a", 0.1, "lab")
    error = error_for(tmp_path, body)
    assert error.field == "rooms[1].id"
    assert error.line == line_of(body, 'id = "lab"', 2)
    assert error.message == "duplicate id 'lab'"


def test_rooms_must_be_an_array_of_tables_with_an_entry(tmp_path: Path) -> None:
    assert error_for(tmp_path, "rooms = []\n" + HEAD).message == (
        "expected at least one [[rooms]] entry"
    )
    assert error_for(tmp_path, 'rooms = "lab"\n' + HEAD).message == (
        "expected an array of tables [[rooms]]"
    )


def test_rooms_number_their_blobs_apart() -> None:
    # One room numbers on by one, as before; two rooms step by two from their own remainder.
    assert room_blob_numbering(41, 0, 1) == (42, 1)
    assert room_blob_numbering(0, 0, 2) == (1, 2)
    assert room_blob_numbering(0, 1, 2) == (2, 2)
    assert room_blob_numbering(6, 0, 2) == (7, 2)
    assert room_blob_numbering(6, 1, 2) == (8, 2)
    assert room_blob_numbering(7, 1, 3) == (8, 3)
    # Whatever was stored last, each room keeps its remainder: no id is given out twice.
    for last in range(20):
        ids = [
            {first + step * k for k in range(5)}
            for first, step in (room_blob_numbering(last, i, 3) for i in range(3))
        ]
        assert not ids[0] & ids[1] and not ids[1] & ids[2] and not ids[0] & ids[2]
        assert min(min(s) for s in ids) == last + 1

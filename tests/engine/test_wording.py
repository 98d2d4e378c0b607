"""Events as a person reads them (engine/wording.py): stored rows of every kind, with the
detail the engine writes (taken from a demo-site run), worded without machine text."""

from __future__ import annotations

from typing import Any

import pytest

from engine.sitetime import SiteTime
from engine.wording import (
    Category,
    EventWords,
    Tone,
    describe,
    display_actor,
    kind_title,
    known_kinds,
    number,
    value_text,
)
from tests.machine_text import machine_text

LONDON = SiteTime.named("Europe/London")
NAMES = {"plaza": "Plaza east", "room": "Demo room"}

_LINKS = [
    {
        "link": ["node-b", "node-e"],
        "share": 0.4154,
        "zone": 1,
        "weight": 1.0,
        "activation": 0.4056,
        "ellipsoid": {
            "centre": [6.0, 4.5, 1.0],
            "axis": [0.0, 0.9997, -0.0227],
            "semi_major_m": 4.4319,
            "semi_minor_m": 0.5212,
        },
    },
    {"link": ["node-a", "node-c"], "share": 0.3209, "zone": 1, "weight": 1.0},
]

# One stored row per kind, as a demo-site run (or the engine code writing it) stores it.
ROWS: dict[str, tuple[str, dict[str, Any]]] = {
    "person.path": (
        "sensing:demo-room",
        {
            "person_key": 3,
            "name": "Ada",
            "named_by": "ble",
            "segments": [
                {
                    "sense": "camera",
                    "source": "plaza",
                    "label": "Plaza east",
                    "id": 4,
                    "from": "2026-11-20T14:02:00+00:00",
                    "to": "2026-11-20T14:04:00+00:00",
                },
                {
                    "sense": "sensing",
                    "source": "demo-room",
                    "label": "Demo room",
                    "id": 12,
                    "from": "2026-11-20T14:04:00+00:00",
                    "to": "2026-11-20T14:09:00+00:00",
                },
                {
                    "sense": "ble",
                    "source": "AA:BB:CC:DD:EE:01",
                    "label": "Ada's tag",
                    "id": None,
                    "from": "2026-11-20T14:02:00+00:00",
                    "to": "2026-11-20T14:09:00+00:00",
                },
            ],
            "started_at": "2026-11-20T14:02:00+00:00",
            "ended_at": "2026-11-20T14:09:00+00:00",
        },
    ),
    "person.joined": (
        "camera:plaza",
        {
            "person_key": 3,
            "name": "Ada",
            "named_by": "ble",
            "camera": "Plaza east",
            "track_id": 4,
            "room": "Demo room",
            "blob": 12,
            "certainty": 0.81,
        },
    ),
    "person.parted": (
        "camera:plaza",
        {
            "person_key": 3,
            "name": None,
            "named_by": None,
            "camera": "Plaza east",
            "track_id": 4,
            "room": "Demo room",
            "blob": 12,
            "certainty": 0.2,
        },
    ),
    "person.handed_over": (
        "sensing:demo-room",
        {
            "person_key": 3,
            "name": "Ada",
            "named_by": "ble",
            "sense": "sensing",
            "into": "Demo room",
            "member": 12,
            "from": "Plaza east",
        },
    ),
    "activity.began": ("sensing:demo-room", {"people": 1}),
    "sensing.node_paired": (
        "sensing:demo-room",
        {"mac": "AA:BB:CC:DD:EE:09", "address": "192.168.1.40:51234"},
    ),
    "activity.ended": (
        "camera:plaza",
        {
            "started_at": "2026-11-25T04:36:57.727501+00:00",
            "duration_s": 187.4,
            "people": 4,
            "tracks": 23,
            "names": ["Ada", "Person_0007"],
            "continues": True,
        },
    ),
    "camera.starting": (
        "camera:plaza",
        {"detail": "opening vtest.avi", "since": "2026-11-25T04:36:57.367901+00:00"},
    ),
    "camera.online": (
        "camera:plaza",
        {"detail": "768×576", "since": "2026-11-25T04:36:57.837615+00:00"},
    ),
    "camera.offline": (
        "camera:plaza",
        {"detail": "no frames for 5 s", "since": "2026-11-25T04:40:00+00:00", "retry_in_s": 2.0},
    ),
    "camera.error": ("camera:plaza", {"detail": "cannot open rtsp://cam/1"}),
    "camera.no_footage": ("camera:plaza", {"detail": "no such file"}),
    "camera.stopped": ("camera:plaza", {"detail": "end of file"}),
    "retention.completed": (
        "retention",
        {
            "clips_deleted": 3,
            "events_deleted": 1200,
            "audit_entries_pruned": 0,
            "bytes_freed": 13_400_000,
            "orphans_swept": 0,
            "problems": [],
        },
    ),
    "sensing.node_online": (
        "sensing:room",
        {
            "node": "node-a",
            "mac": "02:57:46:53:00:01",
            "remote": "127.0.0.1:49186",
            "firmware_version": "watchfloor-sim",
            "role": "tx_rx",
            "resumed": False,
        },
    ),
    "sensing.node_offline": (
        "sensing:room",
        {"node": "node-a", "mac": "02:57:46:53:00:01", "links_dropped": 5, "reason": "silent"},
    ),
    "sensing.node_rejected": ("sensing:room", {"mac": None, "reason": "bad token"}),
    "sensing.link_degraded": (
        "sensing:room",
        {"link": ["node-a", "node-c"], "zero_frames": 12, "frames": 40},
    ),
    "sensing.link_restored": ("sensing:room", {"link": ["node-a", "node-c"]}),
    "person.appeared": (
        "camera:plaza",
        {
            "track_id": 1,
            "box": [633, 247, 38, 77],
            "confidence": 0.935,
            "snapshot": "snapshots/plaza/2026-11-25/plaza_043658_039008_t1_b63d02.jpg",
        },
    ),
    "person.left": (
        "camera:plaza",
        {
            "track_id": 3,
            "first_seen": "2026-11-25T04:36:57.727501+00:00",
            "last_seen": "2026-11-25T04:36:59.538569+00:00",
            "duration_s": 1.81,
            "best_confidence": 0.788,
            "path_points": 7,
            "snapshot": "snapshots/plaza/2026-11-25/plaza_043659_538569_t3_best_f8ccef.jpg",
        },
    ),
    "face.recognised": (
        "camera:plaza",
        {
            "track_id": 4,
            "person_id": "Person_4F2A9C1B",
            "name": "Ada",
            "distance": 0.000505,
            "new_person": False,
            "snapshot": "faces/x.jpg",
        },
    ),
    "person.named": (
        "camera:plaza",
        {
            "name": "Peter",
            "previous": None,
            "heard": "hello everyone my name is Peter",
            "by": "account:ivan",
            "track_id": 4,
        },
    ),
    "gesture.detected": (
        "camera:plaza",
        {"gesture": "wave", "confidence": 0.87, "track_id": 4, "person": None, "alerting": True},
    ),
    "speech.name_heard": (
        "camera:plaza",
        {
            "name": "Priya",
            "transcript": "hi I'm Priya",
            "pass": "open",
            "confidence": 0.0000394,
            "microphone": "mic-1",
        },
    ),
    "sensing.blob_appeared": (
        "sensing:room",
        {"blob": 1, "position": [5.56, 1.05, 0.92], "explanation": _LINKS},
    ),
    "sensing.blob_left": (
        "sensing:room",
        {
            "blob": 3,
            "reason": "not seen for 3 s",
            "duration_s": 0.4,
            "path_m": 0.0,
            "position": [1.42, 7.18, 1.23],
            "explanation": _LINKS,
            "name": None,
            "device": None,
        },
    ),
    "sensing.blob_identified": (
        "sensing:room",
        {
            "blob": 2,
            "name": "Alice",
            "device": "AA:BB:CC:DD:EE:01",
            "label": "Alice's phone",
            "score": 0.82,
            "previous": None,
            "position": [2.0, 3.0, 1.0],
        },
    ),
    "sensing.fall_detected": (
        "sensing:room",
        {
            "blob": 2,
            "position": [2.0, 3.0, 0.3],
            "fell_s_ago": 1.2,
            "tracked": True,
            "name": None,
        },
    ),
    "site.camera_added": (
        "account:ada",
        {
            "camera": "dock",
            "name": "Loading dock",
            "site": "Depot",
            "file": "/etc/watchfloor/site.toml",
            "fields": {"name": "Loading dock", "url": "rtsp://192.0.2.10/main"},
            "removed": [],
            "by": "account:ada",
        },
    ),
    "site.camera_changed": (
        "account:ada",
        {
            "camera": "dock",
            "name": "Loading dock",
            "fields": {"name": "Loading dock"},
            "removed": ["password_env"],
            "by": "account:ada",
        },
    ),
    "site.camera_removed": (
        "account:ada",
        {
            "camera": "dock",
            "name": "Loading dock",
            "fields": {},
            "removed": [],
            "by": "account:ada",
        },
    ),
    "clip.finalised": (
        "camera:plaza",
        {
            "path": "clips/plaza/2026-11-25/plaza_20261125T043657.727Z.mp4",
            "started_at": "2026-11-25T04:36:57.727501+00:00",
            "duration_s": 30.011,
            "frames": 299,
            "dropped_frames": 0,
            "size_bytes": 4467197,
            "sha256": "e302fdc6ecafdf7bd788a3cc1bc0e86406bd22bff4c04e2183d1ee2a11f102e2",
            "codec": "libx264",
            "stream_copy": False,
            "media_id": 21,
            "event_id": None,
        },
    ),
    "recording.failed": (
        "camera:plaza",
        {
            "media": "clip",
            "not_written": ["clips/plaza/2026-11-25/plaza_20261125T043657.727Z.mp4"],
            "reason": "disk full",
            "error": "OSError: [Errno 28] No space left on device: "
            "'/var/lib/watchfloor/clips/plaza/2026-11-25/plaza_20261125T043657.727Z.1234.mp4"
            ".partial'",
            "lost": 3,
            "since": "2026-11-25T04:36:57.727501+00:00",
        },
    ),
    "recording.recovered": (
        "camera:plaza",
        {"lost": 3, "since": "2026-11-25T04:36:57.727501+00:00"},
    ),
    "recording.gap": (
        "camera:plaza",
        {
            "started_at": "2026-11-25T04:36:57.727501+00:00",
            "ended_at": "2026-11-25T04:39:07.727501+00:00",
            "seconds": 130.0,
            "reason": "the engine was not recording",
        },
    ),
    "retention.segments_deleted": (
        "retention",
        {
            "count": 500,
            "reason": "age",
            "size_bytes": 262144000,
            "from": "2026-11-01T03:00:00+00:00",
            "to": "2026-11-01T04:23:20+00:00",
            "paths": ["recordings/plaza/2026-11-01/a.mp4"],
        },
    ),
    "media.missing": (
        "retention",
        {"count": 3, "locked": 1, "paths": ["recordings/plaza/2026-11-25/a.mp4"]},
    ),
    # A kind no renderer is written for, with nested values and a tiny float.
    "retention.person_deleted": (
        "retention",
        {
            "person": {"public_id": "Person_1", "faces": 3},
            "scale": [0.00394, 0.000505, 0, 0],
            "at": "2026-11-25T04:36:57.123456+00:00",
        },
    ),
}


def worded(kind: str, **kwargs: Any) -> EventWords:
    """The stored row of ``kind`` worded with the test site's names."""
    return describe(kind, *ROWS[kind], names=NAMES, **kwargs)


def words_of(kind: str, person: str | None = None) -> list[str]:
    source, detail = ROWS[kind]
    words = describe(kind, source, detail, names=NAMES, person=person, site_time=LONDON)
    return [
        words.title,
        words.summary,
        words.place,
        words.person or "",
        *(text for field in words.fields for text in field),
    ]


@pytest.mark.parametrize("kind", sorted(ROWS))
def test_no_kind_is_worded_with_machine_text(kind: str) -> None:
    for text in words_of(kind) + words_of(kind, person="Ada"):
        assert machine_text(text) is None, (kind, machine_text(text), text)


def test_every_kind_with_a_renderer_has_a_row_here() -> None:
    assert set(known_kinds()) <= set(ROWS)


def test_sensing_rows_name_their_room_and_say_what_happened() -> None:
    words = worded("sensing.blob_left", site_time=LONDON)
    assert words.place == "Demo room"
    assert words.summary == "Someone no longer sensed in Demo room, after 0.4 s"
    assert ("Sensed through", "node-b–node-e 42 %, node-a–node-c 32 %") in words.fields
    assert ("Position", "(1.4, 7.2) m, 1.2 m up") in words.fields
    assert words.category is Category.MOVEMENT and words.tone is Tone.QUIET


def test_a_blob_that_goes_on_as_another_is_not_said_to_be_gone() -> None:
    """Two blobs on one person (or a person found again) end one blob while the person is
    still sensed: the row says which blob they go on as, not "no longer sensed"."""
    source, detail = ROWS["sensing.blob_left"]
    merged = {**detail, "reason": "the same person as blob 7", "continued_as": 7}
    words = describe("sensing.blob_left", source, merged, names=NAMES, site_time=LONDON)
    assert words.title == "Movement continues"
    assert words.summary == "Someone sensed in Demo room goes on as blob 7"
    assert words.tone is Tone.QUIET
    assert machine_text(words.summary) is None


def test_a_fall_is_an_alarm_in_the_falls_category() -> None:
    words = worded("sensing.fall_detected", person="Ada", site_time=LONDON)
    assert (words.title, words.category) == ("Possible fall", Category.FALLS)
    assert words.tone is Tone.ALARM
    assert words.summary == "Ada may have fallen in Demo room, 1.2 s before it was confirmed"


def test_people_read_by_name_or_as_unrecognised_with_times_in_site_time() -> None:
    appeared = worded("person.appeared", site_time=LONDON)
    assert appeared.summary == "Unrecognised person 1 appeared on Plaza east, 94 % sure"
    left = worded("person.left", person="Ada", site_time=LONDON)
    assert left.summary == "Ada left Plaza east after 1.81 s"
    summer = SiteTime.named("Europe/Paris")  # UTC+1 in November
    fields = dict(worded("person.left", site_time=summer).fields)
    assert fields["First seen"] == "2026-11-25 05:36:57"


def test_numbers_never_take_an_exponent() -> None:
    assert [number(v) for v in (0.00394, 0.000505, 0.0, 12.25, 1234567.0)] == [
        "0.004",
        "0.001",
        "0",
        "12.2",
        "1,234,567",
    ]
    assert value_text(4467197, key="size_bytes") == "4.47 MB"
    assert value_text(0.935, key="confidence") == "94 %"
    assert value_text(True) == "yes" and value_text(None) == "—"


def test_actors_and_kinds_read_as_words() -> None:
    assert display_actor("account:ivan") == "ivan"
    assert display_actor("system:retention") == "the system (retention)"
    assert display_actor("engine:camera-watch") == "the system (camera-watch)"
    assert kind_title("sensing.fall_detected") == "Possible fall"
    assert kind_title("gesture.detected") == "Gesture"
    assert kind_title("retention.person_deleted") == "Retention person deleted"
    assert known_kinds()[0] == "sensing.fall_detected"  # falls first


def test_a_detail_that_is_not_a_mapping_or_breaks_a_renderer_still_reads() -> None:
    odd = describe("person.left", "camera:plaza", {"duration_s": "long"}, names=NAMES)
    assert odd.title == "Person left" and machine_text(odd.summary) is None
    broken = describe("sensing.link_degraded", "sensing:room", {"link": 5}, names=NAMES)
    assert broken.summary.startswith("A link in Demo room")
    assert describe("camera.online", "camera:gone", None).place == "gone"


def test_names_keep_their_capitals() -> None:
    left = worded("person.left", person="John McCarter")
    assert left.summary.startswith("John McCarter left Plaza east")
    assert worded("gesture.detected", person="de Vries").summary.startswith("De Vries made")


def test_counts_read_in_the_singular_for_one() -> None:
    from engine.wording import counted

    assert [counted(n, "blob") for n in (0, 1, 2)] == ["0 blobs", "1 blob", "2 blobs"]
    assert counted(1, "person", "people") == "1 person"
    assert counted(3, "person", "people") == "3 people"


def test_a_lost_clip_is_an_alarm_saying_why_and_how_many() -> None:
    failed = worded("recording.failed")
    assert (failed.title, failed.summary) == (
        "Recording failed",
        "Clip of Plaza east not saved: disk full (3 files lost so far)",
    )
    assert failed.category is Category.RECORDING and failed.tone is Tone.ALARM
    source, one = ROWS["recording.failed"]
    before_lists = describe(  # stored before losses were gathered: a path, not a list
        "recording.failed", source, {**one, "not_written": one["not_written"][0]}, names=NAMES
    )
    assert before_lists.summary == failed.summary
    recovered = worded("recording.recovered")
    assert recovered.summary == "Recording of Plaza east is saved again (3 files lost)"


def test_a_recording_gap_and_missing_segments_say_how_long_why_and_how_many() -> None:
    gap = worded("recording.gap")
    assert (gap.title, gap.summary) == (
        "Recording gap",
        "No recording of Plaza east for 2 min: the engine was not recording",
    )
    assert gap.category is Category.RECORDING and gap.tone is Tone.WARNING
    missing = worded("media.missing")
    assert (missing.title, missing.summary) == (
        "Recording missing",
        "3 recording segments missing from the disk; no longer listed "
        "(1 locked segment among them)",
    )
    assert missing.tone is Tone.ALARM
    source, one = ROWS["recording.failed"]
    segments = describe(
        "recording.failed",
        source,
        {**one, "media": "segment", "not_written": ["recordings/plaza/a.mp4"] * 2},
        names=NAMES,
    )
    assert segments.summary.startswith("2 recording segments of Plaza east not saved: disk full")


def test_losses_gathered_in_one_event_say_how_many_files_it_covers() -> None:
    source, one = ROWS["recording.failed"]
    paths = [f"clips/plaza/2026-11-25/plaza_{n}.mp4" for n in range(3)]
    clips = describe(
        "recording.failed", source, {**one, "not_written": paths, "lost": 33}, names=NAMES
    )
    assert clips.summary == "3 clips of Plaza east not saved: disk full (33 files lost so far)"
    assert clips.tone is Tone.ALARM
    both = describe(
        "recording.failed",
        source,
        {**one, "media": "media", "not_written": [*paths, "snapshots/plaza/a.jpg"], "lost": 4},
        names=NAMES,
    )
    assert both.summary == "4 files of Plaza east not saved: disk full (4 files lost so far)"


def test_a_failing_sensing_recording_says_the_room_and_the_records_lost() -> None:
    from engine.wording import describe

    since = "2026-11-25T04:36:57.727501+00:00"
    failing = {"media": "csi", "not_written": "sensing/Demo/room", "reason": "disk full"}
    kept = describe(
        "recording.failed", "sensing:room", {**failing, "lost": 0, "since": since}, names=NAMES
    )
    assert (kept.title, kept.summary, kept.place) == (
        "Recording failed",
        "Sensing recording of Demo room failing: disk full (kept in memory to retry; "
        "nothing lost yet)",
        "Demo room",
    )
    assert kept.category is Category.RECORDING and kept.tone is Tone.ALARM
    lost = describe(
        "recording.failed", "sensing:room", {**failing, "lost": 1200, "since": since}, names=NAMES
    )
    assert (
        lost.summary
        == "Sensing recording of Demo room failing: disk full (1200 records lost so far)"
    )
    recovered = describe(
        "recording.recovered", "sensing:room", {"lost": 1200, "since": since}, names=NAMES
    )
    assert recovered.summary == "Sensing recording of Demo room is saved again (1200 records lost)"


def test_a_summary_of_refused_hellos_says_how_many_and_the_latest_reason() -> None:
    detail = {
        "mac": None,
        "reason": "wrong token for 24:6F:28:00:00:01 (from the hello)",
        "rejections": 2999,
        "over_s": 59.8,
    }
    words = describe("sensing.node_rejected", "sensing:room", detail, names=NAMES)
    assert words.title == "Sensing nodes refused"
    assert words.summary == (
        "2999 node connections were refused in Demo room over 60 s; the latest: wrong token for "
        "24:6F:28:00:00:01 (from the hello)"
    )

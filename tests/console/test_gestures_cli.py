"""``watchfloor gestures teach|list|rename|set|remove``, parsed by the module's own parser,
teaching from real footage (the real pose landmarker): a gesture is taught from the
repetitions in a video, every unusable video is refused by name with nothing saved, and the
library can be listed and changed. On SQLite: the pose work is the same on either backend
and the library's commands run on both in tests/engine/test_gesture_library.py."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from console import exit_codes
from console.commands import gestures
from engine.access import machine_actor
from engine.store.gesture_models import Gesture, GestureExample
from tests.gesture_videos import CLIP, teaching_video


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="watchfloor")
    parser.add_argument("--db", default=None)
    db_option = argparse.ArgumentParser(add_help=False)
    db_option.add_argument("--db", default=argparse.SUPPRESS)
    gestures.add_parser(parser.add_subparsers(dest="command"), [db_option])
    return parser.parse_args(argv)


def watchfloor_gestures(db_url: str, *argv: str) -> int:
    args = parse("gestures", *argv, "--db", db_url)
    args.caller = machine_actor()
    return gestures.run(args, args.db)


def stored(db_url: str) -> tuple[int, int]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            taught = connection.scalar(select(func.count()).select_from(Gesture))
            examples = connection.scalar(select(func.count()).select_from(GestureExample))
            return taught or 0, examples or 0
    finally:
        engine.dispose()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only here (see the module's docstring): what the root conftest's ``db_url``
    gives for SQLite, without analysing the same videos again on PostgreSQL."""
    return f"sqlite:///{tmp_path / 'gestures.db'}"


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield teaching_video(tmp_path_factory.mktemp("gestures") / "sweep.avi")


@pytest.mark.slow
def test_teach_from_a_video_then_list_change_and_remove(
    db_url: str, drill: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert watchfloor_gestures(db_url, "teach", "sweep", str(drill), "--alerting", "--json") == 0
    taught = json.loads(capsys.readouterr().out)
    assert taught["name"] == "sweep" and taught["examples"] == 3 and taught["alerting"]
    assert taught["mirror_invariant"]  # either hand, unless --no-mirror
    assert 1.0 <= taught["typical_s"] <= 2.0
    assert stored(db_url) == (1, 3)

    assert watchfloor_gestures(db_url, "teach", "Sweep", str(drill)) == exit_codes.USAGE
    assert "a gesture called 'sweep' exists" in capsys.readouterr().err
    # A taken name is refused before any pose is read: a file that is no video at all
    # gets the same answer (reading it would fail on the video instead).
    not_a_video = tmp_path / "notes.avi"
    not_a_video.write_text("not a video", encoding="utf-8")
    assert watchfloor_gestures(db_url, "teach", "SWEEP", str(not_a_video)) == exit_codes.USAGE
    assert "a gesture called 'sweep' exists" in capsys.readouterr().err
    assert watchfloor_gestures(db_url, "teach", "Sweep", str(drill), "--replace") == 0
    assert "gesture taught: sweep " in capsys.readouterr().out  # its name is kept

    assert watchfloor_gestures(db_url, "rename", "sweep", "arm out") == 0
    assert watchfloor_gestures(db_url, "set", "ARM OUT", "--no-alerting", "--no-mirror") == 0
    capsys.readouterr()
    assert watchfloor_gestures(db_url, "list", "--json") == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["name"] == "arm out" and not listed["alerting"]
    assert not listed["mirror_invariant"]
    assert listed["detections"] == 0

    assert watchfloor_gestures(db_url, "remove", "arm out") == 0
    assert watchfloor_gestures(db_url, "remove", "arm out") == exit_codes.FAILED
    assert "no gesture called 'arm out'" in capsys.readouterr().err
    assert stored(db_url) == (0, 0)
    assert watchfloor_gestures(db_url, "list") == 0
    assert "no gestures taught" in capsys.readouterr().out


@pytest.mark.slow
def test_unusable_videos_are_named_and_nothing_is_saved(
    db_url: str, drill: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.mp4"
    assert watchfloor_gestures(db_url, "teach", "wave", str(missing)) == exit_codes.USAGE
    assert f"no such video file: {missing}" in capsys.readouterr().err
    # The clip cuts from the speaker to the audience during a movement.
    assert watchfloor_gestures(db_url, "teach", "wave", str(drill), str(CLIP)) == exit_codes.USAGE
    assert "short_hamilton_clip.mp4: the person left the frame" in capsys.readouterr().err
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"RIFF\x00\x00not a video at all" * 50)
    assert watchfloor_gestures(db_url, "teach", "wave", str(broken)) == exit_codes.USAGE
    assert "broken.avi: " in capsys.readouterr().err
    two = teaching_video(tmp_path / "twice.avi", paces=(1.0, 1.1))
    assert watchfloor_gestures(db_url, "teach", "wave", str(two)) == exit_codes.USAGE
    assert "2 repetition(s) found" in capsys.readouterr().err
    assert stored(db_url) == (0, 0)


@pytest.mark.slow
def test_detect_finds_the_taught_gesture_where_it_is_performed_again(
    db_url: str, drill: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Taught from one video, recognised on the camera path (person detector, tracker,
    crops posed at 10 Hz) in another take at other paces: each repetition once."""
    probe = teaching_video(tmp_path / "again.avi", paces=(0.9, 1.1), hold_s=1.5)
    assert watchfloor_gestures(db_url, "detect", str(probe)) == exit_codes.FAILED
    assert "no gestures taught" in capsys.readouterr().err
    assert watchfloor_gestures(db_url, "teach", "sweep", str(drill)) == 0
    capsys.readouterr()
    assert watchfloor_gestures(db_url, "detect", str(probe), "--json") == 0
    found = json.loads(capsys.readouterr().out)
    assert found["taught"] == ["sweep"] and found["poses_estimated"] > 40
    detections = found["detections"]
    assert [d["gesture"] for d in detections] == ["sweep", "sweep"]
    assert all(
        d["confidence"] >= 0.7 and d["track_id"] == detections[0]["track_id"] for d in detections
    )
    assert watchfloor_gestures(db_url, "list", "--json") == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["detections"] == 2 and listed["last_detected_at"] is not None


def test_list_says_in_words_when_a_gestures_examples_are_too_alike(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from engine.gestures.library import TeachGesture
    from engine.store import Store
    from engine.store.writer import StoreWriter
    from tests.actors import ADMIN
    from tests.engine.test_gesture_transfer import copies, examples

    store = Store(db_url)
    try:
        with StoreWriter.running(store) as writer:
            for name, taught in (("wave", copies("wave")), ("raise", examples("raise"))):
                writer.execute(
                    TeachGesture(
                        name=name,
                        examples=tuple(taught),
                        durations_s=(1.0, 1.1, 1.2),
                        sources=("a.mp4", "b.mp4", "c.mp4"),
                        at=datetime(2026, 6, 1, tzinfo=UTC),
                        actor=ADMIN,
                    )
                )
    finally:
        store.close()
    assert watchfloor_gestures(db_url, "list") == exit_codes.OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("raise ") and lines[1].startswith("wave ")
    assert lines[2].startswith("  note: The examples are nearly copies of each other")
    assert len(lines) == 3  # raise's examples are fine: no note
    assert watchfloor_gestures(db_url, "list", "--json") == exit_codes.OK
    listed = {g["name"]: g for g in json.loads(capsys.readouterr().out)}
    assert listed["raise"]["advice"] == [] and "nearly copies" in listed["wave"]["advice"][0]

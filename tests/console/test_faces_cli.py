"""``watchfloor faces enroll`` / ``faces identify``, parsed by the module's own parser and run
against SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from console import exit_codes
from console.commands import faces
from engine.access import machine_actor
from engine.cv import import_cv2
from engine.identity.faces import read_image
from engine.store.person_models import FaceEmbedding, Person
from tests.conftest import TESTDATA

FACES = TESTDATA / "faces"
KIT_1 = FACES / "train" / "kit_harington" / "john1.jpeg"
KIT_2 = FACES / "train" / "kit_harington" / "john2.jpeg"
ROSE = FACES / "train" / "rose_leslie" / "img2.jpg"
TWO_PEOPLE = FACES / "two_people.jpg"


def parse(*argv: str) -> argparse.Namespace:
    """Parse as ``watchfloor`` will: the global --db, and --db after the action too."""
    parser = argparse.ArgumentParser(prog="watchfloor")
    parser.add_argument("--db", default=None)
    db_option = argparse.ArgumentParser(add_help=False)
    db_option.add_argument("--db", default=argparse.SUPPRESS)
    faces.add_parser(parser.add_subparsers(dest="command"), [db_option])
    return parser.parse_args(argv)


def watchfloor_faces(db_url: str, *argv: str) -> int:
    args = parse("faces", *argv, "--db", db_url)
    assert args.command == "faces" and args.db == db_url
    args.caller = machine_actor()  # no account yet: set-up mode, as console.auth decides
    return faces.run(args, args.db)


def stored(db_url: str) -> tuple[int, int]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            persons = connection.scalar(select(func.count()).select_from(Person))
            embeddings = connection.scalar(select(func.count()).select_from(FaceEmbedding))
            return persons or 0, embeddings or 0
    finally:
        engine.dispose()


def test_enroll_then_identify_prints_who_is_where(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert watchfloor_faces(db_url, "enroll", "--name", "Kit Harington", str(KIT_1), "--json") == 0
    enrolled = json.loads(capsys.readouterr().out)
    assert enrolled["name"] == "Kit Harington" and enrolled["photos"] == 1
    assert enrolled["person_id"].startswith("Person_") and len(enrolled["person_id"]) == 15

    assert watchfloor_faces(db_url, "identify", str(KIT_2), str(ROSE), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["threshold"] == pytest.approx(0.55)
    assert [image["image"] for image in report["images"]] == [str(KIT_2), str(ROSE)]
    (kit,) = report["images"][0]["faces"]
    assert (kit["person_id"], kit["name"]) == (enrolled["person_id"], "Kit Harington")
    assert 0 < kit["distance"] < report["threshold"]
    left, top, right, bottom = kit["box"]  # john2.jpeg is 630×374; the face ~190 px wide
    assert 0 <= left < right <= 630 and 0 <= top < bottom <= 374 and 150 < right - left < 230
    (rose,) = report["images"][1]["faces"]  # never enrolled
    assert (rose["person_id"], rose["name"]) == (None, None)
    assert rose["distance"] >= report["threshold"]

    assert watchfloor_faces(db_url, "identify", str(KIT_2)) == 0
    text = capsys.readouterr().out
    assert f"Kit Harington ({enrolled['person_id']})" in text and "1 face(s)" in text


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("missing", "no such image file: {path}"),
        ("no_face", "no face found in {path}"),
    ],
)
def test_enroll_errors_go_to_stderr_with_exit_1_and_store_nothing(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], image: str, message: str
) -> None:
    # (Every enrollment error message is checked in tests/engine/test_faces.py.)
    path = tmp_path / ("nobody.jpg" if image == "missing" else "suits.jpg")
    if image == "no_face":  # the suits below the faces in two_people.jpg
        assert import_cv2().imwrite(str(path), read_image(TWO_PEOPLE)[300:, :])
    code = watchfloor_faces(db_url, "enroll", "--name", "Someone", str(KIT_1), str(path))
    out, err = capsys.readouterr()
    assert code == exit_codes.FAILED == 1
    assert err.strip() == "watchfloor faces enroll: " + message.format(path=path)
    assert out == ""
    if image != "missing":  # a missing file is caught before the database is opened
        assert stored(db_url) == (0, 0)


def test_identify_reports_a_missing_file_and_still_identifies_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: one missing file aborted ``faces identify`` for every other file."""
    db = f"sqlite:///{tmp_path / 'faces.db'}"
    assert watchfloor_faces(db, "enroll", "--name", "Kit", str(KIT_1)) == 0
    capsys.readouterr()
    missing = tmp_path / "x.png"
    code = watchfloor_faces(db, "identify", str(missing), str(KIT_2), "--json")
    assert code == 1
    captured = capsys.readouterr()
    assert f"no such image file: {missing}" in captured.err
    images = json.loads(captured.out)["images"]
    assert images[0] == {"image": str(missing), "error": f"no such image file: {missing}"}
    assert [face["name"] for face in images[1]["faces"]] == ["Kit"]


def test_enrolling_another_persons_photo_under_an_existing_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a photo of Biden enrolled as "obama" was accepted, and then identified as
    obama at distance 0."""
    db = f"sqlite:///{tmp_path / 'faces.db'}"
    assert watchfloor_faces(db, "enroll", "--name", "Kit", str(KIT_1)) == 0
    code = watchfloor_faces(db, "enroll", "--name", "Kit", str(ROSE))
    assert code == 1
    err = capsys.readouterr().err
    assert f"{ROSE} does not look like the Kit already enrolled" in err
    assert stored(db)[1] == 1  # still only Kit's own face
    assert watchfloor_faces(db, "enroll", "--name", "Kit", str(KIT_2)) == 0  # Kit again: fine


def test_an_enormous_image_is_refused_from_its_header(tmp_path: Path) -> None:
    """Before: a 40000×40000 PNG gave a traceback, and 30000×30000 took 85 s and 5.4 GB."""
    import struct
    import zlib

    from engine.identity.faces import ImageReadError

    huge = tmp_path / "huge.png"
    header = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    huge.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(header))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"\x00" * 64
    )
    with pytest.raises(ImageReadError, match=r"40000×40000 pixels; images up to 64,000,000"):
        read_image(huge)
    assert read_image(KIT_1).shape[2] == 3  # ordinary photos still load


def test_parser_requires_an_action_a_name_and_images(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["faces"], ["faces", "enroll", str(KIT_1)], ["faces", "identify"]):
        with pytest.raises(SystemExit) as exited:
            parse(*argv)
        assert exited.value.code == exit_codes.USAGE
    assert "required" in capsys.readouterr().err
    args = parse("--db", "sqlite:///x.db", "faces", "identify", "a.jpg", "b.jpg")
    assert (args.db, args.images, args.upsample, args.json) == (
        "sqlite:///x.db",
        [Path("a.jpg"), Path("b.jpg")],
        1,
        False,
    )

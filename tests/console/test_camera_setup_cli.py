"""``watchfloor cameras list | probe | add | edit | remove`` as an admin would use them: the
site file edited in place (comments kept, previous version beside it), each change probed
first and recorded (event, audit entry), bad input refused naming it with the file
untouched, and a real RTSP camera added with its password kept out of the file."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from console.cli import main
from engine.cluster.media import system_python
from engine.config import load_site
from engine.site_edit import previous_path
from engine.store import Store
from engine.store.audit_models import AuditEntry
from engine.store.models import Event
from tests.engine.test_recording import write_video
from tests.rtsp_camera import RtspCamera, has_rtsp_server

SITE = """\
[site]
name = "Depot"  # the site's name, as the console shows it
geo = { lat = 51.5, lon = -0.14 }

# The gate camera: a file until the real one is fitted.
[[cameras]]
id = "gate"
url = "{video}"
"""


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def h264(tmp_path: Path) -> Path:
    return write_video(tmp_path / "dock.mp4", "libx264", seconds=4.0, fps=15, gop=15)


@pytest.fixture
def site_file(tmp_path: Path, h264: Path) -> Path:
    file = tmp_path / "site.toml"
    file.write_text(SITE.replace("{video}", str(h264)), encoding="utf-8")
    return file


def test_a_camera_is_probed_added_changed_and_removed_with_each_change_recorded(
    db_url: str, capsys: pytest.CaptureFixture[str], site_file: Path, h264: Path, tmp_path: Path
) -> None:
    base = ("--db", db_url, "--site", str(site_file), "cameras")
    original = site_file.read_text(encoding="utf-8")
    snapshot = tmp_path / "dock.jpg"
    code, out, _err = _run(capsys, *base, "probe", str(h264), "--snapshot", str(snapshot))
    assert code == 0 and "H.264 320×240 at 15.0 fps" in out and "a keyframe every 1.0 s" in out
    assert snapshot.read_bytes()[:2] == b"\xff\xd8"  # a JPEG

    code, out, err = _run(
        capsys, *base, "add", "dock", "--url", str(h264), "--name", "Loading dock",
        "--recording", "events", "--json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["probe"]["codec"] == "h264" and result["recorded"] is True
    text = site_file.read_text(encoding="utf-8")
    assert text.startswith(original)  # the admin's lines and comments, untouched
    assert previous_path(site_file).read_text(encoding="utf-8") == original
    site = load_site(site_file)
    assert [c.id for c in site.cameras] == ["gate", "dock"]
    assert site.cameras[1].name == "Loading dock" and not site.recording_of("dock").continuous

    code, out, _err = _run(capsys, *base, "edit", "dock", "--name", "Dock", "--no-probe")
    assert code == 0 and "changed in" in out
    assert load_site(site_file).cameras[1].name == "Dock"
    # Switched off and on again: kept in the file meanwhile.
    code, _out, err = _run(capsys, *base, "edit", "dock", "--disable")
    assert code == 0, err
    site = load_site(site_file)
    assert [c.id for c in site.cameras] == ["gate"]
    assert [c.id for c in site.disabled_cameras] == ["dock"]
    code, _out, err = _run(capsys, *base, "edit", "dock", "--enable", "--no-probe")
    assert code == 0, err
    assert "enabled" not in site_file.read_text(encoding="utf-8")
    code, out, _err = _run(capsys, *base, "list", "--json")
    assert [(c["id"], c["name"], c["continuous"]) for c in json.loads(out) if c["enabled"]] == [
        ("gate", "gate", True),
        ("dock", "Dock", False),
    ]
    code, out, _err = _run(capsys, *base, "remove", "dock")
    assert code == 0 and [c.id for c in load_site(site_file).cameras] == ["gate"]
    assert "# The gate camera: a file until the real one is fitted." in site_file.read_text()

    store = Store(db_url)
    try:
        with store.sessions() as session:
            events = session.execute(
                select(Event.kind, Event.detail).where(Event.kind.like("site.camera_%"))
            ).all()
            audited = session.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("camera.%"))
            ).all()
    finally:
        store.close()
    assert [kind for kind, _ in events] == [
        "site.camera_added",
        "site.camera_changed",
        "site.camera_changed",
        "site.camera_changed",
        "site.camera_removed",
    ]
    assert events[0][1]["fields"]["name"] == "Loading dock"
    assert events[1][1]["fields"] == {"name": "Dock"}
    assert events[2][1]["fields"] == {"enabled": False}
    assert events[3][1]["removed"] == ["enabled"]
    assert list(audited) == ["camera.add", *["camera.edit"] * 3, "camera.remove"]


def test_a_bad_change_is_refused_naming_it_and_the_file_is_untouched(
    db_url: str, capsys: pytest.CaptureFixture[str], site_file: Path, tmp_path: Path
) -> None:
    base = ("--db", db_url, "--site", str(site_file), "cameras")
    original = site_file.read_text(encoding="utf-8")
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("shopping list\n" * 50)
    cases = [
        (("add", "dock", "--url", str(not_video)), 1, "notes.mp4: not a video file"),
        (("add", "dock", "--url", "rtsp://sam:hunter2@192.0.2.1/main"), 2, "carries a password"),
        (("add", "gate", "--url", str(not_video), "--no-probe"), 2, "'gate' is already"),
        (("add", "../x", "--url", str(not_video), "--no-probe"), 2, "camera id '../x'"),
        (("edit", "dock", "--name", "Dock"), 2, "no camera 'dock' (its cameras: gate)"),
        (("edit", "gate"), 2, "nothing to change"),
        (("remove", "yard"), 2, "no camera 'yard'"),
        (("add", "dock", "--url", " ", "--no-probe"), 2, "not saved: "),
    ]
    for argv, want, message in cases:
        code, _out, err = _run(capsys, *base, *argv)
        assert (code, message in err) == (want, True), (argv, code, err)
        assert "hunter2" not in err
        assert site_file.read_text(encoding="utf-8") == original, argv
    assert not previous_path(site_file).exists()


def test_a_probe_that_fails_says_in_words_what_to_check(
    db_url: str, capsys: pytest.CaptureFixture[str], site_file: Path
) -> None:
    base = ("--db", db_url, "--site", str(site_file), "cameras")
    with socket.socket() as holder:  # a port known free: bound, never listening
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        code, out, err = _run(capsys, *base, "probe", f"rtsp://sam:hunter2@127.0.0.1:{port}/main")
    assert (code, out) == (1, "")
    assert err == (
        f"watchfloor cameras probe: rtsp://sam:***@127.0.0.1:{port}/main: nothing answers on "
        f"port {port} of 127.0.0.1 (connection refused: check the port, and that the camera's "
        "stream service is on)\n"
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not has_rtsp_server(system_python()), reason="GStreamer's RTSP server is not installed"
)
def test_a_real_rtsp_camera_is_added_with_its_password_kept_out_of_the_file(
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    site_file: Path,
    h264: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = ("--db", db_url, "--site", str(site_file), "cameras")
    with RtspCamera(system_python(), {"main": h264}, password="d0ck-pass") as camera:
        url = camera.url("main").replace("rtsp://", f"rtsp://{camera.user}@")
        # The variable is not set yet: refused, nothing written.
        monkeypatch.delenv("DOCK_PASSWORD", raising=False)
        code, _out, err = _run(capsys, *base, "add", "dock", "--url", url, "--password-env",
                               "DOCK_PASSWORD")  # fmt: skip
        assert code == 2 and "DOCK_PASSWORD is not set" in err
        # A wrong password: the camera refuses it, nothing written, the password not shown.
        monkeypatch.setenv("DOCK_PASSWORD", "not-it")
        code, _out, err = _run(capsys, *base, "add", "dock", "--url", url, "--password-env",
                               "DOCK_PASSWORD")  # fmt: skip
        assert code == 1 and "not-it" not in err and "nothing changed" in err
        assert "the camera refused the user name or password (401); nothing changed" in err
        code, _out, err = _run(capsys, *base, "probe", url, "--password-env", "DOCK_PASSWORD")
        assert code == 1 and "not-it" not in err
        assert f"{url.replace('viewer@', 'viewer:***@')}: the camera refused the user " in err
        monkeypatch.setenv("DOCK_PASSWORD", "d0ck-pass")
        code, out, err = _run(capsys, *base, "add", "dock", "--url", url, "--password-env",
                              "DOCK_PASSWORD")  # fmt: skip
        assert code == 0, err
        assert "H.264 320×240" in out and "d0ck-pass" not in out
    text = site_file.read_text(encoding="utf-8")
    assert "d0ck-pass" not in text and 'password_env = "DOCK_PASSWORD"' in text
    dock = load_site(site_file).cameras[1]
    assert dock.secret is not None and dock.secret.env == "DOCK_PASSWORD"


def test_the_built_in_demo_site_is_not_changed(
    db_url: str, capsys: pytest.CaptureFixture[str], h264: Path
) -> None:
    from resources import DEMO_SITE

    before = DEMO_SITE.read_bytes()
    code, _out, err = _run(
        capsys, "--db", db_url, "--site", str(DEMO_SITE), "cameras", "add", "dock",
        "--url", str(h264), "--no-probe",
    )  # fmt: skip
    assert code == 2 and "ships with Watchfloor" in err and "--site FILE" in err
    assert DEMO_SITE.read_bytes() == before
    assert not previous_path(DEMO_SITE).exists()


def test_a_camera_with_a_sub_stream_is_added_with_both_streams_checked(
    db_url: str, capsys: pytest.CaptureFixture[str], site_file: Path, h264: Path, tmp_path: Path
) -> None:
    base = ("--db", db_url, "--site", str(site_file), "cameras")
    small = write_video(tmp_path / "small.mp4", "libx264", seconds=4.0, fps=15, gop=15)
    missing = tmp_path / "nowhere.mp4"
    code, _out, err = _run(
        capsys, *base, "add", "dock", "--url", str(h264), "--sub-url", str(missing)
    )
    assert code == 1 and "nowhere.mp4" in err  # the sub stream is checked too
    code, _out, err = _run(
        capsys, *base, "add", "dock", "--url", str(h264), "--sub-url", str(small)
    )
    assert code == 0, err
    assert load_site(site_file).cameras[1].sub_url == str(small)
    code, out, _err = _run(capsys, *base, "list", "--json")
    assert json.loads(out)[1]["sub_url"] == str(small)
    code, _out, err = _run(capsys, *base, "edit", "dock", "--sub-url", "none", "--no-probe")
    assert code == 0, err
    assert load_site(site_file).cameras[1].sub_url is None

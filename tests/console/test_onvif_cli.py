"""``watchfloor cameras discover`` and ``watchfloor cameras onvif`` as an admin adding a
camera would use them, against a real ONVIF camera written by others (ipycam, see
tests/onvif_camera.py): it is found, read with the password from an environment variable,
refused with a wrong one, and the password is never printed."""

from __future__ import annotations

import json

import pytest

from console import exit_codes
from console.cli import main
from tests.onvif_camera import OnvifCamera

pytest.importorskip("ipycam", reason="the test camera: scripts/bootstrap.sh --dev installs it")

PASSWORD = "s3cret horse 9"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_camera_is_discovered_then_read_with_its_password(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ("--db", db_url, "cameras")
    monkeypatch.setenv("DOCK_PASSWORD", PASSWORD)
    with OnvifCamera(name="Loading Dock", user="admin", password=PASSWORD) as camera:
        target = f"127.0.0.1:{camera.discovery_port}"
        code, out, err = _run(
            capsys, *base, "discover", "--seconds", "1.5", "--target", target, "--json"
        )
        assert code == 0, err
        found = [d for d in json.loads(out) if d["endpoint"] == camera.endpoint]
        assert len(found) == 1 and found[0]["name"] == "Loading Dock"
        assert found[0]["xaddrs"] == [camera.device_url]

        code, out, err = _run(capsys, *base, "discover", "--seconds", "1", "--target", target)
        assert code == 0, err
        assert "Loading Dock" in out and camera.device_url in out

        address = found[0]["xaddrs"][0]
        code, out, err = _run(
            capsys,
            *base,
            "onvif",
            address,
            "--camera-user",
            "admin",
            "--password-env",
            "DOCK_PASSWORD",
        )
        assert code == 0, err
        assert f"{camera.device_url}: PythonCam VirtualCam-1, firmware 1.3.0" in out
        assert "Profile_Main (MainStream): H264 1920×1080 at 25 fps  [main: recorded]" in out
        assert "Profile_Sub (SubStream): H264 640×360 at 15 fps  [sub: analysed]" in out
        assert "rtsp://127.0.0.1:8554/video_main" in out
        assert PASSWORD not in out + err

        code, out, err = _run(
            capsys,
            *base,
            "onvif",
            f"127.0.0.1:{camera.port}",
            "--camera-user",
            "admin",
            "--password-env",
            "DOCK_PASSWORD",
            "--json",
        )
        assert code == 0, err
        device = json.loads(out)
        assert (device["main"], device["sub"]) == ("Profile_Main", "Profile_Sub")
        assert device["profiles"][1]["stream_uri"] == "rtsp://127.0.0.1:8554/video_sub"

        monkeypatch.setenv("DOCK_PASSWORD", "not " + PASSWORD)
        code, out, err = _run(
            capsys,
            *base,
            "onvif",
            address,
            "--camera-user",
            "admin",
            "--password-env",
            "DOCK_PASSWORD",
        )
        assert code == exit_codes.NOT_ALLOWED
        assert "the camera refused the user name or password" in err
        assert PASSWORD not in out + err


def test_bad_arguments_are_refused_before_anything_is_sent(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ("--db", db_url, "cameras")
    monkeypatch.delenv("NO_SUCH_PASSWORD", raising=False)
    code, _out, err = _run(
        capsys,
        *base,
        "onvif",
        "10.0.0.9",
        "--camera-user",
        "admin",
        "--password-env",
        "NO_SUCH_PASSWORD",
    )
    assert code == exit_codes.USAGE and "$NO_SUCH_PASSWORD is not set" in err
    code, _out, err = _run(capsys, *base, "onvif", "ftp://10.0.0.9/")
    assert code == exit_codes.FAILED and "over http or https" in err
    code, _out, err = _run(capsys, *base, "discover", "--target", "10.0.0.9:notaport")
    assert code == exit_codes.USAGE and "expected HOST or HOST:PORT" in err
    code, _out, err = _run(capsys, *base, "discover", "--seconds", "0")
    assert code == exit_codes.USAGE and "--seconds" in err


def test_the_help_says_which_profile_is_analysed_as_the_choice_makes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The help said the smallest profile at most 1280 pixels wide; the choice takes the one
    nearest 640 wide, 320 to 1280 wide (of 320, 640 and 1280 beside a 1920: the 640)."""
    from engine.vision.onvif import OnvifProfile, main_and_sub

    def profile(width: int) -> OnvifProfile:
        return OnvifProfile(
            str(width), str(width), "H264", width, width * 9 // 16, 15.0, "rtsp://c", None
        )

    main_profile = profile(1920)
    assert main_and_sub([profile(320), profile(640), profile(1280), main_profile]) == (
        main_profile,
        profile(640),
    )
    with pytest.raises(SystemExit):
        main(["cameras", "onvif", "--help"])
    words = " ".join(capsys.readouterr().out.split())
    assert "of the smaller ones 320 to 1280 pixels wide, the one nearest 640 wide" in words
    assert "smallest" not in words

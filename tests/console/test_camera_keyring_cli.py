"""``watchfloor cameras set-password``: an admin puts a camera's password in the OS keyring
(typed without echo, or one line on stdin), and a camera whose site file says
``password_keyring`` then connects with it while the password appears nowhere else: not on
stdout/stderr, in the logs, the engine report or the database."""

from __future__ import annotations

import io
import json
import logging
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail, null
from keyring.errors import PasswordSetError

from console.cli import main
from tests.conftest import REPO, write_site
from tests.console.test_camera_credentials import _everything_written
from tests.engine.keyring_backends import DictKeyring, FileKeyring, LockedKeyring, installed
from tests.mjpeg_server import MjpegCamera

SECRET = "k3yr1ng-Pa55!"
CAMERAS = """
[[cameras]]
id = "gate"
url = "rtsp://admin@10.0.0.5/stream"
password_keyring = true
[[cameras]]
id = "dock"
url = "rtsp://admin@10.0.0.6/stream"
password_keyring = "dock-cams"
[[cameras]]
id = "lobby"
url = "rtsp://admin@10.0.0.7/stream"
password_env = "LOBBY_PASSWORD"
[[cameras]]
id = "plaza"
url = "plaza.mp4"
"""


@pytest.fixture
def dict_keyring() -> Iterator[DictKeyring]:
    with installed(DictKeyring()) as backend:
        assert isinstance(backend, DictKeyring)
        yield backend


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site.toml", CAMERAS)


def set_password(monkeypatch: pytest.MonkeyPatch, stdin: str, *args: str) -> int:
    """``watchfloor cameras set-password ARGS`` in this process, ``stdin`` piped in."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["cameras", "set-password", *args])


def test_a_password_piped_in_is_stored_under_the_cameras_keyring_entry(
    site: Path,
    dict_keyring: DictKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert set_password(monkeypatch, f" {SECRET} \nsecond line\n", "gate", "--site", str(site)) == 0
    # The whole first line is the password, spaces kept; the line ending is not.
    assert dict_keyring.passwords == {("watchfloor", "gate"): f" {SECRET} "}
    out, err = capfd.readouterr()
    assert "camera gate: password stored in the keyring (service 'watchfloor'" in out
    assert SECRET not in out + err
    # The global --site works too; a named service is used as written in the site file.
    monkeypatch.setattr(sys, "stdin", io.StringIO("dock-pw\n"))
    assert main(["--site", str(site), "cameras", "set-password", "dock"]) == 0
    assert dict_keyring.passwords[("dock-cams", "dock")] == "dock-pw"


def test_a_password_too_short_to_mask_is_stored_with_a_warning(
    site: Path,
    dict_keyring: DictKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert set_password(monkeypatch, "s\n", "gate", "--site", str(site)) == 0
    assert dict_keyring.passwords == {("watchfloor", "gate"): "s"}  # the camera's own
    _out, err = capfd.readouterr()
    assert "warning: camera gate's password is shorter than 8 characters" in err


@pytest.mark.parametrize(
    ("camera", "stdin", "message"),
    [
        ("nope", "pw\n", "no camera 'nope' in"),
        ("lobby", "pw\n", "takes its password from the environment variable LOBBY_PASSWORD"),
        ("plaza", "pw\n", "does not take its password from the keyring"),
        ("gate", "", "no password on stdin"),
        ("gate", "\n", "no password on stdin"),
    ],
)
def test_what_cannot_be_stored_is_a_usage_error_and_stores_nothing(
    site: Path,
    dict_keyring: DictKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    camera: str,
    stdin: str,
    message: str,
) -> None:
    assert set_password(monkeypatch, stdin, camera, "--site", str(site)) == 2
    assert message in capsys.readouterr().err
    assert dict_keyring.passwords == {}


def test_an_invalid_site_file_is_exit_4_naming_the_line(
    tmp_path: Path, dict_keyring: DictKeyring, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    site = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nurl = "rtsp://h/s"\npassword_keyring = 1\n',
    )
    assert set_password(monkeypatch, "pw\n", "gate", "--site", str(site)) == 4
    assert f"{site}:7: cameras[0].password_keyring:" in capsys.readouterr().err
    assert dict_keyring.passwords == {}


class ReadOnlyKeyring(DictKeyring):
    """Reads work, storing fails, and its error (carelessly) repeats the password."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"refused to store {password!r}")


@pytest.mark.parametrize(
    ("backend", "message", "asked"),
    [
        (fail.Keyring, "camera gate: no usable keyring on this machine to read its", False),
        (LockedKeyring, "cannot read its password (keyring service 'watchfloor', user", False),
        (ReadOnlyKeyring, "cannot store its password (keyring service 'watchfloor', u", True),
        (null.Keyring, "the keyring did not keep the password", True),
    ],
)
def test_a_keyring_that_cannot_store_is_exit_1_with_the_reason(
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    backend: type,
    message: str,
    asked: bool,
) -> None:
    """A keyring that cannot be used at all is reported before the password is asked for."""
    with installed(backend()):
        assert set_password(monkeypatch, f"{SECRET}\n", "gate", "--site", str(site)) == 1
    out, err = capsys.readouterr()
    assert message in err and SECRET not in out + err
    assert sys.stdin.read() == ("" if asked else f"{SECRET}\n")


def _read_until(fd: int, wanted: bytes, transcript: bytearray, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while wanted not in transcript:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {wanted!r} in {bytes(transcript)!r}"
        if select.select([fd], [], [], remaining)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            assert chunk, f"terminal closed before {wanted!r}: {bytes(transcript)!r}"
            transcript += chunk


def _at_a_terminal(site: Path, keyring_file: Path, *typed: bytes) -> tuple[int, bytes]:
    """Run ``watchfloor cameras set-password gate`` as a child process on a real pseudo
    terminal, answer its prompts with ``typed``, and return its exit code and everything the
    terminal showed. Its keyring is a FileKeyring in ``keyring_file``."""
    controller, terminal = os.openpty()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PYTHON_KEYRING_BACKEND": f"{FileKeyring.__module__}.{FileKeyring.__qualname__}",
        "WATCHFLOOR_TEST_KEYRING_FILE": str(keyring_file),
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "console", "cameras", "set-password", "gate", "--site", str(site)],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        cwd=REPO,
        start_new_session=True,  # no controlling terminal: getpass uses stdin, the pty
    )
    os.close(terminal)
    transcript = bytearray()
    try:
        _read_until(
            controller, b"Password for camera gate (rtsp://admin:***@10.0.0.5/stream): ", transcript
        )
        os.write(controller, typed[0] + b"\n")
        _read_until(controller, b"Type it again: ", transcript)
        os.write(controller, typed[1] + b"\n")
        code = child.wait(timeout=60)
        while select.select([controller], [], [], 0.5)[0]:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            transcript += chunk
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(controller)
    return code, bytes(transcript)


def test_at_a_terminal_the_password_is_asked_twice_without_echo(site: Path, tmp_path: Path) -> None:
    keyring_file = tmp_path / "keyring.json"
    code, shown = _at_a_terminal(site, keyring_file, b"typo-" + SECRET.encode(), SECRET.encode())
    assert code == 2, shown
    assert b"the two passwords differ; nothing stored" in shown
    assert not keyring_file.exists()

    code, shown = _at_a_terminal(site, keyring_file, SECRET.encode(), SECRET.encode())
    assert code == 0, shown
    assert b"camera gate: password stored in the keyring" in shown
    assert SECRET.encode() not in shown  # the terminal did not echo it
    assert json.loads(keyring_file.read_text()) == [["watchfloor", "gate", SECRET]]


@pytest.mark.slow
def test_a_keyring_password_reaches_the_camera_and_is_shown_nowhere(
    tmp_path: Path,
    dict_keyring: DictKeyring,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Modelled on the password_env test in test_camera_credentials.py; the engine runs in
    this process so that it reads the keyring backend installed here."""
    camera = MjpegCamera(fps=15, basic_auth=("admin", SECRET))
    alembic_level = logging.getLogger("alembic").level
    try:
        host = camera.url.removeprefix("http://")
        site = write_site(
            tmp_path / "site.toml",
            f'[[cameras]]\nid = "gate"\nurl = "http://admin@{host}"\npassword_keyring = true\n',
        )
        assert set_password(monkeypatch, f"{SECRET}\n", "gate", "--site", str(site)) == 0
        db, report = tmp_path / "x.db", tmp_path / "report.json"
        caplog.set_level(logging.DEBUG)
        code = main(
            [
                "--db",
                f"sqlite:///{db}",
                "--log-level",
                "DEBUG",
                "engine",
                "--site",
                str(site),
                "--duration",
                "3",
                "--report",
                str(report),
            ]
        )
        out, err = capfd.readouterr()
        assert code == 0, err
        assert camera.authorized.is_set()  # the keyring's password went to the camera
        gate = json.loads(report.read_text())["cameras"]["gate"]
        assert gate["frames"] > 0 and gate["url"] == f"http://admin:***@{host}"
        assert caplog.records  # the engine's logs were captured
        written = _everything_written(db, report, "\n".join([out, err, caplog.text]))
        assert f"http://admin:***@{host}" in written  # the stored camera row is there
        assert SECRET not in written and "k3yr1ng" not in written
    finally:
        logging.getLogger("alembic").setLevel(alembic_level)
        camera.close()

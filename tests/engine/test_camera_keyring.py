"""Camera passwords from the OS keyring (``password_keyring`` in the site file): checked
with the site file, read only when the camera connects, and every keyring failure is a
camera error that names the camera and the keyring entry. The keyring is a real backend
object (``keyring.set_keyring``) holding its passwords in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from keyring.backends import fail, null

from engine.bus import EventBus
from engine.clock import SimulatedClock
from engine.config import CameraSecretError, SiteConfigError, load_site
from engine.events import CameraStatus
from engine.vision.source import CameraSource
from tests.conftest import write_site
from tests.engine.keyring_backends import BrokenKeyring, DictKeyring, LockedKeyring, installed
from tests.engine.test_source import REAL_WAIT_S, Recorder
from tests.mjpeg_server import MjpegCamera

SECRET = "k3yr1ng-Pa55!"


@pytest.fixture
def dict_keyring() -> Iterator[DictKeyring]:
    with installed(DictKeyring()) as backend:
        assert isinstance(backend, DictKeyring)
        yield backend


def keyring_camera(tmp_path: Path, keyring_value: str = "true", url: str = "") -> Path:
    url = url or "rtsp://admin@127.0.0.1:9/s"
    return write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "gate"\nurl = "{url}"\npassword_keyring = {keyring_value}\n',
    )


def test_password_keyring_true_reads_the_watchfloor_entry_named_after_the_camera(
    tmp_path: Path, dict_keyring: DictKeyring
) -> None:
    camera = load_site(keyring_camera(tmp_path)).cameras[0]
    assert camera.url == "rtsp://admin:***@127.0.0.1:9/s"
    assert camera.secret is not None
    assert (camera.secret.keyring_service, camera.secret.keyring_username) == ("watchfloor", "gate")
    assert dict_keyring.reads == 0  # loading the site file reads no keyring
    dict_keyring.set_password("watchfloor", "gate", "p@ss:word/1")
    assert camera.connect_url() == "rtsp://admin:p%40ss%3Aword%2F1@127.0.0.1:9/s"
    # Read at each connection: a password changed in the keyring is used at the next one.
    dict_keyring.set_password("watchfloor", "gate", "rotated")
    assert camera.connect_url() == "rtsp://admin:rotated@127.0.0.1:9/s"
    assert dict_keyring.reads == 2
    assert "rotated" not in repr(camera) and "p@ss" not in str(camera)
    assert "keyring_service='watchfloor'" in repr(camera.secret)


def test_a_named_service_is_used_instead_of_watchfloor(
    tmp_path: Path, dict_keyring: DictKeyring
) -> None:
    camera = load_site(keyring_camera(tmp_path, '"plaza-cams.v2"')).cameras[0]
    dict_keyring.set_password("watchfloor", "gate", "not this one")
    dict_keyring.set_password("plaza-cams.v2", "gate", "this one")
    assert camera.connect_url() == "rtsp://admin:this%20one@127.0.0.1:9/s"


def test_a_missing_entry_names_the_camera_the_entry_and_how_to_store_it(
    tmp_path: Path, dict_keyring: DictKeyring
) -> None:
    camera = load_site(keyring_camera(tmp_path)).cameras[0]
    dict_keyring.set_password("watchfloor", "other-camera", SECRET)
    with pytest.raises(CameraSecretError) as info:
        camera.connect_url()
    message = str(info.value)
    assert message.startswith("camera gate: no password in the keyring")
    assert "keyring service 'watchfloor', username 'gate'" in message
    assert "watchfloor cameras set-password gate" in message


def test_no_keyring_backend_is_a_camera_error_that_suggests_password_env(tmp_path: Path) -> None:
    camera = load_site(keyring_camera(tmp_path)).cameras[0]
    with installed(fail.Keyring()), pytest.raises(CameraSecretError) as info:
        camera.connect_url()
    message = str(info.value)
    assert message.startswith("camera gate: no usable keyring on this machine")
    assert "keyring service 'watchfloor', username 'gate'" in message
    assert "password_env" in message


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (BrokenKeyring, "FileNotFoundError: [Errno 2] No such file or directory"),
        (LockedKeyring, "KeyringLocked: Failed to unlock the collection!"),
    ],
)
def test_a_failing_keyring_backend_is_a_camera_error_with_its_reason(
    tmp_path: Path, backend: type[DictKeyring], reason: str
) -> None:
    camera = load_site(keyring_camera(tmp_path)).cameras[0]
    with installed(backend()), pytest.raises(CameraSecretError) as info:
        camera.connect_url()
    message = str(info.value)
    assert message.startswith("camera gate: the keyring cannot read its password")
    assert "keyring service 'watchfloor', username 'gate'" in message and reason in message


def test_a_backend_that_keeps_nothing_reads_as_a_missing_entry(tmp_path: Path) -> None:
    camera = load_site(keyring_camera(tmp_path)).cameras[0]
    with installed(null.Keyring()), pytest.raises(CameraSecretError, match="no password in"):
        camera.connect_url()


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        (
            'url = "rtsp://admin@h/s"\npassword_env = "GATE_PW"\npassword_keyring = true\n',
            "password_keyring",
            "password_env already names this camera's password",
        ),
        (
            'url = "rtsp://admin:pw@h/s"\npassword_keyring = true\n',
            "url",
            "the URL has a password and password_keyring names another",
        ),
        ('url = "clip.mp4"\npassword_keyring = true\n', "password_keyring", "only a stream"),
        ("url = 0\npassword_keyring = true\n", "password_keyring", "only a stream camera"),
        (
            'url = "rtsp://h/s"\npassword_keyring = false\n',
            "password_keyring",
            'expected true (service "watchfloor") or a keyring service name, got a boolean',
        ),
        ('url = "rtsp://h/s"\npassword_keyring = 3\n', "password_keyring", "got an integer"),
        (
            'url = "rtsp://h/s"\npassword_keyring = "my cameras"\n',
            "password_keyring",
            "'my cameras' is not a keyring service name",
        ),
        ('url = "rtsp://h/s"\npassword_keyring = ""\n', "password_keyring", "'' is not a keyring"),
    ],
)
def test_password_keyring_is_checked_with_the_site_file(
    tmp_path: Path, entry: str, field: str, message: str
) -> None:
    site = write_site(tmp_path / "site.toml", f'[[cameras]]\nid = "gate"\n{entry}')
    with pytest.raises(SiteConfigError) as info:
        load_site(site)
    error = info.value
    lines = site.read_text().splitlines()
    expected_line = 1 + next(i for i, line in enumerate(lines) if line.startswith(f"{field} ="))
    assert (error.file, error.line, error.field) == (site, expected_line, f"cameras[0].{field}")
    assert message in error.message


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def start_source(
    clock: SimulatedClock,
) -> Iterator[Callable[[Path], tuple[CameraSource, Recorder]]]:
    sources: list[CameraSource] = []

    def start(site: Path) -> tuple[CameraSource, Recorder]:
        bus = EventBus()
        recorder = Recorder(bus)
        source = CameraSource(load_site(site).cameras[0], bus, clock)
        sources.append(source)
        source.start()
        return source, recorder

    yield start
    for source in sources:
        source.stop()


def test_the_camera_shows_the_keyring_problem_and_connects_once_the_password_is_stored(
    tmp_path: Path, dict_keyring: DictKeyring, clock: SimulatedClock, start_source
) -> None:
    """The tile and the report show a source's status detail: the reason, then, after the
    admin stores the password, the camera connects at its next retry without a restart."""
    server = MjpegCamera(fps=15, basic_auth=("admin", SECRET))
    try:
        url = f"http://admin@{server.url.removeprefix('http://')}"
        source, recorder = start_source(keyring_camera(tmp_path, url=url))
        error = recorder.wait_for(CameraStatus.ERROR)
        assert error.detail.startswith("camera gate: no password in the keyring")
        assert "keyring service 'watchfloor', username 'gate'" in error.detail
        assert error.retry_in_s == 1.0
        assert "no password in the keyring" in (source.stats().last_problem or "")
        assert not server.authorized.is_set()

        dict_keyring.set_password("watchfloor", "gate", SECRET)
        assert clock.wait_for_waiters(1, REAL_WAIT_S)
        clock.advance(1.0)
        recorder.wait_for(CameraStatus.ONLINE)
        assert server.authorized.is_set()  # the keyring's password reached the camera
        assert all(SECRET not in e.detail for e in recorder.events)
    finally:
        server.close()


def test_no_keyring_backend_shows_on_the_camera(tmp_path: Path, start_source) -> None:
    with installed(fail.Keyring()):
        _, recorder = start_source(keyring_camera(tmp_path))
        error = recorder.wait_for(CameraStatus.ERROR)
    assert error.detail.startswith("camera gate: no usable keyring on this machine")
    assert "use password_env" in error.detail

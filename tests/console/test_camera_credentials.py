"""Camera passwords reach the camera and nothing else: not stderr, the report, the
database (cameras table, events) or the site overview."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from engine.config import CameraSecretError, load_site
from engine.store.models import Camera, Event
from tests.conftest import write_site
from tests.console.cli_runs import watchfloor_process
from tests.mjpeg_server import MjpegCamera

SECRET = "s3cret-Pa55!"


def _everything_written(db: Path, report: Path, stderr: str) -> str:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        urls = list(connection.scalars(select(Camera.url)))
        details = [json.dumps(d) for d in connection.scalars(select(Event.detail))]
    engine.dispose()
    return "\n".join([stderr, report.read_text(), *urls, *details])


@pytest.mark.parametrize("where", ["password_env", "inline"])
@pytest.mark.slow
def test_a_camera_password_reaches_the_camera_and_is_shown_nowhere(
    tmp_path: Path, where: str
) -> None:
    """Before: ``rtsp://admin:secret@…`` was printed, reported and stored as given."""
    camera = MjpegCamera(fps=15, basic_auth=("admin", SECRET))
    try:
        host = camera.url.removeprefix("http://")
        if where == "password_env":
            entry = f'url = "http://admin@{host}"\npassword_env = "PLAZA_CAMERA_PASSWORD"\n'
        else:  # an older site file with the password in the URL still works, masked
            entry = f'url = "http://admin:{SECRET}@{host}"\n'
        site = write_site(tmp_path / "site.toml", f'[[cameras]]\nid = "gate"\n{entry}')
        db, report = tmp_path / "x.db", tmp_path / "report.json"
        # A real process: what OpenCV and FFmpeg write to its stderr (fd 2) is read too.
        result = watchfloor_process(
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
            env={"PLAZA_CAMERA_PASSWORD": SECRET, "OPENCV_LOG_LEVEL": "DEBUG"},
        )
        assert result.returncode == 0, result.stderr
        assert camera.authorized.is_set()  # the real password went to the camera
        gate = json.loads(report.read_text())["cameras"]["gate"]
        assert gate["frames"] > 0 and gate["url"] == f"http://admin:***@{host}"
        written = _everything_written(db, report, result.stderr + result.stdout)
        assert SECRET not in written and "s3cret" not in written
    finally:
        camera.close()


def test_a_missing_password_variable_is_a_camera_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    site = write_site(
        tmp_path / "site.toml",
        '[[cameras]]\nid = "gate"\nurl = "rtsp://admin@127.0.0.1:9/s"\n'
        'password_env = "NOT_SET_ANYWHERE"\n',
    )
    camera = load_site(site).cameras[0]
    assert camera.url == "rtsp://admin:***@127.0.0.1:9/s"
    assert "NOT_SET_ANYWHERE" in repr(camera)  # the name is fine to show; no value exists
    with pytest.raises(CameraSecretError, match="NOT_SET_ANYWHERE is not set"):
        camera.connect_url()
    monkeypatch.setenv("NOT_SET_ANYWHERE", "p@ss:word/1")
    assert camera.connect_url() == "rtsp://admin:p%40ss%3Aword%2F1@127.0.0.1:9/s"
    assert "p@ss" not in repr(camera) and os.environ["NOT_SET_ANYWHERE"] not in str(camera)


def test_password_env_is_validated(tmp_path: Path) -> None:
    from engine.config import SiteConfigError

    bad = [
        ('url = "rtsp://h/s"\npassword_env = "1BAD"\n', "not an environment variable name"),
        ('url = "rtsp://u:pw@h/s"\npassword_env = "PW"\n', "the URL has a password"),
        (f'url = "{tmp_path / "v.mp4"}"\npassword_env = "PW"\n', "only a stream camera"),
    ]
    for entry, message in bad:
        site = write_site(tmp_path / "site.toml", f'[[cameras]]\nid = "c"\n{entry}')
        with pytest.raises(SiteConfigError, match=message):
            load_site(site)


def test_passwords_stored_by_earlier_versions_are_masked_by_the_migration(tmp_path: Path) -> None:
    import sqlite3

    from alembic import command

    from engine.store import Store
    from engine.store.database import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0005")
    raw = sqlite3.connect(tmp_path / "old.db")
    raw.executescript(
        f"""
        INSERT INTO sites (id, name, geo_lat, geo_lon, updated_at)
            VALUES (1, 's', 0, 0, '2026-01-01');
        INSERT INTO cameras (id, site_id, key, name, url, source_kind, enabled)
            VALUES (1, 1, 'gate', 'Gate', 'rtsp://admin:{SECRET}@10.0.0.5:554/s', 'stream', 1);
        INSERT INTO events (ts, kind, source, camera_id, detail) VALUES
            ('2026-01-01 10:00:00', 'camera.starting', 'camera:gate', 1,
             '{{"detail": "opening rtsp://admin:{SECRET}@10.0.0.5:554/s"}}'),
            ('2026-01-01 10:00:01', 'camera.online', 'camera:gate', 1, '{{"detail": "ok"}}');
        """
    )
    raw.commit()
    raw.close()
    store = Store(url)
    with store.sessions() as session:
        stored = [*session.scalars(select(Camera.url))]
        stored += [json.dumps(d) for d in session.scalars(select(Event.detail))]
    store.close()
    assert stored[0] == "rtsp://admin:***@10.0.0.5:554/s"
    assert "opening rtsp://admin:***@10.0.0.5:554/s" in stored[1]
    assert SECRET not in "\n".join(stored)

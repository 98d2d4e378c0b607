"""An alert's footage plays the moment it is raised: on a running engine recording its
camera continuously, a rule's alert raised by people seen a moment ago shows a clip at
once, cut from the segment still being written (no event clip exists yet), and says the
camera is still recording; asked again, the footage holds what was recorded since."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import select

from engine.access import machine_actor
from engine.data_dirs import data_dir
from engine.events import PeopleDetected, Sighting
from engine.media import VIEWS_DIR
from engine.record.fragments import complete_fragments_end
from engine.record.segments import RECORDINGS_DIR
from engine.store.models import Media
from tests.conftest import write_site
from tests.console.conftest import OpenConsole, add_person_rule
from tests.engine.test_recording import demuxed, write_video
from widgets.alerts.preview import STILL_RECORDING


def _whole_fragments_of_writing(camera: str) -> int:
    """Bytes of complete fragments in the camera's segment being written (0: none yet)."""
    partials = sorted((data_dir() / RECORDINGS_DIR / camera).rglob("*.mp4.partial"))
    if not partials:
        return 0
    try:
        return complete_fragments_end(partials[-1]) or 0
    except OSError:  # renamed as it finished: the next one is being written
        return 0


def test_a_new_alerts_footage_plays_at_once_from_the_recording_still_being_written(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    video = write_video(tmp_path / "gate.mp4", "libx264", seconds=20.0, gop=15)
    site = write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "gate"\nname = "Gate"\nurl = "{video}"\n'
        "recording = { segment_s = 60 }\n",
        extra='[alerts]\nrisk_provider = "none"\n',
    )
    host, window = open_console(site, accounts={"ada": "admin"}, login="ada")
    add_person_rule(qtbot, window, "gate", "gate watch")
    # The camera has been recording for a few fragments (a keyframe a second each); its
    # first segment (60 s) is far from finished, so no segment row and no clip exist.
    qtbot.waitUntil(lambda: _whole_fragments_of_writing("gate") > 0, timeout=30_000)
    first_whole = _whole_fragments_of_writing("gate")
    qtbot.waitUntil(lambda: _whole_fragments_of_writing("gate") > first_whole, timeout=30_000)

    runtime = window.runtime
    seen = runtime.clock.now() - timedelta(seconds=1)
    for i, conf in enumerate((0.5, 0.8, 0.6)):
        runtime.bus.publish(
            PeopleDetected(
                at=seen + timedelta(seconds=0.3 * i),
                camera="gate",
                frame_size=(320, 240),
                sightings=(Sighting(4, (100.0, 80.0, 60.0, 160.0), conf, None),),
            )
        )
    alerts = window.panes["alert_list"]
    qtbot.waitUntil(lambda: len(alerts.rows()) == 1, timeout=10_000)
    (row,) = alerts.rows()
    stream = window.panes["alerts"]
    with qtbot.waitSignal(stream.sig_evidence_shown, timeout=10_000):
        stream.select(row.alert_id)
    evidence = stream.preview.evidence
    assert evidence is not None and evidence.clip is not None and evidence.recording
    assert stream.preview.showing() == "clip"
    assert STILL_RECORDING in stream.preview.caption.text()
    # The camera goes on recording it: the whole clip is asked for when it should be ready.
    assert evidence.clip_ready_in_s is not None
    assert "Recording" in stream.preview.recording_text()
    assert evidence.clip.parent == data_dir() / VIEWS_DIR / "gate"
    assert not (data_dir() / "clips").exists() or not list((data_dir() / "clips").rglob("*.mp4"))
    first_clip = evidence.clip
    # Asked again once more is recorded (a double-click): the footage since is in it.
    grown = _whole_fragments_of_writing("gate")
    qtbot.waitUntil(lambda: _whole_fragments_of_writing("gate") > grown, timeout=30_000)
    index = stream.view.model().index(0, 0)
    with qtbot.waitSignal(stream.sig_evidence_shown, timeout=10_000):
        stream.view.doubleClicked.emit(index)
    again = stream.preview.evidence
    assert again is not None and again.clip is not None and again.clip != first_clip
    assert again.clip.stat().st_size > first_clip.stat().st_size
    window.shut_down("end of test", machine_actor())
    host.close()


def test_an_event_clip_that_is_a_view_plays_in_the_events_pane_cut_on_a_worker(
    qtbot: QtBot, open_console: OpenConsole, tmp_path: Path
) -> None:
    """A camera recording continuously has event clips that are views onto its segments:
    opened in the Events pane (as Ask's citations and the timeline open clips), the view is
    cut off the GUI thread and played; asked for a view whose footage is gone, the player
    says so."""
    video = write_video(tmp_path / "gate.mp4", "libx264", seconds=20.0, gop=15)
    site = write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "gate"\nname = "Gate"\nurl = "{video}"\n'
        "recording = { segment_s = 2 }\n",
    )
    host, window = open_console(site, accounts={"ian": "investigator"}, login="ian")
    store = host.store

    def segments() -> list[Media]:
        with store.sessions() as session:
            return list(
                session.scalars(
                    select(Media).where(Media.kind == "segment").order_by(Media.started_at)
                )
            )

    qtbot.waitUntil(lambda: len(segments()) >= 2, timeout=30_000)
    first = segments()[0]
    assert first.started_at is not None and first.ended_at is not None
    view = f"views/gate/{first.started_at:%Y-%m-%d}/gate_event.mp4"
    with store.transaction() as session:
        session.add(
            Media(
                kind="clip",
                path=view,
                sha256="",
                size_bytes=0,
                created_at=first.started_at,
                camera_id=first.camera_id,
                started_at=first.started_at,
                ended_at=first.ended_at,
            )
        )
    events = window.panes["events"]
    assert events.play_clip(data_dir() / view, 0.5)
    player = events.player
    assert player is not None
    qtbot.waitUntil(
        lambda: (data_dir() / view).is_file() and player.error_text() == "", timeout=10_000
    )
    assert player.path == data_dir() / view
    # The whole of the first segment, its very packets, playing.
    assert demuxed(data_dir() / view) == demuxed(data_dir() / first.path)
    qtbot.waitUntil(lambda: player.duration_s() > 0.5, timeout=10_000)
    gone = f"views/gate/{first.started_at:%Y-%m-%d}/gate_nothing.mp4"
    events.play_clip(data_dir() / gone)
    qtbot.waitUntil(lambda: f"no clip {gone} is stored" in player.error_text(), timeout=10_000)
    window.shut_down("end of test", machine_actor())
    host.close()

"""The incident panes' backend reads a report's media from the store and its thumbnail
from the data dir (on a query worker), and says what was found in it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console.backends.incidents import IncidentsBackend
from engine.data_dirs import data_dir
from engine.incidents.classify import Classification
from engine.incidents.records import FileReports, MediaInput, NewReport
from engine.incidents.reports import ReportInput
from engine.store import Store
from engine.store.writer import StoreWriter
from tests.actors import OPERATOR

T0 = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def test_media_are_read_with_their_thumbnails(db_url: str) -> None:
    thumb = data_dir() / "incidents" / "2026" / "11" / "23" / "abc.thumb.jpg"
    thumb.parent.mkdir(parents=True)
    thumb.write_bytes(b"\xff\xd8 a thumbnail")
    analysis: dict[str, Any] = {
        "people": {"count": 3},
        "faces": {"known": [{"public_id": "Person_00000001", "name": "Ann"}], "unknown": 1},
    }
    media = (
        MediaInput(
            "photo",
            "incidents/2026/11/23/abc.jpg",
            "0" * 64,
            10,
            thumbnail_path="incidents/2026/11/23/abc.thumb.jpg",
            analysis=analysis,
        ),
        MediaInput(
            "video",
            "incidents/2026/11/23/gone.mp4",
            "1" * 64,
            10,
            thumbnail_path="incidents/2026/11/23/gone.thumb.jpg",
        ),
    )
    store = Store(db_url)
    try:
        with StoreWriter.running(store) as writer:
            (filed,) = writer.execute(
                FileReports(
                    reports=(
                        NewReport(
                            report=ReportInput("Fight", 51.5, -0.14, T0),
                            verdict=Classification("violence", 3, 0.7, "keywords"),
                            cell=0,
                            media=media,
                        ),
                    ),
                    at=T0,
                    actor=OPERATOR,
                )
            )
        backend = IncidentsBackend(None, store, None)  # type: ignore[arg-type]
        photo, video = backend.incident_media(filed.incident.incident_id)
    finally:
        store.close()
    assert photo.summary == "photo, 3 people, faces: Ann, 1 unknown face(s)"
    assert photo.thumbnail == b"\xff\xd8 a thumbnail"
    assert (video.summary, video.thumbnail) == ("video", None)  # its thumbnail is gone
    assert photo.report_id == video.report_id == filed.report_id

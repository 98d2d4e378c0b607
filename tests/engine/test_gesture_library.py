"""The gesture library on real databases (SQLite and PostgreSQL): teaching whole or not at
all (bad examples named, nothing written), names unique case-insensitively, rename, options,
removal, usage counts, the audit trail, permissions, and loading what was taught into a
set that recognises the gesture."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.access import PermissionDeniedError
from engine.config import CameraConfig, GeoPoint, SiteConfig, SourceKind
from engine.gestures.library import (
    GestureError,
    GestureListRequest,
    GestureTemplateRequest,
    RecordGestureDetection,
    RemoveGesture,
    RenameGesture,
    SetGestureOptions,
    TeachGesture,
    UnknownGestureError,
    load_gesture_set,
)
from engine.gestures.sequence import normalise
from engine.runtime import EngineRuntime, FileAnalysis
from engine.settings import ChangeSetting
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.commands import StoreCommand
from engine.store.gesture_models import Gesture, GestureExample
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, OPERATOR
from tests.gesture_motions import motion3d

pytestmark = pytest.mark.sql

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Library:
    """A store and its running writer."""

    def __init__(self, store: Store, writer: StoreWriter) -> None:
        self.store = store
        self.writer = writer

    def execute(self, command: StoreCommand) -> Any:
        return self.writer.execute(command)


@pytest.fixture
def writer(db_url: str) -> Iterator[Library]:
    store = Store(db_url)
    try:
        with StoreWriter.running(store) as running:
            yield Library(store, running)
    finally:
        store.close()


def teach(
    name: str, kind: str, seeds: tuple[int, ...] = (1, 2, 3), **options: object
) -> TeachGesture:
    warps = (1.0, 0.8, 1.25, 0.9, 1.1)
    return TeachGesture(
        name=name,
        examples=tuple(
            normalise(motion3d(kind, s, warp=w)) for s, w in zip(seeds, warps, strict=False)
        ),
        durations_s=tuple(1.0 + 0.1 * i for i in range(len(seeds))),
        sources=tuple(f"{kind}-{s}.mp4" for s in seeds),
        at=T0,
        actor=ADMIN,
        **options,  # type: ignore[arg-type]
    )


def counts(store: Store) -> tuple[int, int]:
    with store.sessions() as session:
        gestures = session.scalar(select(func.count()).select_from(Gesture)) or 0
        examples = session.scalar(select(func.count()).select_from(GestureExample)) or 0
        return gestures, examples


def test_a_taught_gesture_is_listed_loaded_and_recognised(writer: Library) -> None:
    view = writer.execute(teach("wave", "wave", alerting=True))
    writer.execute(teach("Raise", "raise"))
    assert (view.name, view.examples, view.alerting, view.detections) == ("wave", 3, True, 0)
    assert view.typical_s == pytest.approx(1.1)
    listed = GestureListRequest().run(writer.store)
    assert [v.name for v in listed] == ["Raise", "wave"]
    template = GestureTemplateRequest("WAVE").run(writer.store)
    assert len(template.examples) == 3 and template.examples[0].shape == (30, 33, 3)
    gestures = load_gesture_set(writer.store)
    assert gestures.is_alerting("wave") and not gestures.is_alerting("Raise")
    (window,) = gestures.windows_s
    found = gestures.match(motion3d("wave", 40, warp=0.9), window)
    assert found is not None and found.gesture == "wave" and found.confidence >= 0.7
    assert gestures.match(motion3d("still", 41), window) is None


def test_bad_teaching_is_named_and_writes_nothing(writer: Library) -> None:
    with pytest.raises(GestureError, match="examples: 2 given"):
        writer.execute(teach("wave", "wave", seeds=(1, 2)))
    same = normalise(motion3d("wave", 1))
    identical = TeachGesture(
        name="wave",
        examples=(same, same, same),
        durations_s=(1.0, 1.0, 1.0),
        sources=("a", "b", "c"),
        at=T0,
        actor=ADMIN,
    )
    with pytest.raises(GestureError, match="identical"):
        writer.execute(identical)
    with pytest.raises(GestureError, match="name: empty"):
        writer.execute(teach("  ", "wave"))
    with pytest.raises(GestureError, match=r"example 2: shape \(30, 33, 2\)"):
        writer.execute(
            TeachGesture(
                name="wave",
                examples=(same, same[..., :2], same),
                durations_s=(1.0, 1.0, 1.0),
                sources=("a", "b", "c"),
                at=T0,
                actor=ADMIN,
            )
        )
    long = teach("wave", "wave")
    with pytest.raises(GestureError, match=r"example 1: lasts 9\.00 s"):
        writer.execute(
            TeachGesture(
                name="wave",
                examples=long.examples,
                durations_s=(9.0, 1.0, 1.0),
                sources=long.sources,
                at=T0,
                actor=ADMIN,
            )
        )
    assert counts(writer.store) == (0, 0)


def test_names_are_unique_and_teaching_again_replaces_the_examples(writer: Library) -> None:
    writer.execute(teach("wave", "wave"))
    with pytest.raises(GestureError, match="a gesture called 'wave' exists"):
        writer.execute(teach("WAVE", "raise"))
    writer.execute(RecordGestureDetection(gesture="wave", at=T0))
    again = writer.execute(teach("Wave", "wave", seeds=(4, 5, 6, 7), replace=True))
    assert again.examples == 4 and again.detections == 1  # usage is kept
    assert counts(writer.store) == (1, 4)


def test_rename_options_usage_and_removal(writer: Library) -> None:
    writer.execute(teach("wave", "wave"))
    writer.execute(teach("raise", "raise"))
    with pytest.raises(GestureError, match="new name: a gesture called 'raise' exists"):
        writer.execute(RenameGesture(name="wave", new_name="Raise", at=T0, actor=ADMIN))
    renamed = writer.execute(RenameGesture(name="wave", new_name="help", at=T0, actor=ADMIN))
    assert renamed.name == "help"
    changed = writer.execute(
        SetGestureOptions(name="help", alerting=True, mirror_invariant=True, at=T0, actor=ADMIN)
    )
    assert changed.alerting and changed.mirror_invariant
    for minutes in (5, 1):
        counted = writer.execute(
            RecordGestureDetection(gesture="HELP", at=T0 + timedelta(minutes=minutes))
        )
        assert counted
    assert not writer.execute(RecordGestureDetection(gesture="gone", at=T0))
    (help_view,) = [v for v in GestureListRequest().run(writer.store) if v.name == "help"]
    assert help_view.detections == 2
    assert help_view.last_detected_at == T0 + timedelta(minutes=5)
    removed = writer.execute(RemoveGesture(name="help", at=T0, actor=ADMIN))
    assert removed.detections == 2
    assert counts(writer.store) == (1, 3)
    with pytest.raises(UnknownGestureError, match="no gesture called 'help'"):
        writer.execute(RemoveGesture(name="help", at=T0, actor=ADMIN))
    actions = [e.action for e in AuditListRequest(reader=ADMIN, limit=50).run(writer.store)]
    for action in ("gesture.teach", "gesture.rename", "gesture.change", "gesture.remove"):
        assert action in actions


def test_only_those_who_manage_gestures_may_teach(writer: Library) -> None:
    with pytest.raises(PermissionDeniedError):
        writer.execute(
            TeachGesture(
                name="wave",
                examples=teach("wave", "wave").examples,
                durations_s=(1.0, 1.0, 1.0),
                sources=("a", "b", "c"),
                at=T0,
                actor=OPERATOR,
            )
        )
    assert counts(writer.store) == (0, 0)


def test_an_empty_library_loads_as_an_empty_set(writer: Library) -> None:
    gestures = load_gesture_set(writer.store)
    assert not gestures and gestures.windows_s == ()


def test_the_runtime_matches_at_the_confidence_the_setting_asks(
    writer: Library, tmp_path: Path
) -> None:
    writer.execute(teach("wave", "wave"))
    site = SiteConfig(
        name="gestures",
        file=tmp_path / "site.toml",
        geo_origin=GeoPoint(0.0, 0.0),
        rooms=(),
        cameras=(CameraConfig("gate", "gate", "a.mp4", SourceKind.FILE, False, None, None),),
        sensing_nodes=(),
    )
    runtime = EngineRuntime(
        site,
        writer.store,
        file_analysis=FileAnalysis(recording_start=T0, faces=False, clips=False),
    )
    assert runtime.gestures.worker is not None
    assert runtime.gestures.reload() == 1
    assert runtime.gestures.current().min_confidence == pytest.approx(0.7)
    writer.execute(
        ChangeSetting(key="analytics.gesture_confidence_pct", value=85, at=T0, actor=ADMIN)
    )
    runtime.gestures.reload()
    assert runtime.gestures.current().min_confidence == pytest.approx(0.85)
    assert runtime.gestures.current().names == ("wave",)

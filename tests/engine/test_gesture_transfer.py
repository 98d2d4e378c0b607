"""What teaching tells the admin about the examples (too alike, one unlike the others, or
why they cannot be taught), that a gesture stored by an older version which the current
calibration refuses is left out rather than stopping every other gesture, that a
mirror-invariant gesture is matched canonically (the acting arm as the right one, no
mirrored copy of each template), and what the library says about taught examples."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest

from engine.gestures.dtw import GestureMatcher, acting_arm_is_left, review_examples
from engine.gestures.library import (
    GestureListRequest,
    TeachGesture,
    example_advice,
    load_gesture_set,
)
from engine.gestures.sequence import Landmarks, mirror, normalise
from engine.gestures.templates import GestureSet, GestureTemplate
from engine.store import Store
from engine.store.gesture_models import Gesture, GestureExample
from engine.store.writer import StoreWriter
from tests.actors import ADMIN
from tests.gesture_motions import motion3d

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WARPS = (1.0, 0.8, 1.25, 0.9, 1.1)


def examples(kind: str, seeds: tuple[int, ...] = (1, 2, 3)) -> list[Landmarks]:
    return [normalise(motion3d(kind, s, warp=w)) for s, w in zip(seeds, WARPS, strict=False)]


def copies(kind: str, count: int = 3) -> list[Landmarks]:
    """One repetition recorded ``count`` times over, only the landmarks' jitter differing."""
    one = examples(kind, (1,))[0]
    rng = np.random.default_rng(5)
    return [(one + rng.normal(0.0, 0.002, one.shape)).astype(np.float32) for _ in range(count)]


def test_natural_repetitions_get_no_advice() -> None:
    assert example_advice(examples("wave")) == ()
    assert example_advice(examples("raise", (4, 5, 6, 7))) == ()


def test_examples_that_are_nearly_copies_are_called_too_alike() -> None:
    advice = example_advice(copies("wave"))
    assert len(advice) == 1
    assert "nearly copies of each other (little variety)" in advice[0]
    assert "natural variation" in advice[0]


def test_an_example_of_another_gesture_among_them_is_named() -> None:
    mixed = [*examples("wave", (1, 2, 3)), examples("raise", (4,))[0]]
    advice = example_advice(mixed)
    assert any(a.startswith("Example 4 is unlike the others") for a in advice), advice
    assert any("another gesture or cut at the wrong moment" in a for a in advice)
    assert review_examples("wave", mixed).outliers == (3,)


def test_an_example_much_longer_than_the_others_is_named() -> None:
    advice = example_advice(examples("wave"), (1.0, 1.1, 2.6))
    assert advice == (
        "Example 3 lasts 2.6 s, the others about 1.1 s: it may hold two repetitions, or be "
        "cut short. Discard it and record it again.",
    )
    assert example_advice(examples("wave"), (1.0, 1.2, 1.4)) == ()  # another pace: fine


def test_examples_that_cannot_be_taught_say_why_in_a_sentence() -> None:
    fidgets = examples("still", (1, 2, 3))
    (sentence,) = example_advice(fidgets)
    assert sentence.startswith("Its examples differ from each other more than from standing")
    assert sentence.endswith(".")
    assert "gesture '" not in sentence


def test_too_few_examples_get_no_advice_yet() -> None:
    assert example_advice(examples("wave", (1,))) == ()
    assert example_advice(copies("wave", 2)) == ()  # compared from the third on


def test_a_stored_gesture_the_calibration_refuses_is_left_out_not_every_gesture() -> None:
    # Before: one such gesture made building the set raise, so no gesture was recognised.
    wave = GestureTemplate("wave", False, True, tuple(examples("wave")), (1.0, 1.1, 1.2))
    idle = GestureTemplate("idle", False, True, tuple(examples("still")), (1.0, 1.1, 1.2))
    gestures = GestureSet([wave, idle])
    assert gestures.names == ("wave",)
    assert "could not be told from not moving" in gestures.unusable["idle"]
    window = motion3d("wave", 40)
    found = gestures.match(window, gestures.windows_s[0])
    assert found is not None and found.gesture == "wave"


def test_a_mirror_invariant_gesture_is_matched_canonically() -> None:
    right = examples("wave")
    matcher = GestureMatcher({"wave": right}, mirror_invariant=True)
    assert len(matcher.templates) == len(right)  # no mirrored copies: half the DTW work
    left_wave = mirror(normalise(motion3d("wave", 31)))
    assert acting_arm_is_left(left_wave) and not acting_arm_is_left(right[0])
    found = matcher.match(left_wave)
    assert found is not None and found.gesture == "wave"
    assert GestureMatcher({"wave": right}).match(left_wave) is None


def test_the_former_coordinate_features_still_mirror_by_copies() -> None:
    matcher = GestureMatcher(
        {"wave": examples("wave")}, mirror_invariant=True, feature_set="coordinates"
    )
    assert len(matcher.templates) == 6


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store(db_url)
    try:
        yield opened
    finally:
        opened.close()


def _teach(name: str, taught: list[Landmarks]) -> TeachGesture:
    return TeachGesture(
        name=name,
        examples=tuple(taught),
        durations_s=tuple(1.0 + 0.1 * i for i in range(len(taught))),
        sources=tuple(f"{name}-{i}.mp4" for i in range(len(taught))),
        at=T0,
        actor=ADMIN,
    )


def test_the_library_says_what_it_thinks_of_taught_examples(store: Store) -> None:
    with StoreWriter.running(store) as writer:
        alike = writer.execute(_teach("wave", copies("wave")))
        fine = writer.execute(_teach("raise", examples("raise")))
    assert alike.advice and "nearly copies" in alike.advice[0]
    assert alike.as_json()["advice"] == list(alike.advice)
    assert fine.advice == ()
    listed = {v.name: v for v in GestureListRequest().run(store)}
    assert listed["wave"].advice == alike.advice and listed["raise"].advice == ()


def test_a_gesture_stored_by_an_older_version_loads_recalibrated_or_says_why_not(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Gestures keep their stored examples (normalised landmarks); thresholds are derived
    as they load. One an older version accepted that the current calibration refuses (here
    fidgeting, written straight to the tables as that version could) is left out, logged,
    and listed with why; the others are recognised."""
    with StoreWriter.running(store) as writer:
        writer.execute(_teach("wave", examples("wave")))
    with store.sessions() as session:
        row = Gesture(
            name="idle",
            alerting=False,
            mirror_invariant=True,
            created_by="account:old",
            created_at=T0,
            updated_at=T0,
            detections=0,
            last_detected_at=None,
        )
        session.add(row)
        session.flush()
        for position, example in enumerate(examples("still")):
            session.add(
                GestureExample(
                    gesture_id=row.id,
                    position=position,
                    frames=example.shape[0],
                    landmarks=np.ascontiguousarray(example, dtype=np.float32).tobytes(),
                    duration_s=1.0,
                    source="old.mp4",
                )
            )
        session.commit()
    with caplog.at_level("WARNING", logger="engine.gestures.library"):
        gestures = load_gesture_set(store)
    assert gestures.names == ("wave",) and "idle" in gestures.unusable
    assert "'idle' is not recognised until taught again" in caplog.text
    listed = {v.name: v for v in GestureListRequest().run(store)}
    (why,) = listed["idle"].advice
    assert why.startswith("Its examples differ from each other more than from standing still")
    found = gestures.match(motion3d("wave", 41), gestures.windows_s[0])
    assert found is not None and found.gesture == "wave"

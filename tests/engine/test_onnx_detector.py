"""The ONNX detector adapter, run for real by onnxruntime.

These tests build small ONNX graphs whose output encodes known boxes (a real graph that reads
the image and runs through onnxruntime): they check letterboxing, both YOLO output layouts,
the person class filter, thresholds and errors. The built-in YOLOv3-tiny's own tests are in
test_yolo_detector.py; users may point the engine at their own YOLO export.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from engine.vision.detect import _SESSIONS, OnnxDetectorError, OnnxPersonDetector, make_detector
from engine.vision.geometry import Box, iou


def write_model(path: Path, output: np.ndarray, input_shape: list[int | str] | None = None) -> Path:
    """A graph ``images → ReduceMean·0 + constant``: the constant comes out whatever the
    image, but the input really flows through the network (``input_shape``: [1, 3, 640,
    640] unless given; a name is an open dimension)."""
    constant = numpy_helper.from_array(output.astype(np.float32), "detections")
    zero = numpy_helper.from_array(np.zeros((), np.float32), "zero")
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
            helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
            helper.make_node("Add", ["detections", "nothing"], ["output0"]),
        ],
        "fixture",
        [
            helper.make_tensor_value_info(
                "images", TensorProto.FLOAT, input_shape or [1, 3, 640, 640]
            )
        ],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))],
        [constant, zero],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def image() -> np.ndarray:
    frame = np.zeros((720, 1280, 3), np.uint8)  # letterboxed to 640×360 + 140 px bands
    frame[:, :, 1] = 90
    return frame


def test_yolov8_layout_keeps_confident_people_in_frame_coordinates(tmp_path: Path) -> None:
    out = np.zeros((1, 84, 120), np.float32)  # 4 box rows + 80 COCO classes, 120 anchors
    out[0, :4, 0], out[0, 4, 0] = (320, 320, 100, 200), 0.9  # a person
    out[0, :4, 1], out[0, 4 + 2, 1] = (100, 300, 80, 60), 0.95  # a car: not a person
    out[0, :4, 2], out[0, 4, 2] = (500, 300, 40, 120), 0.2  # a doubtful person
    out[0, :4, 3], out[0, 4, 3] = (322, 318, 100, 204), 0.8  # the same person again
    detector = OnnxPersonDetector(write_model(tmp_path / "v8.onnx", out))
    found = detector.detect(image(), None)
    assert len(found) == 1
    assert found[0].confidence == pytest.approx(0.9)
    # (320 - 50, 320 - 100 - 140 band) / 0.5 = (540, 160), size 200 × 400
    assert iou(found[0].box, Box(540, 160, 200, 400)) > 0.99


def test_yolov5_layout_multiplies_objectness_and_class_score(tmp_path: Path) -> None:
    out = np.zeros((1, 150, 85), np.float32)  # N anchors × (box, objectness, 80 classes)
    out[0, 0, :6] = (320, 320, 100, 200, 0.8, 0.9)  # 0.72 person
    out[0, 1, :6] = (100, 320, 50, 100, 0.9, 0.3)  # 0.27: below the threshold
    detector = make_detector(write_model(tmp_path / "v5.onnx", out))
    found = detector.detect(image(), None)
    assert [round(d.confidence, 2) for d in found] == [0.72]


def test_unusable_models_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(OnnxDetectorError, match="ONNX model not found"):
        OnnxPersonDetector(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model" * 10)
    with pytest.raises(OnnxDetectorError, match="cannot load ONNX model"):
        OnnxPersonDetector(junk)
    odd = OnnxPersonDetector(write_model(tmp_path / "odd.onnx", np.zeros((1, 2, 3))))
    with pytest.raises(OnnxDetectorError, match="neither YOLOv8"):
        odd.detect(image(), None)


def test_the_input_size_is_the_models_own_unless_it_is_left_open(tmp_path: Path) -> None:
    """Before: 640 × 640 whatever the model took, so a 320 export failed on every frame."""
    out = np.zeros((1, 84, 120), np.float32)
    out[0, :4, 0], out[0, 4, 0] = (160, 160, 50, 100), 0.9
    small = write_model(tmp_path / "small.onnx", out, [1, 3, 320, 320])
    detector = OnnxPersonDetector(small)
    assert detector.input_size == (320, 320)
    (found,) = detector.detect(image(), None)  # 1280×720 → 320×180 + 70 px bands: ×4
    assert iou(found.box, Box(540, 160, 200, 400)) > 0.99
    with pytest.raises(OnnxDetectorError, match="takes 320×320 images, not 640×480"):
        OnnxPersonDetector(small, input_size=(640, 480))
    open_size = write_model(tmp_path / "open.onnx", out, [1, 3, "height", "width"])
    assert OnnxPersonDetector(open_size).input_size == (640, 640)
    assert OnnxPersonDetector(open_size, input_size=(512, 288)).input_size == (512, 288)


def test_cameras_of_one_model_share_its_network_and_a_changed_file_is_loaded_again(
    tmp_path: Path,
) -> None:
    """Before: every camera loaded its own copy (about 45 MB more per camera than cv2.dnn)."""
    out = np.zeros((1, 84, 120), np.float32)
    out[0, :4, 0], out[0, 4, 0] = (320, 320, 100, 200), 0.9
    path = write_model(tmp_path / "people.onnx", out)
    first, second = OnnxPersonDetector(path), OnnxPersonDetector(path)
    assert first._session is second._session
    with ThreadPoolExecutor(4) as pool:  # several cameras' workers at once
        results = list(pool.map(lambda d: d.detect(image(), None), [first, second] * 4))
    assert all(len(r) == 1 and r[0].confidence == pytest.approx(0.9) for r in results)
    out[0, 4, 0] = 0.6
    write_model(tmp_path / "people.onnx", out)  # the admin replaced the model, a minute later
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before + 60 * 10**9, before + 60 * 10**9))
    third = OnnxPersonDetector(path)
    assert third._session is not first._session
    assert [k for k in _SESSIONS if k[0] == str(path.resolve())] == [  # the old one let go
        (str(path.resolve()), path.stat().st_size, path.stat().st_mtime_ns)
    ]
    assert [round(d.confidence, 2) for d in third.detect(image(), None)] == [0.6]


def test_a_model_that_takes_no_image_is_named_at_load(tmp_path: Path) -> None:
    table = write_model(tmp_path / "table.onnx", np.zeros((1, 84, 30)), [1, 80])
    with pytest.raises(OnnxDetectorError, match=r"not an image detector: it takes images \[1, 80"):
        OnnxPersonDetector(table)


def test_site_file_and_analyze_use_a_users_model(tmp_path: Path, hamilton_clip: Path) -> None:
    from engine.analyze import analyze_video
    from engine.clock import REAL_CLOCK
    from engine.config import SiteConfigError, load_site

    out = np.zeros((1, 84, 120), np.float32)
    out[0, :4, 0], out[0, 4, 0] = (320, 320, 100, 200), 0.9
    (tmp_path / "models").mkdir()
    model = write_model(tmp_path / "models" / "people.onnx", out)
    site = tmp_path / "site.toml"
    site.write_text(
        '[site]\nname = "S"\ngeo = { lat = 1, lon = 2 }\n\n[analytics]\n'
        'detector_model = "models/people.onnx"\n'
    )
    assert load_site(site).detector_model == model
    site.write_text(site.read_text().replace("people.onnx", "nobody.onnx"))
    with pytest.raises(SiteConfigError, match=r":6: analytics.detector_model: ONNX model not"):
        load_site(site)

    report = analyze_video(hamilton_clip, clock=REAL_CLOCK, detector_model=model)
    assert report["detector"] == "onnx"
    # The fixture sees "a person" wherever something moves: every detector run finds one.
    assert report["detections"] == report["detector_runs"] > 0

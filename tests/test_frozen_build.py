"""The frozen build (build.spec) leaves out no module that the app's lazily imported
libraries need: PyInstaller cannot see imports made inside functions, and a module in
``excludes`` is then missing only in the frozen app (mediapipe's vision tasks import
matplotlib, which build.spec once excluded: the frozen selftest's gestures check failed)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What the engine imports where it is used (so the build's analysis never sees it run).
LAZY_IMPORTS = (
    "mediapipe",
    "mediapipe.tasks.python.vision",
    "dlib",
    "av",
    "cv2",
    "anthropic",
    "scipy.signal",
    "scipy.optimize",
    "faster_whisper",
    "faster_whisper.audio",
    "faster_whisper.tokenizer",
    "faster_whisper.transcribe",
    "ctranslate2",
    "onnxruntime",
    "tokenizers",
)


def _excludes() -> list[str]:
    tree = ast.parse((ROOT / "build.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "excludes" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return [str(name) for name in value]
    raise AssertionError("build.spec has no `excludes = [...]` list")


def test_no_excluded_module_is_imported_by_the_lazily_imported_libraries() -> None:
    excludes = _excludes()
    assert "pytest" in excludes  # the parse found the real list
    script = (
        "import importlib, json, sys\n"
        f"for name in {list(LAZY_IMPORTS)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=240, check=True
    )
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    needed_but_excluded = sorted(
        name
        for name in excludes
        if name in loaded or any(module.startswith(name + ".") for module in loaded)
    )
    assert needed_but_excluded == [], (
        f"build.spec excludes {needed_but_excluded}, which "
        f"{', '.join(LAZY_IMPORTS)} import: the frozen app would fail there"
    )

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


def test_the_frozen_build_bundles_the_docs_site_that_help_opens() -> None:
    """build.sh builds the site strictly before PyInstaller runs, into the folder build.spec
    ships as the data folder the console's Help looks for (console/docs_site.py)."""
    from console.docs_site import BUNDLED_DIR_NAME

    spec = ast.parse((ROOT / "build.spec").read_text(encoding="utf-8"))
    bundled = [
        node.args
        for node in ast.walk(spec)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_data_tree"
        and len(node.args) == 2
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value == BUNDLED_DIR_NAME
    ]
    assert len(bundled) == 1, f"build.spec does not ship a data folder {BUNDLED_DIR_NAME!r}"
    source = bundled[0][0]
    assert isinstance(source, ast.Name)
    site_dir = next(
        node.value
        for node in spec.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == source.id for t in node.targets)
    )
    # ROOT / "build" / "docs-site": the parts after ROOT, as build.sh names the folder.
    parts: list[str] = []
    while isinstance(site_dir, ast.BinOp):
        assert isinstance(site_dir.right, ast.Constant)
        parts.insert(0, str(site_dir.right.value))
        site_dir = site_dir.left
    relative = "/".join(parts)

    script = (ROOT / "scripts" / "build.sh").read_text(encoding="utf-8").splitlines()
    builds = [n for n, line in enumerate(script) if "mkdocs build --strict" in line]
    freezes = [n for n, line in enumerate(script) if "pyinstaller" in line and "build.spec" in line]
    assert builds and freezes and builds[0] < freezes[0], (
        "scripts/build.sh must build the docs strictly before PyInstaller"
    )
    assert f"--site-dir {relative}" in script[builds[0]], (
        f"scripts/build.sh builds the docs elsewhere than build.spec bundles them ({relative})"
    )

"""Refresh the docs' pictures from the console's screenshot album.

The guides under ``docs/`` embed screenshots as ``images/<album path>.png`` or ``.jpg``
(e.g. ``![The operator's wall](../images/layout-operator-1400x860.jpg)``). Each is made from
``artifacts/screenshots/<album path>.png``, which ``scripts/screenshots.sh`` writes from the
console on the demo site as it is today, and which then runs this script. A ``.jpg`` is
re-encoded (quality 88: pictures with camera video in them, a tenth of the PNG's size); a
``.png`` is copied as is (pages of text and controls, where JPEG would smear the words).

    .venv/bin/python scripts/docs_images.py            # write docs/images/ from the album
    .venv/bin/python scripts/docs_images.py --check    # say what is missing or unused

Pictures no page embeds are removed from ``docs/images/``. Each file is written to a temp
file and renamed, so a page never links a half-written picture.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
IMAGES = DOCS / "images"
ALBUM = ROOT / "artifacts" / "screenshots"
JPEG_QUALITY = 88
# ![alt](../images/x.jpg) or ![alt](images/x.png), with an optional title or attributes.
_EMBED = re.compile(r"!\[[^\]]*\]\(\s*(?:\.\./)*images/([^)\s]+\.(?:png|jpg))")


def embedded(docs: Path = DOCS) -> dict[str, list[Path]]:
    """Every picture the pages embed (path under ``images/``) and the pages that do."""
    found: dict[str, list[Path]] = {}
    for page in sorted(docs.rglob("*.md")):
        for name in _EMBED.findall(page.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(page)
    return found


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)  # mkstemp's 0600 would hide the picture from a web server
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _encoded(source: Path, name: str) -> bytes:
    if name.endswith(".png"):
        return source.read_bytes()
    import cv2  # only for re-encoding: --check needs no OpenCV

    picture = cv2.imread(str(source), cv2.IMREAD_COLOR)
    if picture is None:
        raise ValueError(f"{source} is not a picture OpenCV can read")
    ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError(f"{source} could not be encoded as JPEG")
    return bytes(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report; write nothing")
    parser.add_argument("--album", type=Path, default=ALBUM, help="the screenshots folder")
    args = parser.parse_args(argv)
    wanted = embedded()
    problems: list[str] = []
    for name, pages in sorted(wanted.items()):
        source = args.album / (name.rsplit(".", 1)[0] + ".png")
        target = IMAGES / name
        if args.check:
            if not target.is_file():
                problems.append(
                    f"missing: images/{name} (embedded in {pages[0].relative_to(ROOT)})"
                )
            continue
        if not source.is_file():
            shown = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
            problems.append(
                f"no screenshot {shown} for images/{name}"
                f" (embedded in {pages[0].relative_to(ROOT)}): run scripts/screenshots.sh"
            )
            continue
        _write(target, _encoded(source, name))
    present = {p.relative_to(IMAGES).as_posix() for p in IMAGES.rglob("*") if p.is_file()}
    for unused in sorted(present - set(wanted)):
        if args.check:
            problems.append(f"unused: images/{unused} (no page embeds it)")
        else:
            (IMAGES / unused).unlink()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not args.check:
        print(f"{len(wanted) - len(problems)} pictures in {IMAGES.relative_to(ROOT)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

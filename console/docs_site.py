"""Where the built docs site is, and which of its pages to open (no Qt here).

The frozen app carries the site built by ``scripts/build.sh`` as the data folder
``docs-site`` (build.spec), beside its libraries (``sys._MEIPASS``) or its executable; a
source checkout has it in ``<repo>/site`` once ``.venv/bin/mkdocs build`` has run
(mkdocs.yml: ``site_dir: site``, pages as files, ``use_directory_urls: false``).

Every function here that looks at the disk blocks: call it on a worker (the console's query
client), never on the GUI thread.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

BUNDLED_DIR_NAME = "docs-site"  # build.spec's data folder (tests/test_frozen_build.py checks)
CHECKOUT_SITE_DIR = "site"  # mkdocs.yml's site_dir
INDEX_PAGE = "index.html"
PANES_PAGE = "reference/panes.html"  # one anchor per pane: #pane-<PaneSpec name>
BUILD_COMMAND = ".venv/bin/mkdocs build"
BUILD_TIMEOUT_S = 300.0  # a strict build takes about 15 s; a stuck one is stopped
_CHECKOUT_ROOT = Path(__file__).resolve().parent.parent


class DocsUnavailableError(Exception):
    """The docs cannot be opened: the message says why, in words for the person."""


class DocsNotBuiltError(DocsUnavailableError):
    """No built site where it is expected (``site``)."""

    def __init__(self, site: Path) -> None:
        super().__init__(f"The documentation is not built (no {site / INDEX_PAGE})")
        self.site = site


@dataclass(frozen=True, slots=True)
class DocsLocation:
    """Where the site is expected (``site``), and the source checkout that can build it
    there (None in the frozen app, or where MkDocs is not installed)."""

    site: Path
    checkout: Path | None = None


# The guide page that tells a person how to use each pane (its PaneSpec name: page of the
# built site). F1 opens it; the panes reference links it from each pane's entry. The page
# names the pane by its title (tests/test_docs.py checks both, on the built site).
PANE_GUIDES: dict[str, str] = {
    # The live wall
    "cameras": "operator/wall.html",
    "alerts": "operator/alerts.html",
    "sensing": "operator/wall.html",
    "events": "operator/wall.html",
    "people": "investigator/search.html",
    "introductions": "admin/gestures.html",
    "activity": "operator/wall.html",
    "risk_map": "investigator/incidents.html",
    "incidents": "investigator/incidents.html",
    "alert_list": "operator/alerts.html",
    "timeline": "investigator/timeline.html",
    "chat": "investigator/ask.html",
    "bookmarks": "investigator/timeline.html",
    "appearance": "investigator/search.html",
    "meaning_search": "investigator/search.html",
    # The administration window
    "site": "admin/index.html",
    "camera_setup": "admin/cameras.html",
    "floor_calibration": "admin/cameras.html",
    "privacy_masks": "admin/privacy.html",
    "system": "admin/retention.html",
    "accounts": "admin/accounts.html",
    "alert_rules": "admin/rules.html",
    "ble_devices": "admin/ble.html",
    "gestures": "admin/gestures.html",
    "audit": "admin/accounts.html",
}


def pane_anchor(name: str) -> str:
    """The panes reference's anchor for the pane whose PaneSpec is called ``name``."""
    return f"pane-{name}"


def pane_help(name: str) -> tuple[str, str]:
    """What F1 opens for the pane called ``name``: its guide page, or (a pane without
    one) its entry in the panes reference, as (page, fragment)."""
    guide = PANE_GUIDES.get(name)
    return (guide, "") if guide else (PANES_PAGE, pane_anchor(name))


def locate_site() -> DocsLocation:
    """The frozen app's bundled site, else this checkout's ``site/`` (blocks: stats)."""
    if getattr(sys, "frozen", False):
        executable_dir = Path(sys.executable).resolve().parent
        bundle = Path(getattr(sys, "_MEIPASS", executable_dir))
        for base in (bundle, executable_dir):
            if (base / BUNDLED_DIR_NAME).is_dir():
                return DocsLocation(base / BUNDLED_DIR_NAME)
        return DocsLocation(bundle / BUNDLED_DIR_NAME)
    site = _CHECKOUT_ROOT / CHECKOUT_SITE_DIR
    buildable = (_CHECKOUT_ROOT / "mkdocs.yml").is_file() and (
        importlib.util.find_spec("mkdocs") is not None
    )
    return DocsLocation(site, _CHECKOUT_ROOT if buildable else None)


def page_path(site: Path, page: str) -> Path:
    """``page`` (relative, e.g. ``reference/panes.html``) of the built ``site``, as a
    regular file inside it; blocks (stats).

    Raises :class:`DocsUnavailableError` when the site is not built (no ``index.html``) or
    when the page is missing, is not a regular file, or resolves outside the site (a
    symbolic link pointing elsewhere is not followed out of it)."""
    try:
        root = site.resolve(strict=True)
        index = (root / INDEX_PAGE).resolve(strict=True)
        if not (index.is_relative_to(root) and stat.S_ISREG(os.stat(index).st_mode)):
            raise DocsUnavailableError(f"{site / INDEX_PAGE} is not a page of the docs site")
    except (OSError, RuntimeError) as exc:
        raise DocsNotBuiltError(site) from exc
    try:
        target = (root / page).resolve(strict=True)
        mode = os.stat(target).st_mode
    except (OSError, RuntimeError) as exc:
        raise DocsUnavailableError(f"The docs site has no page {page}") from exc
    if not target.is_relative_to(root):
        raise DocsUnavailableError(f"{page} leads out of the docs site ({site})")
    if not stat.S_ISREG(mode):
        raise DocsUnavailableError(f"{page} in the docs site is not a file")
    return target


class BuildStop:
    """Stops a running :func:`build_site` from another thread (the console quitting
    mid-build need not wait for it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self.stopped = False

    def stop(self) -> None:
        """Stop the build (or the one about to start). Any thread; idempotent."""
        with self._lock:
            self.stopped = True
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()

    def _started(self, process: subprocess.Popen[str]) -> bool:
        with self._lock:
            self._process = process
            if self.stopped:
                process.terminate()
            return not self.stopped


def build_site(checkout: Path, site: Path, stop: BuildStop | None = None) -> None:
    """Build the docs of ``checkout`` into ``site`` with MkDocs, strictly (blocks for the
    build, about 15 s; at most :data:`BUILD_TIMEOUT_S`, or until ``stop`` is used). Raises
    :class:`DocsUnavailableError` with the build's last words if it fails."""
    stop = stop or BuildStop()
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir"]
    try:
        with subprocess.Popen(
            [*command, str(site)],
            cwd=checkout,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            stop._started(process)
            try:
                said, _ = process.communicate(timeout=BUILD_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                raise DocsUnavailableError(
                    f"{BUILD_COMMAND} took over {BUILD_TIMEOUT_S:.0f} s and was stopped"
                ) from None
    except OSError as exc:
        raise DocsUnavailableError(f"{BUILD_COMMAND} could not run: {exc}") from exc
    if stop.stopped:
        raise DocsUnavailableError(f"{BUILD_COMMAND} was stopped")
    if process.returncode != 0:
        last = (said or "").strip().splitlines()[-5:]
        raise DocsUnavailableError(f"{BUILD_COMMAND} failed:\n" + "\n".join(last))

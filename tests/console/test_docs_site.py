"""Finding the built docs site and its pages (console/docs_site.py, no Qt): a page is a
regular file inside the site, never a link out of it; the frozen app looks beside its
libraries; a real strict build has the home page and an anchor per pane."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from console.docs_site import (
    BUNDLED_DIR_NAME,
    INDEX_PAGE,
    PANE_GUIDES,
    PANES_PAGE,
    DocsNotBuiltError,
    DocsUnavailableError,
    build_site,
    locate_site,
    page_path,
    pane_anchor,
)
from console.plugins import PANES

ROOT = Path(__file__).resolve().parents[2]


def fake_site(where: Path) -> Path:
    (where / "reference").mkdir(parents=True)
    (where / INDEX_PAGE).write_text("<h1>Watchfloor</h1>", encoding="utf-8")
    (where / PANES_PAGE).write_text('<h2 id="pane-events">Events</h2>', encoding="utf-8")
    for guide in set(PANE_GUIDES.values()):
        (where / guide).parent.mkdir(parents=True, exist_ok=True)
        (where / guide).write_text("<h1>A guide</h1>", encoding="utf-8")
    return where


def test_a_page_of_the_built_site_is_its_file(tmp_path: Path) -> None:
    site = fake_site(tmp_path / "site")
    assert page_path(site, INDEX_PAGE) == (site / INDEX_PAGE).resolve()
    assert page_path(site, PANES_PAGE) == (site / PANES_PAGE).resolve()


def test_a_site_without_its_home_page_is_not_built(tmp_path: Path) -> None:
    with pytest.raises(DocsNotBuiltError, match="not built"):
        page_path(tmp_path / "site", INDEX_PAGE)
    (tmp_path / "site").mkdir()
    with pytest.raises(DocsNotBuiltError):
        page_path(tmp_path / "site", PANES_PAGE)


def test_a_link_out_of_the_site_or_a_folder_is_not_opened(tmp_path: Path) -> None:
    site = fake_site(tmp_path / "site")
    secret = tmp_path / "elsewhere.html"
    secret.write_text("not the docs", encoding="utf-8")
    (site / "out.html").symlink_to(secret)
    (site / "folder.html").mkdir()
    (site / "missing.html").symlink_to(tmp_path / "nothing")
    with pytest.raises(DocsUnavailableError, match="out of the docs site"):
        page_path(site, "out.html")
    with pytest.raises(DocsUnavailableError, match="not a file"):
        page_path(site, "folder.html")
    with pytest.raises(DocsUnavailableError, match="no page"):
        page_path(site, "missing.html")
    (site / INDEX_PAGE).unlink()
    (site / INDEX_PAGE).symlink_to(secret)  # the home page itself leads out
    with pytest.raises(DocsUnavailableError, match="not a page of the docs site"):
        page_path(site, INDEX_PAGE)


def test_the_frozen_app_finds_the_site_it_bundles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "dist" / "watchfloor" / "_internal"
    fake_site(bundle / BUNDLED_DIR_NAME)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.setattr(sys, "executable", str(bundle.parent / "watchfloor"))
    location = locate_site()
    assert location.site == bundle / BUNDLED_DIR_NAME and location.checkout is None
    assert page_path(location.site, INDEX_PAGE).is_file()


def test_a_checkout_looks_in_its_site_folder_and_can_build_it() -> None:
    location = locate_site()
    assert location.site == ROOT / "site" and location.checkout == ROOT


@pytest.mark.slow
def test_a_strict_build_has_the_home_page_and_an_anchor_per_pane(tmp_path: Path) -> None:
    """The real build (about 15 s) into a temporary folder, as Help's Build now makes it."""
    site = tmp_path / "site"
    build_site(ROOT, site)
    assert page_path(site, INDEX_PAGE).is_file()
    panes = site / PANES_PAGE
    if panes.exists():  # the panes reference (issue 69's docs work): every pane's anchor
        html = page_path(site, PANES_PAGE).read_text(encoding="utf-8")
        missing = [s.name for s in PANES if f'id="{pane_anchor(s.name)}"' not in html]
        assert missing == [], f"{PANES_PAGE} has no anchor for the panes {missing}"

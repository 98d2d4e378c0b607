"""Help in the console: Help → Documentation opens the local docs' home page (locked or
not), F1 opens the guide page of the pane the person is in (in the main window and on an
administration page), and a site that is not built is said in the window, with a Build
now that builds it off the GUI thread and then opens the page. The browser is replaced by a
recorder (``window.help.open_url``) and the site by a temporary one."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from console.docs_site import BUILD_COMMAND, INDEX_PAGE, PANE_GUIDES, DocsLocation
from console.layouts import ADMIN_PAGES
from console.main_window import MainWindow
from tests.conftest import write_site
from tests.console.test_docs_site import fake_site


def recording_browser(window: MainWindow, site: Path, checkout: Path | None = None) -> list[QUrl]:
    opened: list[QUrl] = []
    window.help.open_url = opened.append
    window.help.locate = lambda: DocsLocation(site, checkout)
    return opened


def page_url(site: Path, page: str, fragment: str = "") -> QUrl:
    url = QUrl.fromLocalFile(str((site / page).resolve()))
    if fragment:
        url.setFragment(fragment)
    return url


def focus_inside(qtbot: QtBot, window: QWidget, pane: QWidget) -> QWidget:
    """Activate ``window`` and put the keyboard focus on a widget of ``pane``."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    target = next(
        (
            child
            for child in pane.findChildren(QWidget)
            if child.isVisible() and child.focusPolicy() & Qt.FocusPolicy.TabFocus
        ),
        pane,
    )
    target.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is target, timeout=5000)
    return target


def test_f1_opens_the_help_of_the_pane_with_the_focus(
    qtbot: QtBot, open_console, tmp_path: Path
) -> None:
    _host, window = open_console(write_site(tmp_path / "site.toml"))
    site = fake_site(tmp_path / "docs")
    opened = recording_browser(window, site)
    assert window.docks["events"].isVisible()
    target = focus_inside(qtbot, window, window.panes["events"])
    qtbot.keyClick(target, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=5000)
    assert opened == [page_url(site, "operator/wall.html")]  # the Events pane's guide
    assert window.menus.pane_help_action.shortcut().toString() == "F1"


def test_f1_on_an_administration_page_opens_that_pane_s_help(
    qtbot: QtBot, open_console, tmp_path: Path
) -> None:
    _host, window = open_console(write_site(tmp_path / "site.toml"))
    site = fake_site(tmp_path / "docs")
    opened = recording_browser(window, site)
    page = ADMIN_PAGES[-1][0]
    admin = window.open_administration(page)
    assert admin is not None
    target = focus_inside(qtbot, admin, admin.pages[page])
    qtbot.keyClick(target, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=5000)
    assert opened == [page_url(site, PANE_GUIDES[page])]


def test_help_documentation_opens_the_home_page_even_while_locked(
    qtbot: QtBot, open_console, tmp_path: Path
) -> None:
    _host, window = open_console(write_site(tmp_path / "site.toml"), login=None)
    site = fake_site(tmp_path / "docs")
    opened = recording_browser(window, site)
    assert window.locked
    assert window.menus.help_menu.menuAction().isEnabled()
    assert window.menus.documentation_action.isEnabled()
    window.menus.documentation_action.trigger()
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=5000)
    assert opened == [page_url(site, INDEX_PAGE)]


def test_a_site_not_built_is_said_in_the_window_and_build_now_builds_and_opens_it(
    qtbot: QtBot, open_console, tmp_path: Path
) -> None:
    _host, window = open_console(write_site(tmp_path / "site.toml"))
    site = tmp_path / "docs"  # nothing built there yet
    opened = recording_browser(window, site, checkout=tmp_path)
    built: list[tuple[Path, Path]] = []

    def build(
        checkout: Path, into: Path, _stop: object
    ) -> None:  # on a worker, as mkdocs build would be
        built.append((checkout, into))
        fake_site(into)

    window.help.build = build
    window.menus.documentation_action.trigger()
    qtbot.waitUntil(lambda: window.help.message_box is not None, timeout=5000)
    box = window.help.message_box
    assert box is not None and box.isVisible() and opened == []
    assert "not built" in box.text() and BUILD_COMMAND in box.informativeText()
    build_now = next(b for b in box.buttons() if b.text() == "Build now")
    build_now.click()
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=5000)
    assert built == [(tmp_path, site)]
    assert opened == [page_url(site, INDEX_PAGE)]
    assert not window.help.building


def test_a_frozen_app_without_its_docs_says_so_and_offers_no_build(
    qtbot: QtBot, open_console, tmp_path: Path
) -> None:
    _host, window = open_console(write_site(tmp_path / "site.toml"))
    opened = recording_browser(window, tmp_path / "docs-site", checkout=None)
    window.menus.pane_help_action.trigger()
    qtbot.waitUntil(lambda: window.help.message_box is not None, timeout=5000)
    box = window.help.message_box
    assert box is not None and box.isVisible() and opened == []
    assert BUILD_COMMAND in box.informativeText()
    assert [b.text() for b in box.buttons() if b.text() == "Build now"] == []
    assert box.standardButtons() & QMessageBox.StandardButton.Close

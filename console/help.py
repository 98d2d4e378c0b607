"""Help → Documentation and Help on this pane (F1): the local docs site in the browser.

Finding the site and its page (:mod:`console.docs_site`: stats on the disk) runs on the
console's query client, and so does building it when a source checkout has not yet (about 15 s,
with a busy bar in the status bar); the GUI thread only opens the URL the worker found, or
says in the window why it cannot. The browser is opened through :attr:`ConsoleHelp.open_url`
(``QDesktopServices.openUrl``), which a test replaces to record the URL instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QProgressBar

from console.docs_site import (
    BUILD_COMMAND,
    INDEX_PAGE,
    BuildStop,
    DocsLocation,
    DocsNotBuiltError,
    DocsUnavailableError,
    build_site,
    locate_site,
    page_path,
    pane_help,
)
from engine.history.query_service import QueryResult
from widgets.queries import QueryClient

FIND_CHANNEL = "help.find-page"
BUILD_CHANNEL = "help.build-docs"


@dataclass(frozen=True, slots=True)
class PageLookup:
    """A worker's answer: the page's file (None: see ``problem``), where the site is, and
    a note when another page was opened instead (the panes reference not built yet)."""

    location: DocsLocation
    path: Path | None
    fragment: str = ""
    problem: str = ""
    not_built: bool = False


def look_up_page(locate: Callable[[], DocsLocation], page: str, fragment: str) -> PageLookup:
    """Blocks (disk): ``page`` of the site ``locate()`` finds, else its home page with a
    note, else why neither opens."""
    location = locate()
    try:
        return PageLookup(location, page_path(location.site, page), fragment)
    except DocsNotBuiltError as exc:
        return PageLookup(location, None, problem=str(exc), not_built=True)
    except DocsUnavailableError as exc:
        if page == INDEX_PAGE:
            return PageLookup(location, None, problem=str(exc))
        try:
            home = page_path(location.site, INDEX_PAGE)
        except DocsUnavailableError as home_exc:
            return PageLookup(location, None, problem=str(home_exc))
        return PageLookup(location, home, problem=f"{exc}: opened the documentation's home")


class ConsoleHelp(QObject):
    """Opens the docs for ``window``; ``pane_now()`` names the pane the person is in (None:
    none). Create and use on the GUI thread."""

    def __init__(
        self,
        window: QMainWindow,
        queries: QueryClient,
        pane_now: Callable[[], str | None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._queries = queries
        self._pane_now = pane_now
        self.open_url: Callable[[QUrl], Any] = QDesktopServices.openUrl
        """Opens a URL in the system's browser (a test records it instead)."""
        self.locate: Callable[[], DocsLocation] = locate_site
        """Where the site is (runs on a worker)."""
        self.build: Callable[[Path, Path, BuildStop], None] = build_site
        """Builds a checkout's site (runs on a worker; :meth:`close` stops it)."""
        self._build_stop = BuildStop()
        self.message_box: QMessageBox | None = None
        self.building = False
        self._box_id = 0
        self._busy = QProgressBar()
        self._busy.setRange(0, 0)  # busy: a build says nothing about how far it is
        self._busy.setMaximumWidth(120)
        self._busy.setTextVisible(False)

    def open_documentation(self) -> None:
        """Help → Documentation: the site's home page."""
        self.open_page(INDEX_PAGE)

    def open_pane_help(self) -> None:
        """Help on this pane (F1): the guide page of the pane the person is in (the home
        page when they are in none)."""
        name = self._pane_now()
        if name is None:
            self.open_page(INDEX_PAGE)
        else:
            self.open_page(*pane_help(name))

    def open_page(self, page: str, fragment: str = "") -> None:
        """Find ``page`` (``#fragment``) on a worker, then open it in the browser."""
        self._queries.submit_action(
            FIND_CHANNEL,
            partial(look_up_page, self.locate, page, fragment),
            partial(self._on_page_found, page),
            name=f"find docs page {page}",
        )

    def _on_page_found(self, page: str, result: QueryResult[Any]) -> None:
        lookup = result.value
        if not isinstance(lookup, PageLookup):
            self._tell("The documentation could not be opened", str(result.error))
            return
        if lookup.path is None:
            if lookup.not_built:
                self._tell_not_built(lookup, page)
            else:
                self._tell("The documentation could not be opened", lookup.problem)
            return
        url = QUrl.fromLocalFile(str(lookup.path))
        if lookup.fragment:
            url.setFragment(lookup.fragment)
        self.open_url(url)
        self._window.statusBar().showMessage(
            lookup.problem or f"Opened {url.toString()} in the browser", 10_000
        )

    def _tell_not_built(self, lookup: PageLookup, page: str) -> None:
        checkout = lookup.location.checkout
        if checkout is None:
            detail = (
                f"This copy of Watchfloor has no built documentation ({lookup.location.site}). "
                f"In a source checkout, build it with {BUILD_COMMAND}; scripts/build.sh "
                "bundles it into the frozen app."
            )
        else:
            detail = (
                f"Build it with {BUILD_COMMAND} in {checkout} (about 15 s), or press "
                "Build now and it opens when it is ready."
            )
        box = self._tell("The documentation is not built yet", detail)
        if checkout is not None and not self.building:
            build = box.addButton("Build now", QMessageBox.ButtonRole.AcceptRole)
            build.clicked.connect(
                partial(self.build_docs, checkout, lookup.location.site, page, lookup.fragment)
            )

    def build_docs(self, checkout: Path, site: Path, page: str, fragment: str = "") -> None:
        """Build the checkout's site on a worker, showing a busy bar in the status bar,
        then open ``page``; a failure is said in a message box."""
        if self.building:
            return
        self.building = True
        bar = self._window.statusBar()
        bar.addWidget(self._busy)
        self._busy.show()
        bar.showMessage(f"Building the documentation ({BUILD_COMMAND})…")
        self._queries.submit_action(
            BUILD_CHANNEL,
            partial(self.build, checkout, site, self._build_stop),
            partial(self._on_built, page, fragment),
            name="build the docs site",
        )

    def _on_built(self, page: str, fragment: str, result: QueryResult[Any]) -> None:
        self.building = False
        bar = self._window.statusBar()
        bar.removeWidget(self._busy)
        bar.clearMessage()
        if not result.ok:
            self._tell("The documentation could not be built", str(result.error))
            return
        bar.showMessage("The documentation is built", 10_000)
        self.open_page(page, fragment)

    def close(self) -> None:
        """The console is closing: close the note and stop a build in progress (so the
        workers stop without waiting for it)."""
        self._build_stop.stop()
        if self.message_box is not None:
            self.message_box.close()

    def _on_box_destroyed(self, box_id: int, *_: object) -> None:
        if box_id == self._box_id:  # not an earlier box, deleted after this one opened
            self.message_box = None

    def _tell(self, text: str, detail: str) -> QMessageBox:
        """A window-modal note that does not block the GUI thread; one at a time."""
        if self.message_box is not None:
            self.message_box.close()
        parent = QApplication.activeWindow() or self._window  # the admin window, for its F1
        box = QMessageBox(QMessageBox.Icon.Information, "Documentation", text, parent=parent)
        box.setInformativeText(detail)
        box.addButton(QMessageBox.StandardButton.Close)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._box_id += 1
        box.destroyed.connect(partial(self._on_box_destroyed, self._box_id))
        self.message_box = box
        box.open()
        return box

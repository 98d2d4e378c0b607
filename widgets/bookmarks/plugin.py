"""The Bookmarks pane's declaration: its title, who is offered it, its place in each
layout, and how it is built and linked: a new bookmark marks the timeline's cursor, an
activated one is shown and replayed on the timeline, a change redraws the timeline's
bookmark lane, and "Export…" opens the timeline's export dialog on the bookmark's range."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.history.bookmarks import BookmarkView
from engine.site_reload import SiteCamerasChanged
from widgets.bookmarks.view import BookmarksPane
from widgets.pane import LEFT, RIGHT, Layout, PaneContext, PaneSpec, Place, other_pane
from widgets.timeline.investigation import InvestigationPane


def build(ctx: PaneContext) -> QWidget:
    pane = BookmarksPane(
        ctx.queries, ctx.backend, cameras=ctx.cameras, rooms=ctx.rooms, now=ctx.now
    )
    # Cameras added, removed or renamed while the console runs.
    ctx.events.on(SiteCamerasChanged, lambda _event: pane.set_cameras(ctx.cameras))
    return pane


def link(widget: QWidget, ctx: PaneContext) -> None:
    timeline = other_pane(ctx, "timeline", InvestigationPane)
    if not isinstance(widget, BookmarksPane) or timeline is None:
        return

    def activated(bookmark: BookmarkView) -> None:
        timeline.show_moment(bookmark.marked_at)

    def export(bookmark: BookmarkView) -> None:
        timeline.open_export(bookmark.started_at, bookmark.ended_at)

    timeline.sig_moment_chosen.connect(widget.set_moment)
    timeline.sig_export_finished.connect(widget.refresh_locks)
    widget.sig_bookmark_activated.connect(activated)
    widget.sig_export_requested.connect(export)
    widget.sig_bookmarks_changed.connect(timeline.timeline.refresh)


PANE = PaneSpec(
    name="bookmarks",
    title="Bookmarks",
    permission=Permission.REPLAY,
    build=build,
    link=link,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events", hidden=True),
        Layout.INVESTIGATOR: Place(LEFT, onto="timeline"),
        Layout.ADMIN: Place(RIGHT, onto="events", hidden=True),
    },
)

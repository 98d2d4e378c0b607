"""The Ask pane's declaration: its title, who is offered it, its place in each layout, and
how it is built and linked: a cited event is shown on the timeline (ten minutes around it,
replayed from there, the bookmark form set to it) and its clip played in the Events pane."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.history.chat import Citation
from widgets.bookmarks.view import BookmarksPane
from widgets.chat.view import ChatPane
from widgets.events.view import EventHistoryPane
from widgets.pane import LEFT, RIGHT, Layout, PaneContext, PaneSpec, Place, other_pane
from widgets.timeline.investigation import InvestigationPane


def build(ctx: PaneContext) -> QWidget:
    actions = ctx.backend  # console/backends/chat.py: its HTTP client closes with the window
    return ChatPane(ctx.queries, actions)


def link(widget: QWidget, ctx: PaneContext) -> None:
    if not isinstance(widget, ChatPane):
        return
    timeline = other_pane(ctx, "timeline", InvestigationPane)
    bookmarks = other_pane(ctx, "bookmarks", BookmarksPane)
    events = other_pane(ctx, "events", EventHistoryPane)

    def activated(citation: Citation) -> None:
        if bookmarks is not None:
            bookmarks.set_moment(citation.ts)
        if timeline is not None:
            timeline.show_moment(citation.ts)
        if citation.clip_path and events is not None:
            events.play_clip(ctx.media_root / citation.clip_path, citation.clip_offset_s or 0.0)
            ctx.show_pane("events")

    widget.sig_citation_activated.connect(activated)


PANE = PaneSpec(
    name="chat",
    title="Ask",
    permission=Permission.CHAT_HISTORY,
    build=build,
    link=link,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events", hidden=True),
        Layout.INVESTIGATOR: Place(LEFT, onto="timeline"),
        Layout.ADMIN: Place(RIGHT, onto="events", hidden=True),
    },
)

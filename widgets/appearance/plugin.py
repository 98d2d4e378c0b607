"""The Appearance search pane's declaration: its title, who is offered it (replay), its
place in each layout (beside the timeline for the investigator), and how it is linked: a
result opens in replay on the timeline, and the People pane and the Events pane offer
"Find similar" on a person or on an event of a track."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.history.appearance import AppearanceHit
from engine.history.events import EventView
from engine.identity.people import PersonView
from widgets.appearance.view import AppearanceSearchPane
from widgets.events.view import EventHistoryPane
from widgets.pane import LEFT, RIGHT, Layout, PaneContext, PaneSpec, Place, other_pane
from widgets.people.view import PeoplePane
from widgets.timeline.investigation import InvestigationPane

FIND_SIMILAR = "Find similar (appearance)"


def build(ctx: PaneContext) -> QWidget:
    pane = AppearanceSearchPane(ctx.queries, ctx.media_root)
    pane.warm_up()  # the index loads on a query worker while the console opens
    return pane


def link(widget: QWidget, ctx: PaneContext) -> None:
    if not isinstance(widget, AppearanceSearchPane):
        return
    timeline = other_pane(ctx, "timeline", InvestigationPane)
    people = other_pane(ctx, "people", PeoplePane)
    events = other_pane(ctx, "events", EventHistoryPane)

    def replay(hit: AppearanceHit) -> None:
        if timeline is not None:
            timeline.show_moment(hit.first_seen)
            ctx.show_pane("timeline")

    def allowed() -> bool:
        actor = ctx.actor
        if actor is not None and actor.may(Permission.REPLAY):
            return True
        ctx.show_message("Find similar needs the replay permission.", 5000)
        return False

    def similar_to_person(person: PersonView) -> None:
        if not allowed():
            return
        ctx.show_pane("appearance")
        widget.find_similar_to_person(person.public_id, person.label)

    def similar_to_event(view: EventView) -> None:
        if view.camera is not None and view.track_id is not None and allowed():
            ctx.show_pane("appearance")
            widget.find_similar_to_track(view.camera, view.track_id)

    widget.sig_hit_activated.connect(replay)
    if people is not None:
        people.add_person_action(FIND_SIMILAR, similar_to_person)
    if events is not None:
        events.add_event_action(
            FIND_SIMILAR,
            similar_to_event,
            lambda view: view.camera is not None and view.track_id is not None,
        )


PANE = PaneSpec(
    name="appearance",
    title="Appearance search",
    permission=Permission.REPLAY,
    build=build,
    link=link,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events", hidden=True),
        Layout.INVESTIGATOR: Place(LEFT, onto="timeline"),
        Layout.ADMIN: Place(RIGHT, onto="events", hidden=True),
    },
)

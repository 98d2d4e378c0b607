"""The Introductions pane's declaration: its title, who is offered it, its place in each
layout, and how it is built and linked: names heard by the cameras' microphones (or in a
fed audio file, recognised on a worker of its own: it takes a third of its length) offered
to the person nearest the camera, each microphone's status, and a status-bar line for a new
offer."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from engine.access import Permission
from engine.introductions import NameGiven, NameOffered
from engine.site_reload import SiteCamerasChanged
from engine.text import printable
from widgets.introductions.view import IntroductionsPane, introductions_title
from widgets.pane import RIGHT, Layout, PaneContext, PaneSpec, Place


def build(ctx: PaneContext) -> QWidget:
    actions = ctx.backend  # console/backends/introductions.py
    microphones = {cam.id: cam.microphone for cam in ctx.site.cameras if cam.microphone}
    pane = IntroductionsPane(
        ctx.queries,
        actions,
        cameras=ctx.cameras,
        microphones=microphones,
        feed_client=ctx.dedicated_queries(1),
    )
    pane.sig_offers_changed.connect(
        lambda count: ctx.set_pane_title(ctx.name, introductions_title(count))
    )

    def offered(event: NameOffered) -> None:
        pane.on_name_offered(event)
        if ctx.actor is not None and not event.given:
            ctx.show_message(f"Introduction: {printable(event.detail)}", 15_000)

    def given(event: NameGiven) -> None:
        pane.on_name_given(event)

    ctx.events.on(NameOffered, offered)
    ctx.events.on(NameGiven, given)
    # Cameras added, removed or renamed while the console runs (the microphones opened at
    # start stay as they are: a new camera's microphone opens at the next start).
    ctx.events.on(SiteCamerasChanged, lambda _event: pane.set_cameras(ctx.cameras))
    if microphones:
        _listen(ctx, pane, microphones)
    return pane


def _listen(ctx: PaneContext, pane: IntroductionsPane, wanted: dict[str, str]) -> None:
    """Capture the cameras' microphones into the engine's speech workers (the engine runs
    already: each microphone's status is signalled as it starts)."""
    from widgets.introductions.microphones import (  # QtMultimedia only where needed
        Microphones,
        MicrophoneStatus,
    )

    actions = ctx.backend
    microphones = Microphones(wanted, sink=actions.hear, now=ctx.now, parent=pane)

    def status(event: MicrophoneStatus) -> None:
        actions.set_microphone_status(event.camera, event.listening, event.detail)
        pane.on_microphone_status_changed(event.camera, event.listening, event.detail)

    microphones.sig_status.connect(status)
    ctx.when_closing(before_workers_stop=microphones.stop)
    microphones.start()


PANE = PaneSpec(
    name="introductions",
    title="Introductions",
    permission=Permission.WATCH,
    build=build,
    places={
        Layout.OPERATOR: Place(RIGHT, onto="events"),
        Layout.INVESTIGATOR: Place(RIGHT, onto="people", hidden=True),
        Layout.ADMIN: Place(RIGHT, onto="events"),
    },
)

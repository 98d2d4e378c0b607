"""Every ``watchfloor`` subcommand: the registrations the capability modules declare, in the
order ``watchfloor --help`` lists them. The CLI's parser and :data:`console.auth.NEEDS` are
both built from these."""

from __future__ import annotations

from console.commands import (
    accounts,
    alerts,
    analyze,
    appearance,
    ask,
    audit,
    ble,
    bookmarks,
    cameras,
    cluster,
    database,
    evidence,
    faces,
    follow,
    fusion,
    gestures,
    headless,
    incidents,
    mqtt,
    people,
    retention,
    risk,
    search,
    secrets,
    sense,
    settings,
    speech,
)
from console.commands.registry import Registration, Subcommand

REGISTRATIONS: tuple[Registration, ...] = (
    headless.REGISTRATION,
    database.REGISTRATION,
    analyze.REGISTRATION,
    retention.REGISTRATION,
    faces.REGISTRATION,
    gestures.REGISTRATION,
    people.REGISTRATION,
    settings.REGISTRATION,
    audit.REGISTRATION,
    sense.REGISTRATION,
    ble.REGISTRATION,
    alerts.REGISTRATION,
    incidents.REGISTRATION,
    risk.REGISTRATION,
    ask.REGISTRATION,
    evidence.REGISTRATION,
    bookmarks.REGISTRATION,
    search.REGISTRATION,
    appearance.REGISTRATION,
    cluster.REGISTRATION,
    follow.REGISTRATION,
    accounts.REGISTRATION,
    mqtt.REGISTRATION,
    secrets.REGISTRATION,
    cameras.REGISTRATION,
    fusion.REGISTRATION,
    speech.REGISTRATION,
)
SUBCOMMANDS: tuple[Subcommand, ...] = tuple(
    subcommand for registration in REGISTRATIONS for subcommand in registration.subcommands
)

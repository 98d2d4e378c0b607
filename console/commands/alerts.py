"""``watchfloor alerts list|count|show|take|note|close|ack|label|snooze|unsnooze|snoozes|rules``:
alerts, their states and histories, their sequences, snoozed cameras, and the rules that
raise them.

``list`` shows alerts newest first with the sequences that pass the low-risk filter: on a
camera whose daily risk class is ``very_low`` a sequence needs a max confidence of 0.60, on
a ``low`` one 0.45; others are kept. The filter runs in the database, so ``--limit`` and
``--offset`` give exact pages and ``count`` (same options) equals the list's length.
``--date YYYY-MM-DD`` lists the alerts of that day of the site (the human output's times
are site time; ``--json`` stays UTC) with that day's classes (the provider is asked);
without it, every alert with today's classes. ``--risk-score CLASS`` sets one class for
every camera (``moderate`` shows everything; ``low`` previews a low day) and the provider
is not asked. Otherwise the classes come from the site's ``[alerts] risk_provider`` (the
local risk model by default, or an HTTP risk API); when it is unset or unreachable nothing
is hidden, and the command says so on stderr.

An alert is new, in progress (someone took it) or closed. ``show ID`` prints one alert: its
state, highest confidence, cameras by their site names, its rule's operating instructions and
its history (site time). ``take ID`` takes it (in progress, the caller's; it stops
escalating), ``note ID TEXT`` writes a note on it, ``close ID --comment TEXT`` closes it with
a comment (required where its rule says so; refused without, in words); ``ack ID`` is
``close`` (acknowledging is closing). Each needs the acknowledge permission and is audited.
``label
SEQUENCE true|false|clear`` marks one of its sequences a true or false alarm (label
permission; audited; kept for training). ``rules list|add|remove|set`` manages the alert
rules (changing them needs the configure-rules permission; ``add`` and ``set`` take
``--instructions TEXT`` and ``--comment-required``); a running engine picks up a change
within 30 s.

``snooze CAMERA --minutes N`` (1-1440) holds back the alerts of one camera of the site (a
cleaning crew in its view): its detections and sequences are still stored, but nothing is
raised for it until then; ``unsnooze CAMERA`` ends that early; ``snoozes`` lists the
cameras snoozed now (site time; ``--json`` UTC). Snoozing needs the acknowledge
permission and is audited; running engines apply it at their next detection.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from console import exit_codes
from console.commands import row_count, row_id, site_of, site_time
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.text import printable

LABELS = {"true": "true_alarm", "false": "false_alarm", "clear": None}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date", type=_day, help="alerts raised that day of the site (YYYY-MM-DD)")
    parser.add_argument(
        "--risk-score",
        metavar="CLASS",
        help="treat every camera as this risk class (very_low, low, moderate, high, "
        "very_high, extreme)",
    )
    parser.add_argument("--open", action="store_true", help="only unacknowledged ones")
    parser.add_argument("--json", action="store_true", help="print as JSON")


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "alerts",
        help="alerts: list, count, show, take, note, close, label, snooze a camera; alert rules",
    )
    actions = parser.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=parents, help="alerts, newest first")
    _filters(listing)
    listing.add_argument("--limit", type=row_count, default=50, help="how many (default 50)")
    listing.add_argument("--offset", type=row_count, default=0, help="skip this many first")
    count = actions.add_parser("count", parents=parents, help="how many alerts a list holds")
    _filters(count)
    show = actions.add_parser("show", parents=parents, help="one alert with its history")
    show.add_argument("alert_id", metavar="ID", type=row_id)
    show.add_argument("--json", action="store_true", help="print the alert as JSON")
    take = actions.add_parser("take", parents=parents, help="take an alert: it is yours")
    take.add_argument("alert_id", metavar="ID", type=row_id)
    take.add_argument("--json", action="store_true", help="print the alert as JSON")
    note = actions.add_parser("note", parents=parents, help="write a note on an alert")
    note.add_argument("alert_id", metavar="ID", type=row_id)
    note.add_argument("text", metavar="TEXT", help="what you saw or did")
    note.add_argument("--json", action="store_true", help="print the alert as JSON")
    for verb, what in (("close", "close an alert"), ("ack", "close an alert (acknowledge)")):
        closing = actions.add_parser(verb, parents=parents, help=what)
        closing.add_argument("alert_id", metavar="ID", type=row_id)
        closing.add_argument(
            "--comment", default="", help="what you found and did (required by some rules)"
        )
        closing.add_argument("--json", action="store_true", help="print the alert as JSON")
    label = actions.add_parser(
        "label", parents=parents, help="mark a sequence a true or false alarm"
    )
    label.add_argument("sequence_id", metavar="SEQUENCE", type=row_id)
    label.add_argument("label", choices=sorted(LABELS), help="true, false, or clear")
    label.add_argument("--json", action="store_true", help="print the outcome as JSON")
    snooze = actions.add_parser(
        "snooze", parents=parents, help="hold back one camera's alerts for some minutes"
    )
    snooze.add_argument("camera", metavar="CAMERA", help="the camera's id in the site file")
    snooze.add_argument(
        "--minutes",
        type=_snooze_minutes,
        required=True,
        help="how long, 1-1440 (detections are still recorded meanwhile)",
    )
    snooze.add_argument("--json", action="store_true", help="print the snooze as JSON")
    unsnooze = actions.add_parser(
        "unsnooze", parents=parents, help="end a camera's snooze: its alerts are raised again"
    )
    unsnooze.add_argument("camera", metavar="CAMERA", help="the camera's id in the site file")
    unsnooze.add_argument("--json", action="store_true", help="print the ended snooze as JSON")
    snoozes = actions.add_parser("snoozes", parents=parents, help="cameras snoozed now")
    snoozes.add_argument("--json", action="store_true", help="print as JSON")

    rules = actions.add_parser("rules", help="the rules that raise alerts")
    verbs = rules.add_subparsers(dest="rules_command", metavar="VERB", required=True)
    rules_list = verbs.add_parser("list", parents=parents, help="every rule")
    rules_list.add_argument("--json", action="store_true", help="print as JSON")
    add = verbs.add_parser("add", parents=parents, help="add a rule")
    add.add_argument("name", metavar="NAME")
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--camera", metavar="KEY", help="the camera's id in the site file")
    where.add_argument("--room", metavar="ROOM", help="a sensing room")
    add.add_argument(
        "--trigger",
        required=True,
        choices=("person", "loitering", "sensing_blob", "gesture"),
        help="what raises it",
    )
    add.add_argument("--loiter-s", type=float, help="loitering: seconds in the zone")
    add.add_argument("--gesture", help="gesture: its name")
    add.add_argument(
        "--zone",
        default="",
        help='polygon on the camera view, points as fractions of the frame: "x,y x,y x,y"',
    )
    add.add_argument("--days", default="all", help="armed days: mon-fri, sat,sun, all")
    add.add_argument("--armed", default="always", help="armed hours, site time: 22:00-06:00")
    add.add_argument("--severity", default="warning", choices=("info", "warning", "critical"))
    _handling_options(add)
    add.add_argument("--json", action="store_true", help="print the rule as JSON")
    remove = verbs.add_parser("remove", parents=parents, help="remove a rule")
    remove.add_argument("name", metavar="NAME")
    change = verbs.add_parser(
        "set",
        parents=parents,
        help="switch a rule on or off, or set how its alerts are handled (what is not given "
        "stays as it is)",
    )
    change.add_argument("name", metavar="NAME")
    _handling_options(change, keep=True)
    change.add_argument(
        "--enabled",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="switch the rule on, or off with --no-enabled (a rule switched off raises nothing)",
    )
    change.add_argument("--json", action="store_true", help="print the rule as JSON")


def _handling_options(parser: argparse.ArgumentParser, *, keep: bool = False) -> None:
    """``--instructions`` and ``--comment-required``; with ``keep`` they default to None:
    the rule's own are kept."""
    parser.add_argument(
        "--instructions",
        default=None if keep else "",
        help="what the operator should do with an alert of it (shown with the alert)",
    )
    parser.add_argument(
        "--comment-required",
        action=argparse.BooleanOptionalAction,
        default=None if keep else False,
        help="its alerts close only with a comment",
    )


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.store import Store

    command = f"watchfloor alerts {args.alerts_command}"
    if args.alerts_command == "rules":
        command += f" {args.rules_command}"
    store = Store(db_url)
    try:
        if args.alerts_command in ("list", "count"):
            return _list(args, store, command)
        if args.alerts_command == "rules":
            return _rules(args, store, command)
        if args.alerts_command == "show":
            return _show(args, store, command)
        if args.alerts_command in ("snooze", "unsnooze", "snoozes"):
            return _snooze(args, store, command)
        return _change(args, store, command)
    finally:
        store.close()


def _gate(args: argparse.Namespace, store: Any, command: str) -> Any:
    """The risk gate for the list: ``--risk-score`` as the override, which decides every
    camera's class (the provider is then not asked: a slow one would only delay the list),
    or the site's provider asked once (today's classes, or the ``--date``'s). ValueError
    for a bad class."""
    from engine.alerts.filtering import RiskGate, parse_override
    from engine.alerts.risk_classes import RiskProviderError, risk_class_cache
    from engine.clock import REAL_CLOCK
    from engine.config import load_site

    override = parse_override(args.risk_score)
    if override is not None:
        return RiskGate(None, override)
    cache = risk_class_cache(load_site(args.site).alerts, store, REAL_CLOCK)
    if cache.provider is None:
        return RiskGate(None, None, "no risk-class provider: nothing is hidden")
    today = REAL_CLOCK.now().date()
    if args.date is None or args.date == today:
        status = cache.refresh()
        return RiskGate(cache.classes(), None, status.describe(site_time(args)))
    try:
        classes = cache.provider.scores(args.date)
        note = f"classes of {args.date.isoformat()} from the {cache.provider.name}"
    except RiskProviderError as exc:
        classes, note = None, f"classes of {args.date.isoformat()} unavailable ({exc}): "
        note += "nothing is hidden"
    return RiskGate(classes, None, note)


def _list(args: argparse.Namespace, store: Any, command: str) -> int:
    from engine.alerts.filtering import (
        MAX_PAGE,
        AlertCountRequest,
        AlertListRequest,
        hidden_text,
    )

    if args.alerts_command == "list":
        if not 1 <= args.limit <= MAX_PAGE:
            print(f"{command}: --limit must be 1-{MAX_PAGE}", file=sys.stderr)
            return exit_codes.USAGE
        if args.offset < 0:
            print(f"{command}: --offset must be 0 or more", file=sys.stderr)
            return exit_codes.USAGE
    try:
        gate = _gate(args, store, command)
    except ValueError as exc:
        print(f"{command}: --risk-score: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    if not args.json or gate.classes is None:
        print(f"filter: {gate.describe()}", file=sys.stderr)
    # --date is the site's calendar day, with or without --json (whose times stay UTC).
    zone = site_time(args)
    if args.alerts_command == "count":
        shown, hidden, snoozed = AlertCountRequest(
            gate=gate, day=args.date, open_only=args.open, site_time=zone
        ).run(store)
        if args.json:
            counted = {"count": shown, "hidden": hidden, "snoozed": snoozed}
            print(json.dumps({**counted, "filter": gate.describe()}))
        else:
            print(f"{shown} alerts ({hidden_text(hidden, snoozed)})")
        return exit_codes.OK
    page = AlertListRequest(
        gate=gate,
        day=args.date,
        open_only=args.open,
        limit=args.limit,
        offset=args.offset,
        site_time=zone,
    ).run(store)
    if args.json:
        print(json.dumps([row.as_json() for row in page.rows]))
        return exit_codes.OK
    names = _place_names(args)
    for a in page.rows:
        state = _state_text(a, zone)
        hooks = (
            f"; webhooks {a.deliveries_ok} ok, {a.deliveries_failed} failed"
            if a.deliveries_ok or a.deliveries_failed
            else ""
        )
        conf = "  -  " if a.max_conf is None else f"{a.max_conf:.2f}"
        print(
            f"{a.alert_id:6d}  {zone.full(a.raised_at)}  {a.severity:8} {conf:>5} "
            f"{a.risk_class or '-':9} "
            f"{printable(', '.join(names.get(c, c) for c in a.cameras))[:24]:24} "
            f"{printable(a.title)}  [{state}{hooks}]"
        )
        for s in a.sequences:
            seq_conf = "  -  " if s.max_conf is None else f"{s.max_conf:.2f}"
            label = f"  {s.label} ({s.labelled_by})" if s.label else ""
            print(
                f"        sequence {s.sequence_id}: "
                f"{printable(names.get(s.camera or s.source, s.camera or s.source))} "
                f"{zone.clock(s.started_at)}-{zone.clock(s.last_seen_at)} {s.detections} detections"
                f", max {seq_conf}{label}"
            )
    if not page.rows:
        print("no alerts")
    return exit_codes.OK


def _place_names(args: argparse.Namespace) -> dict[str, str]:
    """The site's names of its cameras and rooms by key (none when the site file cannot be
    read: keys are shown then)."""
    from engine.config import SiteConfigError
    from engine.report import place_names

    try:
        return place_names(site_of(args))
    except (SiteConfigError, OSError):  # a list still works without the site's names
        return {}


def _state_text(alert: Any, zone: Any) -> str:
    """An alert's state in words (site time): "New", "New, escalated", "In progress: olga
    since 14:02:11", "Closed by olga at 14:05:40"."""
    from engine.wording import display_actor

    if alert.acknowledged_at is not None:
        who = display_actor(alert.acknowledged_by or "")
        return f"Closed by {who} at {zone.clock(alert.acknowledged_at)}"
    escalated = ", escalated" if alert.escalated_at is not None else ""
    if alert.taken_at is not None:
        who = display_actor(alert.taken_by or "")
        return f"In progress: {who} since {zone.clock(alert.taken_at)}{escalated}"
    return f"New{escalated}"


def _show(args: argparse.Namespace, store: Any, command: str) -> int:
    from engine.alerts.records import alerts_by_id
    from widgets.alerts.api import note_line

    found = alerts_by_id(store, [args.alert_id])
    if not found:
        print(f"{command}: no alert {args.alert_id}", file=sys.stderr)
        return exit_codes.FAILED
    (alert,) = found
    if args.json:
        print(json.dumps(alert.as_json()))
        return exit_codes.OK
    zone = site_time(args)
    names = _place_names(args)
    conf = "unknown" if alert.max_conf is None else f"{alert.max_conf:.2f}"
    cameras = ", ".join(names.get(c, c) for c in alert.cameras) or "-"
    print(f"alert {alert.alert_id}: {printable(alert.title)} [{alert.severity}]")
    print(f"  raised {zone.with_zone(alert.raised_at)}; {_state_text(alert, zone)}")
    print(f"  highest confidence {conf}; cameras: {printable(cameras)}")
    for text in alert.instructions:
        print(f"  what to do: {printable(text)}")
    if alert.comment_required and alert.open:
        print("  closing it needs a comment (--comment)")
    for n in alert.notes:
        print(f"  {zone.clock(n.at)}  {printable(note_line(n.kind, n.author, n.text))}")
    return exit_codes.OK


def _change(args: argparse.Namespace, store: Any, command: str) -> int:
    from engine.alerts.records import (
        AcknowledgeAlert,
        AlertStateError,
        NoteAlert,
        TakeAlert,
        UnknownAlertError,
    )
    from engine.alerts.sequences import LabelSequence, UnknownSequenceError
    from engine.clock import REAL_CLOCK
    from engine.store.writer import StoreWriter

    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            if args.alerts_command == "label":
                label = LABELS[args.label]
                alert_id = writer.execute(
                    LabelSequence(
                        sequence_id=args.sequence_id,
                        label=label,
                        at=REAL_CLOCK.now(),
                        actor=args.caller,
                    )
                )
                if args.json:
                    print(
                        json.dumps(
                            {"sequence": args.sequence_id, "alert": alert_id, "label": label}
                        )
                    )
                else:
                    what = "label cleared" if label is None else f"labelled {label}"
                    print(f"sequence {args.sequence_id} (alert {alert_id}): {what}")
                return exit_codes.OK
            now = REAL_CLOCK.now()
            if args.alerts_command == "take":
                alert = writer.execute(TakeAlert(alert_id=args.alert_id, at=now, actor=args.caller))
            elif args.alerts_command == "note":
                alert = writer.execute(
                    NoteAlert(alert_id=args.alert_id, at=now, actor=args.caller, text=args.text)
                )
            else:
                alert = writer.execute(
                    AcknowledgeAlert(
                        alert_id=args.alert_id, at=now, actor=args.caller, note=args.comment
                    )
                )
    except (UnknownAlertError, UnknownSequenceError, AlertStateError) as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    except ValueError as exc:  # a note empty or too long
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    if args.json:
        print(json.dumps(alert.as_json()))
    else:
        print(f"alert {alert.alert_id}: {_state_text(alert, site_time(args))}")
    return exit_codes.OK


def _snooze_minutes(text: str) -> int:
    from engine.alerts.snoozes import SnoozeError, snooze_minutes

    try:
        return snooze_minutes(text.strip())
    except SnoozeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _snooze(args: argparse.Namespace, store: Any, command: str) -> int:
    """``snooze``, ``unsnooze`` and ``snoozes``: the site's cameras mirrored into the store
    first (as an engine does at start), then the action, as the caller."""
    from engine.alerts import actions
    from engine.alerts.snoozes import NotSnoozedError, SnoozeView, active_snoozes
    from engine.clock import REAL_CLOCK
    from engine.store.sites import SyncSite
    from engine.store.writer import StoreWriter

    site = site_of(args)
    zone = site.site_time
    camera: str = getattr(args, "camera", "")
    if args.alerts_command != "snoozes" and camera not in {c.id for c in site.cameras}:
        known = ", ".join(c.id for c in site.cameras) or "none"
        print(f"{command}: no camera {printable(camera)!r} (cameras: {known})", file=sys.stderr)
        return exit_codes.USAGE
    with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
        site_id = writer.execute(SyncSite(site=site, at=REAL_CLOCK.now())).site_id
        if args.alerts_command == "snoozes":
            now = REAL_CLOCK.now()
            running = active_snoozes(store, site_id, now)
            if args.json:
                print(json.dumps([s.as_json() for s in running]))
                return exit_codes.OK
            for s in running:
                print(
                    f"{s.camera}  {printable(s.name)}: {s.until_text(zone, now)} "
                    f"(snoozed by {printable(s.snoozed_by)} at {zone.minutes(s.snoozed_at)})"
                )
            if not running:
                print("no camera's alerts are snoozed")
            return exit_codes.OK
        try:
            view: SnoozeView
            if args.alerts_command == "snooze":
                view = actions.snooze_camera(
                    writer, site_id, REAL_CLOCK, args.caller, camera, args.minutes
                )
            else:
                view = actions.unsnooze_camera(writer, site_id, REAL_CLOCK, args.caller, camera)
        except NotSnoozedError as exc:
            print(f"{command}: {exc}", file=sys.stderr)
            return exit_codes.FAILED
    if args.json:
        print(json.dumps(view.as_json()))
    elif args.alerts_command == "snooze":
        print(
            f"camera {view.camera}: {view.until_text(zone, view.snoozed_at)} "
            f"({zone.zone_label(view.until)}); its detections are still recorded"
        )
    else:
        until = zone.minutes(view.until)
        print(f"camera {view.camera}: alerts no longer snoozed (it was until {until})")
    return exit_codes.OK


def _rules(args: argparse.Namespace, store: Any, command: str) -> int:
    from engine.alerts.rules import (
        AddRule,
        ArmRule,
        RemoveRule,
        RuleError,
        RuleSpec,
        SetRuleHandling,
        UnknownRuleError,
        describe_schedule,
        list_rules,
        parse_days,
        parse_span,
        parse_zone,
    )
    from engine.clock import REAL_CLOCK
    from engine.store.writer import StoreWriter

    if args.rules_command == "list":
        rules = list_rules(store)
        if args.json:
            print(json.dumps([r.as_json() for r in rules]))
            return exit_codes.OK
        for r in rules:
            state = "" if r.enabled else "  (disabled)"
            print(f"{printable(r.name)}: {printable(r.describe())} [{r.severity}]{state}")
        if not rules:
            print("no alert rules")
        return exit_codes.OK
    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            if args.rules_command == "remove":
                writer.execute(RemoveRule(name=args.name, at=REAL_CLOCK.now(), actor=args.caller))
                print(f"alert rule {printable(args.name)} removed")
                return exit_codes.OK
            if args.rules_command == "set":
                current = next((r for r in list_rules(store) if r.name == args.name), None)
                if current is None:
                    known = ", ".join(r.name for r in list_rules(store)) or "none"
                    raise UnknownRuleError(f"no alert rule {args.name!r} (rules: {known})")
                changed = current
                if args.instructions is not None or args.comment_required is not None:
                    changed = writer.execute(
                        SetRuleHandling(
                            name=args.name,
                            instructions=(
                                current.instructions
                                if args.instructions is None
                                else args.instructions
                            ),
                            comment_required=(
                                current.comment_required
                                if args.comment_required is None
                                else args.comment_required
                            ),
                            at=REAL_CLOCK.now(),
                            actor=args.caller,
                        )
                    )
                if args.enabled is not None:
                    changed = writer.execute(
                        ArmRule(
                            name=args.name,
                            armed=args.enabled,
                            at=REAL_CLOCK.now(),
                            actor=args.caller,
                        )
                    )
                if args.json:
                    print(json.dumps(changed.as_json()))
                else:
                    needs = "a comment" if changed.comment_required else "no comment"
                    state = "on" if changed.enabled else "off (raises nothing)"
                    print(
                        f"alert rule {printable(changed.name)}: {state}; closing needs "
                        f"{needs}; instructions: {printable(changed.instructions) or 'none'}"
                    )
                return exit_codes.OK
            start, end = parse_span(args.armed)
            rule = RuleSpec(
                rule_id=0,
                name=args.name,
                camera=args.camera,
                room=args.room,
                trigger=args.trigger,
                loiter_s=args.loiter_s,
                gesture=args.gesture,
                zone=parse_zone(args.zone),
                days=parse_days(args.days),
                armed_from_min=start,
                armed_until_min=end,
                severity=args.severity,
                instructions=args.instructions,
                comment_required=args.comment_required,
            )
            stored = writer.execute(AddRule(rule=rule, at=REAL_CLOCK.now(), actor=args.caller))
    except RuleError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    except UnknownRuleError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    if args.json:
        print(json.dumps(stored.as_json()))
    else:
        print(
            f"alert rule {printable(stored.name)} added: {printable(stored.describe())} "
            f"({describe_schedule(stored)})"
        )
    return exit_codes.OK


REGISTRATION = Registration(
    add_parser,
    (
        guarded("alerts", "list", run, Permission.WATCH, "list alerts"),
        guarded("alerts", "ack", run, Permission.ACKNOWLEDGE, "acknowledge an alert"),
        guarded("alerts", "show", run, Permission.WATCH, "show an alert"),
        guarded("alerts", "take", run, Permission.ACKNOWLEDGE, "take an alert"),
        guarded("alerts", "note", run, Permission.ACKNOWLEDGE, "write a note on an alert"),
        guarded("alerts", "close", run, Permission.ACKNOWLEDGE, "close an alert"),
        guarded("alerts", "count", run, Permission.WATCH, "count alerts"),
        guarded("alerts", "label", run, Permission.LABEL, "label an alert sequence"),
        guarded("alerts", "snooze", run, Permission.ACKNOWLEDGE, "snooze a camera's alerts"),
        guarded("alerts", "unsnooze", run, Permission.ACKNOWLEDGE, "end a camera's snooze"),
        guarded("alerts", "snoozes", run, Permission.WATCH, "list snoozed cameras"),
        guarded("alerts", "rules list", run, Permission.WATCH, "list alert rules"),
        guarded("alerts", "rules add", run, Permission.CONFIGURE_RULES, "add an alert rule"),
        guarded("alerts", "rules remove", run, Permission.CONFIGURE_RULES, "remove an alert rule"),
        guarded("alerts", "rules set", run, Permission.CONFIGURE_RULES, "change an alert rule"),
    ),
)

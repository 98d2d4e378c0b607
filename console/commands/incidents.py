"""``watchfloor incidents import|report|list|show|validate|unmerge|reclassify``.

``report`` files one report (``--lat --lon --at --text``, optionally ``--media FILE`` and
``--reporter``) and says which incident it became part of: a new one, or an existing one it
was correlated with (within 50 m and 5 min by default: ``watchfloor settings``). ``import``
files every report of a CSV or JSON-lines file in one transaction: a file with any bad row
is refused whole, every bad row named by line, and nothing is stored. Imported reports are
classified locally; with an LLM configured they are marked for ``reclassify``, which asks
it later (a thousand LLM calls should not hold an import up). ``validate ID [--category C]
[--severity S]`` confirms or corrects an incident's category (kept as a training label);
``unmerge REPORT_ID`` splits a wrongly correlated report off into its own incident.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from console import exit_codes
from console.commands import iso_time, row_count, row_id, site_time
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.sitetime import SiteTime
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "incidents", help="incident reports: file, import, list, validate, un-merge"
    )
    actions = parser.add_subparsers(dest="incidents_command", metavar="ACTION", required=True)

    report = actions.add_parser("report", parents=parents, help="file one report")
    report.add_argument("--lat", type=float, required=True, help="latitude, degrees")
    report.add_argument("--lon", type=float, required=True, help="longitude, degrees")
    report.add_argument(
        "--at",
        type=iso_time,
        required=True,
        help="when it happened (ISO 8601, e.g. "
        "2026-11-20T21:30:00Z; without an offset: the site's time)",
    )
    report.add_argument("--text", required=True, help="what happened")
    report.add_argument("--reporter", help="who reports it (name or contact)")
    report.add_argument("--media", type=Path, help="a photo or video of it")
    report.add_argument(
        "--no-llm", action="store_true", help="classify locally even if an LLM is configured"
    )
    report.add_argument("--json", action="store_true", help="print the outcome as JSON")

    imp = actions.add_parser("import", parents=parents, help="file every report of a file")
    imp.add_argument("file", metavar="FILE", type=Path, help="a .csv or .jsonl file")
    imp.add_argument(
        "--llm",
        action="store_true",
        help="ask the LLM about each row now (slow) instead of marking them for reclassify",
    )
    imp.add_argument("--json", action="store_true", help="print the outcome as JSON")

    listing = actions.add_parser("list", parents=parents, help="incidents, newest first")
    listing.add_argument("--category", help="only this category")
    listing.add_argument("--from", dest="since", type=iso_time, help="from this time")
    listing.add_argument("--to", dest="until", type=iso_time, help="up to this time")
    listing.add_argument("--limit", type=row_count, default=50, help="how many (default 50)")
    listing.add_argument("--offset", type=row_count, default=0, help="skip this many")
    listing.add_argument("--json", action="store_true", help="print as JSON")

    show = actions.add_parser("show", parents=parents, help="one incident and its reports")
    show.add_argument("incident_id", metavar="ID", type=row_id)
    show.add_argument("--json", action="store_true", help="print as JSON")

    validate = actions.add_parser(
        "validate", parents=parents, help="confirm or correct an incident's category"
    )
    validate.add_argument("incident_id", metavar="ID", type=row_id)
    validate.add_argument("--category", help="the right category (default: confirm it)")
    validate.add_argument("--severity", type=int, help="the right severity, 1-5")
    validate.add_argument("--json", action="store_true", help="print the incident as JSON")

    unmerge = actions.add_parser(
        "unmerge", parents=parents, help="split a report off into its own incident"
    )
    unmerge.add_argument("report_id", metavar="REPORT_ID", type=row_id)
    unmerge.add_argument("--json", action="store_true", help="print both incidents as JSON")

    reclassify = actions.add_parser(
        "reclassify", parents=parents, help="ask the LLM about reports it has not answered"
    )
    reclassify.add_argument("--limit", type=row_count, default=200, help="at most this many")
    reclassify.add_argument("--json", action="store_true", help="print the outcome as JSON")


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.incidents.records import UnknownIncidentError, UnmergeError
    from engine.incidents.reports import ReportFileError, ReportInputError
    from engine.store import Store

    command = f"watchfloor incidents {args.incidents_command}"
    store = Store(db_url)
    try:
        if args.incidents_command == "list":
            return _list(args, store)
        if args.incidents_command == "show":
            return _show(args, store)
        return _write(args, store, REAL_CLOCK)
    except (ReportInputError, ReportFileError) as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    except (UnknownIncidentError, UnmergeError) as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    except ValueError as exc:  # a bad category, severity, media file…
        print(f"{command}: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    finally:
        store.close()


def _write(args: argparse.Namespace, store: Any, clock: Any) -> int:
    from engine.data_dirs import data_dir
    from engine.incidents.intake import IncidentIntake, IntakeSettings, make_classifier
    from engine.incidents.records import UnmergeReport, ValidateIncident
    from engine.incidents.reports import read_report_file, report_from_fields
    from engine.settings import setting_values
    from engine.store.writer import StoreWriter

    settings = IntakeSettings.from_values(setting_values(store))
    models = data_dir() / "models"
    with StoreWriter.running(store, clock=clock) as writer:
        if args.incidents_command == "validate":
            view = writer.execute(
                ValidateIncident(
                    incident_id=args.incident_id,
                    category=args.category,
                    severity=args.severity,
                    at=clock.now(),
                    actor=args.caller,
                )
            )
            if args.json:
                print(json.dumps(view.as_json()))
            else:
                print(
                    f"incident {view.incident_id}: {view.category} (severity {view.severity}), "
                    f"{view.category_basis} by {view.validated_by}"
                )
            return exit_codes.OK
        if args.incidents_command == "unmerge":
            old, new = writer.execute(
                UnmergeReport(
                    report_id=args.report_id,
                    at=clock.now(),
                    actor=args.caller,
                    risk=settings.risk_update(),
                )
            )
            if args.json:
                print(json.dumps({"from": old.as_json(), "to": new.as_json()}))
            else:
                print(
                    f"report {args.report_id} split off incident {old.incident_id} "
                    f"({old.report_count} reports left) into new incident {new.incident_id}"
                )
            return exit_codes.OK
        if args.incidents_command == "reclassify":
            intake = IncidentIntake(
                store,
                writer,
                make_classifier(settings, models_dir=models),
                settings,
                now=clock.now,
            )
            outcome = intake.reclassify_pending(limit=args.limit)
            if args.json:
                print(json.dumps(outcome.as_json()))
            else:
                print(
                    f"{outcome.reclassified} of {outcome.pending} pending reports re-classified"
                    f" by the LLM; {len(outcome.changed)} incidents changed category"
                    + (f"; stopped: {outcome.stopped}" if outcome.stopped else "")
                )
            return exit_codes.OK if outcome.stopped is None else exit_codes.FAILED

        # Media likeness decides only when the new report has media too.
        media_tools = _media_tools(store, writer, clock) if getattr(args, "media", None) else {}
        if args.incidents_command == "report":
            reports = [
                report_from_fields(
                    {
                        "text": args.text,
                        "latitude": args.lat,
                        "longitude": args.lon,
                        "at": args.at.isoformat(),
                        "reporter": args.reporter,
                        "media": None if args.media is None else str(args.media),
                    },
                    now=clock.now,
                )
            ]
            classifier = make_classifier(settings, models_dir=models, use_llm=not args.no_llm)
            source, origin = "cli", ""
        else:
            reports = read_report_file(args.file, now=clock.now)
            classifier = make_classifier(settings, models_dir=models)
            if not args.llm:
                classifier = classifier.deferring_llm(
                    f"deferred: imported with {len(reports)} reports"
                )
            source, origin = "import", args.file.name
        intake = IncidentIntake(store, writer, classifier, settings, now=clock.now, **media_tools)
        filed = intake.file(
            reports,
            actor=args.caller,
            source=source,
            origin=origin,
            progress=_ImportProgress(len(reports)) if source == "import" else None,
        )
    if args.incidents_command == "report":
        (one,) = filed
        if args.json:
            print(json.dumps(one.as_json()))
        else:
            how = (
                f"merged into incident {one.incident.incident_id} (matched report "
                f"{one.matched_report_id}, {one.distance_m:.0f} m and "
                f"{one.seconds_apart:.0f} s apart)"
                if one.merged
                else f"new incident {one.incident.incident_id}"
            )
            print(
                f"report {one.report_id}: {how}; {one.incident.category} severity "
                f"{one.incident.severity} ({one.incident.classifier}), "
                f"{one.incident.reporter_count} reporter(s)"
            )
        return exit_codes.OK
    summary = {
        "file": str(args.file),
        "reports": len(filed),
        "new_incidents": sum(1 for f in filed if not f.merged),
        "merged": sum(1 for f in filed if f.merged),
        "incidents": sorted({f.incident.incident_id for f in filed}),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"imported {summary['reports']} reports from {args.file.name}: "
            f"{summary['new_incidents']} new incidents, {summary['merged']} merged into "
            "existing ones"
        )
    return exit_codes.OK


class _ImportProgress:
    """Says on stderr how an import goes: classified reports every tenth, then that the
    whole file is being stored (one transaction: all of it, or nothing)."""

    def __init__(self, total: int) -> None:
        self._step = max(1, total // 10)

    def __call__(self, done: int, total: int) -> None:
        if done == total:
            print(
                f"storing {total} reports in one transaction (all or nothing)…",
                file=sys.stderr,
                flush=True,
            )
        elif done % self._step == 0:
            print(f"classified {done}/{total} reports", file=sys.stderr, flush=True)


def _media_tools(store: Any, writer: Any, clock: Any) -> dict[str, Any]:
    """The cameras' default person detector and the face memory (no site file here)."""
    from engine.runtime import incident_media_tools

    prepare, similarity = incident_media_tools(store, writer, clock)
    return {"prepare_media": prepare, "similarity": similarity}


def _list(args: argparse.Namespace, store: Any) -> int:
    from engine.incidents.records import list_incidents

    if not 1 <= args.limit <= 10_000 or args.offset < 0:
        print("watchfloor incidents list: --limit 1-10000, --offset 0 or more", file=sys.stderr)
        return exit_codes.USAGE
    incidents = list_incidents(
        store,
        since=args.since,
        until=args.until,
        category=args.category,
        limit=args.limit,
        offset=args.offset,
    )
    if args.json:
        print(json.dumps([i.as_json() for i in incidents]))
        return exit_codes.OK
    zone = site_time(args)
    for i in incidents:
        mark = " [validated]" if i.validated_at else ""
        pending = " [LLM pending]" if i.llm_pending else ""
        print(
            f"{i.incident_id:7d}  {_local(i.occurred_at, zone)}  {i.category:19} sev {i.severity}  "
            f"{i.reporter_count:2d} reporter(s)  {i.latitude:.5f},{i.longitude:.5f}  "
            f"{i.classifier}{mark}{pending}"
        )
    if not incidents:
        print("no incidents")
    return exit_codes.OK


def _show(args: argparse.Namespace, store: Any) -> int:
    from engine.incidents.records import get_incident, incident_media, incident_reports

    incident = get_incident(store, args.incident_id)
    reports = incident_reports(store, args.incident_id)
    media = incident_media(store, args.incident_id)
    if args.json:
        print(
            json.dumps(
                {
                    **incident.as_json(),
                    "reports": [r.as_json() for r in reports],
                    "media": [m.as_json() for m in media],
                }
            )
        )
        return exit_codes.OK
    zone = site_time(args)
    print(
        f"incident {incident.incident_id}: {incident.category} severity {incident.severity} "
        f"(confidence {incident.confidence:.2f}, {incident.classifier}, "
        f"{incident.category_basis}); {incident.report_count} report(s) from "
        f"{incident.reporter_count} reporter(s); first {_local(incident.occurred_at, zone)} at "
        f"{incident.latitude:.5f},{incident.longitude:.5f}"
    )
    for r in reports:
        who = printable(r.reporter) if r.reporter else "anonymous"
        why = f" [{r.fallback_reason}]" if r.fallback_reason else ""
        print(
            f"  report {r.report_id}  {_local(r.at, zone)}  {who}  {r.category}/{r.severity} "
            f"({r.classifier}){why}: {printable(r.text)}"
        )
        for m in media:
            if m.report_id == r.report_id:
                print(f"    media {m.media_id}: {m.summary()}; {m.path}")
    return exit_codes.OK


def _local(when: datetime, zone: SiteTime) -> str:
    return zone.full(when)


REGISTRATION = Registration(
    add_parser,
    (
        guarded("incidents", "report", run, Permission.FILE_REPORT, "file an incident report"),
        guarded("incidents", "import", run, Permission.FILE_REPORT, "import incident reports"),
        guarded("incidents", "list", run, Permission.WATCH, "list incidents"),
        guarded("incidents", "show", run, Permission.WATCH, "show an incident"),
        guarded("incidents", "validate", run, Permission.LABEL, "validate or correct an incident"),
        guarded("incidents", "unmerge", run, Permission.LABEL, "split a report off its incident"),
        guarded(
            "incidents", "reclassify", run, Permission.FILE_REPORT, "re-classify pending reports"
        ),
    ),
)

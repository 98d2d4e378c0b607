"""Ask's gold set: the questions of ``tests/data/ask_gold.json`` asked of a small recorded
site, each answer judged against the facts the gold set states.

The site (three cameras, four sensing rooms, three people, unrecognised passers-by, falls,
movement, alerts, and two people's paths across senses as the fusion service files them) is
written by :func:`build_store` through the real store writer
(:class:`~engine.store.commands.InsertEvent`, so a recognised face names its whole track as
in a live run), its times on the site's wall clock (``Europe/Berlin``), and the questions
are asked at the gold set's ``now`` on a simulated clock.

An answer is judged from its words, so the offline answers and the LLM's are judged alike
(:func:`judge`):

- ``exact``: it states what the gold set expects (the count it states first; the names, the
  time and place of a sighting; for a camera, person, room or day the site does not have,
  that it does not know it, naming it, without an answer).
- ``confident_wrong``: it gave an answer, and the answer is not the expected one (a wrong
  number, a name missing, a guess at something the site does not have). Target 0.
- ``declined``: it said it could not answer a question it should have.

``python -m benchmarks.ask_gold [--db URL]`` prints one JSON line: ``questions``,
``exact``, ``exact_pct``, ``confident_wrong``, ``declined`` and the questions missed, for the
offline answers and, when ``tests/data/ask_llm_transcript.json`` holds a recorded
transcript, for the LLM path replayed from it.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, insert, select

from engine.access import Actor, Role
from engine.clock import SimulatedClock
from engine.events import EventRecord
from engine.history.chat.offline import OfflineAnswerer
from engine.media import MediaFile
from engine.sitetime import SiteTime
from engine.store.alert_models import Alert
from engine.store.commands import InsertEvent
from engine.store.database import Store
from engine.store.models import Camera, Event, Site
from engine.store.person_models import Person
from engine.store.writer import StoreWriter

GOLD_PATH: Final = Path(__file__).resolve().parent.parent / "tests" / "data" / "ask_gold.json"
TRANSCRIPT_PATH: Final = GOLD_PATH.with_name("ask_llm_transcript.json")
INVESTIGATOR: Final = Actor("gold-investigator", frozenset({Role.INVESTIGATOR}))
TRACK_S: Final = 40.0  # a track's person.left comes this long after its person.appeared
FACE_AFTER_S: Final = 2.0  # and a named track's face.recognised this long after it


@dataclass(frozen=True, slots=True)
class Gold:
    """The gold set as read: the site, its clock and the questions."""

    data: Mapping[str, Any]

    @property
    def site_time(self) -> SiteTime:
        return SiteTime.named(str(self.data["site"]["timezone"]))

    @property
    def now(self) -> datetime:
        """When the questions are asked (UTC)."""
        return self.utc(str(self.data["site"]["now"]))

    def utc(self, wall: str) -> datetime:
        """A wall-clock time of the gold set as UTC."""
        return self.site_time.to_utc(datetime.fromisoformat(wall))

    @property
    def questions(self) -> list[dict[str, Any]]:
        return list(self.data["questions"])


def load_gold(path: Path = GOLD_PATH) -> Gold:
    """The gold set at ``path`` (a JSON file; see its ``about``)."""
    return Gold(json.loads(path.read_text(encoding="utf-8")))


def snapshot_of(camera: str, track: int) -> str:
    """Where a track's snapshot is kept, relative to the data dir."""
    return f"snapshots/{camera}/track-{track}.jpg"


def build_store(db_url: str, gold: Gold) -> Store:
    """A store at ``db_url`` holding the gold set's site: cameras, people and alerts as set
    up, every event through a running :class:`StoreWriter` (person.appeared, face.recognised
    for a named track, person.left with the track's snapshot; sensing events by room)."""
    store = Store(db_url)
    created = gold.now
    with store.transaction() as s:
        site = s.execute(
            insert(Site).returning(Site.id),
            [{"name": "Gold site", "geo_lat": 52.5, "geo_lon": 13.4, "updated_at": created}],
        ).scalar_one()
        camera_ids: dict[str, int] = {}
        for camera in gold.data["cameras"]:
            camera_ids[camera["key"]] = s.execute(
                insert(Camera).returning(Camera.id),
                [
                    {
                        "site_id": site,
                        "key": camera["key"],
                        "name": camera["name"],
                        "url": f"{camera['key']}.mp4",
                        "source_kind": "file",
                    }
                ],
            ).scalar_one()
        s.execute(
            insert(Person),
            [
                {"public_id": p["public_id"], "name": p["name"], "appearances": 1}
                for p in gold.data["people"]
            ],
        )
    writer = StoreWriter(store, clock=SimulatedClock(created))
    writer.start()
    try:
        fall_events: dict[str, int] = {}
        for wall, camera, track, person, *length in gold.data["tracks"]:
            seen = gold.utc(wall)
            track_s = float(length[0]) if length else TRACK_S
            where = {"site_id": site, "camera_id": camera_ids[camera], "track_id": track}
            snapshot = snapshot_of(camera, track)
            writer.execute(
                InsertEvent(
                    ts=seen,
                    kind="person.appeared",
                    source=f"camera:{camera}",
                    detail={"track_id": track, "snapshot": None},
                    **where,
                )
            )
            if person is not None:
                writer.execute(
                    InsertEvent(
                        ts=seen + timedelta(seconds=FACE_AFTER_S),
                        kind="face.recognised",
                        source=f"camera:{camera}",
                        detail={"track_id": track, "similarity": 0.8},
                        person=person,
                        **where,
                    )
                )
            writer.execute(
                InsertEvent(
                    ts=seen + timedelta(seconds=track_s),
                    kind="person.left",
                    source=f"camera:{camera}",
                    detail={"track_id": track, "duration_s": track_s, "snapshot": snapshot},
                    person=person,
                    media=(MediaFile("snapshot", snapshot, "0" * 64, 0),),
                    **where,
                )
            )
        for wall, kind, room, *blob in gold.data["sensing"]:
            blob_id, person = [*blob, None, None][:2]
            event_id = writer.execute(
                InsertEvent(
                    ts=gold.utc(wall),
                    kind=kind,
                    source=f"sensing:{room}",
                    detail={"room": room} | ({} if blob_id is None else {"blob": blob_id}),
                    site_id=site,
                    track_id=blob_id,  # a blob's id, as the sensing service files it
                    person=person,  # a registered device's owner
                )
            )
            fall_events[f"{wall} {room}"] = int(event_id)
        for wall, kind, camera in gold.data.get("camera_events", ()):
            writer.execute(
                InsertEvent(
                    ts=gold.utc(wall),
                    kind=kind,
                    source=f"camera:{camera}",
                    detail={},
                    site_id=site,
                    camera_id=camera_ids[camera],
                )
            )
        for key, path in enumerate(gold.data.get("paths", ()), 1):
            record = path_record(gold, key, path)
            camera = record.source.removeprefix("camera:")
            writer.execute(
                InsertEvent(
                    ts=gold.utc(str(path["filed"])),
                    kind=record.kind,
                    source=record.source,
                    detail=record.detail,
                    site_id=site,
                    camera_id=camera_ids.get(camera)
                    if record.source.startswith("camera:")
                    else None,
                    track_id=record.track_id,
                    person=record.person,
                )
            )
    finally:
        writer.stop()
    with store.transaction() as s:
        for wall, kind, severity, title, source, *handled in gold.data["alerts"]:
            raised = gold.utc(wall)
            room = source.removeprefix("sensing:")
            by, at = [*handled, None, None][:2]
            s.execute(
                insert(Alert),
                [
                    {
                        "raised_at": raised,
                        "kind": kind,
                        "source": source,
                        "severity": severity,
                        "title": title,
                        "site_id": site,
                        "event_id": fall_events.get(f"{wall} {room}"),
                        "detail": {},
                        "last_seen_at": raised,
                        "acknowledged_by": by,
                        "acknowledged_at": None if at is None else gold.utc(str(at)),
                    }
                ],
            )
    return store


def path_record(gold: Gold, key: int, path: Mapping[str, Any]) -> EventRecord:
    """A gold path as the fusion service files it when the person is out of every sense
    (:class:`~engine.fusion.service.FusionRecord`): its segments' times on the wall clock."""
    from engine.fusion.associate import FusionChange, PersonView, Segment
    from engine.fusion.service import FusionRecord

    segments = tuple(
        Segment(
            sense, source, label, member, gold.utc(start).timestamp(), gold.utc(end).timestamp()
        )
        for sense, source, label, member, start, end in path["segments"]
    )
    filed = gold.utc(str(path["filed"]))
    person = PersonView(
        person_key=key,
        name=path["name"],
        name_source=path["named_by"],
        person_id=path["person"],
        position=(0.0, 0.0),
        last_t=max(s.end for s in segments),
        members=(),
        segments=segments,
    )
    change = FusionChange("ended", person, filed.timestamp())
    return FusionRecord(at=filed, change=change, names={}).record()


# ------------------------------------------------------------------------------ the truth
#
# A question may say how its answer follows from the stored rows instead of stating it:
# ``derive`` reads the rows :func:`build_store` wrote (plain SQL here, none of Ask's code)
# and states the expected facts, so the gold set's numbers are the store's, not guesses.

_TRACK_ROWS: Final = {
    "cameras": ("person.appeared", "person.left"),
    "rooms": ("sensing.blob_appeared", "sensing.blob_left"),
}


def _utc_of(value: Any) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def true_people(store: Store, gold: Gold, spec: Mapping[str, Any]) -> int:
    """How many people the rows prove were at ``spec``'s places (``cameras`` or ``rooms``:
    keys, or ``"*"``) over ``[from, to)``: each track (a camera's or room's appeared and
    left rows of one track id) is a stretch; the answer is the distinct identities on the
    stretches (a person on its rows; the path across senses that holds it) or the most
    stretches covering one moment, whichever is more."""
    sense = "cameras" if "cameras" in spec else "rooms"
    places = spec[sense]
    low, high = gold.utc(str(spec["from"])), gold.utc(str(spec["to"]))
    appeared, left = _TRACK_ROWS[sense]
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(Event.kind, Event.ts, Event.track_id, Event.person_id, Camera.key, Event.source)
            .outerjoin(Camera, Camera.id == Event.camera_id)
            .where(Event.kind.in_([appeared, left]), Event.ts < gold.now)
        ).all()
    tracks: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        place = row.key if sense == "cameras" else row.source.removeprefix("sensing:")
        if places != "*" and place not in places:
            continue
        track = tracks.setdefault((place, int(row.track_id)), {"person": None})
        track["start" if row.kind == appeared else "end"] = _utc_of(row.ts)
        if row.person_id is not None:
            track["person"] = int(row.person_id)
    # A path across senses (the fusion service's person.path row) is one person on every
    # track and blob it holds: its person's, or its own when it names nobody.
    with store.engine.connect() as connection:
        path_rows = connection.execute(
            select(Event.id, Event.person_id, Event.detail).where(
                Event.kind == "person.path", Event.ts < gold.now
            )
        ).all()
    path_sense = "camera" if sense == "cameras" else "sensing"
    on_path: dict[tuple[str, int], tuple[str, int]] = {}
    for row in path_rows:
        ident = ("person", int(row.person_id)) if row.person_id else ("path", int(row.id))
        for seg in row.detail.get("segments", ()):
            if seg.get("id") is not None and seg.get("sense") == path_sense:
                on_path[(str(seg["source"]), int(seg["id"]))] = ident
    stretches = []
    for key, track in tracks.items():
        if "start" not in track or "end" not in track:
            raise ValueError(f"gold track {key} has no appeared or no left row before now")
        if track["start"] < high and track["end"] > low:
            identities: set[tuple[str, int]] = set()
            if track["person"] is not None:
                identities.add(("person", track["person"]))
            if key in on_path:
                identities.add(on_path[key])
            stretches.append((max(track["start"], low), min(track["end"], high), identities))
    at_once = max(
        (sum(1 for s, e, _ in stretches if s <= t < e) for t, _e, _w in stretches), default=0
    )
    return max(len({w for _s, _e, who in stretches for w in who}), at_once)


def _alerts_matching(store: Store, gold: Gold, spec: Mapping[str, Any]) -> list[Any]:
    conditions: list[Any] = [Alert.raised_at < gold.now]
    if "from" in spec:
        conditions.append(Alert.raised_at >= gold.utc(str(spec["from"])))
    if "to" in spec:
        conditions.append(Alert.raised_at < gold.utc(str(spec["to"])))
    for key, column in (("kind", Alert.kind), ("severity", Alert.severity),
                        ("source", Alert.source), ("id", Alert.id)):  # fmt: skip
        if key in spec:
            conditions.append(column == spec[key])
    with store.engine.connect() as connection:
        return list(
            connection.execute(
                select(Alert.id, Alert.acknowledged_by, Alert.title)
                .where(*conditions)
                .order_by(Alert.raised_at.desc(), Alert.id.desc())
            ).all()
        )


def true_last_appeared(store: Store, gold: Gold, spec: Mapping[str, Any]) -> str:
    """The wall-clock time (HH:MM) of the newest appearance on ``spec``'s camera or in
    its room before now."""
    with store.engine.connect() as connection:
        query = select(func.max(Event.ts)).where(Event.ts < gold.now)
        if "camera" in spec:
            query = query.join(Camera, Camera.id == Event.camera_id).where(
                Camera.key == spec["camera"], Event.kind == "person.appeared"
            )
        else:
            query = query.where(
                Event.source == f"sensing:{spec['room']}", Event.kind == "sensing.blob_appeared"
            )
        newest = connection.execute(query).scalar_one()
    return gold.site_time.local(_utc_of(newest)).strftime("%H:%M")


def true_last_seen(store: Store, gold: Gold, public_id: str) -> str:
    """The wall-clock time (HH:MM) of the person's newest sighting row before now."""
    with store.engine.connect() as connection:
        newest = connection.execute(
            select(func.max(Event.ts))
            .join(Person, Person.id == Event.person_id)
            .where(
                Person.public_id == public_id,
                Event.ts < gold.now,
                Event.kind.in_(("person.appeared", "face.recognised", "person.left")),
            )
        ).scalar_one()
    return gold.site_time.local(_utc_of(newest)).strftime("%H:%M")


def derive(store: Store, gold: Gold) -> list[dict[str, Any]]:
    """The gold questions with the facts each derives from the stored rows stated
    (``people``, ``alerts`` -> ``count``; ``acknowledged`` -> ``names``; ``last_appeared``,
    ``last_seen`` (a person's public id) -> ``time``); the derivation keys stay, for the report."""
    out: list[dict[str, Any]] = []
    for item in gold.questions:
        stated = dict(item)
        if "people" in item:
            stated["count"] = true_people(store, gold, item["people"])
        if "alerts" in item:
            stated["count"] = len(_alerts_matching(store, gold, item["alerts"]))
        if "acknowledged" in item:
            newest = _alerts_matching(store, gold, item["acknowledged"])[:1]
            by = newest[0].acknowledged_by if newest else None
            stated["names"] = [by or "nobody"]
        if "last_seen" in item:
            stated["time"] = true_last_seen(store, gold, str(item["last_seen"]))
        if "last_appeared" in item:
            stated["time"] = true_last_appeared(store, gold, item["last_appeared"])
        out.append(stated)
    return out


# ------------------------------------------------------------------------------ judging

_NOT_COUNTS: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?"  # dates and date-times
    r"|\d{1,2}:\d{2}(?::\d{2})?"  # times of day
    r"|person_[0-9a-f]{8}"  # automatic ids
    r"|\b(?:cam|camera)\s*\d+\b|\bcam\d+\b"  # cameras by number
    r"|#\d+"  # alert and event numbers
    r"|\u00b1\s*\d+\s*min"  # "around 22:08 (±5 min)": the window, not a count
    r"|\(\s*utc\s*[+-]\d+(?::\d{2})?\s*\)|\butc\s*[+-]\d+",
    re.IGNORECASE,
)
_WORD_NUMBERS: Final = {
    "no": 0,
    "none": 0,
    "nobody": 0,
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
}
_FIRST_NUMBER: Final = re.compile(r"\b(\d+|" + "|".join(_WORD_NUMBERS) + r")\b", re.IGNORECASE)
_DECLINES: Final = re.compile(
    r"\b(?:i (?:don't|do not|can't|cannot) (?:know|find|answer|tell)|i have no (?:camera|record"
    r"|room)|no (?:camera|room|record|one|person) (?:called|named)|isn't a|is not a|not a (?:day"
    r"|time|camera|room)|can't answer|cannot answer|not (?:something|able)|unable|don't have"
    r"|no such|unknown|i can't read|not recorded|only know what)",
    re.IGNORECASE,
)


def stated_count(text: str) -> int | None:
    """The number an answer states first, dates, times, ids and camera numbers aside
    (``No falls were recorded`` states 0)."""
    match = _FIRST_NUMBER.search(_NOT_COUNTS.sub(" ", text))
    if match is None:
        return None
    word = match[1].lower()
    return int(word) if word.isdigit() else _WORD_NUMBERS[word]


def judge(expect: Mapping[str, Any], text: str, answered: bool) -> str:
    """``exact``, ``confident_wrong`` or ``declined``: how ``text`` (``answered``: whether it
    gave an answer) meets the gold item ``expect`` (see the module)."""
    lowered = text.lower()
    if "unresolved" in expect or expect.get("cannot"):
        if answered and not _DECLINES.search(text):
            return "confident_wrong"
        if "unresolved" in expect and str(expect["unresolved"]).lower() not in lowered:
            return "declined"  # it did not answer, but did not say what it did not know
        return "exact"
    if not answered:
        return "declined"
    if "count" in expect and stated_count(text) != int(expect["count"]):
        return "confident_wrong"
    for name in expect.get("names", ()):
        if str(name).lower() not in lowered:
            return "confident_wrong"
    for key in ("time", "place"):
        if key in expect and str(expect[key]).lower() not in lowered:
            return "confident_wrong"
    return "exact"


@dataclass(frozen=True, slots=True)
class Said:
    """What an answerer said to one question: its text and whether it gave an answer."""

    text: str
    answered: bool


def score(questions: Sequence[Mapping[str, Any]], ask: Callable[[str], Said]) -> dict[str, Any]:
    """Every question of the gold set asked through ``ask`` and judged: the figures and,
    for each question missed, what was asked, expected and said."""
    tally = {"exact": 0, "confident_wrong": 0, "declined": 0}
    missed: list[dict[str, Any]] = []
    for item in questions:
        said = ask(str(item["q"]))
        verdict = judge(item, said.text, said.answered)
        tally[verdict] += 1
        if verdict != "exact":
            expect = {k: v for k, v in item.items() if k != "q"}
            missed.append(
                {"q": item["q"], "verdict": verdict, "expected": expect, "said": said.text}
            )
    total = len(questions)
    return {
        "questions": total,
        "exact": tally["exact"],
        "exact_pct": round(100.0 * tally["exact"] / total, 1) if total else 0.0,
        "confident_wrong": tally["confident_wrong"],
        "declined": tally["declined"],
        "missed": missed,
    }


def score_offline(store: Store, gold: Gold) -> dict[str, Any]:
    """The offline answerer's figures on the gold set (its facts derived from ``store``)."""
    answerer = OfflineAnswerer(store, gold.site_time)
    now = SimulatedClock(gold.now).now()

    def ask(question: str) -> Said:
        answer = answerer.answer(question, now)
        return Said(answer.text, answer.answered)

    return score(derive(store, gold), ask)


# ------------------------------------------------------------------------------ the LLM path
#
# A transcript is what the Messages API answered to each request of each question, in
# order: {"model": …, "answers": {question: [{"status": 200, "content_type": …,
# "body": "…"}, …]}}. ``--record-llm`` makes one against the real API (the key as the
# console reads it); scoring replays it with the real anthropic SDK over
# httpx2.MockTransport, the tools running real queries on the gold site, so the score is
# of what the model said then, grounded on this store.


def _llm_service(store: Store, gold: Gold, http_client: object, api_key: str) -> Any:
    from engine.history.chat import ChatService

    return ChatService(
        store,
        clock=SimulatedClock(gold.now),
        site_time=gold.site_time,
        api_key=api_key,
        http_client=http_client,
    )


def score_llm(store: Store, gold: Gold, transcript: Mapping[str, Any]) -> dict[str, Any]:
    """The LLM path's figures on the gold set, replaying ``transcript``'s answers (a
    question it has no answer for, or a request past its recorded ones, gets a 400: the
    service then falls back to the offline answer, and that is judged as the LLM's
    failure to answer: ``declined`` or, if the fallback answered, counted as given)."""
    import httpx2

    answers: Mapping[str, Sequence[Mapping[str, Any]]] = transcript.get("answers", {})
    current: list[Mapping[str, Any]] = []

    def replay(request: httpx2.Request) -> httpx2.Response:
        if not current:
            # A 400 (not retried by the SDK): nothing was recorded for this request.
            return httpx2.Response(
                400,
                json={
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": "not recorded"},
                },
            )
        got = current.pop(0)
        return httpx2.Response(
            int(got["status"]),
            content=str(got["body"]).encode(),
            headers={"content-type": str(got["content_type"])},
        )

    client = httpx2.Client(transport=httpx2.MockTransport(replay))
    service = _llm_service(store, gold, client, "sk-ant-replay")

    def ask(question: str) -> Said:
        current[:] = list(answers.get(question, ()))
        answer = service.ask(question, actor=INVESTIGATOR)
        if answer.mode != "llm":
            return Said(answer.text, False)  # the LLM did not answer it
        return Said(answer.text, not _DECLINES.search(answer.text))

    try:
        return score(derive(store, gold), ask)
    finally:
        service.close()
        client.close()


def record_llm(store: Store, gold: Gold, api_key: str, model: str | None = None) -> dict[str, Any]:
    """Ask every gold question of the real Messages API (``api_key``) and keep what it
    answered to each request, as a transcript :func:`score_llm` replays."""
    import httpx2

    kept: list[dict[str, Any]] = []

    class Keeping(httpx2.HTTPTransport):
        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            response = super().handle_request(request)
            body = response.read()
            kept.append(
                {
                    "status": response.status_code,
                    "content_type": response.headers.get("content-type", ""),
                    "body": body.decode("utf-8", "replace"),
                }
            )
            return httpx2.Response(
                response.status_code, content=body, headers=dict(response.headers)
            )

    client = httpx2.Client(transport=Keeping(), timeout=60.0)
    service = _llm_service(store, gold, client, api_key)
    answers: dict[str, list[dict[str, Any]]] = {}
    try:
        for item in gold.questions:
            kept.clear()
            service.ask(str(item["q"]), actor=INVESTIGATOR)
            answers[str(item["q"])] = list(kept)
    finally:
        service.close()
        client.close()
    return {"model": model or "default", "answers": answers}


def run(
    db_url: str | None = None,
    gold_path: Path = GOLD_PATH,
    transcript_path: Path = TRANSCRIPT_PATH,
) -> dict[str, Any]:
    """Build the gold site (SQLite in a temporary directory unless ``db_url``) and score
    the offline answers on it, and the LLM path when a recorded transcript exists."""
    gold = load_gold(gold_path)
    with tempfile.TemporaryDirectory(prefix="ask-gold-") as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'gold.db'}"
        store = build_store(url, gold)
        try:
            figures: dict[str, Any] = {"offline": score_offline(store, gold)}
            if transcript_path.is_file():
                transcript = json.loads(transcript_path.read_text(encoding="utf-8"))
                figures["llm"] = score_llm(store, gold, transcript)
            else:
                figures["llm"] = {"not_scored": f"no recorded transcript at {transcript_path}"}
            return figures
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an empty database URL to build the site in")
    parser.add_argument(
        "--record-llm",
        action="store_true",
        help="ask the real API (ANTHROPIC_API_KEY or the keyring) and write the transcript",
    )
    args = parser.parse_args()
    if args.record_llm:
        from engine.secrets import read_secret

        gold = load_gold()
        with tempfile.TemporaryDirectory(prefix="ask-gold-") as tmp:
            store = build_store(args.db or f"sqlite:///{Path(tmp) / 'gold.db'}", gold)
            try:
                key = read_secret("anthropic_api_key").reveal()
                transcript = record_llm(store, gold, key)
            finally:
                store.close()
        TRANSCRIPT_PATH.write_text(json.dumps(transcript, indent=1), encoding="utf-8")
    print(json.dumps({"benchmark": "ask_gold", **run(args.db)}), flush=True)


if __name__ == "__main__":
    main()

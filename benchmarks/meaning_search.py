"""Meaning search over incident reports, bookmarks and event summaries: how often a
paraphrase finds what it means, and how fast a query is over 100,000 texts.

Quality. A site's history, written for this benchmark in the words guards, callers and
investigators use (:data:`REPORTS`, :data:`BOOKMARKS`, :data:`EVENTS`: 60 texts on about as
many different matters), is filed through the real paths: reports through
:class:`~engine.incidents.intake.IncidentIntake` (keyword classifier), bookmarks through
:class:`~engine.history.bookmarks.AddBookmark`, events through
:class:`~engine.store.commands.InsertEvent`, all by the store writer into a SQLite file.
They are embedded by :meth:`MeaningSearch.index_pending` (the indexer's own code) and each
of :data:`QUERIES` (48 paraphrases that avoid the target's words, as an investigator types
them) is searched. A query scores when a text it means is among the first three hits. The
same queries run words-only (the keyword baseline: the share of the query's words a text
holds) side by side. It is run twice: on the written history alone, and with 2,000
generated reports mixed in (:func:`benchmarks.incident_generator.report_text`), where a hit
counts only on the written targets even when a generated report says the same thing (a
conservative figure).

Speed. 100,000 incident reports (generated sentences, each with its vector) are stored in
bulk, loaded into a fresh matrix (timed), and 200 queries are searched end to end: the
query's vector (``encode_ms``), the ranking over the matrix (``rank_ms``), the rows read
back from the store (``read_ms``) and the sum (``total_ms``). One onnxruntime thread.

``python -m benchmarks.meaning_search`` prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
from sqlalchemy import insert, select

from engine.access import Actor, Role
from engine.clock import REAL_CLOCK
from engine.history.bookmarks import AddBookmark
from engine.incidents.classify import IncidentClassifier, KeywordClassifier
from engine.incidents.intake import IncidentIntake, IntakeSettings
from engine.incidents.reports import ReportInput
from engine.store import Store
from engine.store.commands import InsertEvent
from engine.store.incident_models import Incident, IncidentReport
from engine.store.text_vector_models import TextVector
from engine.store.writer import StoreWriter
from engine.text_search.encoder import MODEL_NAME, shared_encoder
from engine.text_search.index import vector_bytes
from engine.text_search.search import MeaningSearch

START: Final = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
LAT, LON = 51.5072, -0.1276
BIG: Final = 100_000
TIMED_QUERIES: Final = 200
TOP: Final = 3
INVESTIGATOR: Final = Actor("bench", frozenset({Role.INVESTIGATOR, Role.OPERATOR}))

# Incident reports as filed: key → text.
REPORTS: Final[dict[str, str]] = {
    "fall_stairs": "Man fell down on the stairs by the north entrance, holding his ankle and "
    "cannot stand up.",
    "faint_lobby": "Elderly lady fainted in the main lobby. Conscious again now, first aider "
    "sitting with her.",
    "fit": "Visitor having a fit by the ticket machines, shaking on the floor, ambulance called.",
    "drunk_bench": "Young male passed out on a bench in the park, smells strongly of alcohol, "
    "still breathing.",
    "blade": "Guard saw a lad pull out a blade during an argument outside the kebab shop.",
    "pistol": "Caller says a man was waving what looked like a pistol from a car window on "
    "Station Road.",
    "brawl": "Two groups brawling outside the nightclub, punches thrown, one man bleeding from "
    "the nose.",
    "perfume": "Woman stuffed bottles of perfume into her handbag and walked out without paying.",
    "bike": "Cycle rack by the canteen: lock cut and a blue mountain bike taken overnight.",
    "hatchback": "Rear window of a silver hatchback smashed in the staff car park, laptop bag "
    "missing from the back seat.",
    "purse": "Passenger says her purse was lifted from her coat pocket on the crowded platform.",
    "tags": "Fresh spray paint tags all over the loading bay shutters this morning.",
    "shelter": "Glass panel of the bus shelter shattered, shards all over the pavement.",
    "bin_alight": "Wheelie bin alight behind the restaurant, flames reaching the fence.",
    "flat_smoke": "Strong smell of burning and grey smoke coming from a second floor flat.",
    "toast": "Alarm sounded in block C and the building was evacuated; turned out to be burnt "
    "toast in the staff kitchen.",
    "rucksack": "Black rucksack left under a bench in the concourse for over 20 minutes, no "
    "owner nearby.",
    "door_handles": "Person in a grey hoodie going along the row pulling on car doors one after "
    "another.",
    "peering": "Man hanging around the houses on Elm Close peering through front windows.",
    "quadcopter": "Small quadcopter hovering over the yard, filming the warehouse for ten minutes.",
    "tailgate": "Contractor followed a member of staff through the secure door without badging in.",
    "fence": "Two youths climbed over the perimeter fence at the back of the depot.",
    "girl": "Little girl of about five found crying by the escalators, cannot find her mum.",
    "dog": "Loose dog running between cars in the car park, no collar.",
    "pipe": "Water gushing through the ceiling of the basement corridor, a pipe has split.",
    "tills": "Lights and tills went dead across the east wing for fifteen minutes.",
    "lift": "Two people trapped in lift 3 between floors, engineer on the way.",
    "party": "Residents complaining about loud music and shouting from a party in flat 12 "
    "after midnight.",
    "followed": "Female member of staff followed and sworn at by a man all the way to the "
    "bus stop.",
    "phone_snatch": "Teenager threatened and had his phone snatched by two lads on scooters.",
    "cash_machine": "Man aggressively asking customers for money at the cash machine, "
    "blocking the way.",
    "oil": "Large puddle of oil on the floor of aisle 7, a customer nearly slipped.",
    "gas": "Smell of gas in the plant room, area cordoned off and engineers called.",
    "chest": "Colleague clutching his chest and short of breath in the control room.",
    "hand_cut": "Kitchen porter sliced his hand open on broken glass, bleeding, first aid given.",
    "van_reverse": "Delivery van reversed into a parked car at gate 2, bumper dented, nobody hurt.",
    "motorbike": "Motorbike racing through the car park at high speed, nearly hit a pedestrian.",
    "camera_turned": "Camera 4 has been turned to face the wall, looks deliberate.",
    "lock_forced": "Side door lock forced, scratch marks around the keyhole, nothing appears "
    "to have been taken.",
    "refund": "Customer screaming at the till staff over a refund and refusing to leave.",
    "syringe": "Used syringe found in the bushes next to the children's play area.",
    "packets": "Small packets being swapped for cash between two men behind the bike shed.",
    "device_call": "Anonymous caller said there is a device in the building; police informed.",
    "banners": "About forty people with banners gathered at the main gate, chanting.",
    "roof": "Person spotted on the roof of the warehouse at 2am.",
    "dementia": "Care home resident with dementia walked out earlier and has not come back.",
    "guard_punched": "Guard was punched in the face when he asked a man to leave.",
    "fake_note": "Customer paid with a twenty that the checking pen shows as fake.",
    "canal": "Teenagers jumped into the canal by the lock, one of them struggling to get out.",
    "scaffold": "Scaffold pole fell from the third floor onto the walkway below, area closed.",
}

# Bookmarks: key → (title, note).
BOOKMARKS: Final[dict[str, tuple[str, str]]] = {
    "parcel": (
        "Entrance 2",
        "Courier leaves a parcel and a second man picks it up a minute later; check the "
        "plate of the white van.",
    ),
    "platform_stumble": (
        "Platform 3",
        "Woman stumbles near the yellow line and goes down; staff help her up.",
    ),
    "forklift": ("Loading bay", "Forklift clips the racking and a pallet of boxes topples."),
    "circling": (
        "Car park level 1",
        "Same blue estate car goes round three times without parking.",
    ),
    "handover": (
        "Night shift handover",
        "Back gate found unlatched at 03:10, padlock hanging open.",
    ),
}

# Events: key → (kind, source, detail); their words come from engine.wording.
EVENTS: Final[dict[str, tuple[str, str, dict[str, Any]]]] = {
    "fall_event": ("sensing.fall_detected", "sensing:store-room", {"fell_s_ago": 1.5}),
    "wave_event": (
        "gesture.detected",
        "camera:lobby",
        {"gesture": "help", "confidence": 0.91, "alerting": True},
    ),
    "clip_failed": (
        "recording.failed",
        "camera:gate",
        {"media": "clip", "reason": "disk full"},
    ),
    "name_event": ("speech.name_heard", "camera:reception", {"name": "Priya"}),
}

# Paraphrase queries: what an investigator types, the category of incident it is about (a
# generated report of that category counts in the lenient score) and the texts it means.
QUERIES: Final[tuple[tuple[str, str, frozenset[str]], ...]] = tuple(
    (q, category, frozenset(t))
    for q, category, t in (
        (
            "someone collapsed",
            "medical",
            {"fall_stairs", "faint_lobby", "platform_stumble", "fall_event"},
        ),
        ("epileptic seizure", "medical", {"fit"}),
        ("intoxicated person asleep outdoors", "medical", {"drunk_bench"}),
        ("man threatened people with a knife", "weapons", {"blade"}),
        ("firearm seen", "weapons", {"pistol"}),
        ("violent fight between several people", "violence", {"brawl"}),
        ("shoplifting of cosmetics", "theft", {"perfume"}),
        ("bicycle stolen", "theft", {"bike"}),
        ("vehicle broken into and belongings taken", "theft", {"hatchback"}),
        ("pickpocket took a wallet", "theft", {"purse"}),
        ("vandals painted on the walls", "vandalism", {"tags"}),
        ("smashed glass at the waiting area for buses", "vandalism", {"shelter"}),
        ("rubbish container on fire", "fire", {"bin_alight"}),
        ("possible house fire", "fire", {"flat_smoke"}),
        ("false alarm caused by cooking", "fire", {"toast"}),
        ("suspicious abandoned luggage", "suspicious_activity", {"rucksack"}),
        ("someone checking whether vehicles are unlocked", "suspicious_activity", {"door_handles"}),
        ("prowler looking into homes", "suspicious_activity", {"peering"}),
        ("drone flying over the site", "suspicious_activity", {"quadcopter"}),
        ("unauthorised entry by piggybacking", "suspicious_activity", {"tailgate"}),
        ("intruders scaled the boundary", "suspicious_activity", {"fence"}),
        ("young child separated from her parent", "other", {"girl"}),
        ("stray animal among vehicles", "other", {"dog"}),
        ("flooding from a leak", "other", {"pipe"}),
        ("electricity outage", "other", {"tills"}),
        ("elevator stuck with people inside", "other", {"lift"}),
        ("noisy neighbours late at night", "other", {"party"}),
        ("woman stalked and verbally abused", "violence", {"followed"}),
        ("mugging of a young person", "theft", {"phone_snatch"}),
        ("pushy beggar at the ATM", "other", {"cash_machine"}),
        ("slippery spill hazard", "other", {"oil"}),
        ("possible gas leak", "fire", {"gas"}),
        ("heart attack symptoms", "medical", {"chest"}),
        ("employee injured with a deep cut", "medical", {"hand_cut"}),
        ("minor traffic accident", "other", {"van_reverse"}),
        ("reckless driving on the premises", "other", {"motorbike"}),
        ("someone tampered with the CCTV", "vandalism", {"camera_turned"}),
        ("signs of an attempted break-in", "suspicious_activity", {"lock_forced", "handover"}),
        ("irate shopper causing a scene", "other", {"refund"}),
        ("drug needle discovered", "other", {"syringe"}),
        ("narcotics dealing", "suspicious_activity", {"packets"}),
        ("bomb threat", "weapons", {"device_call"}),
        ("demonstration outside", "other", {"banners"}),
        ("intruder high up on a building at night", "suspicious_activity", {"roof"}),
        ("vulnerable adult wandered off", "other", {"dementia"}),
        ("security staff assaulted", "violence", {"guard_punched"}),
        ("counterfeit money", "theft", {"fake_note"}),
        ("someone in difficulty in the water", "medical", {"canal"}),
        ("object dropped from height", "other", {"scaffold"}),
        ("package handed over to a stranger", "suspicious_activity", {"parcel"}),
        ("warehouse machinery accident", "other", {"forklift"}),
        ("car driving round and round", "suspicious_activity", {"circling"}),
        ("person signalled for help", "other", {"wave_event"}),
        ("video not recorded because storage ran out", "other", {"clip_failed"}),
    )
)

# Exact words still find things: a rare word typed as written.
EXACT: Final[tuple[tuple[str, str], ...]] = (
    ("quadcopter", "quadcopter"),
    ("Elm Close", "peering"),
    ("lift 3", "lift"),
    ("aisle 7", "oil"),
    ("Priya", "name_event"),
    ("white van plate", "parcel"),
)


def _file_history(
    store: Store, writer: StoreWriter, extra: list[tuple[str, str]]
) -> dict[tuple[str, int], str]:
    """Files the written history (and ``extra`` generated reports: category, text); returns
    each stored row's key (``kind``, row id) → the history's key (``gen:<category>`` for a
    generated one)."""
    keys: dict[tuple[str, int], str] = {}
    intake = IncidentIntake(
        store,
        writer,
        IncidentClassifier(KeywordClassifier(), None, "benchmark: local classifier"),
        IntakeSettings(),
        now=lambda: START + timedelta(days=60),
    )
    written = list(REPORTS.items())
    texts = [text for _, text in written] + [text for _, text in extra]
    # An hour and a kilometre apart, so correlation keeps them separate incidents.
    inputs = [
        ReportInput(
            text=text,
            latitude=LAT + (n % 40) * 0.01,
            longitude=LON + (n // 40) * 0.01,
            at=START + timedelta(hours=n),
        )
        for n, text in enumerate(texts)
    ]
    before = _max_report_id(store)
    for chunk in range(0, len(inputs), 500):
        intake.file(inputs[chunk : chunk + 500], actor=INVESTIGATOR, source="import")
    with store.sessions() as session:
        ids = session.scalars(
            select(IncidentReport.id).where(IncidentReport.id > before).order_by(IncidentReport.id)
        ).all()
    for n, report_id in enumerate(ids):
        keys[("incident", int(report_id))] = (
            written[n][0] if n < len(written) else f"gen:{extra[n - len(written)][0]}"
        )
    for n, (key, (title, note)) in enumerate(BOOKMARKS.items()):
        view = writer.execute(
            AddBookmark(
                title=title,
                note=note,
                marked_at=START + timedelta(days=3, hours=n),
                at=REAL_CLOCK.now(),
                actor=INVESTIGATOR,
            )
        )
        keys[("bookmark", view.id)] = key
    for n, (key, (kind, source, detail)) in enumerate(EVENTS.items()):
        event_id = writer.execute(
            InsertEvent(
                ts=START + timedelta(days=4, hours=n), kind=kind, source=source, detail=detail
            )
        )
        keys[("event", int(event_id))] = key
    return keys


def _max_report_id(store: Store) -> int:
    with store.sessions() as session:
        return int(
            session.scalar(select(IncidentReport.id).order_by(IncidentReport.id.desc())) or 0
        )


def _hit_rate(
    search: MeaningSearch, store: Store, keys: dict[tuple[str, int], str]
) -> dict[str, Any]:
    """Strict: a written target among the first three. Lenient: that, or a generated report
    of the query's category (generated reports often say the same thing: "Stray dog
    running in the road" is a fair answer to "stray animal among vehicles")."""
    strict = lenient = keyword_strict = keyword_lenient = 0
    missed: list[str] = []
    for query, category, targets in QUERIES:
        answer = search.search(store, query, limit=TOP)
        found = {keys.get((h.kind, h.row_id), "") for h in answer.hits}
        strict += bool(found & targets)
        lenient += bool(found & (targets | {f"gen:{category}"}))
        if not found & targets:
            missed.append(query)
        words_only = search.matrix.rank(None, query, limit=TOP)
        found_words = {keys.get((r.text.kind, r.text.row_id), "") for r in words_only}
        keyword_strict += bool(found_words & targets)
        keyword_lenient += bool(found_words & (targets | {f"gen:{category}"}))
    exact = 0
    for query, target in EXACT:
        answer = search.search(store, query, limit=TOP)
        exact += target in {keys.get((h.kind, h.row_id), "") for h in answer.hits}
    n = len(QUERIES)
    return {
        "queries": n,
        "top3_hit_rate": round(strict / n, 3),
        "top3_hit_rate_lenient": round(lenient / n, 3),
        "keyword_top3_hit_rate": round(keyword_strict / n, 3),
        "keyword_top3_hit_rate_lenient": round(keyword_lenient / n, 3),
        "missed": missed,
        "exact_word_queries": len(EXACT),
        "exact_word_top3": exact,
    }


def quality(extra_reports: int, seed: int = 5) -> dict[str, Any]:
    """Top-3 hit rates (meaning and words-only) over the written history and
    ``extra_reports`` generated ones, filed and indexed through the real paths."""
    from benchmarks.incident_generator import report_text
    from engine.incidents.risk import CATEGORIES

    rng = np.random.default_rng(seed)
    categories = [str(CATEGORIES[int(rng.integers(len(CATEGORIES)))]) for _ in range(extra_reports)]
    extra = [(category, report_text(category, rng)) for category in categories]
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            with StoreWriter.running(store, journal_dir=Path(folder) / "journal") as writer:
                keys = _file_history(store, writer, extra)
                search = MeaningSearch()
                shared_encoder()  # loaded before the clock starts
                started = time.perf_counter()
                indexed = search.index_pending(store, writer.submit)
                index_s = time.perf_counter() - started
            figures = _hit_rate(search, store, keys)
        finally:
            store.close()
    return {
        **figures,
        "texts": indexed,
        "index_s": round(index_s, 2),
        "index_texts_per_s": round(indexed / index_s, 1) if index_s else None,
    }


def speed(n: int = BIG, queries: int = TIMED_QUERIES, seed: int = 11) -> dict[str, Any]:
    """Query times over ``n`` stored reports (median and p95 of each stage, ms)."""
    from benchmarks.incident_generator import report_text
    from engine.incidents.risk import CATEGORIES

    rng = np.random.default_rng(seed)
    texts = [report_text(CATEGORIES[int(rng.integers(len(CATEGORIES)))], rng) for _ in range(n)]
    unique = sorted(set(texts))
    encoder = shared_encoder()
    started = time.perf_counter()
    vectors = dict(zip(unique, encoder.encode(unique), strict=True))
    encode_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'big.db'}")
        try:
            _bulk_store(store, texts, vectors)
            search = MeaningSearch()
            started = time.perf_counter()
            loaded = search.load(store)
            load_s = time.perf_counter() - started
            asked = [q for q, _, _ in QUERIES]
            recall = _two_stage_recall(search, texts, vectors, asked)
            stages: dict[str, list[float]] = {
                "encode_ms": [],
                "rank_ms": [],
                "read_ms": [],
                "total_ms": [],
            }
            for i in range(queries):
                answer = search.search(store, asked[i % len(asked)], limit=10)
                for stage, values in stages.items():
                    values.append(float(getattr(answer, stage)))
        finally:
            store.close()
    figures: dict[str, Any] = {
        "texts": loaded,
        "distinct_texts_encoded": len(unique),
        "bulk_encode_texts_per_s": round(len(unique) / encode_s, 1),
        "load_s": round(load_s, 2),
        # float16 vectors (768 B) and float32 projections on 64 axes (256 B) a text.
        "matrix_mb": round(loaded * (384 * 2 + 64 * 4) / 1e6, 1),
        "recall_at_10_vs_exact": recall,
        "queries_timed": queries,
    }
    for stage, values in stages.items():
        figures[f"{stage}_median"] = round(statistics.median(values), 2)
        figures[f"{stage}_p95"] = round(float(np.percentile(values, 95)), 2)
    return figures


def _two_stage_recall(
    search: MeaningSearch, texts: list[str], vectors: dict[str, Any], asked: list[str]
) -> float:
    """How many of the exact ten nearest texts (brute force over float32 vectors, meaning
    only) the two-stage ranking also returns, on average over ``asked``. Texts that are
    the same sentence tie, so a hit is counted by sentence."""
    full = np.stack([vectors[t] for t in texts]).astype(np.float32)
    found = 0.0
    for query in asked:
        q = search.encoder.encode_one(query)
        exact = {texts[i] for i in np.argsort(-(full @ q))[:10]}
        ranked = {r.text.text for r in search.matrix.rank(q, "", limit=10)}
        found += len(exact & ranked) / len(exact)
    return round(found / len(asked), 3)


def _bulk_store(store: Store, texts: list[str], vectors: dict[str, Any]) -> None:
    """``texts`` as one-report incidents with their vectors, inserted in bulk (the
    benchmark's set-up; the engine files reports one batch at a time)."""
    now = START + timedelta(days=400)
    with store.transaction() as session:
        for chunk in range(0, len(texts), 5000):
            part = texts[chunk : chunk + 5000]
            base = START + timedelta(minutes=chunk)
            incident_ids = (
                session.execute(
                    insert(Incident).returning(Incident.id),
                    [
                        {
                            "occurred_at": base + timedelta(minutes=i),
                            "last_report_at": base + timedelta(minutes=i),
                            "latitude": LAT,
                            "longitude": LON,
                            "cell": 0,
                            "category": "other",
                            "severity": 2,
                            "confidence": 0.5,
                            "classifier": "benchmark",
                            "category_basis": "single",
                            "llm_pending": False,
                            "report_count": 1,
                            "reporter_count": 1,
                        }
                        for i in range(len(part))
                    ],
                )
                .scalars()
                .all()
            )
            report_ids = (
                session.execute(
                    insert(IncidentReport).returning(IncidentReport.id),
                    [
                        {
                            "incident_id": incident_id,
                            "at": base + timedelta(minutes=i),
                            "latitude": LAT,
                            "longitude": LON,
                            "text": text,
                            "reporter": None,
                            "source": "import",
                            "received_at": now,
                            "filed_by": "bench",
                            "category": "other",
                            "severity": 2,
                            "confidence": 0.5,
                            "classifier": "benchmark",
                            "llm_pending": False,
                            "merge": {},
                        }
                        for i, (incident_id, text) in enumerate(
                            zip(incident_ids, part, strict=True)
                        )
                    ],
                )
                .scalars()
                .all()
            )
            session.execute(
                insert(TextVector),
                [
                    {
                        "kind": "incident",
                        "incident_report_id": report_id,
                        "model": MODEL_NAME,
                        "vector": vector_bytes(vectors[text]),
                        "indexed_at": now,
                    }
                    for report_id, text in zip(report_ids, part, strict=True)
                ],
            )


def _without_missed(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures with the missed queries counted, not listed (with 2,000 generated
    reports most "misses" are generated reports saying the same thing)."""
    missed = figures.pop("missed")
    return {**figures, "missed_count": len(missed)}


def run() -> dict[str, Any]:
    """Quality on the written history alone and with 2,000 generated reports mixed in, then
    query speed over 100,000 texts."""
    return {
        "benchmark": "meaning_search",
        "model": MODEL_NAME,
        "threads": 1,
        "written_history": quality(0),
        "with_2000_generated": _without_missed(quality(2000)),
        "speed_100k": speed(),
    }


if __name__ == "__main__":
    print(json.dumps(run()))

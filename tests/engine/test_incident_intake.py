"""Filing end to end (classify outside the writer, place on the grid, store, correlate):
with the real anthropic SDK over ``httpx2.MockTransport`` as the LLM, the keyword rules as
the fallback, consensus ties broken by the LLM, reports filed while it was down classified
again later, and a bulk import deferring the LLM."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select

from engine.incidents.classify import IncidentClassifier, KeywordClassifier, LlmClassifier
from engine.incidents.intake import IncidentIntake, IntakeSettings
from engine.incidents.records import get_incident, incident_reports, pending_reports
from engine.incidents.reports import ReportInput
from engine.store import Store
from engine.store.incident_models import RiskCell
from engine.store.writer import StoreWriter
from tests.actors import OPERATOR

T0 = datetime(2026, 11, 20, 21, 30, tzinfo=UTC)
LAT, LON = 51.5072, -0.1276
KEY = "sk-ant-test-intake-0b1c2d3e"


def tool_answer(category: str, severity: int = 3, confidence: float = 0.9) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "classify_incident",
                "input": {"category": category, "severity": severity, "confidence": confidence},
            }
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 10},
    }


class Api:
    """The Messages API: answers with ``respond(request)``; ``up`` False answers 529."""

    def __init__(self, respond: Callable[[httpx2.Request], httpx2.Response]) -> None:
        self.respond = respond
        self.up = True
        self.calls = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        if not self.up:
            return httpx2.Response(
                529,
                json={
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                },
            )
        return self.respond(request)

    def classifier(self) -> IncidentClassifier:
        llm = LlmClassifier(KEY, http_client=httpx2.Client(transport=httpx2.MockTransport(self)))
        return IncidentClassifier(KeywordClassifier(), llm)


def always(category: str) -> Callable[[httpx2.Request], httpx2.Response]:
    return lambda request: httpx2.Response(200, json=tool_answer(category))


@pytest.fixture
def writer(store: Store) -> Iterator[StoreWriter]:
    with StoreWriter.running(store) as w:
        yield w


def intake(store: Store, writer: StoreWriter, classifier: IncidentClassifier) -> IncidentIntake:
    return IncidentIntake(store, writer, classifier, IntakeSettings(), now=lambda: T0)


def rep(text: str, metres_north: float = 0.0, minutes: float = 0.0) -> ReportInput:
    return ReportInput(
        text=text,
        latitude=LAT + metres_north / 111_195.0,
        longitude=LON,
        at=T0 + timedelta(minutes=minutes),
    )


def test_the_llm_classifies_and_the_incident_says_so(store: Store, writer: StoreWriter) -> None:
    api = Api(always("fire"))
    (filed,) = intake(store, writer, api.classifier()).file(
        [rep("Smoke pouring out of the bin store")], actor=OPERATOR, source="form"
    )
    assert (filed.incident.category, filed.incident.classifier) == ("fire", "llm:claude-haiku-4-5")
    assert not filed.incident.llm_pending
    (report,) = incident_reports(store, filed.incident.incident_id)
    assert report.fallback_reason is None
    with store.sessions() as session:  # the new incident raised the cells around it
        assert session.scalar(select(func.count()).select_from(RiskCell)) > 100


def test_llm_down_keywords_decide_and_the_report_is_reclassified_later(
    store: Store, writer: StoreWriter
) -> None:
    api = Api(always("weapons"))
    api.up = False
    desk = intake(store, writer, api.classifier())
    (filed,) = desk.file(
        [rep("A man waving a knife at the bus stop")], actor=OPERATOR, source="form"
    )
    assert filed.incident.classifier == "keywords"
    assert filed.incident.llm_pending
    (report,) = incident_reports(store, filed.incident.incident_id)
    assert "529" in (report.fallback_reason or "")
    still_down = desk.reclassify_pending()
    assert (still_down.pending, still_down.reclassified) == (1, 0)
    assert still_down.stopped is not None
    api.up = True
    back = desk.reclassify_pending()
    assert (back.pending, back.reclassified, back.stopped) == (1, 1, None)
    incident = get_incident(store, filed.incident.incident_id)
    assert incident.classifier == "llm:claude-haiku-4-5" and not incident.llm_pending
    assert pending_reports(store) == []


def test_garbage_from_the_llm_never_stored(store: Store, writer: StoreWriter) -> None:
    api = Api(lambda request: httpx2.Response(200, json=tool_answer("arson")))
    (filed,) = intake(store, writer, api.classifier()).file(
        [rep("Someone set the skip alight")], actor=OPERATOR, source="form"
    )
    assert filed.incident.category == "fire"  # the keywords' answer, not 'arson'
    (report,) = incident_reports(store, filed.incident.incident_id)
    assert "arson" in (report.fallback_reason or "") and report.llm_pending


def test_a_tie_between_categories_goes_to_the_llm(store: Store, writer: StoreWriter) -> None:
    """Two reports of one event, one theft and one violence with equal confidence: the
    LLM is asked to choose between exactly those two."""
    seen: list[dict[str, Any]] = []
    answers = iter(["theft", "violence"])

    def respond(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        seen.append(body)
        if body["tool_choice"]["name"] == "choose_category":
            answer = tool_answer("violence")
            answer["content"][0].update(name="choose_category", input={"category": "violence"})
            return httpx2.Response(200, json=answer)
        return httpx2.Response(200, json=tool_answer(next(answers), confidence=0.8))

    desk = intake(store, writer, Api(respond).classifier())
    desk.file([rep("Bag snatched near the station")], actor=OPERATOR, source="form")
    (second,) = desk.file(
        [rep("A man was punched near the station", metres_north=10, minutes=1)],
        actor=OPERATOR,
        source="form",
    )
    assert second.merged
    assert second.incident.category == "violence"
    assert second.incident.category_basis == "llm"
    offered = seen[-1]["tools"][0]["input_schema"]["properties"]["category"]["enum"]
    assert sorted(offered) == ["theft", "violence"]


def test_an_import_defers_the_llm_and_marks_reports_pending(
    store: Store, writer: StoreWriter
) -> None:
    api = Api(always("theft"))
    deferred = api.classifier().deferring_llm("deferred: imported with 2 reports")
    filed = intake(store, writer, deferred).file(
        [rep("Bike stolen"), rep("Bike stolen again", metres_north=2000)],
        actor=OPERATOR,
        source="import",
    )
    assert api.calls == 0
    assert all(f.incident.llm_pending for f in filed)
    assert len(pending_reports(store)) == 2


def test_without_an_llm_nothing_is_pending(store: Store, writer: StoreWriter) -> None:
    classifier = IncidentClassifier(KeywordClassifier(), None, "LLM not configured")
    deferred = classifier.deferring_llm("deferred")
    (filed,) = intake(store, writer, deferred).file(
        [rep("Graffiti sprayed on the shutters")], actor=OPERATOR, source="import"
    )
    assert filed.incident.category == "vandalism" and not filed.incident.llm_pending
    outcome = intake(store, writer, classifier).reclassify_pending()
    assert outcome.pending == 0


def test_bad_media_is_refused_before_anything_is_stored(store: Store, writer: StoreWriter) -> None:
    report = ReportInput(text="photo attached", latitude=LAT, longitude=LON, at=T0, media="/x.jpg")
    with pytest.raises(ValueError, match="media"):
        intake(store, writer, IncidentClassifier(KeywordClassifier())).file(
            [report], actor=OPERATOR, source="form"
        )
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RiskCell)) == 0


def test_settings_come_from_the_site_settings() -> None:
    settings = IntakeSettings.from_values(
        {
            "incidents.correlate_window_s": 600,
            "incidents.correlate_distance_m": 80,
            "incidents.media_similarity_pct": 75,
            "incidents.llm_timeout_s": 4,
            "risk.h3_resolution": 8,
            "risk.half_life_h": 48,
        }
    )
    assert settings.correlation.window_s == 600
    assert settings.correlation.distance_m == 80
    assert settings.correlation.media_similarity == 0.75
    assert settings.llm_timeout_s == 4
    assert settings.risk.resolution == 8 and settings.risk.half_life_h == 48
    assert IntakeSettings.from_values({}).correlation.distance_m == 50

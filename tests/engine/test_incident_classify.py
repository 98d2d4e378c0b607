"""Incident classification (``engine.incidents.classify``): keyword rules on realistic
reports, a text model trained, measured, saved and loaded, and the LLM classifier run
through the real anthropic SDK over ``httpx2.MockTransport`` (no network): a checked answer
is used, anything else falls back to the local classifier with the reason, and the API key
shows nowhere but the ``x-api-key`` header."""

from __future__ import annotations

import json
import logging
import random
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import pytest

from engine.incidents.classify import (
    CATEGORIES,
    Classification,
    IncidentClassifier,
    KeywordClassifier,
    LlmAnswerError,
    LlmClassifier,
    LlmError,
    LlmTimeoutError,
    LlmUnavailableError,
    TextModel,
    TextModelFileError,
    TrainingInputError,
    llm_from_secrets,
    load_text_model,
    train_text_model,
)
from engine.secrets import SECRETS
from tests.engine.keyring_backends import DictKeyring, installed

API_KEY = "sk-ant-test-classify-7f3e9a1c"
KEYWORDS = KeywordClassifier()

Handler = Callable[[httpx2.Request], httpx2.Response]


@pytest.fixture(autouse=True)
def no_secrets_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine running the tests may have its own ANTHROPIC_API_KEY or base URL."""
    for spec in SECRETS:
        monkeypatch.delenv(spec.env, raising=False)
    for name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------------------- keywords

REPORTS = [
    ("Two men fighting outside the pub, one has a knife", "weapons"),
    ("Shots fired near the north entrance, people running", "weapons"),
    ("Man waving a machete at passers-by on the high street", "weapons"),
    ("Youth stabbed in the stairwell of block C", "weapons"),
    ("Armed robbery at the petrol station, suspect had a gun", "weapons"),
    ("Brawl in the beer garden, glasses thrown", "violence"),
    ("Woman punched in the face by her partner at the bus stop", "violence"),
    ("Security guard assaulted by a customer at the till", "violence"),
    ("Group of lads kicking a man on the ground by the taxi rank", "violence"),
    ("Bike stolen from the rack outside the library", "theft"),
    ("Shoplifting at the pharmacy, two women filled bags and left", "theft"),
    ("Pickpocket working the crowd on platform 2", "theft"),
    ("Burglary at number 14, back door forced overnight", "theft"),
    ("Handbag snatched from an elderly lady near the market", "theft"),
    ("Smoke coming out of the kitchen window of the flat above the shop", "fire"),
    ("Car on fire in the multi-storey car park, level 3", "fire"),
    ("Flames visible from the warehouse roof", "fire"),
    ("Strong smell of gas in the basement corridor", "fire"),
    ("Elderly man collapsed at the bus stop, unconscious", "medical"),
    ("Woman bleeding heavily from a cut on her arm after a fall", "medical"),
    ("Suspected overdose in the public toilets, person not breathing", "medical"),
    ("Cyclist fell off his bike and is lying in the road", "medical"),
    ("Graffiti sprayed all over the underpass wall", "vandalism"),
    ("Someone smashed the window of the bus shelter", "vandalism"),
    ("Car keyed along the whole side in the staff car park", "vandalism"),
    ("Man loitering by the cash machine for an hour", "suspicious_activity"),
    ("Someone following people from the station towards the park", "suspicious_activity"),
    ("Two people trying car door handles on Elm Street", "suspicious_activity"),
    ("Unattended bag left under the bench in the ticket hall", "suspicious_activity"),
    ("Suspicious van parked outside the school gates all morning", "suspicious_activity"),
    ("Lost dog wandering in the car park", "other"),
    ("Streetlight out on Mill Lane", "other"),
]


@pytest.mark.parametrize(("text", "category"), REPORTS)
def test_keywords_classify_realistic_reports(text: str, category: str) -> None:
    answer = KEYWORDS.classify(text)
    assert answer.category == category, KEYWORDS.evidence(text)
    assert answer.classifier == "keywords"
    assert 1 <= answer.severity <= 5 and 0.35 <= answer.confidence <= 0.9
    assert (answer.fallback_reason, answer.llm_pending) == (None, False)


def test_a_named_weapon_wins_over_violence_even_with_more_violence_words() -> None:
    text = "Fight and assault outside the club, punches thrown, one has a knife"
    assert KEYWORDS.scores(text)["violence"] > KEYWORDS.scores(text)["weapons"]
    assert KEYWORDS.classify(text).category == "weapons"


def test_negated_words_do_not_count() -> None:
    scuffle = KEYWORDS.classify("Scuffle between two teenagers, no weapon seen, no one hurt")
    assert scuffle.category == "violence"
    assert "weapons" not in KEYWORDS.scores("no weapon seen")
    assert "medical" not in KEYWORDS.scores("nobody was hurt")
    assert KEYWORDS.classify("The bin was not on fire, he was only vaping").category == "other"
    # A negation reaches only into its own clause.
    assert KEYWORDS.classify("No injuries, but one of them has a knife").category == "weapons"


def test_a_phrase_counts_once_not_again_for_the_words_inside_it() -> None:
    assert KEYWORDS.evidence("car on fire") == {"fire": (("on fire", 3),)}
    assert KEYWORDS.evidence("shots fired at the van") == {"weapons": (("shots fired", 3),)}
    assert KEYWORDS.classify("He was fired from his job and left").category == "other"


def test_severity_is_the_base_raised_and_lowered_by_what_the_report_says() -> None:
    assert KEYWORDS.classify("Man with a knife in the park").severity == 4
    assert KEYWORDS.classify("Shots fired in the park").severity == 5
    assert KEYWORDS.classify("Man collapsed and is not breathing").severity == 5
    assert KEYWORDS.classify("Fight between several men, children nearby").severity == 5
    assert KEYWORDS.classify("Minor fight earlier today, no one hurt").severity == 1
    assert KEYWORDS.classify("Graffiti on the wall").severity == 2
    assert KEYWORDS.classify("Lost umbrella").severity == 1
    # The text model asks for the severity of its own category.
    assert KEYWORDS.severity("several people inside, smoke on the stairs", "fire") == 5
    with pytest.raises(ValueError, match="unknown category 'arson'"):
        KEYWORDS.severity("text", "arson")


def test_confidence_grows_with_the_evidence_and_stays_below_certainty() -> None:
    nothing = KEYWORDS.classify("Streetlight out on Mill Lane")
    assert (nothing.category, nothing.confidence) == ("other", 0.35)
    weak = KEYWORDS.classify("Someone shouting on the corner")
    one = KEYWORDS.classify("Bike stolen")
    many = KEYWORDS.classify("Bike stolen by a thief, then a burglary and a robbery, shoplifting")
    assert 0.35 < weak.confidence < one.confidence < many.confidence == 0.9
    # Evidence for an unrelated category makes the answer less sure.
    mixed = KEYWORDS.classify("Bike stolen, graffiti on the wall")
    assert mixed.category == "theft" and mixed.confidence < one.confidence


def test_an_empty_report_is_other_with_low_confidence() -> None:
    assert KEYWORDS.classify("   ").as_json() == {
        "category": "other",
        "severity": 1,
        "confidence": 0.35,
        "classifier": "keywords",
        "fallback_reason": None,
        "llm_pending": False,
    }


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"category": "arson"}, "unknown category 'arson'"),
        ({"severity": 0}, "severity 0 is outside 1-5"),
        ({"severity": 2.0}, "severity must be an int"),
        ({"severity": True}, "severity must be an int"),
        ({"confidence": 1.01}, "confidence 1.01 is outside 0-1"),
        ({"confidence": float("nan")}, "outside 0-1"),
        ({"confidence": "high"}, "confidence must be a number"),
        ({"classifier": ""}, "must name its classifier"),
    ],
)
def test_a_classification_out_of_range_cannot_be_made(fields: dict[str, Any], says: str) -> None:
    good: dict[str, Any] = {
        "category": "fire",
        "severity": 3,
        "confidence": 0.5,
        "classifier": "keywords",
    }
    with pytest.raises(ValueError, match=says):
        Classification(**(good | fields))


# ------------------------------------------------------------------------------- text model

_OPENINGS = ["", "Report: ", "Caller says ", "Staff report ", "Urgent - ", "CCTV shows "]
_PLACES = [
    "outside the pub",
    "at the station",
    "in the car park",
    "on the high street",
    "near the school",
    "by the river path",
    "in the shopping centre",
    "behind the supermarket",
]
_TIMES = ["", " just now", " a few minutes ago", " right now", " at 22:10"]
_PHRASES = {
    "violence": [
        "two men fighting",
        "a man punching another man",
        "a woman being assaulted",
        "a brawl involving several people",
        "someone kicked a man to the ground",
        "a drunk man attacking people",
    ],
    "weapons": [
        "a man with a knife",
        "shots fired",
        "someone waving a machete",
        "a youth carrying a gun",
        "a person stabbed",
        "a man threatening staff with a blade",
    ],
    "theft": [
        "a bike stolen",
        "a shoplifter leaving without paying",
        "a pickpocket taking wallets",
        "a burglary at a flat",
        "a phone snatched from a woman",
        "a car broken into and a bag stolen",
    ],
    "fire": [
        "smoke coming from a window",
        "a bin on fire",
        "flames from a roof",
        "a car burning",
        "a strong smell of smoke",
        "a blaze in a shed",
    ],
    "medical": [
        "an elderly man collapsed",
        "a woman unconscious on the ground",
        "someone bleeding from the head",
        "a suspected overdose",
        "a child having a seizure",
        "a cyclist fell and is injured",
    ],
    "vandalism": [
        "graffiti sprayed on a wall",
        "a smashed window",
        "a bus shelter vandalised",
        "tyres slashed on a van",
        "a car keyed",
        "a damaged fence and broken lights",
    ],
    "suspicious_activity": [
        "a man loitering for hours",
        "someone following people",
        "two people trying car door handles",
        "an unattended bag",
        "a masked person hanging around",
        "someone taking photos of the entrance",
    ],
    "other": [
        "a lost dog",
        "a broken streetlight",
        "a noise complaint about music",
        "a blocked drain",
        "a lost wallet handed in",
        "a parking dispute",
    ],
}


def labelled_reports(count: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """``count`` generated reports, the categories in turn, from varied phrases."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(count):
        category = CATEGORIES[i % len(CATEGORIES)]
        phrase = rng.choice(_PHRASES[category])
        texts.append(f"{rng.choice(_OPENINGS)}{phrase} {rng.choice(_PLACES)}{rng.choice(_TIMES)}")
        labels.append(category)
    return texts, labels


@pytest.fixture(scope="module")
def text_model() -> TextModel:
    texts, labels = labelled_reports(480)
    model, reason = train_text_model(texts, labels)
    assert reason is None and model is not None
    return model


def test_a_text_model_learns_the_categories_and_measures_itself_on_held_out_reports(
    text_model: TextModel,
) -> None:
    assert set(text_model.categories) == set(CATEGORIES)
    assert (text_model.trained_on, text_model.held_out) == (480, 96)
    assert text_model.accuracy is not None and text_model.accuracy >= 0.9
    assert text_model.keyword_accuracy is not None and 0.0 <= text_model.keyword_accuracy <= 1.0
    # Fresh reports, worded as the training ones, are classified right.
    texts, labels = labelled_reports(80, seed=99)
    right = sum(text_model.classify(t).category == c for t, c in zip(texts, labels, strict=True))
    assert right / len(texts) >= 0.9


def test_a_text_model_answer_takes_severity_from_the_rules_and_confidence_from_probability(
    text_model: TextModel,
) -> None:
    text = "Caller says shots fired at the station right now"
    answer = text_model.classify(text)
    probabilities = text_model.probabilities(text)
    assert answer.category == "weapons" and answer.classifier == "text_model"
    assert answer.severity == KEYWORDS.severity(text, "weapons") == 5
    assert answer.confidence == round(probabilities["weapons"], 3)
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert max(probabilities, key=probabilities.__getitem__) == "weapons"


def test_a_saved_text_model_loads_and_answers_the_same(
    text_model: TextModel, tmp_path: Path
) -> None:
    path = tmp_path / "models" / "incidents.npz"
    path.parent.mkdir()
    path.write_bytes(b"an older model")  # replaced whole
    text_model.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["incidents.npz"]  # no temporary left
    loaded = load_text_model(path)
    assert loaded.categories == text_model.categories
    assert (loaded.accuracy, loaded.keyword_accuracy) == (
        text_model.accuracy,
        text_model.keyword_accuracy,
    )
    assert (loaded.trained_on, loaded.held_out) == (text_model.trained_on, text_model.held_out)
    for text in ["a man with a knife in the park", "bin on fire", "lost keys", ""]:
        assert loaded.probabilities(text) == pytest.approx(text_model.probabilities(text))
        assert loaded.classify(text) == text_model.classify(text)


def test_a_file_that_is_not_a_model_of_this_version_is_refused(
    text_model: TextModel, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.npz"
    text_model.save(corrupt)
    corrupt.write_bytes(corrupt.read_bytes()[:500])  # cut short
    with pytest.raises(TextModelFileError, match=r"corrupt.npz: not an incident text model"):
        load_text_model(corrupt)

    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x80\x04not a model at all")  # looks like a pickle: never unpickled
    with pytest.raises(TextModelFileError, match=r"garbage.npz: not an incident text model"):
        load_text_model(garbage)

    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    with pytest.raises(TextModelFileError, match=r"other.npz: not an incident text model$"):
        load_text_model(other)

    newer = tmp_path / "newer.npz"
    text_model.save(newer)
    with np.load(newer) as data:
        arrays = {name: data[name] for name in data.files}
    np.savez(newer, **(arrays | {"version": np.array(2)}))
    with pytest.raises(TextModelFileError, match="of version 2, this Watchfloor reads version 1"):
        load_text_model(newer)

    np.savez(newer, **(arrays | {"version": np.array("one")}))
    with pytest.raises(TextModelFileError, match="of version unknown, this Watchfloor reads"):
        load_text_model(newer)

    inconsistent = tmp_path / "inconsistent.npz"
    np.savez(inconsistent, **(arrays | {"idf": arrays["idf"][:-1]}))
    with pytest.raises(TextModelFileError, match="damaged incident text model"):
        load_text_model(inconsistent)

    with pytest.raises(TextModelFileError, match=r"missing.npz: no such text model file"):
        load_text_model(tmp_path / "missing.npz")


def test_too_few_labels_train_no_model_and_say_why() -> None:
    texts, labels = labelled_reports(24)  # 3 of each category
    model, reason = train_text_model(texts, labels)
    assert model is None
    assert reason is not None and "need at least 2 categories with 5 labelled incidents" in reason
    texts, labels = labelled_reports(32)  # 4 of each
    model, reason = train_text_model(texts, labels, min_labels_per_category=4)
    assert model is None and reason is not None and "32 labelled incidents" in reason
    assert "need 40" in reason


def test_a_category_with_too_few_labels_is_left_out_of_the_model() -> None:
    texts, labels = labelled_reports(64)
    texts.append("smoke pouring out of a shed")
    labels.append("fire")
    keep = [i for i, c in enumerate(labels) if c != "fire" or i == len(labels) - 1]
    model, reason = train_text_model([texts[i] for i in keep], [labels[i] for i in keep])
    assert reason is None and model is not None
    assert "fire" not in model.categories and len(model.categories) == 7


def test_a_two_category_model_gives_both_probabilities() -> None:
    texts, labels = labelled_reports(400)
    pairs = [(t, c) for t, c in zip(texts, labels, strict=True) if c in ("fire", "theft")]
    model, _ = train_text_model([t for t, _ in pairs], [c for _, c in pairs])
    assert model is not None and model.categories == ("fire", "theft")
    probabilities = model.probabilities("a bin on fire")
    assert probabilities["fire"] > 0.5 and sum(probabilities.values()) == pytest.approx(1.0)


def test_unusable_training_input_is_an_error() -> None:
    with pytest.raises(TrainingInputError, match="2 texts but 1 labels"):
        train_text_model(["a", "b"], ["fire"])
    with pytest.raises(TrainingInputError, match=r"unknown labels \['arson'\]"):
        train_text_model(["a", "b"], ["fire", "arson"])


# ------------------------------------------------------------------------------- the LLM


def message(tool_input: object, *, name: str = "classify_incident") -> dict[str, Any]:
    """A Messages API answer whose content is one tool call."""
    return {
        "id": "msg_01Test",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [{"type": "tool_use", "id": "toolu_01Test", "name": name, "input": tool_input}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 412, "output_tokens": 38},
    }


class Api:
    """A mock Messages API endpoint: answers every request with ``respond(request)`` and
    keeps the requests."""

    def __init__(self, respond: Handler) -> None:
        self.respond = respond
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.respond(request)

    def llm(self, **options: Any) -> LlmClassifier:
        client = httpx2.Client(transport=httpx2.MockTransport(self))
        return LlmClassifier(API_KEY, http_client=client, **options)


def answering(body: object, status: int = 200) -> Handler:
    return lambda request: httpx2.Response(status, json=body)


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)  # the SDK and httpx2 log requests at DEBUG
    yield caplog
    assert API_KEY not in caplog.text
    for record in caplog.records:
        assert API_KEY not in record.getMessage() and API_KEY not in (record.exc_text or "")


def test_a_good_answer_is_the_classification_and_the_key_is_only_in_its_header(
    every_log: pytest.LogCaptureFixture,
) -> None:
    api = Api(answering(message({"category": "weapons", "severity": 4, "confidence": 0.92})))
    classifier = IncidentClassifier(KEYWORDS, api.llm())
    answer = classifier.classify("Two men fighting outside the pub, one has a knife")
    assert answer == Classification("weapons", 4, 0.92, "llm:claude-haiku-4-5", None, False)

    [request] = api.requests
    assert (request.method, request.url.path) == ("POST", "/v1/messages")
    body = json.loads(request.content)
    assert body["model"] == "claude-haiku-4-5"
    assert body["tool_choice"] == {"type": "tool", "name": "classify_incident"}
    [tool] = body["tools"]
    assert tool["name"] == "classify_incident"
    schema = tool["input_schema"]
    assert schema["properties"]["category"]["enum"] == list(CATEGORIES)
    assert schema["properties"]["severity"] | {"description": ""} == {
        "type": "integer",
        "minimum": 1,
        "maximum": 5,
        "description": "",
    }
    assert set(schema["required"]) == {"category", "severity", "confidence"}
    assert "one has a knife" in body["messages"][0]["content"]
    # The key travels once, in the documented header.
    assert request.headers["x-api-key"] == API_KEY
    assert [name for name, value in request.headers.items() if API_KEY in value] == ["x-api-key"]
    assert "authorization" not in request.headers
    assert API_KEY not in request.content.decode() and API_KEY not in str(request.url)


def timing_out(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ReadTimeout("timed out", request=request)


def refusing(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ConnectError("connection refused", request=request)


def text_answer(request: httpx2.Request) -> httpx2.Response:
    body = message({}) | {
        "content": [{"type": "text", "text": "I think it is arson."}],
        "stop_reason": "end_turn",
    }
    return httpx2.Response(200, json=body)


FAILURES = [
    pytest.param(
        lambda r: httpx2.Response(
            200,
            content=b'{"id": "msg_01", "type": "mess',
            headers={"content-type": "application/json"},
        ),
        LlmAnswerError,
        "LLM answered invalid JSON",
        id="invalid-json",
    ),
    pytest.param(
        lambda r: httpx2.Response(200, text="<html>proxy error</html>"),
        LlmAnswerError,
        "LLM answered invalid JSON",
        id="not-json-at-all",
    ),
    pytest.param(
        answering(message({"category": "arson", "severity": 4, "confidence": 0.9})),
        LlmAnswerError,
        "LLM answered an unknown category 'arson'",
        id="unknown-category",
    ),
    pytest.param(
        answering(message({"category": "fire", "severity": 7, "confidence": 0.9})),
        LlmAnswerError,
        "LLM answered severity 7, outside 1-5",
        id="severity-out-of-range",
    ),
    pytest.param(
        answering(message({"category": "fire", "severity": "high", "confidence": 0.9})),
        LlmAnswerError,
        "LLM answered a severity of type str",
        id="severity-of-wrong-type",
    ),
    pytest.param(
        answering(message({"category": "fire", "severity": 3, "confidence": 1.7})),
        LlmAnswerError,
        "LLM answered confidence 1.7, outside 0-1",
        id="confidence-out-of-range",
    ),
    pytest.param(
        answering(message({"category": "fire", "severity": 3})),
        LlmAnswerError,
        "LLM answered no confidence",
        id="missing-field",
    ),
    pytest.param(
        answering(message("fire, 3, 0.9")),
        LlmAnswerError,
        "LLM answered a classify_incident call whose input is no object",
        id="input-not-an-object",
    ),
    pytest.param(
        text_answer,
        LlmAnswerError,
        "LLM answered no classify_incident tool call (stop_reason end_turn)",
        id="no-tool-use",
    ),
    pytest.param(
        answering({"type": "error", "error": {"type": "api_error", "message": "Internal"}}, 500),
        LlmUnavailableError,
        "LLM failed: HTTP 500 server error",
        id="http-500",
    ),
    pytest.param(
        answering(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, 529
        ),
        LlmUnavailableError,
        "LLM failed: HTTP 529 overloaded",
        id="http-529",
    ),
    pytest.param(
        # A server that echoes the key it was sent: the reason still does not show it.
        answering(
            {
                "type": "error",
                "error": {
                    "type": "authentication_error",
                    "message": f"invalid x-api-key {API_KEY}",
                },
            },
            401,
        ),
        LlmUnavailableError,
        "LLM failed: HTTP 401 authentication (invalid x-api-key ***)",
        id="http-401-echoing-the-key",
    ),
    pytest.param(
        refusing,
        LlmUnavailableError,
        "LLM failed: cannot connect (ConnectError)",
        id="connection-refused",
    ),
    pytest.param(timing_out, LlmTimeoutError, "LLM timed out after 10 s", id="timeout"),
]


@pytest.mark.parametrize(("respond", "error", "reason"), FAILURES)
def test_an_unusable_answer_falls_back_to_keywords_and_stays_pending(
    respond: Handler, error: type[LlmError], reason: str, every_log: pytest.LogCaptureFixture
) -> None:
    text = "Bin on fire behind the shop, smoke everywhere"
    api = Api(respond)
    llm = api.llm()
    with pytest.raises(error) as raised:
        llm.classify(text)
    assert str(raised.value) == reason
    for shown in (str(raised.value), repr(raised.value), repr(llm)):
        assert API_KEY not in shown

    answer = IncidentClassifier(KEYWORDS, llm).classify(text)
    assert answer == replace(KEYWORDS.classify(text), fallback_reason=reason, llm_pending=True)
    assert answer.classifier == "keywords" and answer.category == "fire"
    assert len(api.requests) == 2  # one each: no retries
    assert f"incident classified locally: {reason}" in every_log.text


def test_a_real_timeout_falls_back_after_timeout_s(monkeypatch: pytest.MonkeyPatch) -> None:
    # A listening socket nobody accepts from: the connection opens, no answer ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{port}")
        with httpx2.Client(trust_env=False) as client:
            llm = LlmClassifier(API_KEY, timeout_s=0.2, http_client=client)
            answer = IncidentClassifier(KEYWORDS, llm).classify("Man collapsed, unconscious")
    assert (answer.category, answer.classifier) == ("medical", "keywords")
    assert (answer.fallback_reason, answer.llm_pending) == ("LLM timed out after 0.2 s", True)


def test_without_an_llm_the_keywords_decide_and_nothing_is_pending() -> None:
    reason = "LLM not configured (no anthropic_api_key)"
    answer = IncidentClassifier(KEYWORDS, None, reason).classify("Bike stolen from the rack")
    assert (answer.category, answer.classifier) == ("theft", "keywords")
    assert (answer.fallback_reason, answer.llm_pending) == (reason, False)
    plain = IncidentClassifier(KEYWORDS).classify("Bike stolen from the rack")
    assert plain.fallback_reason == "LLM not configured" and not plain.llm_pending


def test_a_text_model_is_the_fallback_too(text_model: TextModel) -> None:
    api = Api(answering({"type": "error", "error": {"type": "overloaded_error"}}, 529))
    answer = IncidentClassifier(text_model, api.llm()).classify("a bin on fire at the station")
    assert (answer.category, answer.classifier, answer.llm_pending) == ("fire", "text_model", True)


def test_an_empty_report_is_not_sent_to_the_llm() -> None:
    api = Api(answering(message({"category": "fire", "severity": 3, "confidence": 0.9})))
    answer = IncidentClassifier(KEYWORDS, api.llm()).classify("  \n ")
    assert api.requests == []
    assert (answer.category, answer.llm_pending) == ("other", False)
    assert answer.fallback_reason == "empty report: not sent to the LLM"


def test_the_llm_breaks_a_tie_among_the_categories_offered(
    every_log: pytest.LogCaptureFixture,
) -> None:
    api = Api(answering(message({"category": "weapons"}, name="choose_category")))
    classifier = IncidentClassifier(KEYWORDS, api.llm(model="claude-opus-4-6"))
    assert classifier.break_tie("Fight with a bottle", ["violence", "weapons"]) == "weapons"
    body = json.loads(api.requests[0].content)
    assert body["model"] == "claude-opus-4-6"
    assert body["tool_choice"] == {"type": "tool", "name": "choose_category"}
    assert body["tools"][0]["input_schema"]["properties"]["category"]["enum"] == [
        "violence",
        "weapons",
    ]
    # An answer outside the tie is no answer; so is a failure, and there is no LLM at all.
    api.respond = answering(message({"category": "fire"}, name="choose_category"))
    assert classifier.break_tie("Fight with a bottle", ["violence", "weapons"]) is None
    assert "not one of those offered (violence, weapons)" in every_log.text
    api.respond = timing_out
    assert classifier.break_tie("Fight with a bottle", ["violence", "weapons"]) is None
    assert IncidentClassifier(KEYWORDS).break_tie("text", ["violence", "weapons"]) is None
    # One category needs no question.
    assert classifier.break_tie("text", ["theft"]) == "theft" and len(api.requests) == 3
    with pytest.raises(ValueError, match="unknown categories"):
        classifier.break_tie("text", ["violence", "arson"])


def test_llm_from_secrets_says_why_there_is_no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    with installed(DictKeyring()):
        assert llm_from_secrets() == (None, "LLM not configured (no anthropic_api_key)")
        monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
        llm, reason = llm_from_secrets(model="claude-haiku-4-5", timeout_s=5)
    assert reason is None and llm is not None
    assert (llm.name, llm.timeout_s) == ("llm:claude-haiku-4-5", 5.0)
    assert repr(llm) == "LlmClassifier(model='claude-haiku-4-5', timeout_s=5)"
    llm.close()


def test_an_unreadable_keyring_is_a_reason_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    from keyring.backends import fail

    with installed(fail.Keyring()), caplog.at_level(logging.WARNING):
        llm, reason = llm_from_secrets()
    assert llm is None and reason is not None
    # A few words for the report's column; what to do about it goes to the log.
    assert reason == "LLM not configured (anthropic_api_key cannot be read: no usable keyring)"
    assert "run a Secret Service" in caplog.text


def test_an_llm_needs_a_key_a_model_and_a_timeout() -> None:
    with pytest.raises(ValueError, match="needs an API key"):
        LlmClassifier("  ")
    with pytest.raises(ValueError, match="characters an HTTP header cannot carry") as bad:
        LlmClassifier(f"{API_KEY}\nx-injected: 1")
    assert API_KEY not in str(bad.value)
    with pytest.raises(ValueError, match="positive number of seconds"):
        LlmClassifier(API_KEY, timeout_s=0)
    with pytest.raises(ValueError, match="no LLM, but one was given"):
        IncidentClassifier(KEYWORDS, Api(text_answer).llm(), "LLM not configured")

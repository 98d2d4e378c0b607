"""The chat's LLM tool loop (``engine.history.chat.llm`` through ``ChatService``) with the
real anthropic SDK over ``httpx2.MockTransport`` (no network): streamed answers, tool calls
run as real queries against a seeded store, results sent back, citations checked; any
failure, time-out or endless tool use falls back to the offline answers with the reason;
the conversation is kept per user and the question audited."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from engine.access import PermissionDeniedError
from engine.clock import SimulatedClock
from engine.history.chat import ChatHistoryRequest, ChatService
from engine.secrets import SECRETS
from engine.sitetime import UTC_TIME, SiteTime
from engine.store import Store
from engine.store.audit import AuditListRequest
from engine.store.writer import StoreWriter
from tests.actors import ADMIN, INVESTIGATOR, OPERATOR
from tests.engine.keyring_backends import DictKeyring, installed
from tests.engine.test_chat_offline import NOW, Seeded, seed_history

API_KEY = "sk-ant-test-chat-51c0ffee"
Handler = Callable[[httpx2.Request], httpx2.Response]


@pytest.fixture(autouse=True)
def no_secrets_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in SECRETS:
        monkeypatch.delenv(spec.env, raising=False)
    for name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------------------ a mock API


def sse(*events: dict[str, Any]) -> httpx2.Response:
    """A streamed Messages API answer made of these server-sent events."""
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return httpx2.Response(
        200, content=body.encode(), headers={"content-type": "text/event-stream"}
    )


def streamed(*blocks: dict[str, Any], stop_reason: str) -> httpx2.Response:
    """An answer of text blocks (``{"text": [chunks]}``) and tool calls
    (``{"tool": name, "id": id, "input": {...}}``), streamed as the API streams them."""
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_01Chat",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-6",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 900, "output_tokens": 1},
            },
        }
    ]
    for index, block in enumerate(blocks):
        if "text" in block:
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
            for chunk in block["text"]:
                events.append(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": chunk},
                    }
                )
        else:
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "tool_use",
                        "id": block["id"],
                        "name": block["tool"],
                        "input": {},
                    },
                }
            )
            events.append(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {
                        "type": "input_json_delta",
                        "partial_json": json.dumps(block["input"]),
                    },
                }
            )
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 40},
        }
    )
    events.append({"type": "message_stop"})
    return sse(*events)


class Api:
    """A mock Messages API: the n-th request gets ``answers[n]`` (the last one repeats);
    the requests are kept."""

    def __init__(self, *answers: Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture
def seeded(db_url: str) -> Iterator[tuple[Store, Seeded]]:
    store = Store(db_url)
    ids = seed_history(store)
    yield store, ids
    store.close()


def service(
    store: Store, api: Api, writer: StoreWriter | None = None, **options: Any
) -> ChatService:
    client = httpx2.Client(transport=httpx2.MockTransport(api))
    return ChatService(
        store,
        clock=SimulatedClock(NOW),
        writer=writer,
        api_key=API_KEY,
        http_client=client,
        **{"site_time": UTC_TIME, **options},
    )


def tool_results(body: dict[str, Any]) -> dict[str, Any]:
    """The tool results a request sends back, by tool_use id, decoded."""
    [last] = body["messages"][-1:]
    assert last["role"] == "user"
    return {block["tool_use_id"]: json.loads(block["content"]) for block in last["content"]}


# ------------------------------------------------------------------------------ the loop


def test_the_tools_run_real_queries_and_the_streamed_answer_cites_what_they_returned(
    seeded: tuple[Store, Seeded],
) -> None:
    store, ids = seeded
    john_left, fall_today = ids.events["john_left"], ids.events["fall_today"]
    api = Api(
        lambda r: streamed(
            {"text": ["Let me look ", "that up."]},
            {"tool": "person_sightings", "id": "toolu_01John", "input": {"person": "John"}},
            {
                "tool": "search_events",
                "id": "toolu_02Falls",
                "input": {"kind": "sensing.fall_detected", "start": "2026-11-23T00:00:00Z"},
            },
            stop_reason="tool_use",
        ),
        lambda r: streamed(
            {
                "text": [
                    "John Carter was last seen leaving the Lobby at 10:41 UTC ",
                    f"[event {john_left}]. There was one fall today [event {fall_today}]",
                    f" (not [event {ids.events['sarah_gate']}] nor [event 99999]).",
                ]
            },
            stop_reason="end_turn",
        ),
    )
    deltas: list[str] = []
    with StoreWriter.running(store) as writer:
        chat = service(store, api, writer)
        assert (chat.mode, chat.mode_reason) == ("llm", None)
        answer = chat.ask(
            "When did I last see John, and any falls today?",
            actor=INVESTIGATOR,
            on_text=deltas.append,
        )
    assert (answer.mode, answer.answered, answer.steps, answer.fallback_reason) == (
        "llm",
        True,
        2,
        None,
    )
    assert deltas[:2] == ["Let me look ", "that up."]
    assert "".join(deltas[2:]) == answer.text
    assert answer.text.startswith("John Carter was last seen leaving the Lobby")
    # Cited: named in the answer and returned by a tool (not the one never returned, nor
    # the invented one), each read back from the store.
    assert [c.event_id for c in answer.citations] == [john_left, fall_today]
    assert answer.citations[0].summary == "John Carter left Lobby"
    assert answer.citations[1].source == "sensing:ward"

    first, second = api.bodies()
    assert first["model"] == "claude-sonnet-4-6" and first["stream"] is True
    assert {tool["name"] for tool in first["tools"]} == {
        "search_events",
        "person_sightings",
        "count_events",
        "count_people",
        "list_alerts",
        "list_incidents",
        "get_clips",
        "sensing_activity",
        "search_texts",
        "person_paths",
    }
    assert "2026-11-23T12:00:00Z" in first["system"]
    assert "The site's time zone is UTC (UTC, UTC+00:00)" in first["system"]
    assert first["messages"] == [
        {"role": "user", "content": "When did I last see John, and any falls today?"}
    ]
    # The second request carries the model's tool calls and the real rows they found.
    assert [b["type"] for b in second["messages"][1]["content"]] == ["text", "tool_use", "tool_use"]
    results = tool_results(second)
    sightings = results["toolu_01John"]
    assert sightings["people"][0]["public_id"] == "Person_0000000A"
    assert sightings["people"][0]["name"] == "John Carter"
    assert [e["id"] for e in sightings["sightings"]] == [
        john_left,
        ids.events["john_face"],
        ids.events["john_lobby"],
        ids.events["john_gate_yesterday"],
    ]
    newest = sightings["sightings"][0]
    assert (newest["ts"], newest["kind"], newest["camera"]) == (
        "2026-11-23T10:41:00Z",
        "person.left",
        "cam2",
    )
    assert sightings["sightings"][2]["clip_path"] == "clips/cam2/2026-11-23T0929.mp4"
    falls = results["toolu_02Falls"]
    assert [e["id"] for e in falls["events"]] == [fall_today]
    # The key travelled in its header only.
    for request in api.requests:
        assert request.headers["x-api-key"] == API_KEY and "authorization" not in request.headers

    # Kept for the user, and the question audited.
    turns = ChatHistoryRequest(INVESTIGATOR.name).run(store)
    assert [(t.role, t.mode) for t in turns] == [("user", None), ("assistant", "llm")]
    assert turns[1].text == answer.text and turns[1].citations == answer.citations
    assert ChatHistoryRequest(ADMIN.name).run(store) == ()
    [entry] = [e for e in AuditListRequest(reader=ADMIN).run(store) if e.action == "chat.ask"]
    assert entry.actor == INVESTIGATOR.label and entry.target == f"chat:{INVESTIGATOR.name}"
    assert entry.detail["question"] == "When did I last see John, and any falls today?"
    assert entry.detail["cited"] == [john_left, fall_today]


def answering(status: int, body: object) -> Handler:
    return lambda request: httpx2.Response(status, json=body)


def timing_out(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ReadTimeout("timed out", request=request)


def refusing(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(
    ("respond", "reason"),
    [
        pytest.param(
            answering(500, {"type": "error", "error": {"type": "api_error", "message": "x"}}),
            "LLM failed: HTTP 500 server error",
            id="http-500",
        ),
        pytest.param(
            answering(529, {"type": "error", "error": {"type": "overloaded_error"}}),
            "LLM failed: HTTP 529 overloaded",
            id="http-529",
        ),
        pytest.param(timing_out, "LLM timed out after 20 s", id="timeout"),
        pytest.param(refusing, "LLM failed: cannot connect (ConnectError)", id="refused"),
        pytest.param(
            lambda r: streamed({"text": []}, stop_reason="end_turn"),
            "LLM answered no text",
            id="empty-answer",
        ),
    ],
)
def test_a_failing_llm_falls_back_to_the_offline_answer_with_the_reason(
    seeded: tuple[Store, Seeded], respond: Handler, reason: str
) -> None:
    store, ids = seeded
    api = Api(respond)
    shown: list[str] = []
    answer = service(store, api).ask(
        "When did I last see John?", actor=INVESTIGATOR, on_text=shown.append
    )
    assert (answer.mode, answer.fallback_reason, answer.answered) == ("offline", reason, True)
    assert [c.event_id for c in answer.citations] == [ids.events["john_left"]]
    assert answer.text.startswith("John Carter was last seen at 2026-11-23 10:41:00 UTC")
    assert shown == [answer.text]
    assert len(api.requests) == 1  # no retries


def test_the_tool_loop_stops_after_max_steps(seeded: tuple[Store, Seeded]) -> None:
    store, _ = seeded
    forever = Api(
        lambda r: streamed(
            {
                "tool": "count_events",
                "id": f"toolu_{len(forever.requests)}",
                "input": {"start": "2026-11-23T00:00:00Z"},
            },
            stop_reason="tool_use",
        )
    )
    answer = service(store, forever, max_steps=3).ask("How many events today?", actor=ADMIN)
    assert len(forever.requests) == 3
    assert answer.mode == "offline"
    assert answer.fallback_reason == "LLM used all 3 steps without a final answer"
    assert answer.text.startswith("7 events recorded today")
    # Each step sent back the result of the last call: the real count of today's events.
    assert tool_results(forever.bodies()[-1])["toolu_2"]["count"] == 7


def test_a_bad_tool_call_gets_an_error_result_the_model_can_correct(
    seeded: tuple[Store, Seeded],
) -> None:
    store, ids = seeded
    api = Api(
        lambda r: streamed(
            {"tool": "search_events", "id": "toolu_bad", "input": {"sql": 1, "limit": 9000}},
            stop_reason="tool_use",
        ),
        lambda r: streamed(
            {"tool": "list_alerts", "id": "toolu_ok", "input": {"severity": "critical"}},
            stop_reason="tool_use",
        ),
        lambda r: streamed({"text": ["One critical alert: the fall."]}, stop_reason="end_turn"),
    )
    answer = service(store, api).ask("Any critical alerts?", actor=ADMIN)
    assert (answer.mode, answer.steps, answer.citations) == ("llm", 3, ())
    second, third = api.bodies()[1:]
    assert tool_results(second)["toolu_bad"] == {
        "error": "unknown argument 'sql'; arguments: kind, kinds, camera, person, room, "
        "start, end, with_person, oldest_first, limit"
    }
    assert second["messages"][-1]["content"][0]["is_error"] is True
    assert tool_results(third)["toolu_ok"]["alerts"][0]["id"] == ids.alerts["fall"]


def test_earlier_turns_go_to_the_llm_as_context(seeded: tuple[Store, Seeded]) -> None:
    store, _ = seeded
    api = Api(lambda r: streamed({"text": ["Noted."]}, stop_reason="end_turn"))
    with StoreWriter.running(store) as writer:
        chat = service(store, api, writer)
        chat.ask("Who was on camera 2 this morning?", actor=INVESTIGATOR, offline=True)
        chat.ask("And yesterday?", actor=INVESTIGATOR)
    [body] = api.bodies()  # the offline question made no request
    asked, answered, now = body["messages"]
    assert asked == {"role": "user", "content": "Who was on camera 2 this morning?"}
    assert answered["role"] == "assistant" and answered["content"].startswith("2 people were seen")
    assert now == {"role": "user", "content": "And yesterday?"}
    turns = ChatHistoryRequest(INVESTIGATOR.name, limit=3).run(store)
    assert [(t.role, t.mode) for t in turns] == [
        ("assistant", "offline"),
        ("user", None),
        ("assistant", "llm"),
    ]


def test_without_a_key_the_service_is_offline_and_says_why(seeded: tuple[Store, Seeded]) -> None:
    store, _ = seeded
    with installed(DictKeyring()):
        chat = ChatService(store, clock=SimulatedClock(NOW), site_time=UTC_TIME)
    assert (chat.mode, chat.mode_reason) == ("offline", "LLM not configured (no anthropic_api_key)")
    answer = chat.ask("Were there any falls this week?", actor=INVESTIGATOR)
    assert (answer.mode, answer.fallback_reason, answer.steps) == (
        "offline",
        "LLM not configured (no anthropic_api_key)",
        0,
    )
    keyring = DictKeyring()
    keyring.passwords[("watchfloor", "anthropic_api_key")] = API_KEY
    with installed(keyring):
        assert ChatService(store, clock=SimulatedClock(NOW), site_time=UTC_TIME).mode == "llm"


def test_an_operator_may_not_ask(seeded: tuple[Store, Seeded]) -> None:
    store, _ = seeded
    api = Api(lambda r: streamed({"text": ["x"]}, stop_reason="end_turn"))
    with pytest.raises(PermissionDeniedError, match="chat_history"):
        service(store, api).ask("When did I last see John?", actor=OPERATOR)
    assert api.requests == []


def test_the_model_is_told_the_sites_zone_and_its_time_now(
    seeded: tuple[Store, Seeded],
) -> None:
    """At 12:00 UTC a site in Kolkata reads 17:30 IST: the system prompt says so (the
    model reads "this afternoon" on that clock), and that the tools speak UTC."""
    store, _ = seeded
    api = Api(lambda r: streamed({"text": ["Nothing yet."]}, stop_reason="end_turn"))
    chat = service(store, api, site_time=SiteTime.named("Asia/Kolkata"))
    try:
        chat.ask("What happened this afternoon?", actor=INVESTIGATOR)
    finally:
        chat.close()
    (body,) = api.bodies()
    system = body["system"]
    assert "The site's time zone is Asia/Kolkata (IST, UTC+05:30)" in system
    assert "the time now is Monday 2026-11-23 17:30:00 IST there (2026-11-23T12:00:00Z)" in system
    assert "The tools take and return UTC" in system

"""Questions answered by Claude (Anthropic's Messages API, through the ``anthropic`` SDK)
with the store tools of :mod:`engine.history.chat.tools`.

The loop: the question (after the user's recent turns, for context) goes out with
:data:`~engine.history.chat.tools.TOOL_SCHEMAS`; each answer is *streamed*
(``client.messages.stream``) and its text deltas handed to ``on_text`` as they arrive; when
the answer asks for tools (``stop_reason == "tool_use"``), each call is checked and run
against the store (:func:`~engine.history.chat.tools.run_tool`) and the results are sent back
as ``tool_result`` blocks; the first answer that asks for no tool is the final one. At most
``max_steps`` requests (default 6): a model still asking for tools after that has not
answered (:class:`ChatLlmError`).

Citations: the system prompt asks the model to cite events as ``[event 123]``. An answer's
citations are the event ids it refers to *and* that a tool returned in this loop (an id the
model made up is never cited), each checked to exist in the store, in the order the answer
names them, at most :data:`MAX_CITATIONS`. An answer that names no event cites none.

The API key goes only into the ``x-api-key`` header (as in
:mod:`engine.incidents.classify`); it is registered with
:func:`engine.secrets.remember_secret` so log redaction masks it. Every request has the
SDK's timeout ``timeout_s`` and no retries: any API error, time-out or unusable answer
raises :class:`ChatLlmError` with a reason, and the caller falls back to the offline answers.

``on_text`` is called on the calling thread, with the text of every step (a model may say
"Let me look that up" before calling a tool); :attr:`LlmAnswer.text` is the final step's
text alone, the text to keep. Blocks the calling thread up to ``max_steps × timeout_s``:
call it from a worker, never the GUI thread.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from engine.history.chat.tools import (
    TOOL_SCHEMAS,
    Citation,
    citation_of,
    event_ids_in,
    events_by_id,
    iso,
    run_tool,
)
from engine.secrets import MASK, remember_secret
from engine.sitetime import UTC_TIME, SiteTime
from engine.store.database import Store

if TYPE_CHECKING:
    import anthropic
    import httpx2

logger = logging.getLogger(__name__)

DEFAULT_CHAT_MODEL: Final = "claude-sonnet-4-6"
DEFAULT_TIMEOUT_S: Final = 20.0
DEFAULT_MAX_STEPS: Final = 6
MAX_TOKENS: Final = 1024
MAX_CITATIONS: Final = 20
MAX_TOOL_RESULT_CHARS: Final = 24_000  # a tool result larger than this is cut (and says so)
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what an API key is made of
_CITED = re.compile(r"\[(?:events?\s*)?#?\s*(\d+(?:\s*(?:,|and)\s*(?:events?\s*)?#?\s*\d+)*)\]")

SYSTEM_PROMPT: Final = """\
You answer an investigator's questions about what a site's security system recorded: \
camera sightings of people, face recognitions, WiFi-sensing movement and falls, alerts and \
incidents. The site's time zone is {zone}; the time now is {site_now} there ({now}). \
The people asking read and speak the site's time: read "today", "yesterday", "this \
afternoon" or "3pm" on the site's clock and calendar, and write every time in your answer \
as the site's time (say the zone once). The tools take and return UTC (ISO 8601 with a Z): \
convert a site time to UTC before passing it (or pass it with the site's offset).

Use the tools to look things up; answer only from what they return. If they return \
nothing relevant, say that the records do not show it; never guess a name, time, place or \
count. Tools take cameras by key or name, or as "camera 2" (the camera whose key or \
name carries the number 2, else the second in site order). Cite every event your answer \
rests on by its id, written as [event 123]. For what people wrote (incident reports, \
bookmarks' notes) or what happened described in words ("someone collapsed", "a fight at \
the gate"), use search_texts: it finds texts by meaning, not only exact words; name an \
incident as incident #12 and a bookmark as bookmark #3. Where someone went across cameras, \
sensed rooms and their device, who went from one place into another, or who was in a \
sensing room: use person_paths (a path is one person however many senses saw them; a path \
with no person is someone unknown, and counts). Count people with count_people, never \
events or tracks (one person makes many tracks): say "at most 4 at once" or name the known \
people, as its words do. "Around 22:08" means 22:03 to 22:13. Answer "anything unusual" \
in plain words (alerts, falls, loitering, cameras offline), never as event kinds. Keep the \
answer short: a sentence or a \
short list (one line per path)."""


class ChatLlmError(RuntimeError):
    """The LLM gave no usable answer; the message is the reason (no secret in it)."""


@dataclass(frozen=True, slots=True)
class LlmAnswer:
    """The final text, the checked citations, how many requests it took, and the tool
    calls made (name and arguments, in order)."""

    text: str
    citations: tuple[Citation, ...]
    steps: int
    tool_calls: tuple[tuple[str, dict[str, Any]], ...]


class LlmAnswerer:
    """Answers with ``model`` through the SDK (see the module). ``site_time``: the site's
    zone, which the system prompt tells the model (with the site's time now) so that it
    reads and writes times as the site does. ``rooms``: the site's sensing rooms (room
    id -> name), which the tools know by id and name before anything was sensed in them
    (:func:`~engine.history.chat.tools.run_tool`). ``http_client`` (an
    ``httpx2.Client``) replaces the SDK's own, for proxies or tests; the caller keeps it.
    The SDK client is made on first use (importing ``anthropic`` is slow). Any thread."""

    def __init__(
        self,
        store: Store,
        api_key: str,
        *,
        model: str = DEFAULT_CHAT_MODEL,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_steps: int = DEFAULT_MAX_STEPS,
        http_client: httpx2.Client | None = None,
        site_time: SiteTime = UTC_TIME,
        rooms: Mapping[str, str] | None = None,
    ) -> None:
        key = api_key.strip()
        if not key:
            raise ValueError("the LLM needs an API key (got an empty one)")
        if not _HEADER_SAFE.fullmatch(key):
            raise ValueError(
                "the API key holds characters an HTTP header cannot carry (spaces, line "
                "breaks or non-ASCII): copy it again"
            )
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ValueError(f"timeout_s must be a positive number of seconds, not {timeout_s}")
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, not {max_steps}")
        remember_secret(key)
        self._store = store
        self._site_time = site_time
        self._rooms: dict[str, str] = dict(rooms or {})
        self._key = key
        self._model = model.strip() or DEFAULT_CHAT_MODEL
        self._timeout_s = float(timeout_s)
        self._max_steps = int(max_steps)
        self._http_client = http_client
        self._client: anthropic.Anthropic | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LlmAnswerer(model={self._model!r}, timeout_s={self._timeout_s:g})"

    @property
    def model(self) -> str:
        return self._model

    def close(self) -> None:
        """Close the SDK's own HTTP client (not one passed in)."""
        with self._lock:
            if self._client is not None and self._http_client is None:
                self._client.close()
            self._client = None

    def _sdk(self) -> anthropic.Anthropic:
        import anthropic

        with self._lock:
            if self._client is None:
                self._client = anthropic.Anthropic(
                    api_key=self._key,
                    # The Messages API documents x-api-key; this SDK would send the key as a
                    # bearer token: send it in the documented header only.
                    default_headers={"x-api-key": self._key, "Authorization": anthropic.omit},  # type: ignore[dict-item]
                    timeout=self._timeout_s,
                    max_retries=0,
                    http_client=self._http_client,
                )
            return self._client

    def answer(
        self,
        question: str,
        now: datetime,
        *,
        history: Sequence[tuple[str, str]] = (),
        on_text: Callable[[str], None] | None = None,
    ) -> LlmAnswer:
        """Run the tool loop for ``question`` as of ``now``; ``history`` holds earlier
        (question, answer) pairs of the same user, oldest first. Raises :class:`ChatLlmError`."""
        messages: list[dict[str, Any]] = []
        for asked, answered in history:
            messages.append({"role": "user", "content": asked})
            messages.append({"role": "assistant", "content": answered or "(no answer)"})
        messages.append({"role": "user", "content": question})
        site, local = self._site_time, self._site_time.local(now)
        offset = local.isoformat()[-6:]  # +05:30 (strftime's %:z is Python 3.12's)
        system = SYSTEM_PROMPT.format(
            zone=f"{site.name} ({site.zone_label(now)}, UTC{offset})",
            site_now=f"{local:%A} {site.with_zone(now)}",
            now=iso(now),
        )
        returned: set[int] = set()
        calls: list[tuple[str, dict[str, Any]]] = []
        for step in range(1, self._max_steps + 1):
            message = self._request(system, messages, on_text)
            content = list(getattr(message, "content", []) or [])
            uses = [b for b in content if getattr(b, "type", None) == "tool_use"]
            if message.stop_reason != "tool_use" or not uses:
                text = "".join(b.text for b in content if getattr(b, "type", None) == "text")
                if not text.strip():
                    raise ChatLlmError("LLM answered no text")
                return LlmAnswer(text.strip(), self._citations(text, returned), step, tuple(calls))
            messages.append({"role": "assistant", "content": [_param(b) for b in content]})
            results = []
            for use in uses:
                arguments = use.input if isinstance(use.input, dict) else {}
                calls.append((str(use.name), dict(arguments)))
                result = run_tool(self._store, now, str(use.name), use.input, self._rooms)
                returned |= event_ids_in(result)
                results.append(
                    {
                        "type": "tool_result",
                        "tool_use_id": use.id,
                        "content": _result_text(result),
                        "is_error": "error" in result,
                    }
                )
            messages.append({"role": "user", "content": results})
        raise ChatLlmError(f"LLM used all {self._max_steps} steps without a final answer")

    def _request(
        self,
        system: str,
        messages: list[dict[str, Any]],
        on_text: Callable[[str], None] | None,
    ) -> Any:
        """One streamed request; the final message. Maps every failure to ChatLlmError."""
        import anthropic

        try:
            with self._sdk().messages.stream(
                model=self._model,
                max_tokens=MAX_TOKENS,
                system=system,
                messages=messages,  # type: ignore[arg-type]
                tools=list(TOOL_SCHEMAS),  # type: ignore[arg-type]
            ) as stream:
                for event in stream:
                    if event.type == "text" and on_text is not None:
                        on_text(event.text)
                return stream.get_final_message()
        except anthropic.APITimeoutError as exc:
            raise ChatLlmError(f"LLM timed out after {self._timeout_s:g} s") from exc
        except anthropic.APIStatusError as exc:
            raise ChatLlmError(self._masked(_status_reason(exc))) from exc
        except anthropic.APIConnectionError as exc:
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "no answer"
            raise ChatLlmError(f"LLM failed: cannot connect ({cause})") from exc
        except anthropic.APIResponseValidationError as exc:
            raise ChatLlmError("LLM answered a malformed message") from exc
        except Exception as exc:  # whatever else the SDK raises: still no answer
            logger.error("chat LLM call failed unexpectedly: %s", self._masked(repr(exc)))
            raise ChatLlmError(f"LLM failed: {type(exc).__name__}") from None

    def _citations(self, text: str, returned: set[int]) -> tuple[Citation, ...]:
        named: list[int] = []
        for group in _CITED.findall(text):
            for number in re.findall(r"\d+", group):
                if int(number) in returned and int(number) not in named:
                    named.append(int(number))
        found = events_by_id(self._store, named[:MAX_CITATIONS])
        return tuple(citation_of(found[i]) for i in named[:MAX_CITATIONS] if i in found)

    def _masked(self, text: str) -> str:
        return text.replace(self._key, MASK)


def _param(block: Any) -> dict[str, Any]:
    """A content block of the model's answer as a request parameter."""
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    if block.type == "text":
        return {"type": "text", "text": block.text}
    dumped: dict[str, Any] = block.model_dump(exclude_none=True)
    return dumped


def _result_text(result: dict[str, Any]) -> str:
    text = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
    if len(text) <= MAX_TOOL_RESULT_CHARS:
        return text
    return text[:MAX_TOOL_RESULT_CHARS] + ' …(cut: ask for fewer rows with "limit")'


def _status_reason(exc: anthropic.APIStatusError) -> str:
    """``LLM failed: HTTP 529 overloaded`` from an ``APIStatusError``."""
    kind = exc.type if isinstance(exc.type, str) else ""
    words = kind.removesuffix("_error").replace("_", " ")
    if words == "api":
        words = "server error"
    return f"LLM failed: HTTP {exc.status_code}" + (f" {words}" if words else "")

"""The chat pane's engine: a question about recorded history in, an answer with cited
events out, and each user's conversation kept.

:class:`ChatService` answers with the LLM (:mod:`engine.history.chat.llm`) when an API key
is configured, and otherwise, or when the LLM fails or times out, with the offline answers
(:mod:`engine.history.chat.offline`); :attr:`ChatAnswer.mode` says which answered and
:attr:`ChatAnswer.fallback_reason` why the LLM did not. The key is read once, at
construction, from the environment (``ANTHROPIC_API_KEY``) or the OS keyring
(:func:`engine.secrets.read_secret`); it is never stored anywhere else.

Asking needs :attr:`~engine.access.Permission.CHAT_HISTORY`. With a store writer, the
question and the answer are kept as two ``chat_messages`` rows of the asking account by
:class:`RecordChatTurn`, which is audited as ``chat.ask`` with the question's text: a
question about people is an access to personal data, and the audit trail is where such
access is accounted for (the answer itself is in the chat history, not the trail).
:class:`ChatHistoryRequest` reads a user's turns back for the pane (a query-service
request).

Threads: :meth:`ChatService.ask` blocks (up to the LLM's steps × timeout, then the offline
answer); call it from a worker such as the query service's pool, never the GUI thread.
``on_text`` is called on that worker.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Final

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.access import Actor, GuardedCommand, Permission
from engine.clock import Clock
from engine.history.chat.llm import (
    DEFAULT_CHAT_MODEL,
    DEFAULT_MAX_STEPS,
    DEFAULT_TIMEOUT_S,
    ChatLlmError,
    LlmAnswerer,
)
from engine.history.chat.offline import OfflineAnswerer
from engine.history.chat.tools import Citation as Citation  # re-exported
from engine.history.chat.tools import SeenPerson as SeenPerson  # re-exported
from engine.history.chat.tools import iso
from engine.media import read_small_file
from engine.secrets import (
    KeyringUnavailableError,
    SecretMissingError,
    read_secret,
    unavailable_reason,
)
from engine.sitetime import SiteTime
from engine.store.audit import audit_command
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.history_models import ChatMessage
from engine.store.writer import StoreWriter

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS: Final = 2000
HISTORY_CONTEXT_TURNS: Final = 3  # earlier question/answer pairs the LLM sees
OFFLINE_REQUESTED: Final = "offline answers requested"
AUDITED_QUESTION_CHARS: Final = 500


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    """An answer: ``text``; ``mode`` ``"llm"`` or ``"offline"``; ``answered`` False when
    the question could not be answered from the records (the text says why and what can
    be asked); the events it cites; why the LLM did not answer (``fallback_reason``, None
    when it did); ``steps``, the LLM requests made (0 offline); ``people``, who it counted
    (with their snapshots), for the pane's pictures."""

    question: str
    text: str
    mode: str  # "llm" | "offline"
    answered: bool
    citations: tuple[Citation, ...]
    fallback_reason: str | None
    steps: int
    people: tuple[SeenPerson, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "mode": self.mode,
            "answered": self.answered,
            "fallback_reason": self.fallback_reason,
            "steps": self.steps,
            "cited_event_ids": [c.event_id for c in self.citations],
            "clip_paths": list(dict.fromkeys(c.clip_path for c in self.citations if c.clip_path)),
            "citations": [c.as_json() for c in self.citations],
            "people": [
                {
                    "label": p.label,
                    "ts": iso(p.ts),
                    "camera": p.camera,
                    "camera_name": p.camera_name,
                    "snapshot": p.snapshot,
                }
                for p in self.people
            ],
        }


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One stored message of a conversation: ``role`` ``"user"`` (a question; ``mode``
    None) or ``"assistant"`` (an answer, its mode and citations)."""

    id: int
    role: str
    text: str
    mode: str | None
    citations: tuple[Citation, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordChatTurn(GuardedCommand, StoreCommand):
    """Keep ``actor``'s question and its answer (two ``chat_messages`` rows of the actor's
    account) and audit the question (``chat.ask``, with its text, mode, whether it was
    answered and the events cited). Needs the chat-history permission. Returns the ids of
    the two rows."""

    permission: ClassVar[Permission] = Permission.CHAT_HISTORY
    action: ClassVar[str] = "chat.ask"

    question: str
    answer: str
    mode: str
    answered: bool
    citations: tuple[Citation, ...] = ()
    fallback_reason: str | None = None
    steps: int = 0
    at: datetime
    actor: Actor

    def audit_target(self) -> str:
        return f"chat:{self.actor.name}"

    def apply(self, session: Session) -> tuple[int, int]:
        if self.mode not in ("llm", "offline"):
            raise ValueError(f"mode {self.mode!r} is not llm or offline")
        cited = {
            "event_ids": [c.event_id for c in self.citations],
            "clip_paths": [c.clip_path for c in self.citations if c.clip_path],
            "citations": [c.as_json() for c in self.citations],
            "answered": self.answered,
            "fallback_reason": self.fallback_reason,
        }
        ids = session.execute(
            insert(ChatMessage).returning(ChatMessage.id, sort_by_parameter_order=True),
            [
                {
                    "account": self.actor.name,
                    "role": "user",
                    "text": self.question,
                    "mode": None,
                    "cited": {},
                    "created_at": self.at,
                    "turns": 0,
                },
                {
                    "account": self.actor.name,
                    "role": "assistant",
                    "text": self.answer,
                    "mode": self.mode,
                    "cited": cited,
                    "created_at": self.at,
                    "turns": self.steps,
                },
            ],
        ).scalars()
        question_id, answer_id = (int(i) for i in ids)
        audit_command(
            session,
            self,
            {
                "question": self.question[:AUDITED_QUESTION_CHARS],
                "mode": self.mode,
                "answered": self.answered,
                "cited": [c.event_id for c in self.citations],
            },
        )
        return question_id, answer_id


@dataclass(frozen=True, slots=True)
class ChatHistoryRequest:
    """The last ``limit`` turns of ``account``'s conversation, oldest first (a
    query-service request; one statement on ``ix_chat_messages_account_id``)."""

    account: str
    limit: int = 100

    def run(self, store: Store) -> tuple[ChatTurn, ...]:
        limit = max(1, min(int(self.limit), 1000))
        with store.sessions() as session:
            rows = session.execute(
                select(ChatMessage)
                .where(ChatMessage.account == self.account)
                .order_by(ChatMessage.id.desc())
                .limit(limit)
            ).scalars()
            turns = [
                ChatTurn(
                    id=int(row.id),
                    role=row.role,
                    text=row.text,
                    mode=row.mode,
                    citations=tuple(
                        Citation.from_json(c) for c in (row.cited or {}).get("citations", [])
                    ),
                    created_at=row.created_at,
                )
                for row in rows
            ]
        return tuple(reversed(turns))


MAX_PICTURE_BYTES: Final = 512 * 1024  # a snapshot is tens of kB; bigger is not one
MAX_PICTURES_READ: Final = 48


def read_pictures(media_root: Path, paths: Sequence[str]) -> dict[str, bytes]:
    """The snapshots at ``paths`` (relative to ``media_root``, the data dir) that are
    regular files of at most :data:`MAX_PICTURE_BYTES` inside it
    (:func:`engine.media.read_small_file`: a FIFO, a device or a link out of the data dir
    is not read), by path; at most :data:`MAX_PICTURES_READ`. Blocking: a worker thread."""
    root = media_root.resolve()
    pictures: dict[str, bytes] = {}
    for relative in list(dict.fromkeys(paths))[:MAX_PICTURES_READ]:
        candidate = Path(relative)
        if candidate.is_absolute() or ".." in candidate.parts:
            continue
        try:
            resolved = (root / candidate).resolve()
        except (OSError, RuntimeError):
            continue
        if not resolved.is_relative_to(root):
            continue
        data = read_small_file(resolved, MAX_PICTURE_BYTES)
        if data:
            pictures[relative] = data
    return pictures


class ChatService:
    """Answers questions about recorded history (see the module). ``api_key`` None reads
    the ``anthropic_api_key`` secret now; a missing key (or an unreadable keyring) means
    offline mode, with the reason in :attr:`mode_reason`. ``site_time`` is the site's zone
    (its :attr:`~engine.config.SiteConfig.site_time`): answers give times on its clock and
    read "today" or "this afternoon" on its calendar. ``rooms`` are the site's sensing
    rooms (room id -> name, its :attr:`~engine.config.SiteConfig.rooms`), which questions
    name by id or name before anything was sensed or handed over in them. ``http_client`` (an
    ``httpx2.Client``) is handed to the SDK (proxies, tests). Any thread."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        site_time: SiteTime,
        writer: StoreWriter | None = None,
        api_key: str | None = None,
        http_client: object | None = None,
        model: str = DEFAULT_CHAT_MODEL,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_steps: int = DEFAULT_MAX_STEPS,
        rooms: Mapping[str, str] | None = None,
        live: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._writer = writer
        self._offline = OfflineAnswerer(store, site_time, rooms=rooms, live=live)
        self._llm: LlmAnswerer | None = None
        self._reason: str | None = None
        key = api_key
        if key is None:
            try:
                key = read_secret("anthropic_api_key").reveal()
            except (SecretMissingError, KeyringUnavailableError) as exc:
                self._reason = (
                    f"LLM not configured ({unavailable_reason('anthropic_api_key', exc)})"
                )
        if key is not None and not key.strip():
            self._reason, key = "LLM not configured (the API key is empty)", None
        if key is not None:
            try:
                self._llm = LlmAnswerer(
                    store,
                    key,
                    site_time=site_time,
                    rooms=rooms,
                    model=model,
                    timeout_s=timeout_s,
                    max_steps=max_steps,
                    http_client=http_client,  # type: ignore[arg-type]
                )
            except ValueError as exc:
                self._reason = f"LLM not configured ({exc})"

    @property
    def mode(self) -> str:
        """``"llm"`` when an API key is configured, else ``"offline"``."""
        return "llm" if self._llm is not None else "offline"

    @property
    def mode_reason(self) -> str | None:
        """Why the service answers offline (no key, keyring error); None in LLM mode."""
        return self._reason

    def close(self) -> None:
        """Release the SDK's HTTP client (not one passed in)."""
        if self._llm is not None:
            self._llm.close()

    def ask(
        self,
        question: str,
        *,
        actor: Actor,
        on_text: Callable[[str], None] | None = None,
        offline: bool = False,
    ) -> ChatAnswer:
        """Answer ``question`` for ``actor`` (needs the chat-history permission, else
        :class:`~engine.access.PermissionDeniedError`): the LLM unless ``offline`` or
        unconfigured, the offline answers otherwise or when the LLM fails. Stores the
        question and the answer through the writer, if there is one (a failure to store
        raises: the question is audited or not answered). Blocking; any worker thread."""
        actor.require(Permission.CHAT_HISTORY, "ask about recorded history")
        question = " ".join(question.split())[:MAX_QUESTION_CHARS]
        if not question:
            raise ValueError("ask a question (it is empty)")
        now = self._clock.now()
        answer: ChatAnswer | None = None
        reason = OFFLINE_REQUESTED if offline else self._reason
        if self._llm is not None and not offline:
            try:
                got = self._llm.answer(
                    question, now, history=self._context(actor.name), on_text=on_text
                )
                answer = ChatAnswer(question, got.text, "llm", True, got.citations, None, got.steps)
            except ChatLlmError as exc:
                logger.warning("chat answered offline: %s", exc)
                reason = str(exc)
        if answer is None:
            result = self._offline.answer(question, now)
            answer = ChatAnswer(
                question,
                result.text,
                "offline",
                result.answered,
                result.citations,
                reason,
                0,
                result.people,
            )
            if on_text is not None:
                on_text(result.text)
        if self._writer is not None:
            self._writer.execute(
                RecordChatTurn(
                    question=question,
                    answer=answer.text,
                    mode=answer.mode,
                    answered=answer.answered,
                    citations=answer.citations,
                    fallback_reason=answer.fallback_reason,
                    steps=answer.steps,
                    at=now,
                    actor=actor,
                )
            )
        return answer

    def _context(self, account: str) -> list[tuple[str, str]]:
        """The user's last few (question, answer) pairs, oldest first."""
        turns = ChatHistoryRequest(account, HISTORY_CONTEXT_TURNS * 2 + 1).run(self._store)
        pairs: list[tuple[str, str]] = []
        for asked, answered in itertools.pairwise(turns):
            if asked.role == "user" and answered.role == "assistant":
                pairs.append((asked.text, answered.text))
        return pairs[-HISTORY_CONTEXT_TURNS:]

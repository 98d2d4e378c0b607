"""``watchfloor ask "QUESTION" [--json] [--offline]``: a question about recorded history,
answered as the console's chat pane answers it (:class:`engine.history.chat.ChatService`).

The LLM answers when an Anthropic API key is configured (``ANTHROPIC_API_KEY`` or the
keyring's ``anthropic_api_key``) and ``--offline`` is not given; otherwise, or when it fails
or times out, the offline answers do, and the output says which mode answered and why. Text
output: the answer (streamed as the LLM writes it), then one line per cited event (id, time,
kind, source, clip and offset), then the mode on stderr. Times, and what "today" or "this
afternoon" mean, are the site's (the ``--site`` file's zone, the demo site by default);
``--json`` keeps the citations' times UTC. ``--json``: one object
``{"question", "answer", "mode", "answered", "fallback_reason", "steps", "cited_event_ids",
"clip_paths", "citations"}``.

Asking needs the chat-history permission (investigators); the question and answer are kept
in the caller's conversation and the question is audited (``chat.ask``).

Exit codes: 0 answered; 1 not answered (a question outside the forms the offline answers
know, or one naming a person or camera the records do not have); 5 not allowed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from console import exit_codes
from console.commands import site_of
from console.commands.registry import Registration, guarded
from engine.access import Permission
from engine.text import printable


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ask", parents=parents, help="ask a question about recorded history"
    )
    parser.add_argument("question", metavar="QUESTION", help='e.g. "When did I last see John?"')
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.add_argument(
        "--offline", action="store_true", help="answer offline (no LLM), even with an API key"
    )


def run(args: argparse.Namespace, db_url: str) -> int:
    from engine.clock import REAL_CLOCK
    from engine.history.chat import ChatService
    from engine.store import Store
    from engine.store.writer import StoreWriter
    from engine.text_search.search import search_for

    if not args.question.strip():
        print("watchfloor ask: the question is empty", file=sys.stderr)
        return exit_codes.USAGE
    site = site_of(args)  # a bad site file fails here, before anything is asked
    zone = site.site_time
    store = Store(db_url)
    streamed: list[str] = []

    def on_text(text: str) -> None:
        if chat.mode == "llm" and not args.offline:
            streamed.append(text)
            sys.stdout.write(_shown(text))
            sys.stdout.flush()

    try:
        with StoreWriter.running(store, clock=REAL_CLOCK) as writer:
            chat = ChatService(
                store,
                clock=REAL_CLOCK,
                site_time=zone,
                writer=writer,
                rooms={room.id: room.name for room in site.rooms},
            )
            # No engine's indexer here: a meaning search first embeds what was stored since.
            meaning = search_for(store)
            meaning.catch_up = writer.submit
            try:
                answer = chat.ask(
                    args.question,
                    actor=args.caller,
                    on_text=None if args.json else on_text,
                    offline=args.offline,
                )
            finally:
                meaning.catch_up = None
                chat.close()
    finally:
        store.close()
    if args.json:
        print(json.dumps(answer.as_json()))
    else:
        if streamed:
            sys.stdout.write("\n")
            if answer.mode == "offline":  # the LLM failed part-way: the offline answer
                print(f"(the LLM's answer was cut off: {answer.fallback_reason})")
        if not streamed or answer.mode == "offline":
            print(_shown(answer.text))
        for c in answer.citations:
            clip = f"  {c.clip_path} @ {c.clip_offset_s:.1f} s" if c.clip_path else ""
            print(f"  [event {c.event_id}] {zone.with_zone(c.ts)}  {printable(c.summary)}{clip}")
        mode = "LLM" if answer.mode == "llm" else "offline answers"
        why = f" ({answer.fallback_reason})" if answer.fallback_reason else ""
        print(f"answered by: {mode}{why}", file=sys.stderr)
    return exit_codes.OK if answer.answered else exit_codes.FAILED


def _shown(text: str) -> str:
    """``text`` safe for a terminal, its line breaks kept."""
    return "\n".join(printable(line) for line in text.split("\n"))


REGISTRATION = Registration(
    add_parser,
    (guarded("ask", None, run, Permission.CHAT_HISTORY, "ask about recorded history"),),
)

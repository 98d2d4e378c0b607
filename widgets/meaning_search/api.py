"""What the "Search reports" pane reads and how it words a result.

The pane needs no backend: every read is the engine's frozen
:class:`~engine.text_search.search.MeaningSearchRequest` submitted through the query client.
This module names the kinds it searches and words a hit's kind and id.

No Qt here (``import widgets.meaning_search.api`` loads no PySide6).
"""

from __future__ import annotations

from typing import Final

from engine.text_search.search import TextHit

KIND_CHOICES: Final = (
    ("Everything", ("incident", "bookmark", "event")),
    ("Incident reports", ("incident",)),
    ("Bookmarks", ("bookmark",)),
    ("Events", ("event",)),
)
KIND_WORDS: Final = {"incident": "Incident", "bookmark": "Bookmark", "event": "Event"}


def hit_label(hit: TextHit) -> str:
    """``Incident #12``, ``Bookmark #3``, ``Event 4521``."""
    return f"{KIND_WORDS[hit.kind]} {'' if hit.kind == 'event' else '#'}{hit.id}"

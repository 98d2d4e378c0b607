"""Names people give when they introduce themselves, found in a transcript.

The phrasings are "my name is X" (also "my name's X"), "I'm X", "I am X", "this is X" and
"call me X", anywhere in the transcript, case-insensitive, with hesitations ("um", "uh",
"er") allowed between the phrase and the name. X must be a known first name (shipped in
``resources/first_names.txt``), so that "I'm fine", "this is the front door" or "call me
later" give no name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from resources import RESOURCES_DIR

FIRST_NAMES_FILE = RESOURCES_DIR / "first_names.txt"
# Sequences of words that announce a name, after contractions are expanded ("i'm" → "i am").
INTRODUCTIONS: tuple[tuple[str, ...], ...] = (
    ("my", "name", "is"),
    ("i", "am"),
    ("this", "is"),
    ("call", "me"),
)
# Hesitations that may stand between an introduction and the name ("I'm, um, John").
FILLERS = frozenset({"um", "umm", "uh", "uhm", "er", "erm", "ah", "eh", "hmm", "mm"})
MAX_FILLERS = 2
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_CONTRACTIONS = {"i'm": ("i", "am"), "name's": ("name", "is"), "im": ("i", "am")}


def load_first_names(path: Path = FIRST_NAMES_FILE) -> dict[str, str]:
    """Known first names from ``path`` (one a line, ``#`` comments): lower case → as written.

    Raises OSError if the file cannot be read."""
    return dict(_load_first_names(path))


@functools.cache
def _load_first_names(path: Path) -> tuple[tuple[str, str], ...]:
    names: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.setdefault(name.lower(), name)
    return tuple(names.items())


def words_of(transcript: str) -> list[str]:
    """The transcript's words in lower case, contractions of the introductions expanded."""
    text = transcript.lower().replace("\u2019", "'")
    words: list[str] = []
    for word in _WORD.findall(text):
        words.extend(_CONTRACTIONS.get(word, (word,)))
    return words


def extract_name(transcript: str, names: Mapping[str, str] | None = None) -> str | None:
    """The first known first name introduced in ``transcript``, as written in the names
    list (``"hi, I'm john"`` → ``"John"``), or None.

    ``names`` maps lower case names to their written form (default: the shipped list)."""
    known = load_first_names() if names is None else names
    words = words_of(transcript)
    for start in range(len(words)):
        for phrase in INTRODUCTIONS:
            end = start + len(phrase)
            if tuple(words[start:end]) != phrase:
                continue
            name = _name_after(words, end, known)
            if name is not None:
                return name
    return None


def _name_after(words: list[str], index: int, known: Mapping[str, str]) -> str | None:
    skipped = 0
    while index < len(words) and words[index] in FILLERS and skipped < MAX_FILLERS:
        index += 1
        skipped += 1
    if index < len(words):
        return known.get(words[index])
    return None


def names_mapping(names: Iterable[str]) -> dict[str, str]:
    """A names mapping (lower case → as written) from written names."""
    return {name.strip().lower(): name.strip() for name in names if name.strip()}

"""Names people give when they introduce themselves, found in a transcript.

The phrasings are "my name is X" (also "my name's X"), "I'm X", "I am X", "this is X" and
"call me X", anywhere in the transcript, with hesitations ("um", "uh") and a title ("Dr",
"Mr") allowed between the phrase and the name, but not the end of a sentence ("Call me.
Later…"). X is taken when it is:

- a **known first name** (``resources/first_names.txt``, about 1,100 names of many
  languages; written as listed), or
- a **capitalised word** that is not a common English word, a place or a nationality
  (``NOT_NAMES``): "Hi, I'm Oluwaseun" gives Oluwaseun although no list holds it, while
  "I'm fine", "this is the front door", "call me later" or "I am here to fix the heating"
  give none (their words are lower case, and on the stop-list anyway), as does "This is
  Reception" or "I'm English".

In a transcript with capitals (Whisper writes them), a name must be capitalised, listed or
not: Whisper capitalises names, so "I'm grace…" mid-sentence is a word.

A possessive ("this is Sarah's desk") or a contraction ("My name is Don't…") introduces
nobody. In a transcript without capitals (another recogniser, typed text) only known names
are taken, the only signal left.

An unlisted name is not taken when what follows it looks like Whisper writing sounds it
could not make into words rather than a surname: an initial ("Manda B. Little It", for
"my name is on the visitor list"), or two or more further capitalised words in a row
("Manda Bee Little"). One surname is fine ("I'm Oluwaseun Adeyemi"), and a listed name is taken
whatever follows ("This is David Beacon"). When the recogniser gives its probability for
each word, an unlisted name it was unsure of (below ``MIN_UNLISTED_NAME_PROBABILITY``) is
not taken either.
"""

from __future__ import annotations

import functools
import re
import unicodedata
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
# Titles before a name: "I'm Dr. Okafor" introduces Okafor.
TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "dr", "doctor", "professor", "prof", "officer", "sir", "madam"}
)
# Words that may follow an introduction phrase capitalised but name nobody: what "I'm" and
# "this is" are followed by in everyday speech (Whisper writes these in lower case mid
# sentence, but capitalises some after a pause or for emphasis), places and services a
# security room hears ("This is Reception", "this is Security"), days and months that are
# not first names, nationalities and languages ("I'm English"), and interjections.
_NOT_NAMES_TEXT = """
    a an the this that these those it its it's he she they we you your yours his her hers
    their our my mine me him them us i one someone somebody anyone anybody nobody everyone
    here there where what who whom whose why how when which whatever
    not no yes yeah yep nope okay ok oh hey hi hello bye goodbye thanks thank please sorry
    so just also still only even really very quite too well now then again already always
    never sometimes maybe probably actually almost
    fine good great glad happy sad tired busy ready lost late early new
    old sick ill hungry cold hot fed done finished back out off over up down away home
    in on at by for from with without into onto of to as like than about after before
    going coming leaving looking trying calling talking waiting working staying
    standing sitting walking running leaving getting doing being having making taking
    here's there's
    all both each every some any many much more most less least few other another
    afraid alone able allowed supposed meant sure certain
    and or but if because while although though since until unless
    is are was were be been am do does did have has had would shall should can could
    might must
    reception security front back main north south east west left right upstairs
    downstairs lobby entrance exit gate door doors office kitchen garage basement roof
    floor building room hall corridor car park parking lot yard street road avenue lane
    control centre center desk maintenance delivery deliveries courier police fire
    ambulance emergency management facilities cleaning cleaner cleaners staff team guard
    guards visitor visitors contractor contractors engineer engineers technician
    manager supervisor operator driver nurse
    monday tuesday wednesday thursday friday saturday sunday today tonight tomorrow
    yesterday morning afternoon evening night
    january february march july september october november december
    english british american canadian australian irish scottish welsh french german
    italian spanish portuguese dutch polish russian ukrainian chinese japanese korean
    indian pakistani nigerian african european asian arabic arab turkish greek swedish
    norwegian danish finnish mexican brazilian
    london paris berlin england britain america europe
    something anything nothing everything
"""
NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())
# More capitalised words than this right after an unlisted name: garbled sounds, not a
# first name and surname.
MAX_WORDS_AFTER_UNLISTED = 1
# Whisper's probability of an unlisted name's word (mean over its tokens) below which the
# name is not taken. Set on a held-out synthesised set (48 other names in 6 other phrasings,
# 12 other non-introductions, espeak-ng/flite/festival, base and tiny.en): every unlisted
# name heard right there scored at least 0.21; 3 of its 8 unlisted false names scored
# below 0.2 ("My name is Rhythm on the form" 0.10). Measuring costs nothing: the scores
# come with the decoding.
MIN_UNLISTED_NAME_PROBABILITY = 0.2
_TOKEN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*|[.!?;:]|\d+")
_SENTENCE_END = frozenset(".!?;:")
_CONTRACTIONS = {"i'm": ("i", "am"), "name's": ("name", "is"), "im": ("i", "am")}
_CASE_INSENSITIVE_CONTRACTIONS = {"i'm", "name's"}


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


def tokens_of(transcript: str) -> list[str]:
    """The transcript's words as written (capitals kept) and its sentence ends (``.``,
    ``!``, ``?``, ``;``, ``:``) as tokens of their own, contractions of the introductions
    expanded ("I'm" → "I", "am"); typographic apostrophes become plain ones."""
    return _tokens_and_pauses(transcript)[0]


def _tokens_and_pauses(transcript: str) -> tuple[list[str], frozenset[int]]:
    """:func:`tokens_of`, and the indices of the tokens a comma or dash comes before."""
    text = transcript.replace("\u2019", "'")
    out: list[str] = []
    pauses: set[int] = set()
    previous_end = 0
    for match in _TOKEN.finditer(text):
        if any(mark in text[previous_end : match.start()] for mark in ",—–"):
            pauses.add(len(out))
        previous_end = match.end()
        token = match.group()
        lower = token.lower()
        if lower in _CONTRACTIONS and (lower in _CASE_INSENSITIVE_CONTRACTIONS or token == "im"):
            first, second = _CONTRACTIONS[lower]
            out.extend((token[0] + first[1:], second))
        else:
            out.append(token)
    return out, frozenset(pauses)


def words_of(transcript: str) -> list[str]:
    """The transcript's words in lower case, contractions of the introductions expanded."""
    return [t.lower() for t in tokens_of(transcript) if t not in _SENTENCE_END]


def extract_name(
    transcript: str,
    names: Mapping[str, str] | None = None,
    *,
    word_probabilities: Mapping[str, float] | None = None,
) -> str | None:
    """The first name introduced in ``transcript`` (rules in the module docstring): a known
    name as written in the names list (``"hi, I'm john"`` → ``"John"``), an unknown one as
    the speaker's recogniser wrote it (``"Hi, I'm Oluwaseun."`` → ``"Oluwaseun"``), or None.

    ``names`` maps lower case names to their written form (default: the shipped list);
    ``word_probabilities`` maps words of the transcript as written to the recogniser's
    probability of them (0–1), if it gives them."""
    known = load_first_names() if names is None else names
    tokens, pauses = _tokens_and_pauses(transcript)
    cased = any(c.isupper() for c in transcript) and any(c.islower() for c in transcript)
    lowered = [t.lower() for t in tokens]
    for start in range(len(tokens)):
        for phrase in INTRODUCTIONS:
            end = start + len(phrase)
            if tuple(lowered[start:end]) != phrase:
                continue
            name = _name_after(tokens, pauses, end, known, cased=cased)
            if name is not None and (name.lower() in known or _plausible(name, word_probabilities)):
                return name
    return None


def _plausible(name: str, word_probabilities: Mapping[str, float] | None) -> bool:
    """Whether the recogniser was sure enough of an unlisted name's word, if it says."""
    if word_probabilities is None or name not in word_probabilities:
        return True
    return word_probabilities[name] >= MIN_UNLISTED_NAME_PROBABILITY


def _name_after(
    tokens: list[str],
    pauses: frozenset[int],
    index: int,
    known: Mapping[str, str],
    *,
    cased: bool,
) -> str | None:
    skipped = 0
    while index < len(tokens) and tokens[index].lower() in FILLERS and skipped < MAX_FILLERS:
        index += 1
        skipped += 1
    if index < len(tokens) and tokens[index].lower().rstrip(".") in TITLES:
        index += 1
        if index < len(tokens) and tokens[index] == ".":  # "Dr. Okafor"
            index += 1
    if index >= len(tokens):
        return None
    word = tokens[index]
    if word in _SENTENCE_END or not word[0].isalpha():
        return None
    if _possessive(word) or _contraction(word):
        return None  # "this is Sarah's desk", "my name is Don't…"
    lower = word.lower()
    if cased and not word[0].isupper():
        return None  # Whisper capitalises names: "I'm grace…" mid-sentence is a word
    if lower in known:
        return known[lower]
    if not cased or lower in NOT_NAMES:
        return None
    if word.isupper() and len(word) > 1:
        return None  # an acronym ("This is BBC")
    if len(word) < 2 or _fragments_follow(tokens, pauses, index + 1):
        return None
    return word


def _fragments_follow(tokens: list[str], pauses: frozenset[int], index: int) -> bool:
    """Whether an initial, or more than ``MAX_WORDS_AFTER_UNLISTED`` capitalised words in a
    row, follow ``tokens[index - 1]`` before a comma or dash: "Manda B. Little It", "Manda Bee
    Little" ("I" starts a clause: "Wanjiru I work here" is not a fragment)."""
    words = 0
    while (
        index < len(tokens)
        and index not in pauses
        and tokens[index][0].isupper()
        and tokens[index] != "I"
    ):
        if len(tokens[index]) == 1:
            return True  # an initial: "B." or "B"
        words += 1
        index += 1
    return words > MAX_WORDS_AFTER_UNLISTED


def _possessive(word: str) -> bool:
    return word.lower().endswith("'s") or word.endswith("'")


# Endings of English contractions ("Don't", "We'll", "They're", "I've", "He'd"), which no
# name has ("O'Neil", "D'Angelo" and "Mi'kmaq" do not end so).
_CONTRACTION_ENDINGS = ("n't", "'ll", "'re", "'ve", "'d", "'m")


def _contraction(word: str) -> bool:
    return word.lower().endswith(_CONTRACTION_ENDINGS)


def names_mapping(names: Iterable[str]) -> dict[str, str]:
    """A names mapping (lower case → as written) from written names."""
    return {name.strip().lower(): name.strip() for name in names if name.strip()}


# Spellings of one sound, folded in this order (digraphs first, to placeholders in capitals).
_SOUND_RULES: tuple[tuple[str, str], ...] = (
    ("sch", "X"),
    ("ch", "X"),
    ("sh", "X"),
    ("ph", "f"),
    ("th", "t"),
    ("dh", "d"),
    ("bh", "v"),
    ("mh", "v"),
    ("gh", "g"),
    ("kh", "k"),
    ("ck", "k"),
    ("qu", "kv"),
    ("q", "k"),
    ("x", "ks"),
    ("z", "s"),
    ("w", "v"),
    ("j", "dj"),
    ("y", "i"),
)


def sound_key(name: str) -> str:
    """A rough key of how a written name sounds, for names Whisper spells another way than
    the list ("Demetri" for Dmitri, "Laila" for Leila): lower case, accents dropped, common
    spellings of one sound folded ("ph" → "f", "sh"/"ch" → "x", "c" → "k"/"s"), doubled
    letters single, the vowels after the first letter dropped, a leading vowel as "a"."""
    text = unicodedata.normalize("NFKD", name.lower())
    text = "".join(c for c in text if c.isalpha() and c.isascii())
    for spelling, sound in _SOUND_RULES:
        text = text.replace(spelling, sound)
    text = re.sub(r"c(?=[eiy])", "s", text).replace("c", "k")
    text = re.sub(r"g(?=[ei])", "dj", text).replace("X", "x")
    text = re.sub(r"(.)\1+", r"\1", text)
    if not text:
        return ""
    head = "a" if text[0] in "aeiou" else text[0]
    tail = re.sub(r"[aeiouh]", "", text[1:])
    return head + tail


def similar_names(heard: str, known: Mapping[str, str], limit: int = 4) -> tuple[str, ...]:
    """Up to ``limit`` listed names (as written) that could be ``heard`` spelled another
    way: the same :func:`sound_key`, and at most a third of its letters changed (one for
    short names), nearest spelling first. "Demetri" → Dimitri, Dmitri, Dmitry; "Laila" →
    Layla, Leila, Lila, Leyla; "Naka" → none (Nick sounds alike but is spelled too far).
    Empty for a heard name that is listed itself."""
    if heard.lower() in known:
        return ()
    key = sound_key(heard)
    if len(key) < 2:
        return ()
    allowed = max(1, len(heard) // 3)
    scored: list[tuple[int, str]] = []
    for lower, written in known.items():
        if _sound_keys(lower) != key:
            continue
        distance = edit_distance(heard.lower(), lower, allowed)
        if distance <= allowed:
            scored.append((distance, written))
    scored.sort()
    return tuple(written for _d, written in scored[:limit])


@functools.lru_cache(maxsize=4096)
def _sound_keys(lower: str) -> str:
    return sound_key(lower)


def edit_distance(a: str, b: str, ceiling: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``ceiling + 1`` once it must exceed it."""
    if abs(len(a) - len(b)) > ceiling:
        return ceiling + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        if min(current) > ceiling:
            return ceiling + 1
        previous = current
    return previous[-1]

"""Offline answers: the common questions about recorded history, answered without the LLM
from the same store queries the LLM's tools run (:mod:`engine.history.chat.tools`).

Supported forms (case and a trailing ``?`` do not matter; each may carry a time phrase and
a camera):

- **last seen**: "When did I last see John?", "When was Person_0A1B2C3D last seen?",
  "Where was Sarah last seen?", "Has John been seen today?", "How many times was John seen
  this week?" (a count of that person's events).
- **who was on a camera**: "Who was on camera 2 between 9 and 10?", "Who did the lobby
  camera see yesterday?", "Who was seen this morning?" (every camera), "How many people
  were seen…/appeared…": people, never tracks (:mod:`.presence`): the distinct identities
  (a face, an automatic id, a device, a path across senses as one person) when every track
  has one, else the most present at once, said as such ("At most 3 people at once were
  seen on Demo plaza in the last 10 minutes; 60 camera tracks, none known by name"), the
  named people's times after.
- **where someone went across senses** (the fusion service's ``person.path`` events):
  "Where was Ada this afternoon?", "Where has Ada been?", "Show Ada's path": each path one
  line, newest first ("Ada: seen by Plaza east 14:02–14:04, sensed in Lobby 14:04–14:09,
  device ‘Ada's tag’ throughout (event 41)"), cited with the clip of its camera stretch;
  where cameras saw them outside their paths is said after, or instead when they have none.
  A name only a path carries (an introduced one) is found too.
- **who went from one place into another**: "Who went from the lobby into the store
  room?", "How many people went from plaza east into the lobby?": the paths with a stretch
  in the second place after one in the first (cameras and rooms alike), people nobody has
  named included ("Someone unknown"); today unless a time is said.
- **who was sensed in a room**: "Who was in the store room?", "How many people were sensed
  in the lobby today?", "Who was sensed today?" (every room), "Who was in the sensing
  room?" (the site's one room; several: refused, naming them): people counted as on a
  camera, blobs as tracks, and their paths listed. A question that says "sensed", "sensing"
  or "room" is read for a room before a camera ("sensed in Demo plaza sensing" is the room,
  not the camera "Demo plaza").
- **counts**: "How many person sightings today?" (``person.appeared``), "… faces were
  recognised …" (``face.recognised``), "… people left …", "… falls …", "… movements …"
  (``sensing.blob_appeared``), "… alerts …", "… incidents …", "… events …" (all kinds, by
  kind); with a camera for camera events.
- **what happened around a time**: "What happened around 3pm?", "What happened at 14:30
  yesterday on camera 2?", "What happened between 9 and 10?": in plain words, the people
  (as people), falls, alerts (loitering said), cameras offline and named people in the
  window, the notable events cited; "Anything unusual in the last hour?": the alerts,
  falls, loitering and cameras offline alone, or that there were none.
- **alerts handled**: "Did anyone loiter tonight?" (loitering alerts), "Who acknowledged
  the last alert?", "… alert #12?", "… the last fall alert?"; "When did someone last
  appear on the plaza camera?" (the newest appearance there, or in a room).
- **falls, alerts, incidents in a period**: "Were there any falls this week?", "Did anyone
  fall yesterday?", "Any critical alerts today?", "Were there any theft incidents last
  week?".
- **reports and notes about something** (meaning search, :mod:`engine.text_search`): "Any
  reports about someone collapsing?", "Did anyone report a drone last week?", "What do the
  notes say about the white van?", "Find incidents like a fight at the gate": the incident
  reports, bookmarks' notes and event summaries closest in meaning, best first (events cited).

Time phrases, all on the site's wall clock and calendar (the :class:`~engine.sitetime.SiteTime`
the answerer is given; UTC instead when the question says "UTC" or "GMT"), relative to the
clock's ``now``: today,
yesterday, this morning (05:00-12:00), this afternoon (12:00-17:00), this evening
(17:00-22:00), last night (yesterday 18:00 - today 06:00), this week (from Monday 00:00),
last week (the Monday-to-Monday before), this month, last month, the last/past N
minutes/hours/days/weeks (also "the last hour"), since 8am / since yesterday, on
2026-11-20 / on 20 November / on Monday (the latest such day, today included), between 9
and 10 / from 9:30 to 10:15 (am/pm allowed; "between 9 and 10 pm" is 21-22), at 14:30
(± 5 min), around 3pm / about 15:00 (± 5 min, said in the answer). A time of day without
a day is today's, or yesterday's when today's has not begun yet. "Today" runs from the
site's midnight, so on a day the clocks change it is 23 or 25 hours long; "the last N
hours" are N elapsed hours.
A time still to come is not answered.
Without a time phrase "last seen", counts, paths and falls/alerts/incidents cover all the
history; "who was on a camera", "who was sensed", "who went from … into …" and "what
happened" cover today (the answer says so).

Rooms: by id or by name as the paths carry it ("in the kitchen", "the store room"); a
camera and a room may share a name, a place then being both (in "from … into …").
Cameras: by key or name anywhere in the question ("cam3", "the Lobby camera"), or
"camera N" / "cam N": the camera whose key or name carries the number N on its own
("cam2", "Camera 2", "gate-2"); if none does, the N-th camera in site order (the order of
the site file); if several do, the question is ambiguous and not answered. People: by
public id or whole name (case-insensitive), else by every word of a name ("John" finds
"John Carter"); several matches are ambiguous, none is "I have no record of anyone called
X" - never a guess.

Times in an answer are the site's wall clock, each with the zone's abbreviation (``IST``,
``GMT``/``BST``) where UTC was said before; the facts and citations stay UTC.

An answer states only what the queries returned and cites the events it used (at most
:data:`MAX_CITATIONS`; a "who" answer cites the first sighting of every named person it
lists, at most :data:`MAX_NAMES`). A question outside these forms, or ambiguous, is not
answered (``answered=False``, no citations): it says so and lists the forms it can answer.
Any thread; each answer opens its own connections.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from engine.history.chat.across_senses import (
    CameraJoins,
    Place,
    camera_joins,
    names_in_paths,
    read_paths,
    room_names,
    sensed_people,
    stretches_in,
    went_from_to,
)
from engine.history.chat.presence import Presence, path_identities, people_words, presence
from engine.history.chat.tools import (
    FALL_KIND,
    MAX_LIMIT,
    CameraRef,
    Citation,
    PersonRef,
    SeenPerson,
    cameras,
    citation_of,
    count_events,
    distinct_people,
    events_by_id,
    find_people,
    iso,
    iso_exact,
    list_alerts,
    list_incidents,
    numbered_cameras,
    people_pictures,
    person_sightings,
    rooms,
    run_tool,
    search_events,
)
from engine.history.paths import PersonPath, path_sentence
from engine.sitetime import UTC_TIME, SiteTime
from engine.store.database import Store
from engine.vocabulary import INCIDENT_CATEGORIES

MAX_CITATIONS: Final = 10
MAX_NAMES: Final = 25  # named people listed (and cited) in a "who was on camera" answer
MAX_NAMED_LOOKED_AT: Final = 50  # named people a "what happened" answer chooses among
MAX_NAMED_SHOWN: Final = 10  # ...and lists, those seen nearest the window's middle
MAX_PATH_LINES: Final = 10  # paths across senses an answer shows, one line each
MAX_UNKNOWN_TIMES: Final = 10  # times listed of the people sensed whom nobody has named
AT_WINDOW: Final = timedelta(minutes=5)
AROUND_WINDOW: Final = timedelta(minutes=5)  # "around 22:08": a few minutes either side
PARTS_OF_DAY: Final = {
    "morning": (time(5), time(12)),
    "afternoon": (time(12), time(17)),
    "evening": (time(17), time(22)),
}

CANNOT: Final = "I can't answer that from the records."
FORMS_HELP: Final = (
    "I can answer: when someone was last seen (\u201cWhen did I last see John?\u201d), who "
    "was on a camera in a time range (\u201cWho was on camera 2 between 9 and 10?\u201d), "
    "counts by type and period (\u201cHow many falls this week?\u201d), where someone went "
    "across cameras and sensed rooms (\u201cWhere was Ada this afternoon?\u201d), who was in "
    "a sensed room or went from one place into another (\u201cWho went from the lobby into "
    "the store room?\u201d), what happened around "
    "a time (\u201cWhat happened around 3pm?\u201d), falls, alerts or incidents in a "
    "period (\u201cWere there any falls this week?\u201d), and reports or notes about "
    "something (\u201cAny reports about someone collapsing?\u201d)."
)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``[start, end)`` in UTC (``start`` None: from the beginning) and how to say it."""

    start: datetime | None
    end: datetime
    label: str

    def args(self) -> dict[str, Any]:
        """The range as tool arguments, to the microsecond (:func:`iso_exact`)."""
        out: dict[str, Any] = {"end": iso_exact(self.end)}
        if self.start is not None:
            out["start"] = iso_exact(self.start)
        return out

    def as_json(self) -> dict[str, str | None]:
        return {"start": None if self.start is None else iso(self.start), "end": iso(self.end)}


@dataclass(frozen=True, slots=True)
class OfflineAnswer:
    """What the offline answerer said: the text, whether it answered, the events cited,
    which form it recognised (None: none) and ``facts``, the values the text states (the
    person, camera, range, counts and ids), for tests and the benchmark."""

    text: str
    answered: bool
    citations: tuple[Citation, ...] = ()
    form: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    people: tuple[SeenPerson, ...] = ()  # who a "who"/"how many people" answer counted


class QuestionError(ValueError):
    """The question names something the records do not have, or names it ambiguously."""


# ------------------------------------------------------------------------------ time phrases

_NUMBERS: Final = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "twenty": 20,
    "thirty": 30,
}
_UNITS: Final = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
_WEEKDAYS: Final = [d.lower() for d in calendar.day_name]
_MONTHS: Final = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})

_CLOCK = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?|noon|midday|midnight)"
_PREP = r"(?:\b(?:on|at|in|during|from|for|over|of)\s+)?(?:\bthe\s+)?"
_RE_PERIOD = re.compile(
    _PREP + r"\b(?P<which>this|last|past|previous)\s+(?P<unit>week|month)\b"
    r"|" + _PREP + r"\b(?:last|past|previous)\s+(?P<n>\d+|" + "|".join(_NUMBERS) + r")?\s*"
    r"(?P<units>minute|hour|day|week)s?\b"
)
_RE_SINCE = re.compile(r"\bsince\s+(?P<what>yesterday|today|this morning|" + _CLOCK + r")")
_RE_SPAN = re.compile(
    r"(?:\b(?:on|at|in|during)\s+)?(?:\bthe\s+)?\b(?:between|from)\s+(?P<a>" + _CLOCK + r")\s+"
    r"(?:and|to|until|till|-)\s+(?P<b>" + _CLOCK + r")"
)
_RE_POINT = re.compile(
    r"\b(?P<how>at|around|about|near|circa|approximately)\s+(?:roughly\s+)?"
    r"(?P<t>\d{1,2}:\d{2}\s*(?:am|pm)?|\d{1,2}\s*(?:am|pm|o'?clock)|\d{1,2}(?=\s|$)|noon|midday|midnight)"
)
_RE_ISO_DATE = re.compile(r"(?:\bon\s+)?\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")
_RE_DAY_MONTH = re.compile(
    r"(?:\bon\s+)?(?:\bthe\s+)?\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>"
    + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")\b(?:\s+(?P<y>\d{4}))?"
)
_RE_MONTH_DAY = re.compile(
    r"(?:\bon\s+)?\b(?P<mon>"
    + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{4}))?"
)
_RE_WEEKDAY = re.compile(r"(?:\b(?:on|last)\s+)?\b(?P<wd>" + "|".join(_WEEKDAYS) + r")\b")
_RE_RELDAY = re.compile(r"(?:\b(?:for|on|of|from|during)\s+)?\b(?P<day>today|yesterday)\b")
_RE_PART = re.compile(
    r"(?:\b(?:in|during|for|of|on)\s+)?(?:\b(?P<which>this|yesterday|the)\s+)?"
    r"\b(?P<part>morning|afternoon|evening)\b|\b(?P<night>last night|overnight|tonight)\b"
)
_FUTURE = re.compile(
    r"\b(?:tomorrow|next (?:week|month|year|day|hour)|will|going to|gonna|predict|forecast)\b"
)
# "How many people are on the plaza now?": the present moment (counted from as late as the
# records can say who had gone by, :mod:`engine.history.departures`).
_RE_NOW = re.compile(r"\b(?:right now|just now|now|currently|at the moment|at present)\b")
_RE_ASKS_PEOPLE = re.compile(r"^(?:how many|who)\b")  # the questions "now" is a time of
NOW_SPAN: Final = timedelta(seconds=1)


def _clock_time(text: str) -> time:
    text = text.strip().replace(".", "").replace("o'clock", "").replace("oclock", "").strip()
    if text in ("noon", "midday"):
        return time(12)
    if text == "midnight":
        return time(0)
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", text)
    if match is None:
        raise QuestionError(f"I can't read the time {text!r}")
    hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
    if half == "pm" and hour < 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise QuestionError(f"{text!r} is not a time of day")
    return time(hour, minute)


def _fmt_day(day: datetime) -> str:
    return day.strftime("%Y-%m-%d")


def _fmt_range(start: datetime, end: datetime, zone: str) -> str:
    """A range of wall-clock times (naive, on the site's clock) as an answer says it."""
    if start.date() == end.date() or (end - start <= timedelta(days=1) and end.time() == time(0)):
        if end - start == timedelta(days=1) and start.time() == time(0):
            return f"on {_fmt_day(start)}"
        tail = "24:00" if end.time() == time(0) and end.date() != start.date() else f"{end:%H:%M}"
        return f"between {start:%H:%M} and {tail} {zone} on {_fmt_day(start)}"
    return f"from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} {zone}"


class _TimeParser:
    """Finds the time phrase of a question and takes it out of the text.

    Days and times of day are reckoned on ``site``'s wall clock, as naive datetimes
    (``today`` is the site's midnight, ``wall_now`` its clock now), and become UTC
    instants only in :meth:`_clip`, so "this morning" is 05:00-12:00 there whatever the
    offset, and a day is 23 or 25 hours long when its clocks change."""

    def __init__(self, now: datetime, site: SiteTime) -> None:
        self.site = site
        self.now = now.astimezone(UTC)
        self.wall_now = site.local(now).replace(tzinfo=None)
        self.today = self.wall_now.replace(hour=0, minute=0, second=0, microsecond=0)

    def _zone(self, wall: datetime) -> str:
        """The zone's abbreviation at the wall-clock time ``wall`` (``IST``, ``BST``)."""
        return self.site.zone_label(self.site.to_utc(wall))

    def parse(self, text: str) -> tuple[TimeRange | None, str]:
        if _FUTURE.search(text):
            raise QuestionError("I only know what has already been recorded, not what is to come.")
        text, period = self._take(_RE_PERIOD, text)
        if period is not None:
            return self._period(period), text
        if _RE_ASKS_PEOPLE.match(text):  # "where is Ada now?" stays her last sighting
            text, present = self._take(_RE_NOW, text)
            if present is not None:
                return self._clip(self.now - NOW_SPAN, self.now, "now"), text
        text, since = self._take(_RE_SINCE, text)
        text, day_label, day = self._day(text)
        text, part = self._take(_RE_PART, text)
        text, span = self._take(_RE_SPAN, text)
        text, point = self._take(_RE_POINT, text) if span is None else (text, None)
        if since is not None:
            return self._since(since["what"]), text
        if part is not None:
            return self._part(part, day, day_label), text
        if span is not None:
            a, b = _clock_time(span["a"]), _clock_time(span["b"])
            a_half = re.search(r"(am|pm|a\.m\.|p\.m\.)\s*$", span["a"])
            if a_half is None and "pm" in span["b"] and a.hour < 12 and a.hour + 12 <= b.hour:
                a = a.replace(hour=a.hour + 12)
            return self._window(day, a, b, explicit_day=day is not None), text
        if point is not None:
            at = _clock_time(point["t"])
            width = AT_WINDOW if point["how"] == "at" else AROUND_WINDOW
            base = self._base(day, at)
            centre = base + timedelta(hours=at.hour, minutes=at.minute)
            word = "at" if point["how"] == "at" else "around"
            minutes = int(width.total_seconds() // 60)
            label = (
                f"{word} {centre:%H:%M} {self._zone(centre)} (\u00b1{minutes} min) "
                f"on {_fmt_day(centre)}"
            )
            return self._clip(centre - width, centre + width, label), text
        if day is not None:
            return self._clip(
                day, day + timedelta(days=1), day_label or f"on {_fmt_day(day)}"
            ), text
        return None, text

    @staticmethod
    def _take(pattern: re.Pattern[str], text: str) -> tuple[str, re.Match[str] | None]:
        match = pattern.search(text)
        if match is None:
            return text, None
        return _squash(text[: match.start()] + " " + text[match.end() :]), match

    def _day(self, text: str) -> tuple[str, str | None, datetime | None]:
        text, rel = self._take(_RE_RELDAY, text)
        if rel is not None:
            if rel["day"] == "today":
                return text, "today", self.today
            return text, "yesterday", self.today - timedelta(days=1)
        text, iso_date = self._take(_RE_ISO_DATE, text)
        if iso_date is not None:
            day = self._date(int(iso_date["y"]), int(iso_date["m"]), int(iso_date["d"]))
            return text, None, day
        for pattern in (_RE_DAY_MONTH, _RE_MONTH_DAY):
            text, named = self._take(pattern, text)
            if named is not None:
                month = _MONTHS[named["mon"]]
                year = int(named["y"]) if named["y"] else self.wall_now.year
                day = self._date(year, month, int(named["d"]))
                if not named["y"] and day > self.today:
                    day = self._date(year - 1, month, int(named["d"]))
                return text, None, day
        text, weekday = self._take(_RE_WEEKDAY, text)
        if weekday is not None:
            back = (self.today.weekday() - _WEEKDAYS.index(weekday["wd"])) % 7
            day = self.today - timedelta(days=back)
            return text, f"on {weekday['wd'].capitalize()} {_fmt_day(day)}", day
        return text, None, None

    def _date(self, year: int, month: int, day: int) -> datetime:
        try:
            return datetime(year, month, day)
        except ValueError:
            raise QuestionError(f"{year}-{month:02d}-{day:02d} is not a date") from None

    def _base(self, day: datetime | None, at: time) -> datetime:
        """The day a time of day belongs to: the one named, else today, else (today's has
        not begun) yesterday."""
        if day is not None:
            return day
        if self.today + timedelta(hours=at.hour, minutes=at.minute) > self.wall_now:
            return self.today - timedelta(days=1)
        return self.today

    def _window(self, day: datetime | None, a: time, b: time, *, explicit_day: bool) -> TimeRange:
        base = self._base(day, a)
        start = base + timedelta(hours=a.hour, minutes=a.minute)
        end = base + timedelta(hours=b.hour, minutes=b.minute)
        if end <= start:
            end += timedelta(days=1)  # "between 22:00 and 2:00"
        return self._clip(start, end, _fmt_range(start, end, self._zone(start)))

    def _clip(self, start: datetime, end: datetime, label: str) -> TimeRange:
        """The range ``[start, end)`` as UTC, cut at now: each bound a site wall-clock time
        (naive) or an instant (aware, such as ``self.now``)."""
        low, high = self.site.to_utc(start), self.site.to_utc(end)
        if low >= self.now:
            raise QuestionError("That time has not come yet: I only know what was recorded.")
        return TimeRange(low, min(high, self.now), label)

    def _period(self, match: re.Match[str]) -> TimeRange:
        if match["unit"]:
            unit, which = match["unit"], match["which"]
            if unit == "week":
                this_week = self.today - timedelta(days=self.today.weekday())
                if which == "this":
                    return self._clip(this_week, self.now, "this week")
                start = this_week - timedelta(days=7)
                return self._clip(start, this_week, f"last week (from {_fmt_day(start)})")
            this_month = self.today.replace(day=1)
            if which == "this":
                return self._clip(this_month, self.now, f"this month ({this_month:%B %Y})")
            previous = (this_month - timedelta(days=1)).replace(day=1)
            return self._clip(previous, this_month, f"last month ({previous:%B %Y})")
        n_text = match["n"] or "1"
        n = int(n_text) if n_text.isdigit() else _NUMBERS[n_text]
        if n < 1 or n > 3660:
            raise QuestionError(f"{n} {match['units']}s is not a period I can look back over")
        seconds = _UNITS[match["units"]] * n
        unit = match["units"] + ("s" if n != 1 else "")
        label = f"in the last {n} {unit}" if n != 1 else f"in the last {unit}"
        return self._clip(self.now - timedelta(seconds=seconds), self.now, label)

    def _since(self, what: str) -> TimeRange:
        if what == "yesterday":
            start = self.today - timedelta(days=1)
        elif what == "today":
            start = self.today
        elif what == "this morning":
            start = self.today + timedelta(hours=5)
        else:
            at = _clock_time(what)
            start = self._base(None, at) + timedelta(hours=at.hour, minutes=at.minute)
        return self._clip(start, self.now, f"since {start:%Y-%m-%d %H:%M} {self._zone(start)}")

    def _part(self, match: re.Match[str], day: datetime | None, day_label: str | None) -> TimeRange:
        if match["night"]:
            if match["night"] == "tonight":
                # Before 06:00 the night under way began yesterday evening.
                night = self.today - timedelta(days=1 if self.wall_now.hour < 6 else 0)
                start = night + timedelta(hours=18)
                return self._clip(start, night + timedelta(days=1, hours=6), "tonight")
            start = self.today - timedelta(hours=6)
            return self._clip(start, self.today + timedelta(hours=6), "last night")
        a, b = PARTS_OF_DAY[match["part"]]
        if match["which"] == "yesterday":
            base, word = self.today - timedelta(days=1), "yesterday"
        elif day is not None:
            base, word = day, (day_label or f"on {_fmt_day(day)}")
        else:
            base, word = self.today, "this"
        start = base + timedelta(hours=a.hour)
        if word in ("this", "yesterday", "today"):
            label = f"{'this' if word == 'today' else word} {match['part']}"
        else:
            label = f"{word} in the {match['part']}"
        return self._clip(start, base + timedelta(hours=b.hour), label)


def _squash(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------------------ cameras

_RE_CAMERA_NUMBER = re.compile(
    r"(?:\b(?:on|at|in|by|from|of|near)\s+)?(?:\bthe\s+)?\b(?:camera|cam)\s*(?:number\s*|no\.?\s*|#\s*)?"
    r"(?P<n>\d+)\b(?:\s+camera\b)?"
)
_RE_CAMERA_WORD = re.compile(
    r"(?:\b(?:on|at|in|by|from|of|near)\s+)?(?:\bthe\s+)?\bcamera\s+(?P<word>[a-z][\w\-]*)"
)
_NOT_CAMERA_NAMES: Final = frozenset(
    {
        "between",
        "today",
        "yesterday",
        "this",
        "last",
        "see",
        "saw",
        "record",
        "recorded",
        "around",
        "at",
        "on",
        "in",
        "since",
        "during",
        "and",
        "or",
        "from",
        "see?",
    }
)


_PLACE_PREPS: Final = frozenset({"on", "at", "in", "by", "from", "of", "near"})
# Words that are never part of a camera's name in "the plaza camera" (read backwards from
# "camera"): what a question puts before the name.
_NOT_NAME_WORDS: Final = _PLACE_PREPS | frozenset(
    {
        "the", "did", "does", "was", "were", "is", "any", "a", "an", "every", "all", "which",
        "what", "that", "this", "see", "seen", "saw", "who", "how", "many", "people", "anyone",
        "anybody", "someone", "there", "been", "has", "have", "times", "often", "record",
        "recorded", "whole", "each", "my", "our", "your",
    }
)  # fmt: skip
# Words that may follow a camera's name in a question ("on the yard today", "on plaza
# east and…"); any other word makes it another place ("on plaza west").
_AFTER_NAME: Final = frozenset(
    {
        "camera", "cam", "cameras", "and", "or", "see", "saw", "seen", "did", "was", "were",
        "recorded", "record", "at", "in", "on", "by", "during", "for", "between", "from",
        "since", "around", "about", "then", "so", "far", "too", "please", "yet", "all", "ever",
    }
)  # fmt: skip


def _name_words(camera: CameraRef) -> set[str]:
    """The words a camera is known by: its key and each word of its name."""
    words = {w for w in re.split(r"[\s_]+", camera.name.lower()) if w}
    return words | {camera.key.lower()}


def _unknown_camera(name: str, known: Iterable[CameraRef]) -> QuestionError:
    return QuestionError(
        f"I don\u2019t know a camera called \u201c{name}\u201d; {_camera_list(known)}."
    )


def resolve_camera(text: str, known: list[CameraRef]) -> tuple[CameraRef | None, str]:
    """The camera the question names (see the module) and the question without it;
    :class:`QuestionError` for a camera it does not have or names ambiguously.

    Tried in turn: "camera N"; a camera's key or whole name; "the plaza camera" (words
    before "camera", every one a word of one camera's name); "on the yard" (a word of
    one camera's name after on/at/in…, unless the next word makes it another place:
    "on plaza west" is no camera, said so, never Plaza east)."""
    match = _RE_CAMERA_NUMBER.search(text)
    if match is not None:
        n = int(match["n"])
        rest = _squash(text[: match.start()] + " " + text[match.end() :])
        numbered = numbered_cameras(known, n)
        if len(numbered) == 1:
            return numbered[0], rest
        if len(numbered) > 1:
            names = ", ".join(c.label for c in numbered)
            raise QuestionError(f"Several cameras could be camera {n}: {names}. Which one?")
        raise QuestionError(f"I have no camera {n} ({_camera_list(known)}).")
    found: list[tuple[int, CameraRef, re.Match[str]]] = []
    for camera in known:
        for name in {camera.key.lower(), camera.name.lower()}:
            if len(name) < 2:
                continue
            pattern = (
                r"(?:\b(?:on|at|in|by|from|of|near)\s+)?(?:\bthe\s+)?(?<![\w])"
                + re.escape(name)
                + r"(?![\w])(?:\s+cam(?:era)?\b)?"
            )
            hit = re.search(pattern, text)
            if hit is not None:
                found.append((len(name), camera, hit))
    if found:
        found.sort(key=lambda f: -f[0])
        longest, camera, hit = found[0]
        others = {c.key for size, c, _ in found if c.key != camera.key and size == longest}
        if others:
            raise QuestionError(f"Which camera do you mean: {camera.label} or {', '.join(others)}?")
        return camera, _squash(text[: hit.start()] + " " + text[hit.end() :])
    tokens = text.split()
    for i, token in enumerate(tokens):
        if token not in ("camera", "cam"):
            continue
        j = i
        while (
            j > 0
            and i - j < 3
            and tokens[j - 1] not in _NOT_NAME_WORDS
            and re.fullmatch(r"[a-z][\w\-]*", tokens[j - 1])
        ):
            j -= 1
        words = tokens[j:i]
        if not words:
            continue
        holders = [c for c in known if set(words) <= _name_words(c)]
        if not holders:
            raise _unknown_camera(" ".join(words), known)
        if len(holders) > 1:
            names = ", ".join(c.label for c in holders)
            raise QuestionError(f"Several cameras could be the {' '.join(words)} camera: {names}.")
        k = j
        while k > 0 and tokens[k - 1] == "the":
            k -= 1
        if k > 0 and tokens[k - 1] in _PLACE_PREPS:
            k -= 1
        return holders[0], _squash(" ".join(tokens[:k] + tokens[i + 1 :]))
    for hit in re.finditer(
        r"\b(?:on|at|by|from|near)\s+(?:the\s+)?(?P<w>[a-z][\w\-]*)(?:\s+(?P<next>[a-z][\w\-]*))?",
        text,
    ):
        holders = [c for c in known if hit["w"] in _name_words(c)]
        if not holders:
            continue
        after = hit["next"]
        if after and after not in _AFTER_NAME and all(after not in _name_words(c) for c in holders):
            raise _unknown_camera(f"{hit['w']} {after}", known)
        if len(holders) > 1:
            names = ", ".join(c.label for c in holders)
            raise QuestionError(f"Several cameras could be the {hit['w']}: {names}. Which one?")
        cut = hit.end() if after and after in _name_words(holders[0]) else hit.end("w")
        return holders[0], _squash(text[: hit.start()] + " " + text[cut:])
    word = _RE_CAMERA_WORD.search(text)
    if word is not None and word["word"] not in _NOT_CAMERA_NAMES:
        raise _unknown_camera(word["word"], known)
    return None, text


def resolve_room(
    text: str, known: Iterable[str], names: Mapping[str, str] | None = None
) -> tuple[str | None, str]:
    """The sensing room the question names ("in the kitchen", "ward", "the store room" for
    a room named "Store room") and the question without it; None when it names none of
    ``known`` (room ids) by its id or its name in ``names`` (room id -> name)."""
    spoken = {room: room for room in known}
    for room, name in (names or {}).items():
        spoken.setdefault(" ".join(name.lower().split()), room)
    for said in sorted(spoken, key=len, reverse=True):
        hit = re.search(
            r"(?:\b(?:in|into|at|on|of|from|through)\s+)?(?:\bthe\s+)?(?<![\w])"
            + re.escape(said.lower())
            + r"(?![\w])(?:\s+room\b)?",
            text,
        )
        if hit is not None:
            return spoken[said], _squash(text[: hit.start()] + " " + text[hit.end() :])
    return None, text


_RE_ROOM_WORDS: Final = re.compile(r"\bsens(?:ed|ing|ors?)\b|\brooms?\b")
_RE_THE_ROOM: Final = re.compile(
    r"(?:\b(?:in|into|at|of|from|through)\s+)?\bthe\s+(?:sensing\s+room|sensing|room)\b"
)


def _the_room(text: str, known: Sequence[str], names: Mapping[str, str]) -> tuple[str | None, str]:
    """ "the sensing room", "the room": the site's one room (and the question without the
    words); None when the question says neither. Several rooms or none:
    :class:`QuestionError` naming them (which one is not guessed)."""
    hit = _RE_THE_ROOM.search(text)
    if hit is None:
        return None, text
    if len(known) == 1:
        return known[0], _squash(text[: hit.start()] + " " + text[hit.end() :])
    if not known:
        raise QuestionError("I have no sensing room with anything recorded to answer about.")
    listed = ", ".join(names.get(r, r) for r in known)
    raise QuestionError(f"This site has several sensing rooms: {listed}. Which one?")


def _camera_list(known: Iterable[CameraRef]) -> str:
    labels = [c.label for c in known]
    return "cameras: " + (", ".join(labels) if labels else "none")


# ------------------------------------------------------------------------------ forms

_WHO_WORDS: Final = r"(?P<who>[\w][\w .'\-]*?)"
_RE_LAST_SEEN = [
    re.compile(
        r"^(?:when|where) (?:did|have|has) "
        r"(?:i|we|you|anyone|anybody|someone|the cameras?|a camera) (?:last )?"
        r"(?:see|seen|spot|spotted|notice|noticed|record|recorded) "
        + _WHO_WORDS
        + r"(?: last)?(?: time)?$"
    ),
    re.compile(
        r"^(?:when|where) (?:was|were|is) " + _WHO_WORDS + r" (?:last |most recently )?"
        r"(?:seen|spotted|recorded|sighted|on camera|here)(?: last)?$"
    ),
    re.compile(
        r"^(?:when was |what was )?(?:the )?last (?:time|sighting)(?: that| of)? "
        + _WHO_WORDS
        + r"(?: was)?(?: seen)?$"
    ),
    re.compile(
        r"^(?:has|have|was|were|did) "
        + _WHO_WORDS
        + r" (?:been )?(?:seen|spotted|recorded|here|appear|appeared|come in|show up)$"
    ),
    re.compile(
        r"^(?:did|have|has) (?:i|we|you|anyone|the cameras?) (?:see|seen|spot|spotted) "
        + _WHO_WORDS
        + r"$"
    ),
]
_RE_TIMES_SEEN = [
    re.compile(
        r"^how (?:many times|often) (?:was|has|did|were|have) "
        + _WHO_WORDS
        + r" (?:been )?(?:seen|spotted|recorded|appear|appeared|come in|show up)$"
    ),
    re.compile(
        r"^how (?:many times|often) (?:did|have|has) (?:i|we|you|the cameras?) "
        r"(?:see|seen|spot|spotted) " + _WHO_WORDS + r"$"
    ),
]
_RE_WHO = re.compile(
    r"^who(?: else)?(?:'s| (?:was|were|has been|have been|got|is recorded|was recorded))?"
    r"(?: (?:seen|spotted|recorded|caught|sensed|there|here|around|present|visible))?"
    r"(?: (?:on|at|in|by|near|on camera))?(?: camera)?$"
    r"|^who (?:came|appeared|passed|walked|showed up|came in|went by|entered)(?: by| in| past)?$"
    r"|^who (?:did|has|have) (?:the )?(?:camera|cameras|it|we|i)? ?(?:see|seen|record|recorded)$"
    r"|^(?:which|what) people (?:were|was) (?:seen|on|there|here)(?: on)?$"
    r"|^(?:list|show)(?: me)? (?:the |all )?(?:people|persons|everyone|everybody)"
    r"(?: (?:seen|on|who was seen|that were seen))?$"
    # Yes-or-no forms: "was anyone seen on the plaza camera this afternoon?"
    r"|^(?:was|were|has|have|is|did) (?:there )?(?:anyone|anybody|someone|somebody|any ?one"
    r"|any people|people)(?: been)?(?: (?:seen|spotted|recorded|caught|there|here|around"
    r"|present|visible|appear|come|pass|show up|walk by))?(?: (?:on|at|in|by|near))?"
    r"(?: camera)?$"
)
_RE_SENSED: Final = re.compile(r"\bsensed\b")
_RE_PATH_OF: Final = [
    re.compile(
        r"^where (?:was|were|has|have|had) "
        + _WHO_WORDS
        + r"(?: been| gone| going| walked| wandered| gone to| been to)?$"
    ),
    re.compile(r"^where (?:did|does) " + _WHO_WORDS + r" (?:go|walk|wander|head|move)(?: to)?$"),
    re.compile(
        r"^(?:show|give|tell|trace|list|follow)(?: me| us)? (?:the )?"
        + _WHO_WORDS
        + r"(?:'s|') (?:path|paths|route|routes|movements|whereabouts|trail|way)$"
    ),
    re.compile(
        r"^(?:what|which) (?:was|were|is|are) (?:the )?"
        + _WHO_WORDS
        + r"(?:'s|') (?:path|paths|route|routes|movements|whereabouts|trail)$"
    ),
    re.compile(
        r"^(?:show|give|tell|trace|list|follow)(?: me| us)? (?:the )?"
        r"(?:path|paths|route|routes|movements|whereabouts|trail) of " + _WHO_WORDS + r"$"
    ),
]
_MOVED = (
    r"(?:went|go|gone|walked|walk|moved|move|came|come|passed|pass|headed|head|crossed|cross"
    r"|wandered|got|get|stepped|was|were)"
)
_ASK_WHO = r"(?P<ask>who|how many (?:different |distinct )?(?:people|persons|visitors))"
_RE_FROM_TO: Final = [
    re.compile(
        rf"^{_ASK_WHO}(?: (?:have|has|had|did))? {_MOVED}(?: over| across| straight)? "
        r"from (?P<a>.+?) (?:in|on|over |across |through )?to (?P<b>.+)$"
    ),
    re.compile(
        rf"^{_ASK_WHO}(?: (?:have|has|had|did))? {_MOVED} (?:in|on)?to (?P<b>.+?) "
        r"from (?P<a>.+)$"
    ),
]
_PLACE_FILLER: Final = frozenset({"the", "room", "camera", "cam", "view", "area", "sensing"})
_RE_COUNT = re.compile(r"^how many\b")
_RE_COUNT_WORDS = re.compile(
    r"^(?:count(?: the)?|what(?:'s| is| was) the number of|(?:the )?number of)\s+"
)
_RE_WHAT = re.compile(
    r"^(?:what|anything)(?: else)? (?:happened|happen|went on|was going on|was happening|"
    r"occurred|did happen|events|activity|unusual|notable|was recorded)\b"
    r"|^(?:show|list|tell)(?: me)? (?:what happened|the events|events|everything|activity)\b"
    r"|^(?:summari[sz]e|summary of)(?: (?:the )?(?:day|events|activity|what happened))?$"
    r"|^(?:was|were) there any (?:events|activity)\b"
    r"|^did anything(?: (?:unusual|notable|strange|odd|suspicious))? happen\b"
    r"|^(?:was|is|were) there (?:anything|something) (?:unusual|notable|strange|odd|suspicious)\b"
)
_RE_LOITER: Final = re.compile(r"\bloiter(?:s|ed|ing|ers?)?\b")
_RE_ACKNOWLEDGED: Final = re.compile(
    r"^who (?:has |had )?(?:acknowledged|acked|ack'd|confirmed|handled)\b.*\balerts?\b"
    r"|^(?:was|has|had) (?:the |that )?(?:last |latest )?.*\balert\b.*\backnowledged\b"
)
_RE_SOMEONE_LAST: Final = re.compile(
    r"^when (?:did|was|were|has) (?:someone|anyone|somebody|anybody|a person|people|the last "
    r"person)(?: last)? (?:appear|appeared|seen|spotted|show up|showed up|detected|sensed"
    r"|come|came|arrive|arrived)(?: last)?\b"
)
_RE_UNUSUAL: Final = re.compile(
    r"\b(?:unusual|notable|strange|odd|suspicious|wrong|abnormal|out of the ordinary|worrying)\b"
)
_CAMERA_DOWN_KINDS: Final = ("camera.offline", "camera.error", "camera.no_footage")
_RE_ANY = re.compile(
    r"^(?:were there|was there|have there been|has there been|did we have|did we get|"
    r"any|list|show|show me|give me|were|are there|tell me about|what)\b"
)

_PEOPLE = r"(?:different |distinct |unique |individual )?(?:people|persons|visitors)"
_COUNT_SUBJECTS: Final[list[tuple[re.Pattern[str], str]]] = [
    (
        re.compile(
            rf"^how many {_PEOPLE}(?: were| was| have been| got| are| is)?"
            r"(?: (?:seen|spotted|sighted|sensed|recorded|there|here|on|around|caught)\b|$)"
            # "How many people did the plaza camera see?", the camera taken out.
            rf"|^how many {_PEOPLE} (?:did|have|has) (?:the )?(?:cameras? |it |we |you |i )?"
            r"(?:see|seen|spot|spotted|record|recorded|catch|caught)\b"
        ),
        "people",
    ),
    (
        re.compile(
            rf"^how many (?:{_PEOPLE}(?: have| had)? (?:appeared|appear|arrived|arrive|came|"
            r"come|entered|enter|passed|showed up|detected|were detected)|(?:person )?"
            r"(?:appearances|sightings|arrivals|detections|person detections))\b"
        ),
        "person.appeared",
    ),
    (
        re.compile(
            rf"^how many (?:{_PEOPLE}(?: have| had)? (?:left|departed|exited|went)|"
            r"departures|exits)\b"
        ),
        "person.left",
    ),
    (
        re.compile(r"^how many (?:faces|face recognitions|recognitions|recognised faces)\b"),
        "face.recognised",
    ),
    (
        re.compile(r"^how many (?:movements|blobs|sensing events|motion events|sensing blobs)\b"),
        "sensing.blob_appeared",
    ),
    (re.compile(r"^how many (?:events|things happened|recorded events)\b"), "events"),
]
_COUNT_NOUNS: Final = {
    "person.appeared": ("person appearance", "person appearances"),
    "person.left": ("person leaving", "people leaving"),
    "face.recognised": ("face recognition", "face recognitions"),
    "sensing.blob_appeared": ("movement (sensing)", "movements (sensing)"),
}
_SEVERITIES: Final = ("critical", "warning", "info")
_ALERT_KINDS: Final = {"fall": "fall", "loitering": "loitering", "gesture": "gesture"}
_CATEGORY_WORDS: Final = {
    "thefts?|stolen|robber(?:y|ies)|burglar(?:y|ies)": "theft",
    "fires?": "fire",
    "violen(?:ce|t)|fights?|assaults?": "violence",
    "weapons?|knife|knives|guns?": "weapons",
    "medical": "medical",
    "vandalism|graffiti": "vandalism",
    "suspicious": "suspicious_activity",
}
_PRONOUNS: Final = frozenset(
    {
        "him",
        "her",
        "them",
        "it",
        "anyone",
        "anybody",
        "someone",
        "somebody",
        "everyone",
        "everybody",
        "people",
        "me",
        "you",
        "us",
        "he",
        "she",
        "they",
        "i",
        "we",
    }
)
_OUT_OF_SCOPE: Final = re.compile(
    r"^(?:why|how do|how can|how should|how to|should|could you|can you|please|write|"
    r"tell me a|delete|erase|remove|turn|switch|open|close|lock|unlock|call|send|email|"
    r"predict|explain why)\b"
)


@dataclass(frozen=True, slots=True)
class _Parsed:
    question: str  # as asked
    text: str  # normalised, without its time phrase and camera
    when: TimeRange | None
    camera: CameraRef | None
    site: SiteTime  # the clock the question is read and answered on
    room: str | None = None  # a sensing room the question names
    rooms: tuple[str, ...] = ()  # every sensing room the site has events or paths of
    room_names: Mapping[str, str] = field(default_factory=dict)  # room id -> its name
    cameras: tuple[CameraRef, ...] = ()  # every camera, in site order
    spoken: str = ""  # normalised, without its time phrase; its places still in it


# "on Blursday": a word like a day's name that no time phrase took.
_RE_ODD_DAY: Final = re.compile(r"\b(?:on|since|from|last|until|till)\s+(?P<d>[a-z]+day)\b")
# "in the gym": a place a sensing question names that is no room of the site.
_RE_IN_PLACE: Final = re.compile(r"\b(?:in|at)\s+(?:the\s+)?(?P<place>[a-z][\w\-]*)")
_RE_SAYS_UTC: Final = re.compile(r"\b(?:utc|gmt)\b", re.IGNORECASE)


MEANING_HITS: Final = 5  # texts a "reports about" answer lists at most
MEANING_CLOSE: Final = 0.3  # score (cosine and words) from which a text is said to match
_MEANING_NOUN: Final = {"incident": "incident", "bookmark": "bookmark", "event": "event"}
_TEXTS = r"(?:incident )?(?:reports?|incidents?|notes?|bookmarks?)"
_ABOUT = (
    r"(?:about|of|involving|mentioning|describing|regarding|concerning|like|that mention(?:s|ed)?)"
)
_RE_REPORTS_ABOUT: Final = [
    # "any reports about X", "were there any incidents involving X", "find notes on X"
    re.compile(
        r"^(?:(?:are|were|was|is) there |have there been |has there been )?"
        r"(?:any |some |all |the )?"
        r"(?:(?:search|find|show|list|look) (?:for |me )?(?:any |the |all )?)?"
        + _TEXTS
        + r" (?:"
        + _ABOUT
        + r") (?P<what>.+)$"
    ),
    # "did anyone report X", "has anybody reported X", "who reported X", "was X reported"
    re.compile(
        r"^(?:did|has|have) (?:anyone|anybody|someone|somebody|any ?one) report(?:ed)? "
        r"(?:anything (?:about |like )?)?(?P<what>.+)$"
    ),
    re.compile(r"^who reported (?P<what>.+)$"),
    # "what do the notes say about X", "what did the reports say about X"
    re.compile(
        r"^what (?:do|did|does) (?:the |my |our )?" + _TEXTS + r" say (?:about|of|on) (?P<what>.+)$"
    ),
    # "search for X", "find anything about X"
    re.compile(r"^(?:search|look) for (?P<what>.+)$"),
]
_RE_TOPIC_WORD: Final = re.compile(r"[a-z0-9]{3,}")


def _short(text: str, chars: int = 140) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= chars else one_line[: chars - 1] + "\u2026"


class OfflineAnswerer:
    """Answers the supported forms (see the module) from ``store`` with the tools' queries,
    on the calendar and wall clock of ``site_time`` (the site's zone, from its
    :class:`~engine.config.SiteConfig`: "today" is the site's today). ``rooms``: the
    site's sensing rooms (room id -> name, as its site file names them), known by id and
    name before anything was sensed or handed over in them. Stateless apart from the
    store: any thread, several at once."""

    def __init__(
        self,
        store: Store,
        site_time: SiteTime = UTC_TIME,
        *,
        rooms: Mapping[str, str] | None = None,
        live: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        self._store = store
        self._site_time = site_time
        self._rooms: dict[str, str] = dict(rooms or {})
        # The people in view now per camera this engine runs (its newest analysed picture):
        # "how many people are on the plaza now" is answered from it, not from records
        # that know who has gone only about ten seconds later.
        self._live = live

    def answer(self, question: str, now: datetime) -> OfflineAnswer:
        """The answer to ``question`` as of ``now`` (UTC): answered from the records, or
        ``answered=False`` with the reason and the forms it can answer."""
        text = _normalise(question)
        if not text or _OUT_OF_SCOPE.match(text):
            return _cannot()
        try:
            parsed = self._parse(question, text, now)
            forms: tuple[Callable[[_Parsed, datetime], OfflineAnswer | None], ...] = (
                self._went_between,  # "who went from the lobby into the store room"
                self._reports_about,  # "any incidents about a fight": not a count
                self._alert_handling,  # "who acknowledged the last alert", "did anyone loiter"
                self._last_appearance,  # "when did someone last appear on the plaza camera"
                self._times_seen,
                self._who,  # before "last seen": "was anyone seen…" names nobody
                self._last_seen,
                self._falls_alerts_incidents,
                self._count,
                self._path_of,  # "where was Ada this afternoon", "show Ada's path"
                self._what_happened,
            )
            for form in forms:
                result = form(parsed, now)
                if result is not None:
                    return result
        except QuestionError as exc:
            return OfflineAnswer(f"{exc} {FORMS_HELP}", False, facts={"reason": str(exc)})
        return _cannot()

    def _parse(self, question: str, text: str, now: datetime) -> _Parsed:
        # "at 14:00 UTC" is UTC's 14:00, and the answer then speaks UTC too.
        site = UTC_TIME if _RE_SAYS_UTC.search(question) else self._site_time
        when, rest = _TimeParser(now, site).parse(text)
        odd_day = _RE_ODD_DAY.search(rest)
        if odd_day is not None and odd_day["d"] not in _WEEKDAYS:
            shown = re.search(re.escape(odd_day["d"]), question, re.IGNORECASE)
            raise QuestionError(
                f"I don\u2019t know a day called \u201c{shown[0] if shown else odd_day['d']}"
                "\u201d: say today, yesterday, a weekday or a date."
            )
        with self._store.engine.connect() as connection:
            known = cameras(connection)
            names = room_names(connection, self._rooms)
            known_rooms = tuple(sorted(set(rooms(connection)) | set(names)))
        spoken = _squash(rest)
        if any(pattern.match(spoken) for pattern in _RE_FROM_TO):
            # "from the lobby into the store room": two places, read by the form itself.
            return _Parsed(
                question, spoken, when, None, site, None, known_rooms, names, tuple(known), spoken
            )
        if _RE_ROOM_WORDS.search(rest):
            # "sensed in Demo plaza sensing", "the sensing room": a room before a camera of a
            # like name ("Demo plaza").
            room, rest = _the_room(rest, known_rooms, names)
            if room is None:
                room, rest = resolve_room(rest, known_rooms, names)
            camera, rest = resolve_camera(rest, known)
        else:
            camera, rest = resolve_camera(rest, known)
            room, rest = resolve_room(rest, known_rooms, names)
        rest = re.sub(r"\b(?:please|exactly|actually|ever|so far|recorded|in total)\b", " ", rest)
        return _Parsed(
            question,
            _squash(rest),
            when,
            camera,
            site,
            room,
            known_rooms,
            names,
            tuple(known),
            spoken,
        )

    # -- the forms, tried in order ------------------------------------------------------

    def _times_seen(self, p: _Parsed, now: datetime) -> OfflineAnswer | None:
        who = _first_group(_RE_TIMES_SEEN, p.text)
        if who is None:
            return None
        _no_people_in_rooms(p)
        person = self._person(who, p.question)
        args: dict[str, Any] = {**(p.when.args() if p.when else {}), "person": person.public_id}
        if p.camera is not None:
            args["camera"] = p.camera.key
        counted = count_events(self._store, now, kinds=list(_SIGHTING_KINDS), **args)
        appeared = counted["by_kind"].get("person.appeared", 0)
        recognised = counted["by_kind"].get("face.recognised", 0)
        where = f" on {p.camera.label}" if p.camera else ""
        period = _period_words(p.when)
        sightings = person_sightings(self._store, now, limit=MAX_CITATIONS, **args)["sightings"]
        text = (
            f"{person.label} was seen {_times(appeared)}{where} {period} "
            f"(person.appeared events), and their face was recognised {_times(recognised)}."
        )
        return OfflineAnswer(
            _squash(text),
            True,
            tuple(citation_of(e) for e in sightings[:MAX_CITATIONS]),
            "times_seen",
            {
                "person": person.public_id,
                "name": person.name,
                "appeared": appeared,
                "recognised": recognised,
                "range": p.when.as_json() if p.when else None,
                "camera": None if p.camera is None else p.camera.key,
            },
        )

    def _last_seen(self, p: _Parsed, now: datetime) -> OfflineAnswer | None:
        who = _first_group(_RE_LAST_SEEN, p.text)
        if who is None:
            return None
        _no_people_in_rooms(p)
        person = self._person(who, p.question)
        args: dict[str, Any] = dict(p.when.args()) if p.when else {}
        if p.camera is not None:
            args["camera"] = p.camera.key
        found = person_sightings(self._store, now, person=person.public_id, limit=1, **args)
        where = f" on {p.camera.label}" if p.camera else ""
        period = f" {_period_words(p.when)}" if p.when else ""
        facts: dict[str, Any] = {
            "person": person.public_id,
            "name": person.name,
            "range": p.when.as_json() if p.when else None,
            "camera": None if p.camera is None else p.camera.key,
        }
        if not found["sightings"]:
            text = f"{person.label} has no recorded sighting{where}{period}."
            return OfflineAnswer(text, True, (), "last_seen", facts | {"event_id": None})
        event = found["sightings"][0]
        place = _event_place(event)
        text = (
            f"{person.label} was last seen{where}{period} at {_when(event['ts'], p.site)}"
            f"{'' if where else f' on {place}'} ({event['kind']}, event {event['id']})."
        )
        if event.get("clip_path"):
            text += f" Clip: {event['clip_path']} at {event['clip_offset_s']:.0f} s."
        return OfflineAnswer(
            text,
            True,
            (citation_of(event),),
            "last_seen",
            facts | {"event_id": event["id"], "ts": event["ts"], "seen_on": event["camera"]},
        )

    def _alert_handling(self, p: _Parsed, now: datetime) -> OfflineAnswer | None:
        """Loitering (its alerts) and who acknowledged an alert."""
        if not _RE_ACKNOWLEDGED.search(p.text):
            return self._alerts(p, now, kind="loitering") if _RE_LOITER.search(p.text) else None
        kind = next(
            (k for word, k in _ALERT_KINDS.items() if re.search(rf"\b{word}\b", p.text)), None
        )
        number = re.search(r"#\s*(\d+)|\balert (\d+)\b", p.question.lower())
        args: dict[str, Any] = dict(p.when.args()) if p.when else {}
        if p.camera is not None:
            args["source"] = f"camera:{p.camera.key}"
        elif p.room is not None:
            args["source"] = f"sensing:{p.room}"
        listed = list_alerts(self._store, now, kind=kind, limit=MAX_LIMIT, **args)
        alerts = listed["alerts"]
        if number is not None:
            wanted = int(number[1] or number[2])
            alerts = [a for a in alerts if a["id"] == wanted]
            if not alerts:
                raise QuestionError(f"I have no record of an alert #{wanted}.")
        elif re.search(r"\b(?:first|earliest|oldest)\b", p.text):
            alerts = alerts[-1:]
        noun = f"{kind} alert" if kind else "alert"
        period = _period_words(p.when) if p.when else ""
        if not alerts:
            text = _squash(f"No {noun} was raised {period}.")
            return OfflineAnswer(text, True, (), "acknowledged", {"alert_id": None})
        alert = alerts[0]
        said = f"Alert #{alert['id']} ({_when(alert['raised_at'], p.site)}, {alert['title']})"
        if alert["acknowledged_at"] is None:
            text = f"Nobody has acknowledged it yet: {said} is open."
        elif alert["acknowledged_by"]:
            text = (
                f"{alert['acknowledged_by']} acknowledged {said} at "
                f"{_hm(alert['acknowledged_at'], p.site)}."
            )
        else:
            text = f"{said} was acknowledged at {_hm(alert['acknowledged_at'], p.site)}, by "
            text += "an account the records do not name."
        return OfflineAnswer(
            text,
            True,
            self._cite_ids([alert["event_id"]] if alert["event_id"] else [], now),
            "acknowledged",
            {
                "alert_id": alert["id"],
                "acknowledged_by": alert["acknowledged_by"],
                "acknowledged_at": alert["acknowledged_at"],
            },
        )

    def _last_appearance(self, p: _Parsed, now: datetime) -> OfflineAnswer | None:
        """When someone (anyone) last appeared on a camera, in a room or anywhere."""
        if not _RE_SOMEONE_LAST.match(p.text):
            return None
        args: dict[str, Any] = dict(p.when.args()) if p.when else {}
        if p.camera is not None:
            args["camera"] = p.camera.key
            kinds = ["person.appeared"]
        elif p.room is not None:
            args["room"] = p.room
            kinds = ["sensing.blob_appeared"]
        else:
            kinds = ["person.appeared", "sensing.blob_appeared"]
        found = search_events(self._store, now, kinds=kinds, limit=1, **args)["events"]
        where = f" on {p.camera.label}" if p.camera else _in_room(p)
        period = f" {_period_words(p.when)}" if p.when else ""
        if not found:
            text = f"Nobody appeared{where}{period}."
            return OfflineAnswer(text, True, (), "last_appearance", {"event_id": None})
        event = found[0]
        who = event.get("person") or "Someone"
        text = (
            f"{who} last appeared{where}{period} at {_when(event['ts'], p.site)}"
            f"{'' if where else f' on {_event_place(event)}'} (event {event['id']})."
        )
        return OfflineAnswer(
            text,
            True,
            (citation_of(event),),
            "last_appearance",
            {"event_id": event["id"], "ts": event["ts"]},
        )

    def _falls_alerts_incidents(self, p: _Parsed, now: datetime) -> OfflineAnswer | None:
        text = p.text
        counting = _RE_COUNT.match(text) is not None
        if re.search(r"\bfall(?:s|en)?\b|\bfell\b", text) and (
            counting
            or _RE_ANY.match(text)
            or re.match(
                r"^(?:did|has|have) (?:anyone|anybody|someone|somebody|any ?one) (?:fall|fallen)\b",
                text,
            )
            or re.match(r"^who (?:fell|has fallen|had a fall)\b", text)
            or re.match(
                r"^when (?:did|was|were) (?:anyone|someone|the last fall|there a fall)", text
            )
        ):
            if re.search(r"\balerts?\b", text):
                return self._alerts(p, now, kind="fall")
            return self._falls(p, now)
        if re.search(r"\balerts?\b", text) and (counting or _RE_ANY.match(text)):
            return self._alerts(p, now, kind=None)
        if re.search(r"\bincidents?\b", text) and (counting or _RE_ANY.match(text)):
            return self._incidents(p, now)
        return None

    def _falls(self, p: _Parsed, now: datetime) -> OfflineAnswer:
        if p.camera is not None:
            raise QuestionError("Falls are detected by WiFi sensing in rooms, not by cameras.")
        args: dict[str, Any] = dict(p.when.args()) if p.when else {}
        _check_no_other_room(p)
        if p.room is not None:
            args["room"] = p.room
        counted = count_events(self._store, now, kind=FALL_KIND, **args)["count"]
        listed = search_events(self._store, now, kind=FALL_KIND, limit=MAX_CITATIONS, **args)
        events = listed["events"]
        period = _period_words(p.when)
        if counted == 0:
            text = f"No falls were recorded{_in_room(p)} {period}."
        else:
            items = "; ".join(
                f"{_when(e['ts'], p.site)} in {_room(e)}{_named_suffix(e)}" for e in events
            )
            more = f" (the latest {len(events)} shown)" if counted > len(events) else ""
            text = f"{_plural(counted, 'fall')} recorded{_in_room(p)} {period}{more}: {items}."
        return OfflineAnswer(
            _squash(text),
            True,
            tuple(citation_of(e) for e in events),
            "falls",
            {
                "count": counted,
                "event_ids": [e["id"] for e in events],
                "room": p.room,
                "range": p.when.as_json() if p.when else None,
            },
        )

    def _alerts(self, p: _Parsed, now: datetime, *, kind: str | None) -> OfflineAnswer:
        severity = next((s for s in _SEVERITIES if re.search(rf"\b{s}\b", p.text)), None)
        if kind is None:
            kind = next(
                (k for word, k in _ALERT_KINDS.items() if re.search(rf"\b{word}\b", p.text)), None
            )
        args: dict[str, Any] = dict(p.when.args()) if p.when else {}
        if p.camera is not None:
            args["source"] = f"camera:{p.camera.key}"
        elif p.room is not None:
            args["source"] = f"sensing:{p.room}"
        result = list_alerts(
            self._store, now, kind=kind, severity=severity, limit=MAX_CITATIONS, **args
        )
        alerts = result["alerts"]
        what = " ".join(w for w in (severity, kind) if w)
        noun = f"{what} alert" if what else "alert"
        period = _period_words(p.when)
        where = f" on {p.camera.label}" if p.camera else _in_room(p)
        if result["count"] == 0:
            text = f"No {noun}s were raised{where} {period}."
        else:
            more = f" (the latest {len(alerts)} shown)" if result["count"] > len(alerts) else ""
            items = "; ".join(
                f"#{a['id']} {_when(a['raised_at'], p.site)} {a['severity']}: {a['title']}"
                + (
                    f" (acknowledged by {a['acknowledged_by']})"
                    if a["acknowledged_by"]
                    else " (acknowledged)"
                    if a["acknowledged_at"]
                    else " (open)"
                )
                for a in alerts
            )
            text = f"{_plural(result['count'], noun)} raised{where} {period}{more}: {items}."
        cited_ids = [a["event_id"] for a in alerts if a["event_id"] is not None]
        citations = self._cite_ids(cited_ids, now)
        return OfflineAnswer(
            _squash(text),
            True,
            citations,
            "alerts",
            {
                "count": result["count"],
                "alert_ids": [a["id"] for a in alerts],
                "kind": kind,
                "severity": severity,
                "range": p.when.as_json() if p.when else None,
            },
        )

    def _incidents(self, p: _Parsed, now: datetime) -> OfflineAnswer:
        category = next(
            (c for words, c in _CATEGORY_WORDS.items() if re.search(rf"\b(?:{words})\b", p.text)),
            None,
        )
        if category is None:
            category = next(
                (
                    c
                    for c in INCIDENT_CATEGORIES
                    if re.search(rf"\b{c.replace('_', ' ')}\b", p.text)
                ),
                None,
            )
        args: dict[str, Any] = dict(p.when.args()) if p.when else {}
        result = list_incidents(self._store, now, category=category, limit=MAX_CITATIONS, **args)
        noun = f"{category.replace('_', ' ')} incident" if category else "incident"
        period = _period_words(p.when)
        if result["count"] == 0:
            text = f"No {noun}s were reported {period}."
        else:
            shown = result["incidents"]
            more = f" (the latest {len(shown)} shown)" if result["count"] > len(shown) else ""
            items = "; ".join(
                f"#{i['id']} {_when(i['occurred_at'], p.site)} {i['category'].replace('_', ' ')}, "
                f"severity {i['severity']}, {_plural(i['reports'], 'report')}"
                for i in shown
            )
            text = f"{_plural(result['count'], noun)} reported {period}{more}: {items}."
        return OfflineAnswer(
            _squash(text),
            True,
            (),
            "incidents",
            {
                "count": result["count"],
                "incident_ids": [i["id"] for i in result["incidents"]],
                "category": category,
                "range": p.when.as_json() if p.when else None,
            },
        )

    def _who(self, p: _Parsed, now: datetime, *, counting: bool = False) -> OfflineAnswer | None:
        if not counting and not _RE_WHO.match(p.text):
            return None
        if p.room is not None or (p.camera is None and _RE_SENSED.search(p.text)):
            return self._who_sensed(p, now)
        when = p.when or _today(now, p.site)
        if counting and when.label == "now":
            live = self._people_in_view(p)
            if live is not None:
                return live
        args: dict[str, Any] = dict(when.args())
        if p.camera is not None:
            args["camera"] = p.camera.key
        result = distinct_people(self._store, now, limit=MAX_NAMES, **args)
        # People, not tracks: the distinct identities (a path across senses is one), else
        # the most present at once.
        paths, _ = read_paths(self._store, p.site, low=when.start, high=when.end)
        found = presence(
            self._store,
            low=when.start,
            high=when.end,
            camera_ids=None if p.camera is None else [p.camera.id],
            joined=path_identities(paths, {c.key: c.id for c in p.cameras}),
            now=now,
        )
        # A name only a path across senses put on someone the cameras saw.
        joins = (
            camera_joins(
                self._store,
                paths,
                camera=None if p.camera is None else (p.camera.id, p.camera.key),
                low=when.start,
                high=when.end,
            )
            if paths
            else CameraJoins()
        )
        where = f"on {p.camera.label}" if p.camera else "on any camera"
        people = result["people"]
        named = [q for q in people if q["name"]]
        newly_named = joins.newly_named[: max(0, MAX_NAMES - len(named))]
        text = people_words(found, verb="seen", where=where, period=_period_words(when, found))
        times = [
            f"{q['name']} {_hm(q['first_seen'], p.site)}"
            + (
                f"-{_hm(q['last_seen'], p.site)}"
                if _hm(q["last_seen"], p.site) != _hm(q["first_seen"], p.site)
                else ""
            )
            for q in named
        ]
        if times:
            text += f" Seen by name: {'; '.join(times)}."
        if newly_named:
            text += (
                " Named on a path across senses: "
                + "; ".join(
                    f"{someone.label} ({_span(someone.first, someone.last, p.site, None, '-')})"
                    for someone in newly_named
                )
                + "."
            )
        everyone = found.people
        # Every named person listed is cited (their first event), so each name is clickable.
        citations = tuple(citation_of(q["first_event"]) for q in named if q.get("first_event"))
        citations += self._cite_paths([s.path for s in newly_named if s.path is not None])
        pictures = tuple(people_pictures(self._store, now, **args)) if everyone else ()
        return OfflineAnswer(
            _squash(text),
            True,
            citations[:MAX_NAMES],
            "who",
            {
                "camera": None if p.camera is None else p.camera.key,
                "range": when.as_json(),
                "people_seen": result["people_seen"],
                "people": found.people,
                "at_once": found.at_once,
                "known": list(found.known),
                "camera_tracks": found.tracks,
                "unknown_tracks": found.unknown_tracks,
                "everyone_known": found.all_known,
                "named": [q["public_id"] for q in named],
                "joined_by_paths": joins.joined,
                "joining_paths": [path.event_id for path in joins.paths],
            },
            pictures,
        )

    def _people_in_view(self, p: _Parsed) -> OfflineAnswer | None:
        """ "How many people … now" from the cameras' newest pictures, where this engine
        runs the camera asked about (every camera, when none is named); None otherwise
        (an attached console, the command line: the records answer)."""
        counts = self._live() if self._live is not None else {}
        keys = [p.camera.key] if p.camera is not None else [c.key for c in p.cameras]
        if not keys or any(key not in counts for key in keys):
            return None
        people = sum(counts[key] for key in keys)
        where = f"on {p.camera.label}" if p.camera is not None else "on the cameras"
        text = (
            f"Nobody is in view {where} now."
            if people == 0
            else f"{_plural(people, 'person', 'people')} in view {where} now."
        ) + " (Counted on the live picture.)"
        return OfflineAnswer(
            text,
            True,
            (),
            "who",
            {
                "camera": None if p.camera is None else p.camera.key,
                "range": None,
                "people": people,
                "live": {key: counts[key] for key in keys},
            },
        )

    def _who_sensed(self, p: _Parsed, now: datetime) -> OfflineAnswer:
        """Who was sensed in a room (or every room): one person per path across senses, per
        person a device named, per other blob; their paths through it, newest first."""
        if p.camera is not None:
            raise QuestionError("Name a camera or a sensing room, not both.")
        if p.room is None:
            _check_no_other_room(p)
        when = p.when or _today(now, p.site)
        sensed = sensed_people(
            self._store,
            p.site,
            rooms=None if p.room is None else [p.room],
            low=when.start,
            high=when.end,
        )
        where = _in_room(p) or " in any room"
        today = p.site.day_of(now)
        found = presence(
            self._store,
            low=when.start,
            high=when.end,
            rooms=None if p.room is None else [p.room],
            sensing=True,
            joined=path_identities(sensed.paths, {c.key: c.id for c in p.cameras}),
            now=now,
        )
        known = [s for s in sensed.people if s.named or s.public_id]
        text = people_words(
            found,
            verb="sensed",
            where=where.strip(),
            period=_period_words(when, found),
            track_noun="sensing track",
        )
        if found.tracks:
            parts = [
                f"{s.label} ({_span(s.first, s.last, p.site, today)})" for s in known[:MAX_NAMES]
            ]
            if parts:
                text += f" Known: {'; '.join(parts)}."
            if sensed.paths:
                text += "\n" + self._path_block(list(sensed.paths), p, now, "Their paths")
        citations = self._cite_paths(list(sensed.paths))
        if len(citations) < MAX_CITATIONS and sensed.count:
            args: dict[str, Any] = dict(when.args())
            if p.room is not None:
                args["room"] = p.room
            blobs = search_events(
                self._store, now, kind="sensing.blob_appeared", limit=MAX_CITATIONS, **args
            )["events"]
            # Blobs of people no path holds (the paths' are cited as their path).
            on_paths = {
                (s.source, s.member_id)
                for path in sensed.paths
                for s in path.stretches
                if s.sense == "sensing"
            }
            citations += tuple(
                citation_of(e) for e in blobs if (_room(e), e["track_id"]) not in on_paths
            )
        return OfflineAnswer(
            text,
            True,
            citations[:MAX_CITATIONS],
            "who_sensed",
            {
                "room": p.room,
                "range": when.as_json(),
                "everyone_sensed": found.people,
                "at_once": found.at_once,
                "sensing_tracks": found.tracks,
                "paths_and_blobs": sensed.count,
                "known": [s.label for s in sensed.people if s.named or s.public_id],
                "unknown_sensed": sum(1 for s in sensed.people if not (s.named or s.public_id)),
                "paths": [path.event_id for path in sensed.paths],
                "blobs": sensed.blobs,
                "truncated": sensed.truncated,
            },
        )

    def _count(self, p: _Parsed, now: datetime) -> OfflineAnswer | None:
        subject = next((s for pattern, s in _COUNT_SUBJECTS if pattern.match(p.text)), None)
        if subject is None:
            return None
        if subject == "people" or (
            subject == "person.appeared" and re.match(rf"^how many {_PEOPLE}\b", p.text)
        ):
            # "How many people appeared": people, not their tracks.
            return self._who(p, now, counting=True)
        args: dict[str, Any] = dict(p.when.args()) if p.when else {}
        if p.camera is not None:
            args["camera"] = p.camera.key
        if subject.startswith("sensing."):
            _check_no_other_room(p)
        if p.room is not None:
            if p.camera is not None:
                raise QuestionError("Name a camera or a sensing room, not both.")
            args["room"] = p.room
        where = f" on {p.camera.label}" if p.camera else _in_room(p)
        period = _period_words(p.when)
        kind: str | None
        if subject == "events":
            result = count_events(self._store, now, **args)
            by_kind = ", ".join(
                f"{n} {k}"
                for k, n in sorted(result["by_kind"].items(), key=lambda kv: (-kv[1], kv[0]))
            )
            text = f"{_plural(result['count'], 'event')} recorded{where} {period}" + (
                f": {by_kind}." if by_kind else "."
            )
            kind = None
        else:
            result = count_events(self._store, now, kind=subject, **args)
            kind = subject
            one, many = _COUNT_NOUNS[subject]
            text = f"{_plural(result['count'], one, many)}{where} {period} ({subject} events)."
        newest = search_events(self._store, now, kind=kind, limit=3, **args)
        return OfflineAnswer(
            _squash(text),
            True,
            tuple(citation_of(e) for e in newest["events"]),
            "count",
            {
                "kind": kind,
                "count": result["count"],
                "by_kind": result["by_kind"],
                "camera": None if p.camera is None else p.camera.key,
                "room": p.room,
                "range": p.when.as_json() if p.when else None,
            },
        )

    def _what_happened(self, p: _Parsed, now: datetime) -> OfflineAnswer | None:
        if not _RE_WHAT.match(p.text):
            return None
        when = p.when or _today(now, p.site)
        args: dict[str, Any] = dict(when.args())
        if p.camera is not None:
            args["camera"] = p.camera.key
        if p.room is not None:
            args["room"] = p.room  # a room's events: sensing alone, no people, no alerts
        counted = count_events(self._store, now, **args)
        falls = (
            search_events(self._store, now, kind=FALL_KIND, limit=5, **args)["events"]
            if counted["by_kind"].get(FALL_KIND)
            else []
        )
        alerts: dict[str, Any] = (
            list_alerts(self._store, now, limit=5, **when.args())
            if p.camera is None and p.room is None
            else {"count": 0, "alerts": []}
        )
        # Named people first, each with their first event in the window (a group over the
        # window's rows; one probe of ix_events_person_ts_id per named person shown).
        seen: dict[str, Any] = (
            distinct_people(self._store, now, limit=MAX_NAMED_LOOKED_AT, **args)
            if p.room is None
            else {"people": [], "named_people_seen": 0}
        )
        # Those seen closest to the middle of the window first: "around 14:05" asks about
        # 14:05 more than about the window's edges.
        middle = (when.start or when.end) + (when.end - (when.start or when.end)) / 2
        closest = sorted(
            (q for q in seen["people"] if q["name"] and q.get("first_event")),
            key=lambda q: abs(_parse_iso(q["first_event"]["ts"]) - middle),
        )
        named: dict[str, dict[str, Any]] = {
            q["public_id"]: q["first_event"] for q in closest[:MAX_NAMED_SHOWN]
        }
        more_named = seen["named_people_seen"] - len(named)
        where = f" on {p.camera.label}" if p.camera else _in_room(p)
        period = _period_words(when)
        unusual = _RE_UNUSUAL.search(p.text) is not None
        offline = (
            search_events(self._store, now, kinds=list(_CAMERA_DOWN_KINDS), limit=5, **args)[
                "events"
            ]
            if p.room is None and any(counted["by_kind"].get(k) for k in _CAMERA_DOWN_KINDS)
            else []
        )
        if counted["count"] == 0 and not alerts["count"]:
            text = f"Nothing was recorded{where} {period}."
            citations: tuple[Citation, ...] = ()
        else:
            # Plain words, people as people (never a list of event kinds).
            parts: list[str] = []
            if not unusual:
                parts.extend(self._people_in(p, when))
            if falls:
                parts.append(
                    "Falls: "
                    + "; ".join(
                        f"{_when(e['ts'], p.site)} in {_room(e)}{_named_suffix(e)}" for e in falls
                    )
                    + "."
                )
            if alerts["count"]:
                loitering = sum(1 for a in alerts["alerts"] if a["kind"] == "loitering")
                parts.append(
                    f"{_plural(alerts['count'], 'alert')} raised"
                    + (f" ({loitering} for loitering)" if loitering else "")
                    + ": "
                    + "; ".join(
                        f"#{a['id']} {_hm(a['raised_at'], p.site)} {a['title']}"
                        + (
                            f" (acknowledged by {a['acknowledged_by']})"
                            if a["acknowledged_by"]
                            else " (open)"
                            if not a["acknowledged_at"]
                            else " (acknowledged)"
                        )
                        for a in alerts["alerts"]
                    )
                    + "."
                )
            if offline:
                parts.append(
                    "Cameras offline or failing: "
                    + "; ".join(f"{_event_place(e)} at {_hm(e['ts'], p.site)}" for e in offline)
                    + "."
                )
            gestures = counted["by_kind"].get("gesture.detected", 0)
            if gestures and not unusual:
                parts.append(f"{_plural(gestures, 'gesture')} recognised.")
            if named and not unusual:
                parts.append(
                    "Named people seen: "
                    + "; ".join(
                        f"{e['person']} at {_hm(e['ts'], p.site)} on {_event_place(e)}"
                        for e in named.values()
                    )
                    + (f" and {more_named} more named people" if more_named > 0 else "")
                    + "."
                )
            if unusual and not (falls or alerts["count"] or offline):
                parts.insert(
                    0,
                    f"Nothing unusual{where} {period}: no alerts, falls, loitering or "
                    "cameras offline.",
                )
            elif unusual:
                parts.insert(0, f"Unusual{where} {period}:")
            elif not parts:
                parts.append(f"Nothing of note{where} {period}: no people, alerts or falls.")
            else:
                parts.insert(0, f"{_first_up(period)}{where}:")
            chosen = falls + list(named.values())
            if len(chosen) < MAX_CITATIONS:
                newest = search_events(self._store, now, limit=MAX_CITATIONS, **args)["events"]
                chosen += [e for e in newest if e["id"] not in {c["id"] for c in chosen}]
            citations = tuple(citation_of(e) for e in chosen[:MAX_CITATIONS])
            text = " ".join(parts)
        return OfflineAnswer(
            _squash(text),
            True,
            citations,
            "what_happened",
            {
                "count": counted["count"],
                "by_kind": counted["by_kind"],
                "falls": [e["id"] for e in falls],
                "alerts": [a["id"] for a in alerts["alerts"]],
                "named": list(named),
                "named_people_seen": seen["named_people_seen"],
                "camera": None if p.camera is None else p.camera.key,
                "range": when.as_json(),
            },
        )

    def _people_in(self, p: _Parsed, when: TimeRange) -> list[str]:
        """The people a camera (every camera) and a room (every room) had in ``when``, as
        people: known ones, else the most present at once (:mod:`.presence`)."""
        said: list[str] = []
        period = ""  # the answer said it first
        paths, _ = read_paths(self._store, p.site, low=when.start, high=when.end)
        joined = path_identities(paths, {c.key: c.id for c in p.cameras})
        if p.room is None:
            seen = presence(
                self._store,
                low=when.start,
                high=when.end,
                camera_ids=None if p.camera is None else [p.camera.id],
                joined=joined,
            )
            if seen.tracks:
                where = f"on {p.camera.label}" if p.camera else "on the cameras"
                said.append(people_words(seen, verb="seen", where=where, period=period))
        if p.camera is None:
            sensed = presence(
                self._store,
                low=when.start,
                high=when.end,
                rooms=None if p.room is None else [p.room],
                sensing=True,
                joined=joined,
            )
            if sensed.tracks:
                where = _in_room(p).strip() or "in the sensing rooms"
                said.append(
                    people_words(
                        sensed,
                        verb="sensed",
                        where=where,
                        period=period,
                        track_noun="sensing track",
                    )
                )
        return said

    def _went_between(self, p: _Parsed, now: datetime) -> OfflineAnswer | None:
        """Who went from one place into another: the paths across senses with a stretch in
        the second place after one in the first, in the range (today by default)."""
        match = next((m for m in (r.match(p.spoken) for r in _RE_FROM_TO) if m), None)
        if match is None:
            return None
        origin, into = self._place(match["a"], p), self._place(match["b"], p)
        when = p.when or _today(now, p.site)
        paths, truncated = read_paths(self._store, p.site, low=when.start, high=when.end)
        went = [path for path in paths if went_from_to(path, origin, into, when.start, when.end)]
        period = _period_words(when)
        a, b = _place_words(origin), _place_words(into)
        if not went:
            text = f"No path across senses went from {a} into {b} {period}."
        else:
            floor = "At least " if truncated else ""
            text = (
                f"{floor}{_plural(len(went), 'person', 'people')} went from {a} into {b} "
                f"{period}:\n{self._path_block(went, p, now, None)}"
            )
        return OfflineAnswer(
            text,
            True,
            self._cite_paths(went),
            "went_between",
            {
                "from": sorted(origin.members),
                "into": sorted(into.members),
                "range": when.as_json(),
                "count": len(went),
                "paths": [path.event_id for path in went],
                "unknown": sum(1 for path in went if path.label == "Someone unknown"),
            },
        )

    def _path_of(self, p: _Parsed, now: datetime) -> OfflineAnswer | None:
        """Where someone went across senses: their paths (newest first, each one line), and
        where cameras saw them outside those paths."""
        who = _first_group(_RE_PATH_OF, p.text)
        if who is None:
            return None
        who = re.sub(r"^(?:the person |person |mr\.? |mrs\.? |ms\.? |dr\.? )", "", who.strip())
        who = who.strip(" .'\"")
        if not who or who in _PRONOUNS:
            raise QuestionError("Whom do you mean? Name the person (or their Person_ id).")
        low, high = (None, now) if p.when is None else (p.when.start, p.when.end)
        with self._store.engine.connect() as connection:
            people, _exact = find_people(connection, who)
        if len(people) > 1:
            matching = ", ".join(f"{q.label} ({q.public_id})" for q in people[:8])
            raise QuestionError(f"Several people match {who!r}: {matching}. Which one?")
        person = people[0] if people else None
        if person is not None:
            label = person.label
            paths, truncated = read_paths(
                self._store, p.site, low=low, high=high, person_public_id=person.public_id
            )
        else:
            # Someone a path names who is no one the records know (an introduced name).
            every, truncated = read_paths(self._store, p.site, low=low, high=high)
            names = names_in_paths(every, who)
            if len(names) > 1:
                raise QuestionError(f"Several people match {who!r}: {', '.join(names)}. Which one?")
            if not names:
                asked = re.search(re.escape(who).replace(r"\ ", r"\s+"), p.question, re.I)
                shown = asked.group(0) if asked else who
                raise QuestionError(f"I have no record of anyone called \u201c{shown}\u201d.")
            label = names[0]
            paths = [x for x in every if x.person_public_id is None and x.name == label]
        place: Place | None = None
        if p.camera is not None or p.room is not None:
            place = self._place_of(p)
            paths = [x for x in paths if stretches_in(x, place, low, high)]
        period = _period_words(p.when)
        through = f" through {_place_words(place)}" if place is not None else ""
        lines: list[str] = []
        if paths:
            many = len(paths) > 1
            what = f"{len(paths)} paths" if many else "path"
            lines.append(
                f"{label}\u2019s {what} across senses{through} {period}"
                f"{', newest first' if many else ''} (times {p.site.zone_label(now)}):"
            )
            lines.append(self._path_block(paths, p, now, None))
        # Where cameras saw them apart from their paths (a track no path holds).
        elsewhere: list[dict[str, Any]] = []
        if person is not None and place is None:
            args: dict[str, Any] = {"end": iso_exact(high)}
            if low is not None:
                args["start"] = iso_exact(low)
            sightings = person_sightings(
                self._store, now, person=person.public_id, limit=MAX_LIMIT, **args
            )["sightings"]
            on_paths = {
                (s.source, s.member_id) for x in paths for s in x.stretches if s.sense == "camera"
            }
            elsewhere = [
                e for e in sightings if e["camera"] and (e["camera"], e["track_id"]) not in on_paths
            ]
        seen = _seen_on(elsewhere, p.site, p.site.day_of(now))
        if paths and seen:
            lines.append(f"Also seen on {seen}.")
        elif not paths and seen:
            lines.append(f"{label} has no path across senses{through} {period}; seen on {seen}.")
        elif not paths:
            lines.append(f"{label} has no path across senses{through} {period}.")
        citations = self._cite_paths(paths)
        newest_per_camera: dict[str, dict[str, Any]] = {}
        for event in elsewhere:
            newest_per_camera.setdefault(str(event["camera"]), event)
        citations += tuple(citation_of(e) for e in newest_per_camera.values())
        return OfflineAnswer(
            "\n".join(lines),
            True,
            citations[:MAX_CITATIONS],
            "path",
            {
                "person": None if person is None else person.public_id,
                "name": label,
                "range": None if p.when is None else p.when.as_json(),
                "paths": [x.event_id for x in paths],
                "truncated": truncated,
                "also_seen_on": sorted(newest_per_camera),
            },
        )

    def _place(self, piece: str, p: _Parsed) -> Place:
        """The camera or sensing room (or both, sharing the name) ``piece`` names ("the
        lobby", "the store room", "plaza east", "camera 2"); :class:`QuestionError` when it
        names no place, naming it and the places there are."""
        words = _squash(piece)
        members: set[tuple[str, str]] = set()
        label: str | None = None
        room, rest = resolve_room(words, p.rooms, p.room_names)
        if room is not None and not _leftover(rest):
            members.add(("sensing", room))
            label = p.room_names.get(room, room)
        camera_error: QuestionError | None = None
        try:
            camera, rest = resolve_camera(words, list(p.cameras))
        except QuestionError as exc:
            camera, camera_error = None, exc
        if camera is not None and not _leftover(rest):
            members.add(("camera", camera.key))
            label = label or camera.label
        if not members:
            if camera_error is not None and _RE_CAMERA_NUMBER.search(words):
                raise camera_error
            shown = re.sub(r"^(?:the\s+)", "", words)
            rooms_said = ", ".join(p.room_names.get(r, r) for r in p.rooms) or "none"
            raise QuestionError(
                f"I don\u2019t know a place called \u201c{shown}\u201d; rooms: {rooms_said}; "
                f"{_camera_list(p.cameras)}."
            )
        assert label is not None
        return Place(label, frozenset(members))

    def _place_of(self, p: _Parsed) -> Place:
        """The camera or room ``p`` names as a :class:`Place`."""
        if p.camera is not None:
            return Place(p.camera.label, frozenset({("camera", p.camera.key)}))
        assert p.room is not None
        return Place(p.room_names.get(p.room, p.room), frozenset({("sensing", p.room)}))

    def _path_block(
        self, paths: list[PersonPath], p: _Parsed, now: datetime, lead: str | None
    ) -> str:
        """Paths one line each, newest first (at most :data:`MAX_PATH_LINES`), each its
        sentence and its event (and its day when not today), under ``lead`` if given."""
        shown = paths[:MAX_PATH_LINES]
        today = p.site.day_of(now)
        lines: list[str] = []
        if lead is not None:
            lines.append(f"{lead}, newest first:")
        lines += [_path_line(path, p.site, today) for path in shown]
        if len(paths) > len(shown):
            lines.append(f"\u2026 and {len(paths) - len(shown)} earlier.")
        return "\n".join(lines)

    def _cite_paths(self, paths: list[PersonPath]) -> tuple[Citation, ...]:
        """The path events cited, in order, each worded on the site's clock, with the clip
        of its camera stretch (:func:`~engine.history.chat.tools.events_by_id`)."""
        chosen = paths[:MAX_CITATIONS]
        found = events_by_id(self._store, [x.event_id for x in chosen])
        return tuple(
            citation_of({**found[x.event_id], "summary": path_sentence(x)})
            for x in chosen
            if x.event_id in found
        )

    # -- helpers ---------------------------------------------------------------------------

    def _person(self, who: str, question: str) -> PersonRef:
        who = re.sub(r"^(?:the person |person |mr\.? |mrs\.? |ms\.? |dr\.? )", "", who.strip())
        who = re.sub(r"'s$", "", who).strip(" .'\"")
        if not who or who in _PRONOUNS:
            raise QuestionError("Whom do you mean? Name the person (or their Person_ id).")
        with self._store.engine.connect() as connection:
            people, _exact = find_people(connection, who)
        if not people:
            asked = re.search(re.escape(who).replace(r"\ ", r"\s+"), question, re.IGNORECASE)
            shown = asked.group(0) if asked else who
            raise QuestionError(f"I have no record of anyone called \u201c{shown}\u201d.")
        if len(people) > 1:
            names = ", ".join(f"{p.label} ({p.public_id})" for p in people[:8])
            raise QuestionError(f"Several people match {who!r}: {names}. Which one?")
        return people[0]

    def _reports_about(self, p: _Parsed, now: datetime) -> OfflineAnswer | None:
        found = (pattern.match(p.text) for pattern in _RE_REPORTS_ABOUT)
        match = next((m for m in found if m is not None), None)
        topic = match["what"].strip() if match is not None else None
        if topic is None or not _RE_TOPIC_WORD.search(topic):
            return None
        args: dict[str, Any] = {"query": topic, "limit": MEANING_HITS}
        if p.when is not None:
            args.update(p.when.args())
        result = run_tool(self._store, now, "search_texts", args)
        if "error" in result:
            raise QuestionError(f"Meaning search is not available: {result['error']}.")
        close = [r for r in result["results"] if r["score"] >= MEANING_CLOSE]
        period = f" {_period_words(p.when)}" if p.when else ""
        facts: dict[str, Any] = {
            "query": topic,
            "range": p.when.as_json() if p.when else None,
            "hits": [{"kind": r["kind"], "id": r["id"]} for r in close],
        }
        if not close:
            text = f"No report, note or event{period} reads like \u201c{topic}\u201d."
            return OfflineAnswer(text, True, (), "reports_about", facts)
        items = "; ".join(
            f"{_MEANING_NOUN[r['kind']]} {'' if r['kind'] == 'event' else '#'}{r['id']} "
            f"({_when(r['at'], p.site)}): \u201c{_short(r['text'])}\u201d"
            for r in close
        )
        text = f"Closest in meaning to \u201c{topic}\u201d{period}, best first: {items}."
        event_ids = [r["event_id"] for r in close if "event_id" in r]
        return OfflineAnswer(text, True, self._cite_ids(event_ids, now), "reports_about", facts)

    def _cite_ids(self, ids: list[int], now: datetime) -> tuple[Citation, ...]:
        found = events_by_id(self._store, ids)
        return tuple(citation_of(found[i]) for i in ids if i in found)[:MAX_CITATIONS]


_SIGHTING_KINDS: Final = ("person.appeared", "face.recognised")


def _in_room(p: _Parsed) -> str:
    """The room the question names as an answer says it: " in the kitchen", by its name
    where paths carry it ("in the Store room")."""
    return "" if p.room is None else f" in the {p.room_names.get(p.room, p.room)}"


def _no_people_in_rooms(p: _Parsed) -> None:
    """A person's sightings in a sensing room are not counted or dated by room:
    :class:`QuestionError` saying what to ask instead, never an answer for every camera."""
    if p.room is not None:
        room = p.room_names.get(p.room, p.room)
        raise QuestionError(
            f"The {room} is a sensing room: I date sightings by camera. Ask who was sensed "
            f"in the {room}, or where someone went (\u201cWhere was John today?\u201d)."
        )


def _check_no_other_room(p: _Parsed) -> None:
    """A sensing question naming a place that is no room of the site ("falls in the gym")
    is not answered for every room: :class:`QuestionError` naming it and the rooms."""
    if p.room is not None:
        return
    hit = _RE_IN_PLACE.search(p.text)
    if hit is None or hit["place"] in _NOT_CAMERA_NAMES or hit["place"] in ("total", "all"):
        return
    known = ", ".join(p.room_names.get(r, r) for r in p.rooms) or "none has sensing events yet"
    raise QuestionError(
        f"I don\u2019t know a room called \u201c{hit['place']}\u201d; rooms are: {known}."
    )


def _cannot() -> OfflineAnswer:
    return OfflineAnswer(f"{CANNOT} {FORMS_HELP}", False)


def _normalise(question: str) -> str:
    text = question.strip().lower().replace("\u2019", "'")
    text = re.sub(r"[?!.]+$", "", text)
    text = re.sub(r"[,;]", " ", text)
    text = re.sub(r"\b(?:utc|gmt)\b", " ", text)
    return _RE_COUNT_WORDS.sub("how many ", _squash(text))


def _first_group(patterns: Iterable[re.Pattern[str]], text: str) -> str | None:
    for pattern in patterns:
        match = pattern.match(text)
        if match is not None:
            return match["who"]
    return None


def _today(now: datetime, site: SiteTime) -> TimeRange:
    """From the site's midnight to ``now``."""
    start, _ = site.day_bounds(site.day_of(now))
    return TimeRange(start, now, "today")


def _period_words(when: TimeRange | None, found: Presence | None = None) -> str:
    """How the period is said; a count ``found`` from earlier than asked (a moment the
    records cannot yet say who had left by, such as "now") says from when."""
    if when is None:
        return "in all the recorded history"
    if found is None or found.counted_from is None:
        return when.label
    late = max(1, round((when.end - found.counted_from).total_seconds()))
    return f"{when.label} (as the records stand {late} s before: a departure is filed that late)"


def _when(ts: str, site: SiteTime) -> str:
    """A tool's UTC time (``2026-11-23T08:14:05Z``) on the site's clock, with its zone."""
    return site.with_zone(_parse_iso(ts))


def _parse_iso(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _hm(ts: str, site: SiteTime) -> str:
    """A tool's UTC time as the site's ``HH:MM``."""
    return site.minutes(_parse_iso(ts))


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _room(event: Mapping[str, Any]) -> str:
    source = str(event["source"])
    return source.removeprefix("sensing:") if source.startswith("sensing:") else source


def _named_suffix(event: Mapping[str, Any]) -> str:
    return f" ({event['person']})" if event.get("person") else ""


def _event_place(event: Mapping[str, Any]) -> str:
    if event.get("camera"):
        name = event.get("camera_name")
        return (
            f"{name} ({event['camera']})" if name and name != event["camera"] else event["camera"]
        )
    return _room(event)


def _span(
    first: datetime, last: datetime, site: SiteTime, today: date | None, dash: str = "\u2013"
) -> str:
    """``14:04–14:09`` on the site's clock (one time when both are the same minute), with
    the day in front when it is not ``today`` (None: never)."""
    a, b = site.minutes(first), site.minutes(last)
    day = "" if today is None or site.day_of(first) == today else f"{site.day(first)} "
    return f"{day}{a}" if a == b else f"{day}{a}{dash}{b}"


def _path_line(path: PersonPath, site: SiteTime, today: date) -> str:
    """One path as an answer's line: "Ada: seen by Plaza east 14:02–14:04, … (event 41)",
    with its day before the event when it was not today."""
    day = site.day_of(path.start)
    when = "" if day == today else f"{site.day(path.start)}, "
    return f"{path_sentence(path)} ({when}event {path.event_id})"


def _place_words(place: Place) -> str:
    """A place as an answer says it: "the Store room", "Plaza east (cam1)"."""
    return f"the {place.label}" if not place.cameras else place.label


def _leftover(rest: str) -> bool:
    """Whether words other than filler ("the", "room", "camera") are left of a place."""
    return any(word not in _PLACE_FILLER for word in rest.split())


def _seen_on(events: list[dict[str, Any]], site: SiteTime, today: date) -> str:
    """Camera sightings as "Lobby (cam2) at 09:00 and 19:20": per camera (the newest
    first), the first time of each track, oldest first (at most five, then how many more)."""
    tracks: dict[str, dict[object, datetime]] = {}
    labels: dict[str, str] = {}
    for event in events:
        camera = str(event["camera"])
        labels[camera] = _event_place(event)
        ts = _parse_iso(str(event["ts"]))
        key: object = event["track_id"] if event.get("track_id") is not None else event["id"]
        per = tracks.setdefault(camera, {})
        per[key] = min(per.get(key, ts), ts)
    phrases = []
    for camera, per in tracks.items():
        times = sorted(per.values())
        said = [_span(t, t, site, today) for t in times[:5]]
        if len(times) > 5:
            said.append(f"{len(times) - 5} more times")
        phrases.append(f"{labels[camera]} at {_join(said)}")
    return _join(phrases)

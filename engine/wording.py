"""What a person reads about a stored event: one renderer per event kind.

Every place that shows an event to a person (the Events pane, the timeline, Ask, the export
report, notifications) words it here, from the row as stored: its ``kind`` (a dotted id
such as ``sensing.blob_appeared``, never shown), its ``source`` (``camera:plaza``,
``sensing:room``), its JSON ``detail`` and the person the store joined to it. The result,
:class:`EventWords`, has a title ("Movement ended"), a one-line summary with names and units,
a category for filters and colour, the place by its name, and the details as labelled
fields. Nothing here shows a repr, JSON, an internal id or a float in exponent form: values
of kinds this module does not know are still written as labelled plain text.

Qt-free and safe on any thread.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from engine.sitetime import SiteTime, display
from engine.text import printable


class Category(enum.StrEnum):
    """What an event is about, in the order a person looks for them: falls and alerts
    first, then people and cameras, the machinery last."""

    FALLS = "Falls"
    ALERTS = "Alerts"
    PEOPLE = "People"
    CAMERAS = "Cameras"
    GESTURES = "Gestures"
    SPEECH = "Speech"
    MOVEMENT = "Movement"  # WiFi sensing: people sensed in a room
    SENSING = "Sensing"  # the sensing nodes and links themselves
    RECORDING = "Recording"
    SYSTEM = "System"


class Tone(enum.StrEnum):
    """How loudly a row should speak: ``ALARM`` (red), ``WARNING`` (amber), ``NORMAL``,
    ``QUIET`` (greyed: machinery a person rarely needs)."""

    ALARM = "alarm"
    WARNING = "warning"
    NORMAL = "normal"
    QUIET = "quiet"


@dataclass(frozen=True, slots=True)
class EventWords:
    """One event as a person reads it."""

    title: str  # "Possible fall"
    summary: str  # "Ada in Demo room, 1.2 s before it was confirmed"
    category: Category
    tone: Tone
    place: str  # the camera's or room's name ("" when the event has none)
    person: str | None  # the person's name or automatic id, when known
    fields: tuple[tuple[str, str], ...] = field(default=())  # labelled details, in order

    def details_text(self) -> str:
        """The fields as lines of ``Label: value``."""
        return "\n".join(f"{label}: {value}" for label, value in self.fields)


# -- places -------------------------------------------------------------------------------


def place_of(source: str, names: Mapping[str, str]) -> str:
    """The name a person knows ``source`` by: a camera's or room's name from ``names``
    (keyed by camera key or room id), else the key itself, never the ``camera:`` prefix;
    "" for a source that is no place (``engine``, ``retention``)."""
    scheme, _, key = source.partition(":")
    if not key:
        return ""
    name = names.get(key) or key
    if scheme == "microphone":
        return f"Microphone {printable(name)}"
    return printable(name)


# -- values -------------------------------------------------------------------------------

_UNITS: Final = (("_bytes", ""), ("_s_ago", " s"), ("_s", " s"), ("_m", " m"), ("_ms", " ms"))
_ISO_TIME: Final = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# Keys that are the store's own bookkeeping or shown elsewhere (the picture, the clip).
_HIDDEN_KEYS: Final = frozenset(
    {
        "snapshot",
        "box",
        "media_id",
        "event_id",
        "explanation",
        "ellipsoid",
        "sha256",
        "path",
        "segments",  # a path across senses: its summary says it
    }
)
_ACTOR_KEYS: Final = frozenset({"by", "actor", "author", "acknowledged_by"})
_LABELS: Final = {
    "track_id": "Track",
    "blob": "Sensed person",
    "confidence": "Detector certainty",
    "best_confidence": "Best certainty",
    "path_points": "Positions tracked",
    "path_m": "Walked",
    "fell_s_ago": "Fell before confirmed",
    "mac": "MAC address",
    "remote": "Address",
    "firmware_version": "Firmware",
    "links_dropped": "Links dropped",
    "zero_frames": "Empty frames",
    "dropped_frames": "Frames dropped",
    "size_bytes": "Size",
    "duration_s": "Duration",
    "person_id": "Person",
    "new_person": "New person",
    "distance": "Face distance",
    "pass": "Listening pass",
    "heard": "Heard",
    "by": "By",
    "previous": "Before",
    "stream_copy": "Copied from the camera",
    "started_at": "Started",
    "first_seen": "First seen",
    "last_seen": "Last seen",
    "people": "Most present at once",
    "tracks": "Tracks grouped",
    "names": "Recognised",
    "continued": "Carried on from the stretch before",
    "continues": "Still going on",
    "person_key": "Person across senses",
    "named_by": "Named by",
    "certainty": "Certainty",
    "into": "Into",
    "from": "From",
}


def counted(count: int, thing: str, things: str | None = None) -> str:
    """``count`` of ``thing`` in words: "1 blob", "2 blobs", "0 blobs" (``things``: the
    plural when it is not ``thing`` + "s")."""
    return f"{count} {thing if count == 1 else (things or thing + 's')}"


def number(value: float, unit: str = "") -> str:
    """``value`` as a person reads it: no exponent, at most three decimals, thousands
    separated (``0.004``, ``12.5``, ``1,024``)."""
    if value != value or value in (float("inf"), float("-inf")):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 0.01 or magnitude == 0:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}{unit}"


def size(n_bytes: float) -> str:
    """``4.5 MB``, ``812 KB``, ``0 B``."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(n_bytes) >= scale:
            return number(n_bytes / scale, f" {unit}")
    return f"{int(n_bytes)} B"


def percent(share: float) -> str:
    """``0.4154`` → ``42 %``."""
    return f"{round(share * 100)} %"


def value_text(value: Any, site_time: SiteTime | None = None, *, key: str = "") -> str:
    """Any stored detail value as plain words: ``yes``/``no``, numbers without exponents
    and with their unit (from the key's ``_s``/``_m``/``_bytes`` suffix), ISO times in site
    time, lists joined with commas, mappings as ``label value`` pairs; never a repr."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if "bytes" in key:
            return size(value)
        if key.endswith(("confidence", "score", "share")) and 0 <= value <= 1:
            return percent(float(value))
        unit = next((u for suffix, u in _UNITS if key.endswith(suffix)), "")
        if isinstance(value, int) and not unit:
            return f"{value:,}" if abs(value) >= 10_000 else str(value)
        return number(float(value), unit)
    if isinstance(value, str):
        if key in _ACTOR_KEYS:
            return display_actor(value)
        if _ISO_TIME.match(value):
            try:
                return (site_time or display()).full(datetime.fromisoformat(value))
            except ValueError:
                pass
        return printable(value)
    if isinstance(value, Mapping):
        parts = [
            f"{label_of(str(k)).lower()} {value_text(v, site_time, key=str(k))}"
            for k, v in value.items()
            if str(k) not in _HIDDEN_KEYS
        ]
        return ", ".join(parts)
    if isinstance(value, Sequence):
        if key == "link" and (pair := link_text(value)) is not None:
            return pair
        if len(value) == 3 and all(isinstance(v, int | float) for v in value):
            return position(value)
        items = [value_text(v, site_time) for v in value[:6]]
        more = f" and {len(value) - 6} more" if len(value) > 6 else ""
        return ", ".join(items) + more if items else "none"
    return printable(str(value))


def link_text(value: Any) -> str | None:
    """A sensing link, stored as its two nodes, as ``node-a–node-c`` (None: not a pair)."""
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        return f"{printable(str(value[0]))}–{printable(str(value[1]))}"
    return None


def label_of(key: str) -> str:
    """A detail key as a label: ``links_dropped`` → ``Links dropped``."""
    if key in _LABELS:
        return _LABELS[key]
    for suffix, _unit in _UNITS:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
            break
    return _words(key).capitalize()


def position(xyz: Sequence[Any]) -> str:
    """A room position: ``(5.6, 1.1) m, 0.9 m up``."""
    x, y, z = (float(v) for v in xyz)
    return f"({x:.1f}, {y:.1f}) m, {z:.1f} m up"


def fields_of(
    detail: Mapping[str, Any], site_time: SiteTime | None = None, *, skip: Sequence[str] = ()
) -> tuple[tuple[str, str], ...]:
    """``detail`` as labelled fields, in its own order, without bookkeeping keys."""
    return tuple(
        (label_of(key), value_text(value, site_time, key=key))
        for key, value in detail.items()
        if key not in _HIDDEN_KEYS and key not in skip and value not in (None, "", [], {})
    )


def _first_up(text: str) -> str:
    """``text`` with its first letter upper case and the rest as written (a name stays
    "John Carter", which ``str.capitalize`` would make "John carter")."""
    return text[:1].upper() + text[1:]


def _words(dotted: str) -> str:
    return dotted.replace("_", " ").replace(".", " ").strip()


# -- the renderers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    """What a renderer reads: the stored row and the names around it."""

    kind: str
    detail: Mapping[str, Any]
    place: str
    person: str | None
    site_time: SiteTime
    scheme: str = ""  # the source's kind of place: "camera", "sensing", "microphone"…

    def get(self, key: str, default: Any = None) -> Any:
        return self.detail.get(key, default)

    def who(self, fallback: str) -> str:
        """The person's name, else the name the detail carries, else ``fallback``."""
        name = self.person or self.get("name")
        return printable(str(name)) if name else fallback

    def at(self, key: str) -> str:
        return value_text(self.get(key), self.site_time, key=key)

    def because(self, *keys: str) -> str:
        """``": <why>"`` from the first of ``keys`` the detail sets (``""`` if none)."""
        why = next((self.get(key) for key in keys if self.get(key)), None)
        return f": {printable(str(why))}" if why else ""


_Renderer = Callable[[_Row], tuple[str, str, Category, Tone]]
_RENDERERS: dict[str, _Renderer] = {}


def _renders(*kinds: str) -> Callable[[_Renderer], _Renderer]:
    def register(renderer: _Renderer) -> _Renderer:
        for kind in kinds:
            _RENDERERS[kind] = renderer
        return renderer

    return register


def _track(row: _Row) -> str:
    track = row.get("track_id")
    return f"person {track}" if track is not None else "someone"


@_renders("person.appeared")
def _person_appeared(row: _Row) -> tuple[str, str, Category, Tone]:
    who = _first_up(row.who(f"Unrecognised {_track(row)}"))
    sure = row.get("confidence")
    tail = f", {percent(float(sure))} sure" if isinstance(sure, int | float) else ""
    return "Person appeared", f"{who} appeared on {row.place}{tail}", Category.PEOPLE, Tone.NORMAL


@_renders("person.left")
def _person_left(row: _Row) -> tuple[str, str, Category, Tone]:
    who = _first_up(row.who(f"Unrecognised {_track(row)}"))
    stay = row.get("duration_s")
    tail = f" after {row.at('duration_s')}" if isinstance(stay, int | float) else ""
    return "Person left", f"{who} left {row.place}{tail}", Category.PEOPLE, Tone.QUIET


@_renders("face.recognised")
def _face(row: _Row) -> tuple[str, str, Category, Tone]:
    if row.get("new_person"):
        who = row.who("a new person")
        return "New face", f"A new face on {row.place}, kept as {who}", Category.PEOPLE, Tone.NORMAL
    return (
        "Face recognised",
        f"{row.who('Someone')} recognised on {row.place}",
        Category.PEOPLE,
        Tone.NORMAL,
    )


@_renders("person.named")
def _named(row: _Row) -> tuple[str, str, Category, Tone]:
    name = printable(str(row.get("name") or "a name"))
    before = row.get("previous")
    was = f" (was {printable(str(before))})" if before else ""
    by = row.get("by")
    tail = f", by {display_actor(str(by))}" if by else ""
    return "Person named", f"Named {name} on {row.place}{was}{tail}", Category.PEOPLE, Tone.NORMAL


@_renders("gesture.detected")
def _gesture(row: _Row) -> tuple[str, str, Category, Tone]:
    gesture = printable(str(row.get("gesture") or "a gesture"))
    sure = row.get("confidence")
    tail = f", {percent(float(sure))} sure" if isinstance(sure, int | float) else ""
    who = _first_up(row.who(_track(row)))
    tone = Tone.WARNING if row.get("alerting") else Tone.NORMAL
    return (
        f"Gesture: {gesture}",
        f"{who} made “{gesture}” on {row.place}{tail}",
        Category.GESTURES,
        tone,
    )


@_renders("speech.name_heard")
def _name_heard(row: _Row) -> tuple[str, str, Category, Tone]:
    name = printable(str(row.get("name") or "a name"))
    return "Name heard", f"“{name}” heard near {row.place}", Category.SPEECH, Tone.NORMAL


@_renders("sensing.fall_detected")
def _fall(row: _Row) -> tuple[str, str, Category, Tone]:
    who = row.who("Someone")
    ago = row.get("fell_s_ago")
    tail = f", {row.at('fell_s_ago')} before it was confirmed" if ago is not None else ""
    lost = "" if row.get("tracked", True) else "; no longer sensed"
    summary = f"{who} may have fallen in {row.place}{tail}{lost}"
    return "Possible fall", summary, Category.FALLS, Tone.ALARM


@_renders("sensing.blob_appeared")
def _movement_started(row: _Row) -> tuple[str, str, Category, Tone]:
    who = row.who("Someone")
    return "Movement", f"{who} sensed moving in {row.place}", Category.MOVEMENT, Tone.QUIET


@_renders("sensing.blob_left")
def _movement_ended(row: _Row) -> tuple[str, str, Category, Tone]:
    who = row.who("Someone")
    other = row.get("continued_as")
    if isinstance(other, int) and not isinstance(other, bool):
        # Not gone: the person goes on as another blob (two blobs on one person, or found
        # again after the tracker lost them for a moment).
        summary = f"{who} sensed in {row.place} goes on as blob {other}"
        return "Movement continues", summary, Category.MOVEMENT, Tone.QUIET
    parts = [f"{who} no longer sensed in {row.place}"]
    if isinstance(row.get("duration_s"), int | float):
        parts.append(f"after {row.at('duration_s')}")
    if isinstance(row.get("path_m"), int | float) and row.get("path_m"):
        parts.append(f"{row.at('path_m')} walked")
    return "Movement ended", ", ".join(parts), Category.MOVEMENT, Tone.QUIET


def path_text(segments: Any, site_time: SiteTime) -> str:
    """A person's path across senses as one sentence: "seen by Plaza east 14:02–14:04,
    sensed in Lobby 14:04–14:09, device 'Ada's tag' throughout" (times in the site's
    zone; a camera's or room's consecutive stretches joined; a device seen over the whole
    path said to be there "throughout")."""
    if not isinstance(segments, Sequence) or isinstance(segments, str):
        return ""
    stretches: list[tuple[str, str, datetime, datetime]] = []
    for seg in segments:
        if not isinstance(seg, Mapping):
            continue
        try:
            start = datetime.fromisoformat(str(seg.get("from")))
            end = datetime.fromisoformat(str(seg.get("to")))
        except ValueError:
            continue
        sense, label = str(seg.get("sense") or ""), printable(str(seg.get("label") or "?"))
        last = stretches[-1] if stretches else None
        if last is not None and last[0] == sense and last[1] == label and sense != "ble":
            stretches[-1] = (sense, label, min(last[2], start), max(last[3], end))
        else:
            stretches.append((sense, label, start, end))
    places = [s for s in stretches if s[0] != "ble"]
    first = min((s[2] for s in places), default=None)
    last_end = max((s[3] for s in places), default=None)
    phrases = []
    carried = []  # devices there the whole way: said after the places, as one goes along
    for sense, label, start, end in sorted(stretches, key=lambda s: (s[2], s[0] == "ble")):
        what = {"camera": f"seen by {label}", "sensing": f"sensed in {label}"}.get(
            sense, f"device ‘{label}’"
        )
        if (
            sense == "ble"
            and first is not None
            and last_end is not None
            and (start - first).total_seconds() <= 15
            and (last_end - end).total_seconds() <= 15
        ):
            carried.append(f"{what} throughout")
        else:
            phrases.append(f"{what} {site_time.minutes(start)}–{site_time.minutes(end)}")
    return ", ".join(phrases + carried)


@_renders("person.path")
def _path(row: _Row) -> tuple[str, str, Category, Tone]:
    who = _first_up(row.who("Someone unknown"))
    path = path_text(row.get("segments"), row.site_time)
    return "Path across senses", f"{who}: {path}" if path else who, Category.PEOPLE, Tone.NORMAL


@_renders("person.joined")
def _joined(row: _Row) -> tuple[str, str, Category, Tone]:
    who = row.who("")
    sure = row.get("certainty")
    tail = f", {percent(float(sure))} sure" if isinstance(sure, int | float) else ""
    camera = printable(str(row.get("camera") or row.place))
    room = printable(str(row.get("room") or "a sensing room"))
    named = f" ({who})" if who else ""
    summary = f"Person {row.get('track_id')} on {camera} is the one sensed in {room}{named}{tail}"
    return "Camera and sensing joined", summary, Category.PEOPLE, Tone.QUIET


@_renders("person.parted")
def _parted(row: _Row) -> tuple[str, str, Category, Tone]:
    camera = printable(str(row.get("camera") or row.place))
    room = printable(str(row.get("room") or "a sensing room"))
    summary = (
        f"Person {row.get('track_id')} on {camera} and the one sensed in {room} "
        "went separate ways: not the same person"
    )
    return "Camera and sensing parted", summary, Category.PEOPLE, Tone.QUIET


@_renders("person.handed_over")
def _handed_over(row: _Row) -> tuple[str, str, Category, Tone]:
    who = _first_up(row.who("Someone"))
    into = printable(str(row.get("into") or row.place))
    verb = "seen by" if row.get("sense") == "camera" else "sensed in"
    before = row.get("from")
    came = f" after {printable(str(before))}" if before else ""
    return "Followed across senses", f"{who} now {verb} {into}{came}", Category.PEOPLE, Tone.QUIET


def duration_words(seconds: float) -> str:
    """A stretch of time as a person says it: ``45 s``, ``5 min``, ``1 h 20 min``."""
    if seconds < 90:
        return f"{max(round(seconds), 0)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _people_count(count: int) -> str:
    return "1 person" if count == 1 else f"up to {count} people"


@_renders("activity.began")
def _activity_began(row: _Row) -> tuple[str, str, Category, Tone]:
    if row.scheme == "sensing":
        return "Movement", f"Someone sensed moving in {row.place}", Category.MOVEMENT, Tone.NORMAL
    return "Activity", f"Someone appeared on {row.place}", Category.PEOPLE, Tone.NORMAL


@_renders("activity.ended")
def _activity_ended(row: _Row) -> tuple[str, str, Category, Tone]:
    people = row.get("people")
    count = _people_count(people if isinstance(people, int) and people > 0 else 1)
    if row.scheme == "sensing":
        title, category = "Movement", Category.MOVEMENT
        what = f"{_first_up(count)} sensed in {row.place}"
    else:
        title, category = "Activity", Category.PEOPLE
        what = f"{_first_up(count)} on {row.place}"
    parts = [what]
    started, lasted = row.get("started_at"), row.get("duration_s")
    if isinstance(started, str) and isinstance(lasted, int | float):
        begun = datetime.fromisoformat(started)
        ended = begun + timedelta(seconds=float(lasted))
        when = f"{row.site_time.minutes(begun)}–{row.site_time.minutes(ended)}"
        parts[0] += f", {when} ({duration_words(float(lasted))})"
    tracks = row.get("tracks")
    if isinstance(tracks, int) and isinstance(people, int) and tracks > people:
        unit = "sensed tracks" if row.scheme == "sensing" else "camera tracks"
        parts.append(f"{tracks} {unit}")
    names = row.get("names")
    if isinstance(names, Sequence) and not isinstance(names, str) and names:
        parts.append(f"recognised: {value_text(list(names), row.site_time)}")
    if row.get("continues"):
        parts.append("still going on")
    return title, "; ".join(parts), category, Tone.NORMAL


@_renders("sensing.blob_identified")
def _identified(row: _Row) -> tuple[str, str, Category, Tone]:
    who = row.who("Someone")
    label = row.get("label")
    by = f" by {printable(str(label))}" if label else " by a registered device"
    return "Identified", f"{who} in {row.place}{by}", Category.MOVEMENT, Tone.NORMAL


def _node(row: _Row) -> str:
    node = row.get("node") or row.get("mac")
    return printable(str(node)) if node else "A node"


@_renders("sensing.node_online")
def _node_online(row: _Row) -> tuple[str, str, Category, Tone]:
    back = " again" if row.get("resumed") else ""
    return (
        "Sensing node online",
        f"{_node(row)} in {row.place} is online{back}",
        Category.SENSING,
        Tone.QUIET,
    )


@_renders("sensing.node_offline")
def _node_offline(row: _Row) -> tuple[str, str, Category, Tone]:
    tail = row.because("reason", "detail")
    return (
        "Sensing node offline",
        f"{_node(row)} in {row.place} went offline{tail}",
        Category.SENSING,
        Tone.WARNING,
    )


@_renders("sensing.node_rejected")
def _node_rejected(row: _Row) -> tuple[str, str, Category, Tone]:
    tail = row.because("reason", "detail")
    count = row.get("rejections")
    if isinstance(count, int) and count > 1:  # a summary of refused hellos (at most 1/min)
        seconds = row.get("over_s")
        over = f" over {float(seconds):.0f} s" if isinstance(seconds, int | float) else ""
        return (
            "Sensing nodes refused",
            f"{count} node connections were refused in {row.place}{over}; the latest{tail}",
            Category.SENSING,
            Tone.WARNING,
        )
    return (
        "Sensing node refused",
        f"{_node(row)} was refused in {row.place}{tail}",
        Category.SENSING,
        Tone.WARNING,
    )


@_renders("sensing.node_paired")
def _node_paired(row: _Row) -> tuple[str, str, Category, Tone]:
    address = row.get("address")
    source = f" from {printable(str(address))}" if address else ""
    return (
        "Sensing node paired",
        f"{_node(row)} fetched its token in {row.place}{source}",
        Category.SENSING,
        Tone.QUIET,
    )


def _link(row: _Row) -> str:
    return link_text(row.get("link")) or "A link"


@_renders("sensing.link_degraded")
def _link_degraded(row: _Row) -> tuple[str, str, Category, Tone]:
    empty, frames = row.get("zero_frames"), row.get("frames")
    tail = f": {empty} of {frames} frames empty" if empty is not None and frames else ""
    return (
        "Sensing link degraded",
        f"{_link(row)} in {row.place}{tail}",
        Category.SENSING,
        Tone.WARNING,
    )


@_renders("sensing.link_restored")
def _link_restored(row: _Row) -> tuple[str, str, Category, Tone]:
    return (
        "Sensing link restored",
        f"{_link(row)} in {row.place} works again",
        Category.SENSING,
        Tone.QUIET,
    )


_CAMERA_STATES: Final = {  # title, what the camera did, tone
    "starting": ("Camera starting", "is starting", Tone.QUIET),
    "online": ("Camera online", "is online", Tone.QUIET),
    "offline": ("Camera offline", "went offline", Tone.WARNING),
    "error": ("Camera failed", "cannot be opened", Tone.WARNING),
    "no_footage": ("Camera has no footage", "has no footage", Tone.WARNING),
    "stopped": ("Camera stopped", "stopped", Tone.QUIET),
}


def _camera(row: _Row) -> tuple[str, str, Category, Tone]:
    state = row.kind.partition(".")[2]
    title, did, tone = _CAMERA_STATES.get(
        state, (f"Camera {_words(state)}", _words(state), Tone.NORMAL)
    )
    tail = row.because("detail")
    return title, f"{_first_up(row.place or 'The camera')} {did}{tail}", Category.CAMERAS, tone


for _state in _CAMERA_STATES:
    _RENDERERS[f"camera.{_state}"] = _camera


_CAMERA_FIELD_WORDS: Final = {
    "url": "address",
    "password_env": "password source",
    "password_keyring": "password source",
    "first_frame_s": "start-up wait",
    "recording": "recording",
    "position": "place on the floor plan",
    "geo": "map position",
}
_SITE_CAMERA_CHANGES: Final = {
    "site.camera_added": ("Camera added", "added"),
    "site.camera_changed": ("Camera changed", "changed"),
    "site.camera_removed": ("Camera removed", "removed"),
}


@_renders(*_SITE_CAMERA_CHANGES)
def _site_camera(row: _Row) -> tuple[str, str, Category, Tone]:
    title, did = _SITE_CAMERA_CHANGES[row.kind]
    name = printable(str(row.get("name") or row.get("camera") or "a camera"))
    fields = row.get("fields")
    what = ""
    if row.kind == "site.camera_changed" and isinstance(fields, dict):
        changed: list[str] = []
        for key in [*fields, *(row.get("removed") or ())]:
            words = _CAMERA_FIELD_WORDS.get(str(key), str(key).replace("_", " "))
            if words not in changed:
                changed.append(words)
        what = f" ({', '.join(printable(w) for w in changed)})" if changed else ""
    by = row.get("by")
    tail = f" by {display_actor(str(by))}" if by else ""
    return title, f"{_first_up(name)} {did}{what}{tail}", Category.CAMERAS, Tone.NORMAL


@_renders("clip.finalised")
def _clip(row: _Row) -> tuple[str, str, Category, Tone]:
    parts = [f"Clip recorded on {row.place}"]
    if isinstance(row.get("duration_s"), int | float):
        parts.append(row.at("duration_s"))
    if isinstance(row.get("size_bytes"), int | float):
        parts.append(row.at("size_bytes"))
    dropped = row.get("dropped_frames")
    if dropped:
        parts.append(f"{dropped} frames dropped")
    tone = Tone.WARNING if dropped else Tone.QUIET
    return "Clip recorded", ", ".join(parts), Category.RECORDING, tone


@_renders("recording.failed")
def _recording_failed(row: _Row) -> tuple[str, str, Category, Tone]:
    lost = row.get("lost")
    if row.scheme == "sensing":  # a room's recording keeps what it cannot write, to retry
        text = f"Sensing recording of {row.place or 'a room'} failing{row.because('reason')}"
        if isinstance(lost, int) and lost > 0:
            text += f" ({counted(lost, 'record')} lost so far)"
        else:
            text += " (kept in memory to retry; nothing lost yet)"
        return "Recording failed", text, Category.RECORDING, Tone.ALARM
    files = row.get("not_written")
    count = len(files) if isinstance(files, list) else 1  # a list since losses are gathered
    media = str(row.get("media"))
    if count > 1:
        noun = {"clip": "clips", "snapshot": "snapshots", "segment": "recording segments"}
        what = f"{count} {noun.get(media, 'files')}"
    else:
        what = {"snapshot": "Snapshot", "segment": "Recording segment"}.get(media, "Clip")
    text = f"{what} of {row.place or 'a camera'} not saved{row.because('reason', 'error')}"
    if isinstance(lost, int) and lost > 1:
        text += f" ({lost} files lost so far)"
    return "Recording failed", text, Category.RECORDING, Tone.ALARM


@_renders("recording.recovered")
def _recording_recovered(row: _Row) -> tuple[str, str, Category, Tone]:
    lost = row.get("lost")
    if row.scheme == "sensing":
        text = f"Sensing recording of {row.place or 'a room'} is saved again"
        unit = "record"
    else:
        text = f"Recording of {row.place or 'a camera'} is saved again"
        unit = "file"
    if isinstance(lost, int) and lost > 0:
        text += f" ({counted(lost, unit)} lost)"
    return "Recording works again", text, Category.RECORDING, Tone.NORMAL


@_renders("recording.gap")
def _recording_gap(row: _Row) -> tuple[str, str, Category, Tone]:
    seconds = row.get("seconds")
    length = duration_words(seconds) if isinstance(seconds, int | float) else "a while"
    text = f"No recording of {row.place or 'a camera'} for {length}{row.because('reason')}"
    return "Recording gap", text, Category.RECORDING, Tone.WARNING


@_renders("media.missing")
def _media_missing(row: _Row) -> tuple[str, str, Category, Tone]:
    count = row.get("count")
    what = counted(count, "recording segment") if isinstance(count, int) else "Recordings"
    text = f"{what} missing from the disk; no longer listed"
    locked = row.get("locked")
    if isinstance(locked, int) and locked:
        text += f" ({counted(locked, 'locked segment')} among them)"
    return "Recording missing", text, Category.RECORDING, Tone.ALARM


@_renders("retention.segments_deleted")
def _segments_deleted(row: _Row) -> tuple[str, str, Category, Tone]:
    count = row.get("count")
    what = counted(count, "recording segment") if isinstance(count, int) else "Recording"
    text = f"{what} of {row.place} deleted" if row.place else f"{what} deleted"
    if isinstance(row.get("size_bytes"), int | float):
        text += f" ({row.at('size_bytes')})"
    return "Recording deleted", text + row.because("reason"), Category.RECORDING, Tone.QUIET


@_renders("retention.completed")
def _retention(row: _Row) -> tuple[str, str, Category, Tone]:
    clips, events = row.get("clips_deleted", 0), row.get("events_deleted", 0)
    freed = row.get("bytes_freed", 0)
    problems = row.get("problems") or []
    text = f"{clips} clips and {events} events past their keeping time deleted, {size(freed)} freed"
    if problems:
        text += f"; {len(problems)} problems"
    tone = Tone.WARNING if problems else Tone.QUIET
    return "Retention", text, Category.SYSTEM, tone


def _generic(row: _Row) -> tuple[str, str, Category, Tone]:
    """A kind no renderer knows: its words as the title and its fields as the summary."""
    noun, _, verb = row.kind.partition(".")
    title = f"{_words(noun)} {_words(verb)}".strip().capitalize() or "Event"
    fields = fields_of(row.detail, row.site_time)
    summary = title + (f" on {row.place}" if row.place else "")
    if fields:
        summary += ": " + "; ".join(f"{label} {value}" for label, value in fields[:3])
    category = {
        "camera": Category.CAMERAS,
        "person": Category.PEOPLE,
        "face": Category.PEOPLE,
        "sensing": Category.SENSING,
        "gesture": Category.GESTURES,
        "speech": Category.SPEECH,
        "alert": Category.ALERTS,
        "clip": Category.RECORDING,
        "media": Category.RECORDING,
    }.get(noun, Category.SYSTEM)
    return title, summary, category, Tone.NORMAL


def display_actor(label: str) -> str:
    """An actor's label as a person reads it: ``account:ivan`` → ``ivan``,
    ``system:retention`` or ``engine:camera-watch`` → ``the system (…)``, other kinds
    ``night-bot (service)``."""
    scheme, _, name = label.partition(":")
    if not name:
        return printable(label)
    if scheme == "account":
        return printable(name)
    if scheme in ("system", "engine"):
        return f"the system ({printable(name)})"
    return printable(f"{name} ({scheme})")


# -- the audit trail ----------------------------------------------------------------------

_AUDIT_ACTIONS: Final = {
    "account.create": "Created an account",
    "account.disable": "Disabled an account",
    "account.password": "Changed a password",
    "account.recover": "Recovered an account",
    "account.roles": "Changed an account's roles",
    "account.secret": "Changed an account's secret",
    "account.clear_delay": "Cleared a login delay",
    "alert.acknowledge": "Closed an alert",
    "alert.take": "Took an alert",
    "alert.note": "Wrote a note on an alert",
    "alert.escalate": "Escalated an alert to an incident",
    "alert.snooze": "Snoozed a camera's alerts",
    "alert.unsnooze": "Ended a camera's snooze",
    "alert_rule.add": "Added an alert rule",
    "alert_rule.update": "Changed an alert rule",
    "alert_rule.arm": "Armed or disarmed an alert rule",
    "alert_rule.remove": "Removed an alert rule",
    "alert_rule.handling": "Changed how a rule's alerts are handled",
    "alert_sequence.label": "Labelled an alert sequence",
    "audit.prune": "Pruned the audit trail",
    "ble_device.register": "Registered a BLE device",
    "ble_device.remove": "Removed a BLE device",
    "bookmark.add": "Added a bookmark",
    "bookmark.remove": "Removed a bookmark",
    "camera.add": "Added a camera",
    "camera.calibrate": "Calibrated a camera to the floor",
    "camera.edit": "Changed a camera",
    "camera.remove": "Removed a camera",
    "camera.mask": "Changed a camera's privacy masks",
    "chat.ask": "Asked a question",
    "engine.lock": "Engine lock",
    "evidence.export": "Exported evidence",
    "evidence.lock": "Locked evidence",
    "evidence.unlock": "Unlocked evidence",
    "gesture.teach": "Taught a gesture",
    "gesture.rename": "Renamed a gesture",
    "gesture.remove": "Removed a gesture",
    "gesture.change": "Changed a gesture",
    "incident.report": "Filed an incident report",
    "incident.validate": "Validated an incident",
    "incident.unmerge": "Split an incident",
    "mqtt.grant": "Let a broker user act as a service account",
    "mqtt.revoke": "Revoked a broker user's grant",
    "node.token": "Made a node token",
    "node.token_rotated": "Issued a node a new token",
    "node.token_revoked": "Revoked a node's token",
    "node.token_adopted": "Kept nodes' derived tokens",
    "node.pairing_opened": "Opened node pairing",
    "node.provisioned": "Provisioned a node",
    "node.replaced": "Replaced a node",
    "people.list": "Listed people",
    "person.enrol": "Enrolled a person",
    "person.rename": "Renamed a person",
    "person.merge": "Merged people",
    "person.erase": "Erased a person",
    "person.introduced": "Named a person from an introduction",
    "retention.run": "Ran retention",
    "secret.set": "Stored a secret",
    "secret.generate": "Generated a secret",
    "session.login": "Logged in",
    "session.logout": "Logged out",
    "session.lock": "Locked the console",
    "engine.stop": "Stopped the engine",
    "session.start": "Started a session",
    "settings.change": "Changed a setting",
    "site_plan.pin": "Pinned the site plan",
}


# What each guarded action does, as "may not …" needs it (imperative, plural where it acts on
# any of its kind).
_ACTION_WORDS: Final = {
    "account.clear_delay": "clear an account's login delay",
    "account.create": "create accounts",
    "account.disable": "disable accounts",
    "account.roles": "change an account's roles",
    "account.secret": "reset an account's password or token",
    "alert.acknowledge": "close alerts",
    "alert.take": "take alerts",
    "alert.note": "write notes on alerts",
    "alert.escalate": "escalate alerts to incidents",
    "alert.snooze": "snooze cameras' alerts",
    "alert.unsnooze": "end cameras' snoozes",
    "alert_rule.add": "add alert rules",
    "alert_rule.update": "change alert rules",
    "alert_rule.arm": "arm and disarm alert rules",
    "alert_rule.remove": "remove alert rules",
    "alert_rule.handling": "change how a rule's alerts are handled",
    "alert_sequence.label": "label alert sequences",
    "ble_device.register": "register BLE devices",
    "ble_device.remove": "remove BLE devices",
    "bookmark.add": "add bookmarks",
    "bookmark.remove": "remove bookmarks",
    "camera.add": "add cameras",
    "camera.calibrate": "calibrate cameras to the floor",
    "camera.edit": "change cameras",
    "camera.remove": "remove cameras",
    "camera.mask": "change cameras' privacy masks",
    "chat.ask": "ask about the records",
    "evidence.export": "export evidence",
    "evidence.lock": "lock evidence",
    "evidence.unlock": "unlock evidence",
    "gesture.change": "change gestures",
    "gesture.remove": "remove gestures",
    "gesture.rename": "rename gestures",
    "gesture.teach": "teach gestures",
    "incident.report": "file incident reports",
    "incident.unmerge": "split incidents",
    "incident.validate": "validate incidents",
    "mqtt.grant": "let broker users act as service accounts",
    "mqtt.revoke": "revoke broker users' grants",
    "node.pairing_opened": "open node pairing",
    "node.token_revoked": "revoke nodes' tokens",
    "node.token_rotated": "issue nodes new tokens",
    "person.enrol": "enrol faces",
    "person.erase": "erase people",
    "person.introduced": "name people from introductions",
    "person.merge": "merge people",
    "person.rename": "rename people",
    "settings.change": "change settings",
    "site_plan.pin": "pin the site plan",
}


def what_stops(cameras: int, rooms: int) -> str:
    """What stopping an engine that runs ``cameras`` cameras and ``rooms`` sensing rooms
    costs, in words: "recording stops on 1 camera and 1 sensing room" ("" when it runs
    neither)."""
    parts = [
        f"{count} {noun}{'' if count == 1 else 's'}"
        for count, noun in ((cameras, "camera"), (rooms, "sensing room"))
        if count
    ]
    return f"recording stops on {' and '.join(parts)}" if parts else ""


def action_words(action: str) -> str:
    """What an action does, for "may not …": a stored action (``person.erase`` → ``erase
    people``; one not listed reads ``verb noun``), or words given as they are."""
    known = _ACTION_WORDS.get(action)
    if known is not None:
        return known
    if " " in action or "." not in action:
        return action
    noun, _, verb = action.partition(".")
    return f"{_words(verb)} {_words(noun)}".strip()


def audit_action(action: str) -> str:
    """An audit entry's action as a person reads it (``alert.acknowledge`` →
    ``Closed an alert``)."""
    known = _AUDIT_ACTIONS.get(action)
    if known is not None:
        return known
    noun, _, verb = action.partition(".")
    return _first_up(f"{_words(verb)} {_words(noun)}".strip()) or "Action"


def audit_action_key(text: str) -> str:
    """The stored action a person typed: its words (any case: ``logged in`` →
    ``session.login``) or the stored action itself."""
    wanted = text.strip().lower()
    for action, words in _AUDIT_ACTIONS.items():
        if words.lower() == wanted:
            return action
    return text.strip()


def actor_filter_text(label: str) -> str:
    """What a person types to find an actor's entries (:func:`actor_key` reads it back):
    an account's name (``account:ada`` → ``ada``), any other label as it is."""
    scheme, _, name = label.partition(":")
    return name if scheme == "account" and name else label


def actor_key(text: str) -> str:
    """The stored actor label a person typed: an account's name (``ada`` →
    ``account:ada``) or a label itself (``system:retention``)."""
    cleaned = text.strip()
    return cleaned if ":" in cleaned else f"account:{cleaned}"


def audit_target(target: str) -> str:
    """What an audit entry acted on, in words (``alert:12`` → ``alert 12``,
    ``camera:plaza`` → ``camera plaza``)."""
    scheme, _, key = target.partition(":")
    if not key:
        return printable(_words(target))
    return printable(f"{_words(scheme)} {key}")


# -- the entry point ----------------------------------------------------------------------


def describe(
    kind: str,
    source: str,
    detail: Mapping[str, Any] | None,
    *,
    names: Mapping[str, str] | None = None,
    person: str | None = None,
    site_time: SiteTime | None = None,
) -> EventWords:
    """The stored event ``kind`` from ``source`` with ``detail`` as a person reads it.

    ``names``: camera keys and room ids to their names; ``person``: the name (or automatic
    id) the store joined to the row; ``site_time``: the zone times are read in (default:
    the console's)."""
    detail = detail if isinstance(detail, Mapping) else {}
    row = _Row(
        kind,
        detail,
        place_of(source, names or {}),
        printable(person) if person else None,
        site_time or display(),
        source.partition(":")[0] if ":" in source else "",
    )
    renderer = _RENDERERS.get(kind, _generic)
    try:
        title, summary, category, tone = renderer(row)
    except (TypeError, ValueError, KeyError, IndexError):  # a row from an older version
        title, summary, category, tone = _generic(row)
    return EventWords(
        title=title,
        summary=summary,
        category=category,
        tone=tone,
        place=row.place,
        person=row.person or (printable(str(detail["name"])) if detail.get("name") else None),
        fields=_fields(row),
    )


def _fields(row: _Row) -> tuple[tuple[str, str], ...]:
    fields = list(fields_of(row.detail, row.site_time, skip=("detail",)))
    explanation = row.get("explanation")
    if isinstance(explanation, Sequence) and not isinstance(explanation, str):
        links = [
            f"{link_text(entry.get('link')) or 'A link'} {percent(float(entry.get('share', 0.0)))}"
            for entry in explanation
            if isinstance(entry, Mapping)
        ]
        if links:
            fields.append(("Sensed through", ", ".join(links)))
    detail = row.get("detail")
    if detail:
        fields.insert(0, ("Detail", printable(str(detail))))
    return tuple(fields)


_KIND_TITLES: Final = {"gesture.detected": "Gesture"}  # whose rows' titles name more


def kind_title(kind: str) -> str:
    """What a kind's rows are called, for a filter's list (``sensing.fall_detected`` →
    ``Possible fall``)."""
    return _KIND_TITLES.get(kind) or describe(kind, "", {}).title


def kind_category(kind: str) -> Category:
    """The category a kind's rows fall in."""
    return describe(kind, "", {}).category


def known_kinds() -> tuple[str, ...]:
    """Every kind a renderer is written for, falls first then by category."""
    order = list(Category)
    return tuple(sorted(_RENDERERS, key=lambda k: (order.index(kind_category(k)), k)))

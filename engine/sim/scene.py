"""The simulated camera's picture: the floor and the simulated walkers, seen by a pinhole camera.

To measure how camera tracks and sensing blobs are joined, the walkers who walk through the
simulated sensing rooms are also filmed: :func:`render` draws what a camera
(:class:`~engine.camera_view.CameraView`, re-exported here; it lives among the engine's basics
because the site file describes a simulated camera's view) over the same floor would see at
time ``t_s``, and :func:`truth_boxes` says where each person is in that picture. A product
feature, like the simulated sensing room, and shown as simulated
(:mod:`engine.sim.camera` makes it a camera).

The picture
-----------
- **The floor**, in perspective, tiled in 1 m squares along the site's axes with a line at
  every whole metre, so floor coordinates can be read off it; a dot and its coordinates
  ("4,2") at every ``marker_step_m`` (2 m) corner; each room's walls as low planes
  (``wall_height_m``) along its edges. Beyond the floor's area: a plain floor, and above the
  horizon a dark back wall. Drawn once per view and floor (per-pixel, through
  :meth:`~engine.camera_view.CameraView.image_to_floor`) and cached.
- **The people**, far first so that a nearer person hides a farther one. Each is drawn as a
  flat figure standing upright at its floor position, facing the camera (a billboard), whose
  outline is every body part's vertices projected through the camera: size and the
  convergence of verticals are the camera's. Proportions are a standing adult's as a
  fraction of height ``H`` (head 0.13 H, shoulders at 0.82 H and 0.25 H wide face on,
  hips at 0.52 H, legs 0.48 H); seen from the side the body narrows to its depth. A walking
  person's legs and arms swing (±22° and ±18° at 1 m/s) at a stride rate of
  speed / (0.8 H), as much as the walking direction lies across the view. Parts have a dark
  outline and a shaded side; the feet cast a soft shadow.
- **Sensor noise**: Gaussian, σ = 3 levels, from a bank drawn once, picked by time.
- **"SIMULATED"** burnt into the bottom-left corner (:data:`CAPTION`), so that no clip,
  snapshot or export of the picture passes for real footage.

Same arguments, same picture (a pure function of view, floor, people and time).

Measured by ``python -m benchmarks sim_camera`` (250 pictures of three scripted walkers in an
8 m × 6 m room, camera 2.8 m up, two views): the default detector (YOLOv3-tiny) finds
97 % of the people at least 60 px tall and 70 % seen (IoU ≥ 0.4), with no stray detections.
A 640 × 480 picture of three people takes 2.9 ms (2.85 ms of CPU; 95th percentile 3.3 ms)
on this machine (2 cores), about 4 ms right after a detection, after a first picture of
0.3-0.4 s that draws and caches the floor; other processes on a busy machine have made the
mean 7-11 ms.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from engine.camera_view import NEAR_M, CameraView
from engine.cv import import_cv2
from engine.frames import Image

__all__ = [
    "APPEARANCES",
    "CAPTION",
    "HEIGHTS_M",
    "Appearance",
    "CameraView",
    "Floor",
    "FloorRect",
    "ScenePerson",
    "TruthBox",
    "WalkerLike",
    "person_from_walker",
    "render",
    "truth_boxes",
]

FloatArray = npt.NDArray[np.float64]
BGR = tuple[int, int, int]

PERSON_HEIGHT_RANGE_M: Final = (1.0, 2.3)  # what :class:`ScenePerson` accepts
NOISE_SIGMA: Final = 3.0  # grey levels of sensor noise
NOISE_BANK: Final = 6  # noise pictures drawn once and reused, picked by time
NOISE_MARGIN_PX: Final = 32  # the bank is this much larger, for a shifted window per frame
FAR_FADE_M: Final = (18.0, 45.0)  # the floor fades into haze between these distances
LEG_SWING_DEG: Final = 22.0  # at 1 m/s; a hip's swing in normal walking is about ±20-25°
ARM_SWING_DEG: Final = 18.0
STRIDE_PER_HEIGHT: Final = 0.8  # a stride (two steps) is about 0.8 times one's height
MAX_SWING_SPEED_M_S: Final = 1.5


@dataclass(frozen=True, slots=True)
class Appearance:
    """What a simulated person wears: BGR colours of the shirt, trousers, skin, hair and
    shoes, and whether the shirt's sleeves are long."""

    shirt: BGR
    trousers: BGR
    skin: BGR = (120, 150, 200)
    hair: BGR = (30, 35, 45)
    shoes: BGR = (35, 35, 35)
    long_sleeves: bool = False


# Distinct, everyday clothes; person i wears APPEARANCES[i % len(APPEARANCES)].
APPEARANCES: Final = (
    Appearance((40, 40, 190), (110, 70, 40), (110, 145, 195), (25, 30, 40)),  # red, jeans
    Appearance((225, 225, 225), (40, 40, 40), (80, 110, 150), (20, 20, 20), long_sleeves=True),
    Appearance((60, 140, 40), (120, 160, 185), (140, 170, 215), (50, 90, 140)),  # green, khaki
    Appearance((40, 200, 230), (80, 80, 85), (90, 125, 175), (25, 25, 30)),  # yellow, grey
    Appearance((110, 40, 20), (150, 185, 200), (125, 160, 210), (60, 70, 90), long_sleeves=True),
    Appearance((30, 120, 240), (45, 35, 30), (70, 95, 130), (15, 15, 20)),  # orange, dark
    Appearance((150, 60, 140), (90, 90, 60), (115, 150, 200), (40, 50, 70)),  # purple, olive
    Appearance((180, 160, 60), (30, 30, 100), (100, 135, 185), (20, 25, 35), long_sleeves=True),
)
HEIGHTS_M: Final = (1.78, 1.65, 1.86, 1.71, 1.82, 1.62, 1.75, 1.69)  # person i: HEIGHTS_M[i % 8]


@dataclass(frozen=True, slots=True)
class ScenePerson:
    """One simulated person at one moment: feet at floor point (``x``, ``y``) metres,
    ``height_m`` tall, wearing ``appearance``, walking towards ``heading_deg`` (0 = +x, 90 =
    +y) at ``speed_m_s`` (0: standing still); ``gait_phase`` (radians) keeps two walkers'
    steps apart."""

    x: float
    y: float
    height_m: float
    appearance: Appearance
    heading_deg: float = 0.0
    speed_m_s: float = 0.0
    gait_phase: float = 0.0

    def __post_init__(self) -> None:
        for name in ("x", "y", "height_m", "heading_deg", "speed_m_s", "gait_phase"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name}: expected a finite number, got {getattr(self, name)}")
        low, high = PERSON_HEIGHT_RANGE_M
        if not low <= self.height_m <= high:
            raise ValueError(f"height_m: {self.height_m} is outside {low:g}..{high:g}")
        if self.speed_m_s < 0:
            raise ValueError(f"speed_m_s: {self.speed_m_s} is negative")


class WalkerLike(Protocol):
    """A sensing simulator's walker (engine.sim.nodes.Walker): body centre and
    velocity in a room's metres at a time in seconds."""

    def position_at(self, t_s: float) -> tuple[float, float, float]: ...

    def velocity_at(self, t_s: float) -> tuple[float, float, float]: ...


def person_from_walker(
    walker: WalkerLike,
    t_s: float,
    index: int,
    *,
    origin: tuple[float, float] = (0.0, 0.0),
    height_m: float | None = None,
) -> ScenePerson:
    """Walker number ``index`` of a simulated room at ``t_s`` as the camera sees them: feet
    under the body centre (moved by ``origin``, where the room's corner is on the floor
    plan), facing the way they walk, ``height_m`` tall (default: the index's, from
    :data:`HEIGHTS_M`; a sensing walker's own ``height_m`` is its body centre's, not its
    stature), in the index's clothes (:data:`APPEARANCES`), with a gait phase of their own.
    A walker who is not in the scene at ``t_s`` (a simulator's ``ABSENT``) is the caller's
    to leave out."""
    x, y, _ = walker.position_at(t_s)
    vx, vy, _ = walker.velocity_at(t_s)
    speed = math.hypot(vx, vy)
    heading = math.degrees(math.atan2(vy, vx)) if speed > 1e-6 else 90.0 * (index % 4)
    return ScenePerson(
        x + origin[0],
        y + origin[1],
        height_m if height_m is not None else HEIGHTS_M[index % len(HEIGHTS_M)],
        APPEARANCES[index % len(APPEARANCES)],
        heading_deg=heading,
        speed_m_s=speed,
        gait_phase=2.399 * index,  # the golden angle: any two walkers stay out of step
    )


@dataclass(frozen=True, slots=True)
class FloorRect:
    """An axis-aligned rectangle of the floor plan, metres."""

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        values = (self.x0, self.y0, self.x1, self.y1)
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"floor rectangle {values}: expected finite numbers")
        if not (self.x0 < self.x1 and self.y0 < self.y1):
            raise ValueError(f"floor rectangle {values}: expected x0 < x1 and y0 < y1")


@dataclass(frozen=True, slots=True)
class Floor:
    """What is drawn on the floor: ``area``, tiled with the 1 m grid and its markers; the
    ``rooms``, whose walls stand ``wall_height_m`` high along their edges; coordinates
    written every ``marker_step_m`` metres."""

    area: FloorRect
    rooms: tuple[FloorRect, ...] = ()
    wall_height_m: float = 0.3
    marker_step_m: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.wall_height_m <= 3.0:
            raise ValueError(f"wall_height_m: {self.wall_height_m} is outside 0..3")
        if not 0.5 <= self.marker_step_m <= 100.0:
            raise ValueError(f"marker_step_m: {self.marker_step_m} is outside 0.5..100")

    @classmethod
    def around(cls, rooms: Iterable[FloorRect], margin_m: float = 1.0) -> Floor:
        """The floor of ``rooms`` (at least one), tiled ``margin_m`` beyond them."""
        boxes = tuple(rooms)
        if not boxes:
            raise ValueError("a floor needs at least one room")
        area = FloorRect(
            min(r.x0 for r in boxes) - margin_m,
            min(r.y0 for r in boxes) - margin_m,
            max(r.x1 for r in boxes) + margin_m,
            max(r.y1 for r in boxes) + margin_m,
        )
        return cls(area, boxes)


def render(view: CameraView, people: Sequence[ScenePerson], t_s: float, *, floor: Floor) -> Image:
    """The picture (BGR uint8, ``view.height`` × ``view.width``) that ``view`` takes at time
    ``t_s`` seconds of the scene of ``people`` standing or walking on ``floor`` (see the
    module docstring). Deterministic; thread-safe (the cached background is read-only)."""
    cv2 = import_cv2()
    image = _background(view, floor).copy()
    rotation = view.rotation()
    camera = view.position
    feet = np.array([[p.x, p.y, 0.0] for p in people]).reshape(-1, 3)
    depth = (feet - camera) @ rotation[2] if len(people) else np.zeros(0)
    for index in np.argsort(-depth, kind="stable"):  # far first: near people hide far ones
        if depth[index] < NEAR_M:
            continue
        _draw_person(image, view, people[int(index)], t_s)
    brighter, darker = _noise_bank(view.width, view.height)
    frame = math.floor(t_s * 1000.0) if math.isfinite(t_s) else 0
    dy, dx = (frame * 7) % NOISE_MARGIN_PX, (frame * 13) % NOISE_MARGIN_PX
    window = (frame % NOISE_BANK, slice(dy, dy + view.height), slice(dx, dx + view.width))
    cv2.add(image, brighter[window], dst=image)  # saturating, as a sensor does
    cv2.subtract(image, darker[window], dst=image)
    _caption(image)
    return image


CAPTION: Final = "SIMULATED"
_CAPTION_INK: Final = (20, 20, 20)
_CAPTION_FILL: Final = (34, 153, 210)  # the amber of the SIMULATED banners (#d29922)


def _caption(image: Image) -> None:
    """Burn "SIMULATED" into the picture's bottom-left corner, as a camera writes its time:
    every clip, snapshot and export of the picture says it is not real footage."""
    cv2 = import_cv2()
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.45
    (text_w, text_h), base = cv2.getTextSize(CAPTION, font, scale, 1)
    height, width = image.shape[:2]
    if text_w + 8 > width or text_h + base + 8 > height:
        return
    top = height - text_h - base - 8
    cv2.rectangle(image, (0, top), (text_w + 8, height), _CAPTION_FILL, -1)
    cv2.putText(image, CAPTION, (4, height - base - 3), font, scale, _CAPTION_INK, 1, cv2.LINE_AA)


# ------------------------------------------------------------------------------ the figure

# Body parts as polygons on the figure's plane: (across, up) in units of the person's height,
# across measured face on (``_TORSO_DEPTH`` says how much narrower the side view is).
_TORSO_DEPTH: Final = 0.62  # chest depth / shoulder width: a side view's torso width
_SHIRT: Final = (
    (-0.030, 0.848),
    (0.030, 0.848),
    (0.095, 0.823),  # the shoulders slope from the neck
    (0.122, 0.805),
    (0.128, 0.775),
    (0.118, 0.700),
    (0.098, 0.610),
    (0.102, 0.515),
    (-0.102, 0.515),
    (-0.098, 0.610),
    (-0.118, 0.700),
    (-0.128, 0.775),
    (-0.122, 0.805),
    (-0.095, 0.823),
)
_HIPS: Final = ((-0.102, 0.530), (0.102, 0.530), (0.106, 0.465), (0.0, 0.452), (-0.106, 0.465))
_HIP_JOINT: Final = (0.055, 0.50)  # across (each side), up
_LEG_LENGTH: Final = 0.455
_LEG_WIDTH: Final = (0.088, 0.052)  # at the hip, at the ankle
_SHOULDER_JOINT: Final = (0.105, 0.795)
_ARM_LENGTH: Final = 0.335  # shoulder to wrist
_ARM_WIDTH: Final = (0.056, 0.040)
_HAND_LENGTH: Final = 0.075
_HEAD_CENTRE: Final = 0.928
_HEAD_HALF: Final = (0.052, 0.066)
_NECK: Final = ((-0.027, 0.805), (0.027, 0.805), (0.025, 0.875), (-0.025, 0.875))
_ARM_OUT: Final = 0.065  # how far a hand hangs out from where the arm would fall straight
_EYES: Final = (40, 40, 50)
# Light from above and the upper left: a part's colour is scaled by 1 - _TOP_LIGHT × (how
# far below the head it is), a round part's edges by _SHADE and its lit middle by _LIT,
# its outline by _OUTLINE.
_TOP_LIGHT: Final = 0.3
_SHADE: Final = 0.72
_LIT: Final = 1.06
_OUTLINE: Final = 0.45
_SHADOW_M: Final = (0.34, 0.34)  # the soft shadow around the feet, metres
_SHADOW_LEVEL: Final = 0.62  # the floor's brightness at the shadow's middle
_CIRCLE: Final = np.stack(
    [
        np.cos(np.linspace(0, 2 * np.pi, 20, endpoint=False)),
        np.sin(np.linspace(0, 2 * np.pi, 20, endpoint=False)),
    ],
    axis=1,
)


@dataclass(frozen=True, slots=True)
class _Pose:
    """How a person stands towards the camera this moment."""

    side: float  # the person's right, projected on the picture's across axis (-1..1)
    across: float  # their walking direction projected on it (-1..1)
    facing: bool  # their face is towards the camera
    near_right: bool  # their right side is the nearer to the camera
    leg_swing: float  # radians; the right leg's, the left one's is opposite
    arm_swing: float


def _pose(view: CameraView, person: ScenePerson, t_s: float) -> tuple[_Pose, FloatArray]:
    """The person's pose and the figure plane's across axis (unit, on the floor)."""
    to_person = np.array([person.x - view.x, person.y - view.y])
    if float(np.hypot(*to_person)) < 1e-6:  # right under the camera: face its view
        to_person = view.rotation()[2][:2]
    look = to_person / max(float(np.hypot(*to_person)), 1e-9)
    across = np.array([look[1], -look[0]])  # the camera's right, for this person
    heading = math.radians(person.heading_deg)
    walk = np.array([math.cos(heading), math.sin(heading)])
    right = np.array([walk[1], -walk[0]])
    speed = min(person.speed_m_s, MAX_SWING_SPEED_M_S)
    stride_hz = speed / (STRIDE_PER_HEIGHT * person.height_m)
    phase = 2.0 * math.pi * stride_hz * t_s + person.gait_phase
    swing = math.sin(phase) * min(speed, 1.2)
    pose = _Pose(
        side=float(right @ across),
        across=float(walk @ across),
        facing=float(walk @ look) < 0.0,
        near_right=float(right @ look) < 0.0,
        leg_swing=math.radians(LEG_SWING_DEG) * swing,
        arm_swing=-math.radians(ARM_SWING_DEG) * swing,
    )
    return pose, np.array([across[0], across[1], 0.0])


def _limb(
    joint: tuple[float, float],
    length: float,
    widths: tuple[float, float],
    angle: float,
    across: float,
) -> FloatArray:
    """A tapered limb hanging from ``joint`` (across, up), swung by ``angle`` radians in
    the walking direction, of which ``across`` shows across the picture."""
    dx, dy = math.sin(angle) * length * across, -math.cos(angle) * length
    norm = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / norm, dx / norm  # across the limb
    x0, y0 = joint
    x1, y1 = x0 + dx, y0 + dy
    w0, w1 = widths[0] / 2.0, widths[1] / 2.0
    return np.array(
        [
            (x0 - nx * w0, y0 - ny * w0),
            (x0 + nx * w0, y0 + ny * w0),
            (x1 + nx * w1, y1 + ny * w1),
            (x1 - nx * w1, y1 - ny * w1),
        ]
    )


_UNIT_CIRCLE: Final = np.stack(
    [np.cos(np.linspace(0, 2 * np.pi, 16)), np.sin(np.linspace(0, 2 * np.pi, 16))], axis=1
)
_UPPER_HALF: Final = np.stack(
    [np.cos(np.linspace(0, np.pi, 16)), np.sin(np.linspace(0, np.pi, 16))], axis=1
)


def _ellipse(
    centre: tuple[float, float], half: tuple[float, float], *, upper: bool = False
) -> FloatArray:
    """An ellipse (or its upper half) as a polygon."""
    unit = _UPPER_HALF if upper else _UNIT_CIRCLE
    result: FloatArray = unit * half + centre
    return result


def _figure(person: ScenePerson, pose: _Pose) -> list[tuple[FloatArray, BGR, bool]]:
    """The figure's polygons, back to front, in (across, up) units of height, with their
    colour and whether they are shaded as round (limbs, torso)."""
    look = person.appearance
    face_on = abs(pose.side)
    width = face_on + (1.0 - face_on) * _TORSO_DEPTH  # how wide the torso shows
    parts: list[tuple[FloatArray, BGR, bool]] = []

    def leg(sign: float) -> None:  # sign +1: the right leg, which is at +side across
        joint = (_HIP_JOINT[0] * sign * pose.side, _HIP_JOINT[1])
        limb = _limb(joint, _LEG_LENGTH, _LEG_WIDTH, sign * pose.leg_swing, pose.across)
        parts.append((limb, look.trousers, True))
        ankle = (limb[2] + limb[3]) / 2.0
        toe = 0.07 * pose.across
        shoe = np.array(
            [
                (ankle[0] - 0.030, ankle[1] + 0.012),
                (ankle[0] + 0.030, ankle[1] + 0.012),
                (ankle[0] + 0.030 + max(toe, 0.0), ankle[1] - 0.030),
                (ankle[0] - 0.030 + min(toe, 0.0), ankle[1] - 0.030),
            ]
        )
        parts.append((shoe, look.shoes, False))

    def arm(sign: float) -> None:
        joint = (_SHOULDER_JOINT[0] * sign * pose.side * width, _SHOULDER_JOINT[1])
        limb = _limb(joint, _ARM_LENGTH, _ARM_WIDTH, sign * pose.arm_swing, pose.across)
        limb[2:, 0] += _ARM_OUT * sign * pose.side  # arms hang a little away from the hips
        if look.long_sleeves:
            parts.append((limb, look.shirt, True))
        else:
            elbow = (limb[0] + limb[3]) / 2.0, (limb[1] + limb[2]) / 2.0
            parts.append((np.array([limb[0], limb[1], elbow[1], elbow[0]]), look.shirt, True))
            parts.append((np.array([elbow[0], elbow[1], limb[2], limb[3]]), look.skin, True))
        wrist = (limb[2] + limb[3]) / 2.0
        hand = _ellipse((wrist[0], wrist[1] - _HAND_LENGTH / 2.0), (0.022, _HAND_LENGTH / 2.0))
        parts.append((hand, look.skin, False))

    first, second = (-1.0, 1.0) if pose.near_right else (1.0, -1.0)  # far side first
    arm(first)
    leg(first)
    leg(second)
    parts.append((np.array(_HIPS) * (width, 1.0), look.trousers, True))
    parts.append((np.array(_SHIRT) * (width, 1.0), look.shirt, True))
    arm(second)
    parts.append((np.array(_NECK), look.skin, False))
    head = (0.0, _HEAD_CENTRE)
    half = (_HEAD_HALF[0] * (0.9 + 0.1 * face_on), _HEAD_HALF[1])
    if pose.facing:
        parts.append((_ellipse(head, half), look.skin, True))
        hair = _ellipse((0.0, _HEAD_CENTRE + 0.010), (half[0] * 1.06, half[1] * 0.95), upper=True)
        parts.append((hair, look.hair, False))
        for eye in (-1.0, 1.0):
            centre = (eye * 0.019 * face_on + 0.02 * pose.across, _HEAD_CENTRE - 0.004)
            parts.append((_ellipse(centre, (0.008, 0.0045)), _EYES, False))
    else:  # from behind: hair, and the nape of the neck under it
        parts.append((_ellipse(head, half), look.skin, True))
        hair = _ellipse((0.0, _HEAD_CENTRE + 0.014), (half[0] * 1.04, half[1] * 0.86))
        parts.append((hair, look.hair, True))
    return parts


def _draw_person(image: Image, view: CameraView, person: ScenePerson, t_s: float) -> None:
    """Draws ``person`` onto ``image``: their shadow, the figure's parts (a dark outline; a
    round part darker at its edges and lit from the upper left), softened a little."""
    cv2 = import_cv2()
    pose, across = _pose(view, person, t_s)
    parts = _figure(person, pose)
    shapes: list[FloatArray] = []
    for shape, _, shaded in parts:
        shapes.append(shape)
        if shaded:
            shapes.append(_highlight(shape))
    sizes = [len(shape) for shape in shapes]
    flat = np.concatenate(shapes) * person.height_m
    base = np.array([person.x, person.y, 0.0])
    world = base + flat[:, :1] * across + flat[:, 1:2] * np.array([0.0, 0.0, 1.0])
    shadow = base + np.column_stack([_CIRCLE * _SHADOW_M, np.zeros(len(_CIRCLE))])
    pixels, ahead = view.project(np.vstack([world, shadow]))
    if not np.all(ahead) or not _on_picture(pixels, view):
        return
    _darken(image, pixels[len(world) :], _SHADOW_LEVEL)
    fixed = np.round(pixels[: len(world)] * 16.0).astype(np.int32)  # 4 fractional bits
    polygons = np.split(fixed, np.cumsum(sizes)[:-1])
    at = 0
    for shape, base_colour, shaded in parts:
        # light from above: the lower a part, the darker
        colour = _scaled(base_colour, 1.0 - _TOP_LIGHT * (1.0 - float(shape[:, 1].mean())))
        outline = _scaled(colour, _OUTLINE)
        points = polygons[at].reshape(-1, 1, 2)
        cv2.fillPoly(image, [points], _scaled(colour, _SHADE) if shaded else colour, cv2.LINE_AA, 4)
        cv2.polylines(image, [points], True, outline, 1, cv2.LINE_AA, 4)
        at += 1
        if shaded:
            lit = polygons[at].reshape(-1, 1, 2)
            cv2.fillPoly(image, [lit], _scaled(colour, _LIT), cv2.LINE_AA, 4)
            at += 1
    _soften(image, pixels[: len(world)])


def _scaled(colour: BGR, factor: float) -> BGR:
    b, g, r = (min(255, int(c * factor)) for c in colour)
    return b, g, r


def _highlight(shape: FloatArray) -> FloatArray:
    """The lit middle of a round part: narrowed across, moved towards the light."""
    low, high = shape.min(axis=0), shape.max(axis=0)
    centre = (low + high) / 2.0
    span = high - low
    lit: FloatArray = centre + (shape - centre) * (0.5, 0.94) - (0.12 * span[0], -0.01 * span[1])
    return lit


def _soften(image: Image, pixels: FloatArray) -> None:
    """Blur the figure's box a little: a lens, not a vector drawing."""
    cv2 = import_cv2()
    height, width = image.shape[:2]
    x0, y0 = np.floor(pixels.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(pixels.max(axis=0)).astype(int) + 3
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    roi = image[y0:y1, x0:x1]
    cv2.GaussianBlur(roi, (3, 3), 0.7, dst=roi)


def _on_picture(pixels: FloatArray, view: CameraView) -> bool:
    u0, v0 = pixels.min(axis=0)
    u1, v1 = pixels.max(axis=0)
    return bool(u1 > 0 and v1 > 0 and u0 < view.width and v0 < view.height)


def _darken(image: Image, polygon: FloatArray, factor: float) -> None:
    """Multiply the pixels inside ``polygon`` by ``factor`` (a soft shadow on the floor)."""
    cv2 = import_cv2()
    height, width = image.shape[:2]
    x0, y0 = np.floor(polygon.min(axis=0)).astype(int)
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    local = np.round((polygon - (x0, y0)) * 16.0).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(mask, [local], 255, cv2.LINE_AA, 4)
    mask = cv2.GaussianBlur(mask, (5, 5), 0)
    roi = image[y0:y1, x0:x1]
    keep = 1.0 - (1.0 - factor) * (mask.astype(np.float32) / 255.0)
    roi[...] = (roi * keep[..., None]).astype(np.uint8)


# -------------------------------------------------------------------------- the background


@functools.lru_cache(maxsize=16)
def _noise_bank(width: int, height: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Gaussian noise pictures as two unsigned halves: what to add, what to subtract."""
    rng = np.random.default_rng(0x5CE7E)
    shape = (NOISE_BANK, height + NOISE_MARGIN_PX, width + NOISE_MARGIN_PX, 3)
    noise = np.clip(np.round(rng.normal(0.0, NOISE_SIGMA, shape)), -255, 255)
    brighter = np.maximum(noise, 0).astype(np.uint8)
    darker = np.maximum(-noise, 0).astype(np.uint8)
    brighter.flags.writeable = darker.flags.writeable = False
    return brighter, darker


@functools.lru_cache(maxsize=16)
def _background(view: CameraView, floor: Floor) -> Image:
    """The empty scene: floor, grid, markers and walls (read-only; copy to draw on)."""
    image = _floor_pixels(view, floor)
    _draw_walls(image, view, floor)
    _draw_markers(image, view, floor)
    image.flags.writeable = False
    return image


_TILE_LIGHT: Final = np.array([158.0, 161.0, 160.0])
_TILE_DARK: Final = np.array([138.0, 142.0, 143.0])
_GRID_LINE: Final = np.array([62.0, 62.0, 64.0])
_OUTSIDE: Final = np.array([100.0, 104.0, 106.0])
_HAZE: Final = np.array([96.0, 92.0, 88.0])
_BACK_WALL: Final = np.array([78.0, 70.0, 62.0])
_WALL: Final = np.array([120.0, 135.0, 150.0])
_MARKER: Final = (40, 40, 170)
_LINE_M: Final = 0.025  # painted grid lines, metres wide


def _floor_pixels(view: CameraView, floor: Floor) -> Image:
    """Every pixel's floor point, coloured: tiles and grid inside the area, plain floor
    outside it, haze far away, the back wall above the horizon."""
    us, vs = np.meshgrid(np.arange(view.width) + 0.5, np.arange(view.height) + 0.5)
    points = view.image_to_floor(np.column_stack([us.ravel(), vs.ravel()]))
    x = points[:, 0].reshape(view.height, view.width)
    y = points[:, 1].reshape(view.height, view.width)
    on_floor = np.isfinite(x)
    x, y = np.where(on_floor, x, 0.0), np.where(on_floor, y, 0.0)
    # a pixel's footprint on the floor, for grid lines about a pixel wide at any distance
    step_x = np.hypot(*np.gradient(x)) + 1e-9
    step_y = np.hypot(*np.gradient(y)) + 1e-9
    area = floor.area
    inside = on_floor & (x >= area.x0) & (x <= area.x1) & (y >= area.y0) & (y <= area.y1)
    parity = (np.floor(x) + np.floor(y)) % 2 == 0
    colour = np.where(parity[..., None], _TILE_LIGHT, _TILE_DARK)
    line_x = np.clip(1.0 - (np.abs(x - np.round(x)) - _LINE_M / 2) / np.maximum(step_x, 1e-3), 0, 1)
    line_y = np.clip(1.0 - (np.abs(y - np.round(y)) - _LINE_M / 2) / np.maximum(step_y, 1e-3), 0, 1)
    # fine lines fade where a pixel spans several tiles (no moiré far away)
    fade = np.clip(1.5 - np.maximum(step_x, step_y) / 0.25, 0, 1)
    line = np.maximum(line_x, line_y) * fade
    colour = colour * (1 - line[..., None]) + _GRID_LINE * line[..., None]
    colour = np.where(inside[..., None], colour, _OUTSIDE)
    distance = np.hypot(x - view.x, y - view.y)
    haze = np.clip((distance - FAR_FADE_M[0]) / (FAR_FADE_M[1] - FAR_FADE_M[0]), 0, 1)
    colour = colour * (1 - haze[..., None]) + _HAZE * haze[..., None]
    shade = np.linspace(0.8, 1.0, view.height)[:, None, None]
    colour = np.where(on_floor[..., None], colour, _BACK_WALL * shade)
    return np.clip(np.round(colour), 0, 255).astype(np.uint8)


def _clip_near(points: FloatArray) -> FloatArray:
    """A polygon in camera coordinates cut to the part at least :data:`NEAR_M` ahead
    (Sutherland-Hodgman against one plane)."""
    kept: list[FloatArray] = []
    count = len(points)
    for i in range(count):
        a, b = points[i], points[(i + 1) % count]
        a_in, b_in = a[2] >= NEAR_M, b[2] >= NEAR_M
        if a_in:
            kept.append(a)
        if a_in != b_in:
            f = (NEAR_M - a[2]) / (b[2] - a[2])
            kept.append(a + f * (b - a))
    return np.array(kept).reshape(-1, 3)


def _camera_to_pixels(view: CameraView, cam: FloatArray) -> FloatArray:
    k = view.intrinsics()
    return np.column_stack(
        [k[0, 0] * cam[:, 0] / cam[:, 2] + k[0, 2], k[1, 1] * cam[:, 1] / cam[:, 2] + k[1, 2]]
    )


def _draw_walls(image: Image, view: CameraView, floor: Floor) -> None:
    """Each room's walls as low translucent planes with a dark top edge and foot."""
    cv2 = import_cv2()
    height = floor.wall_height_m
    for room in floor.rooms:
        corners = ((room.x0, room.y0), (room.x1, room.y0), (room.x1, room.y1), (room.x0, room.y1))
        for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1], strict=True):
            quad = np.array([[ax, ay, 0.0], [bx, by, 0.0], [bx, by, height], [ax, ay, height]])
            cam = _clip_near(view.to_camera(quad))
            if len(cam) < 3:
                continue
            pixels = np.round(_camera_to_pixels(view, cam) * 16).astype(np.int32)
            if height > 0:
                overlay = image.copy()
                cv2.fillPoly(
                    overlay,
                    [pixels.reshape(-1, 1, 2)],
                    tuple(int(c) for c in _WALL),
                    cv2.LINE_AA,
                    4,
                )
                cv2.addWeighted(overlay, 0.55, image, 0.45, 0, dst=image)
            for edge_z in (0.0, height):
                line = np.array([[ax, ay, edge_z], [bx, by, edge_z]])
                _draw_segment(image, view, line, (50, 60, 70), 2)


def _draw_segment(
    image: Image, view: CameraView, segment: FloatArray, colour: BGR, thickness: int
) -> None:
    cv2 = import_cv2()
    cam = view.to_camera(segment)
    a, b = cam
    if a[2] < NEAR_M and b[2] < NEAR_M:
        return
    if a[2] < NEAR_M:
        a = a + (NEAR_M - a[2]) / (b[2] - a[2]) * (b - a)
    elif b[2] < NEAR_M:
        b = b + (NEAR_M - b[2]) / (a[2] - b[2]) * (a - b)
    pixels = _camera_to_pixels(view, np.array([a, b]))
    ok, p, q = cv2.clipLine(
        (0, 0, view.width, view.height),
        tuple(int(v) for v in np.round(pixels[0])),
        tuple(int(v) for v in np.round(pixels[1])),
    )
    if ok:
        cv2.line(image, p, q, colour, thickness, cv2.LINE_AA)


def marker_points(
    view: CameraView, floor: Floor
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The floor markers ``view`` shows, as (floor place, picture point): a dot at every
    ``marker_step_m`` corner of the area, nearest first, left out where its label would
    crowd another's or it falls off the picture. What the renderer draws, and what an admin
    can click to calibrate the camera."""
    area, step = floor.area, floor.marker_step_m
    xs = np.arange(math.ceil(area.x0 / step) * step, area.x1 + 1e-9, step)
    ys = np.arange(math.ceil(area.y0 / step) * step, area.y1 + 1e-9, step)
    grid = np.array([(x, y) for y in ys for x in xs]).reshape(-1, 2)
    if not len(grid):
        return []
    pixels, ahead = view.project(grid)
    shown: list[tuple[tuple[float, float], tuple[float, float]]] = []
    for i in np.argsort(-pixels[:, 1]):  # nearest (lowest) first
        if not ahead[i]:
            continue
        u, v = (float(c) for c in pixels[i])
        if not (2 <= u < view.width - 2 and 2 <= v < view.height - 2):
            continue
        if any(abs(u - pu) < 34 and abs(v - pv) < 14 for _, (pu, pv) in shown):
            continue
        shown.append(((float(grid[i][0]), float(grid[i][1])), (u, v)))
    return shown


def _draw_markers(image: Image, view: CameraView, floor: Floor) -> None:
    """A dot and its coordinates at each marker :func:`marker_points` says is shown."""
    cv2 = import_cv2()
    for (x, y), (u, v) in marker_points(view, floor):
        label = f"{x:g},{y:g}"
        centre = (round(float(u)), round(float(v)))
        cv2.circle(image, centre, 3, _MARKER, -1, cv2.LINE_AA)
        cv2.putText(
            image,
            label,
            (centre[0] + 4, centre[1] - 4),
            cv2.FONT_HERSHEY_PLAIN,
            0.8,
            _MARKER,
            1,
            cv2.LINE_AA,
        )


# ------------------------------------------------------------------------------ the truth


@dataclass(frozen=True, slots=True)
class TruthBox:
    """Where person ``index`` of a scene shows in the picture: their whole box (x, y, w, h
    pixels, as :meth:`CameraView.person_box`, not clipped) and the share of it that is
    seen (0..1): inside the picture and not behind a nearer person's box."""

    index: int
    box: tuple[float, float, float, float]
    visible: float


def truth_boxes(view: CameraView, people: Sequence[ScenePerson]) -> list[TruthBox]:
    """The picture boxes of ``people`` that show in ``view`` (in the order given), with how
    much of each is seen: the ground truth a detector on :func:`render`'s pictures is
    scored against."""
    boxes = [view.person_box(p.x, p.y, p.height_m) for p in people]
    feet = np.array([[p.x, p.y, 0.0] for p in people]).reshape(-1, 3)
    depth = view.to_camera(feet)[:, 2] if len(people) else np.zeros(0)
    found: list[TruthBox] = []
    for i, box in enumerate(boxes):
        if box is None:
            continue
        x, y, w, h = box
        # the part inside the picture, as a mask from which nearer people's boxes are cut
        x0, y0 = max(round(x), 0), max(round(y), 0)
        x1, y1 = min(round(x + w), view.width), min(round(y + h), view.height)
        seen = np.ones((max(y1 - y0, 0), max(x1 - x0, 0)), bool)
        for j, other in enumerate(boxes):
            if other is None or j == i or depth[j] >= depth[i]:
                continue
            ox0, oy0 = max(round(other[0]) - x0, 0), max(round(other[1]) - y0, 0)
            ox1, oy1 = round(other[0] + other[2]) - x0, round(other[1] + other[3]) - y0
            seen[oy0 : max(oy1, 0), ox0 : max(ox1, 0)] = False
        visible = float(seen.sum()) / max(w * h, 1e-9)
        found.append(TruthBox(i, box, min(visible, 1.0)))
    return found

"""Kinematic recordings: an articulated 3D body in MediaPipe's 33-landmark layout, driven
through gestures and everyday motions, seen by a camera, with the landmarker's noise.

No camera and no footage of people gesturing exist here, so this stands in for recordings:

- a *performer* has their own proportions (height 1.50–1.95 m; shoulder width, arm and leg
  lengths each varied ±8–15 %), handedness (a quarter left-handed), sway and how noisy their
  landmarks are;
- a *motion* drives the joints over time (trunk bend, lean and twist, head, shoulder shrug,
  each arm's upper arm, forearm and hand direction, legs), with per-performance amplitude,
  pace (0.8–1.25×), an uneven time warp, start pose (how the arms hang) and the hand a
  person would use; hands reaching for the body (an ear, the glasses) by two-link IK;
- a *camera* at a yaw of ±35° to the person's facing, pitched down 0–25°, at a distance
  giving a person 150–600 px tall, projects to image pixels; the depth coordinate is
  MediaPipe's (relative to the hips, scaled like x, smaller is nearer);
- the landmarker's noise: per-landmark jitter whose size was measured on real MediaPipe
  output (:data:`JITTER_XY`, :data:`JITTER_Z`), temporally correlated as it is in video mode,
  scaled per performance by :data:`JITTER_SCALE`; now and then a hand badly placed with low
  visibility (:data:`LOW_VISIBILITY_RATE`) or a frame with no pose (:data:`DROP_RATE`).

Recordings are at :data:`FPS` (30) frames a second and start and end with the person idle.
Pure numpy; deterministic for a seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

FPS: Final = 30.0
LEFT, RIGHT = 1, -1  # a side's sign along the person's x axis (x is the person's left)
SIDES: Final = (LEFT, RIGHT)

# Landmarker jitter, as a fraction of the torso length (hip middle to shoulder middle) per
# frame, by body part. Measured on MediaPipe 1.2.2's pose landmarker with the shipped model:
# image mode on ../shared/testdata/faces/two_people.jpg shifted by 0–5 px (18 estimates, the
# spread of each landmark after undoing the shift): nose 0.008/0.009 (x/y), shoulders
# 0.012/0.006, elbows 0.017/0.009, wrists 0.017/0.010, hips 0.029/0.013 (out of the picture,
# guessed); depth 0.06–0.16. Video mode on short_hamilton_clip.mp4 (frames 82–274, residual
# around a 15-frame quadratic fit, which also holds some real motion): 1.5–3× as much, lag-1
# autocorrelation 0.3–0.5. Legs were out of view in both; taken as the elbows'.
JITTER_XY: Final = {"head": 0.009, "shoulders": 0.010, "elbows": 0.014, "hands": 0.017,
                    "hips": 0.020, "legs": 0.015}  # fmt: skip
JITTER_Z: Final = {"head": 0.09, "shoulders": 0.065, "elbows": 0.09, "hands": 0.16,
                   "hips": 0.025, "legs": 0.09}  # fmt: skip
JITTER_SCALE: Final = (1.0, 2.5)  # per performance: from the still image's to the video's
JITTER_CORRELATION: Final = 0.5  # lag-1 autocorrelation of the jitter at 30 fps (measured 0.3–0.5)
LOW_VISIBILITY_RATE: Final = 0.03  # frames with one hand misplaced (visibility 0.2)
LOW_VISIBILITY_ERROR: Final = 0.25  # torso lengths: how far off that hand is
DROP_RATE: Final = 0.02  # frames where no pose is found
PART_OF: Final = (["head"] * 11 + ["shoulders"] * 2 + ["elbows"] * 2 + ["hands"] * 8
                  + ["hips"] * 2 + ["legs"] * 8)  # fmt: skip

GESTURES: Final = ("wave", "raise_hand", "help", "beckon", "stop", "point", "clap")
NON_GESTURES: Final = (
    "stand_still", "walk_in_place", "walk_past", "turn_around", "scratch_head", "fold_arms",
    "phone_to_ear", "pick_up", "stretch", "adjust_glasses", "check_watch", "sit_down", "shrug",
    "hands_in_pockets", "look_around", "drink", "wipe_forehead", "reach_shelf", "crouch",
    "rub_hands",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Performer:
    """One person's body (metres) and habits."""

    height: float
    torso: float  # hip middle to shoulder middle
    shoulder_half: float
    hip_half: float
    upper_arm: float
    forearm: float
    hand: float
    thigh: float
    shin: float
    neck: float
    head: float  # head radius
    left_handed: bool
    sway_m: float
    sway_hz: float

    @property
    def hand_side(self) -> int:
        return LEFT if self.left_handed else RIGHT


def make_performer(rng: np.random.Generator) -> Performer:
    """A random adult: height 1.50–1.95 m, proportions varied around the average's."""
    h = rng.uniform(1.50, 1.95)

    def part(share: float, spread: float) -> float:
        return float(h * share * rng.uniform(1 - spread, 1 + spread))

    return Performer(
        height=h,
        torso=part(0.29, 0.06),
        shoulder_half=part(0.115, 0.15),
        hip_half=part(0.058, 0.15),
        upper_arm=part(0.186, 0.08),
        forearm=part(0.146, 0.08),
        hand=part(0.07, 0.1),
        thigh=part(0.245, 0.06),
        shin=part(0.246, 0.06),
        neck=part(0.05, 0.15),
        head=part(0.06, 0.08),
        left_handed=bool(rng.random() < 0.25),
        sway_m=float(rng.uniform(0.005, 0.02)),
        sway_hz=float(rng.uniform(0.15, 0.5)),
    )


@dataclass(frozen=True, slots=True)
class Camera:
    """Where the camera is relative to the person's facing: ``yaw`` (rad, 0: in front),
    ``pitch`` (rad down), ``person_px`` (how tall a standing person looks) and a focal length."""

    yaw: float
    pitch: float
    person_px: float
    focal_px: float = 900.0


def make_camera(rng: np.random.Generator) -> Camera:
    return Camera(
        yaw=math.radians(rng.uniform(-35.0, 35.0)),
        pitch=math.radians(rng.uniform(0.0, 25.0)),
        person_px=float(rng.uniform(150.0, 600.0)),
    )


def _norm(v: Array) -> Array:
    out: Array = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)
    return out


def limb(theta_deg: Array | float, phi_deg: Array | float, side: int, n: int) -> Array:
    """Unit directions (n, 3) in the trunk's frame (x the person's left, y up, z forward):
    ``theta`` degrees up from hanging straight down, ``phi`` degrees round from out to the
    ``side`` towards the front."""
    theta = np.radians(np.broadcast_to(theta_deg, (n,)))
    phi = np.radians(np.broadcast_to(phi_deg, (n,)))
    return np.stack(
        [side * np.sin(theta) * np.cos(phi), -np.cos(theta), np.sin(theta) * np.sin(phi)], axis=1
    )


def blend(a: Array, b: Array, w: Array, via: Array | None = None) -> Array:
    """Directions from ``a`` (w = 0) to ``b`` (w = 1), bowing through ``via`` on the way."""
    mixed = (1 - w)[:, None] * a + w[:, None] * b
    if via is not None:
        mixed = mixed + 0.7 * np.sin(math.pi * w)[:, None] * via
    return _norm(mixed)


def envelope(p: Array, rise: float, fall: float) -> Array:
    """0 → 1 over the first ``rise`` of the phase, 1, then → 0 over the last ``fall``
    (smoothstep ramps)."""

    def smooth(x: Array) -> Array:
        x = np.clip(x, 0.0, 1.0)
        out: Array = x * x * (3 - 2 * x)
        return out

    result: Array = smooth(p / rise) * smooth((1 - p) / fall)
    return result


def _rot(axis: str, angle: Array) -> Array:
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    rows = {
        "x": [[o, z, z], [z, c, -s], [z, s, c]],
        "y": [[c, z, s], [z, o, z], [-s, z, c]],
        "z": [[c, -s, z], [s, c, z], [z, z, o]],
    }[axis]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def _apply(rot: Array, v: Array) -> Array:
    out: Array = np.einsum("nij,nj->ni", rot, np.broadcast_to(v, (rot.shape[0], 3)))
    return out


@dataclass
class Drive:
    """Joint drives over a recording's frames (all arrays have one row per frame). Arm and
    leg directions are unit vectors in the trunk's (arms) or pelvis's (legs) frame, by
    side."""

    n: int
    root: Array  # hip middle, world metres (x the person's initial left, y up, z forward)
    yaw: Array
    bend: Array  # trunk forward (rad)
    lean: Array  # trunk sideways (rad)
    twist: Array  # trunk round the spine (rad)
    head_yaw: Array
    head_pitch: Array  # down (rad)
    shrug: Array  # shoulders raised (m)
    upper: dict[int, Array] = field(default_factory=dict)
    fore: dict[int, Array] = field(default_factory=dict)
    hand: dict[int, Array] = field(default_factory=dict)
    palm: dict[int, Array] = field(default_factory=dict)
    thigh: dict[int, Array] = field(default_factory=dict)
    shin: dict[int, Array] = field(default_factory=dict)


def rest_drive(n: int, body: Performer, rng: np.random.Generator) -> Drive:
    """Standing idle with this performance's start pose (how the arms hang, feet apart)
    and a slow sway."""
    t = np.arange(n) / FPS
    phase = rng.uniform(0, 2 * math.pi, 2)
    root = np.zeros((n, 3))
    root[:, 0] = body.sway_m * np.sin(2 * math.pi * body.sway_hz * t + phase[0])
    root[:, 1] = body.thigh + body.shin + 0.04 * body.height
    root[:, 2] = 0.5 * body.sway_m * np.sin(2 * math.pi * body.sway_hz * 0.7 * t + phase[1])
    zero = np.zeros(n)
    drive = Drive(
        n=n,
        root=root,
        yaw=np.full(n, math.radians(rng.uniform(-8, 8))),
        bend=np.full(n, math.radians(rng.uniform(-3, 6))),
        lean=-root[:, 0] / body.height,
        twist=zero.copy(),
        head_yaw=np.full(n, math.radians(rng.uniform(-10, 10))),
        head_pitch=np.full(n, math.radians(rng.uniform(-5, 12))),
        shrug=zero.copy(),
    )
    clasped = rng.random() < 0.25  # hands held together in front instead of hanging
    spread = rng.uniform(0, 6)
    for side in SIDES:
        if clasped:
            target = np.tile([0.0, -body.torso * 0.75, 0.22 * body.height / 1.75], (n, 1))
            drive.upper[side], drive.fore[side] = reach(target, body, side)
        else:
            drive.upper[side] = limb(rng.uniform(4, 14), rng.uniform(-30, 40), side, n)
            drive.fore[side] = limb(rng.uniform(8, 40), rng.uniform(50, 90), side, n)
        drive.hand[side] = drive.fore[side].copy()
        drive.palm[side] = np.tile([-side, 0.0, 0.0], (n, 1)).astype(np.float64)
        drive.thigh[side] = limb(spread, 0.0, side, n)
        drive.shin[side] = limb(spread, 0.0, side, n)
    return drive


def reach(
    target: Array, body: Performer, side: int, shrug: Array | None = None
) -> tuple[Array, Array]:
    """Upper arm and forearm directions putting the ``side`` wrist at ``target`` (n, 3; trunk
    frame, relative to the shoulders' middle) by two-link IK, elbow out and down."""
    n = target.shape[0]
    shoulder = np.tile([side * body.shoulder_half, 0.0, 0.0], (n, 1))
    if shrug is not None:
        shoulder[:, 1] += shrug
    a, b = body.upper_arm, body.forearm
    to = target - shoulder
    d = np.clip(np.linalg.norm(to, axis=1), abs(a - b) + 1e-3, a + b - 1e-3)
    u = _norm(to)
    x = (a * a - b * b + d * d) / (2 * d)
    h = np.sqrt(np.maximum(a * a - x * x, 0.0))
    pole = np.tile(_norm(np.array([side * 0.8, -0.6, -0.15])), (n, 1))
    pole = _norm(pole - np.sum(pole * u, axis=1, keepdims=True) * u)
    elbow = shoulder + x[:, None] * u + h[:, None] * pole
    upper = _norm(elbow - shoulder)
    fore = _norm(shoulder + u * d[:, None] - elbow)
    return upper, fore


def landmarks_3d(drive: Drive, body: Performer) -> Array:
    """The 33 landmarks (n, 33, 3) in world metres by forward kinematics."""
    n = drive.n
    pelvis = _rot("y", drive.yaw)
    trunk = pelvis @ _rot("y", drive.twist) @ _rot("x", drive.bend) @ _rot("z", drive.lean)
    out = np.zeros((n, 33, 3))
    hips = drive.root
    shoulders = hips + _apply(trunk, np.array([0.0, body.torso, 0.0]))
    neck_top = shoulders + _apply(trunk, np.array([0.0, body.neck, 0.0]))
    head_rot = trunk @ _rot("y", drive.head_yaw) @ _rot("x", drive.head_pitch)
    r = body.head
    head = neck_top + _apply(head_rot, np.array([0.0, 0.9 * r, 0.0]))
    face = {  # head frame: x left, y up, z forward
        0: (0, 0, 1.0), 1: (0.25, 0.3, 0.9), 2: (0.45, 0.3, 0.8), 3: (0.65, 0.3, 0.7),
        4: (-0.25, 0.3, 0.9), 5: (-0.45, 0.3, 0.8), 6: (-0.65, 0.3, 0.7), 7: (1.0, 0.1, 0.0),
        8: (-1.0, 0.1, 0.0), 9: (0.3, -0.45, 0.85), 10: (-0.3, -0.45, 0.85),
    }  # fmt: skip
    for index, offset in face.items():
        out[:, index] = head + _apply(head_rot, np.array(offset) * r)
    # left/right landmark indices: shoulder, elbow, wrist, pinky, index, thumb, hip, knee,
    # ankle, heel, foot index
    idx = {LEFT: (11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31),
           RIGHT: (12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32)}  # fmt: skip
    for side in SIDES:
        sh, el, wr, pk, ix, th, hp, kn, an, he, ft = idx[side]
        shoulder_offset = np.zeros((n, 3))
        shoulder_offset[:, 0] = side * body.shoulder_half
        shoulder_offset[:, 1] = drive.shrug
        out[:, sh] = shoulders + _apply(trunk, shoulder_offset)
        out[:, el] = out[:, sh] + _apply(trunk, drive.upper[side] * body.upper_arm)
        out[:, wr] = out[:, el] + _apply(trunk, drive.fore[side] * body.forearm)
        hand_dir = drive.hand[side]
        across = _norm(np.cross(drive.palm[side], hand_dir) + 1e-6) * side
        lh = body.hand
        out[:, pk] = out[:, wr] + _apply(trunk, 0.85 * lh * hand_dir - 0.35 * lh * across)
        out[:, ix] = out[:, wr] + _apply(trunk, lh * hand_dir + 0.15 * lh * across)
        out[:, th] = out[:, wr] + _apply(trunk, 0.45 * lh * hand_dir + 0.45 * lh * across)
        out[:, hp] = hips + _apply(pelvis, np.array([side * body.hip_half, 0.0, 0.0]))
        out[:, kn] = out[:, hp] + _apply(pelvis, drive.thigh[side] * body.thigh)
        out[:, an] = out[:, kn] + _apply(pelvis, drive.shin[side] * body.shin)
        hh = body.height
        out[:, he] = out[:, an] + _apply(pelvis, np.array([0.0, -0.025 * hh, -0.03 * hh]))
        out[:, ft] = out[:, an] + _apply(pelvis, np.array([side * 0.01, -0.03 * hh, 0.08 * hh]))
    return out


def project(points: Array, body: Performer, camera: Camera, rng: np.random.Generator) -> Array:
    """World landmarks (n, 33, 3) → image pixels x, y and MediaPipe's depth (relative to the
    hips' middle, scaled like x, smaller nearer), somewhere in a 1280×720 picture."""
    distance = camera.focal_px * body.height / camera.person_px
    yaw, pitch = camera.yaw, camera.pitch
    forward = np.array([-math.sin(yaw) * math.cos(pitch), -math.sin(pitch),
                        -math.cos(yaw) * math.cos(pitch)])  # fmt: skip
    right = np.array([math.cos(yaw), 0.0, -math.sin(yaw)])
    up = np.cross(forward, right)  # completes the camera's frame (y up in the world)
    if up[1] < 0:
        up = -up
    aim = np.array([0.0, 0.55 * body.height, 0.0])
    centre = aim - distance * forward
    rel = points - centre
    depth = rel @ forward
    x = camera.focal_px * (rel @ right) / depth
    y = -camera.focal_px * (rel @ up) / depth
    hips_depth = (depth[:, 23] + depth[:, 24]) / 2
    z = (depth - hips_depth[:, None]) * camera.focal_px / hips_depth[:, None]
    offset = rng.uniform([300, 200], [980, 520])
    return np.stack([x + offset[0], y + offset[1], z], axis=2)


def _jitter(n: int, rng: np.random.Generator) -> Array:
    """Unit-variance noise (n, 33, 3) with lag-1 autocorrelation JITTER_CORRELATION."""
    rho = JITTER_CORRELATION
    white = rng.normal(0.0, 1.0, (n, 33, 3))
    out = np.empty_like(white)
    out[0] = white[0]
    for i in range(1, n):
        out[i] = rho * out[i - 1] + math.sqrt(1 - rho * rho) * white[i]
    return out


@dataclass(frozen=True, slots=True)
class Recording:
    """One performance as the landmarker would report it: ``frames`` (n, 33, 3) image pixels
    at :data:`FPS` (NaN where no pose was found), ``visibility`` (n, 33); ``label`` the motion,
    ``gesture`` whether it is one, ``span`` the frames [start, end) the motion itself fills."""

    label: str
    gesture: bool
    performer: int
    hand: int
    frames: npt.NDArray[np.float32]
    visibility: npt.NDArray[np.float32]
    span: tuple[int, int]

    @property
    def found(self) -> npt.NDArray[np.bool_]:
        result: npt.NDArray[np.bool_] = np.logical_and.reduce(np.isfinite(self.frames), axis=(1, 2))
        return result


# A motion writes its drives into the span; it gets the phase p (0–1, time-warped), the
# seconds since it began, the performance's amplitude, the side of the hand used, the
# performer and a random generator for its own choices.
MotionFn = Callable[[Drive, slice, Array, Array, float, int, Performer, np.random.Generator], None]
MOTIONS: dict[str, tuple[float, MotionFn]] = {}  # name → (typical seconds, motion)


def motion(name: str, seconds: float) -> Callable[[MotionFn], MotionFn]:
    def register(fn: MotionFn) -> MotionFn:
        MOTIONS[name] = (seconds, fn)
        return fn

    return register


def _arm(
    d: Drive,
    s: slice,
    side: int,
    upper: Array,
    fore: Array,
    w: Array,
    via: Array | None = None,
    hand: Array | None = None,
    palm: Array | None = None,
) -> None:
    """Blend one arm from its pose at rest to ``upper``/``fore`` by weight ``w``."""
    d.upper[side][s] = blend(d.upper[side][s], upper, w, via)
    d.fore[side][s] = blend(d.fore[side][s], fore, w, via)
    d.hand[side][s] = blend(d.hand[side][s], d.fore[side][s] if hand is None else hand, w)
    if palm is not None:
        d.palm[side][s] = blend(d.palm[side][s], palm, w)


def _const(v: tuple[float, float, float], n: int) -> Array:
    return np.tile(_norm(np.array(v, dtype=np.float64)), (n, 1))


def _cycles(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


# ---- gestures ----


@motion("wave", 2.0)
def _wave(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
          rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.25, 0.2)
    swing = math.radians(22 * amp) * np.sin(2 * math.pi * _cycles(rng, 2.0, 3.0) * p) * w
    tilt = math.radians(rng.uniform(0, 20)) + swing
    fore = _norm(np.stack([side * np.sin(tilt), np.cos(tilt), np.full(n, 0.25)], axis=1))
    upper = limb(rng.uniform(90, 115), rng.uniform(5, 35), side, n)
    _arm(d, s, side, upper, fore, w, via=limb(90, 30, side, n), palm=_const((0, 0, 1), n))


@motion("raise_hand", 1.6)
def _raise_hand(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
                rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.35, 0.3)
    theta = min(178.0, rng.uniform(155, 175) * (0.95 + 0.05 * amp))
    phi = rng.uniform(10, 60)
    upper = limb(theta, phi, side, n)
    fore = limb(min(179.0, theta + rng.uniform(0, 8)), phi, side, n)
    _arm(d, s, side, upper, fore, w, via=limb(90, 60, side, n), palm=_const((0, 0, 1), n))


@motion("help", 2.0)
def _help(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
          rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.25, 0.2)
    cycles = _cycles(rng, 1.5, 2.5)
    cross = math.radians(20) + math.radians(22 * amp) * np.sin(2 * math.pi * cycles * p)
    for each in SIDES:
        upper = limb(rng.uniform(135, 155), rng.uniform(10, 35), each, n)
        fore = _norm(np.stack([-each * np.sin(cross), np.cos(cross), np.full(n, 0.15)], axis=1))
        _arm(d, s, each, upper, fore, w, via=limb(90, 20, each, n), palm=_const((0, 0, 1), n))


@motion("beckon", 1.6)
def _beckon(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
            rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.2, 0.2)
    curl = 0.5 - 0.5 * np.cos(2 * math.pi * _cycles(rng, 2.0, 3.0) * p)
    alpha = np.radians(15 + 45 * amp * curl * w)
    fore = _norm(np.stack([np.full(n, side * 0.15), np.sin(alpha), np.cos(alpha)], axis=1))
    hand = _norm(np.stack([np.full(n, side * 0.1), np.sin(alpha + 0.7 * curl),
                           np.cos(alpha + 0.7 * curl)], axis=1))  # fmt: skip
    upper = limb(rng.uniform(30, 50), rng.uniform(60, 85), side, n)
    _arm(d, s, side, upper, fore, w, hand=hand, palm=_const((0, 0.6, -0.4), n))


@motion("stop", 1.3)
def _stop(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
          rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.3, 0.3)
    theta, phi = rng.uniform(75, 95), rng.uniform(70, 90)
    upper = limb(theta, phi, side, n)
    fore = limb(theta + rng.uniform(-5, 5), phi, side, n)
    _arm(d, s, side, upper, fore, w, hand=_const((0, 1, 0.15), n), palm=_const((0, 0, 1), n))


@motion("point", 1.5)
def _point(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
           rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.3, 0.3)
    theta, phi = rng.uniform(80, 100), rng.uniform(15, 55)
    upper = limb(theta, phi, side, n)
    fore = limb(theta, phi, side, n)
    _arm(d, s, side, upper, fore, w, palm=_const((0, -1, 0), n))
    d.head_yaw[s] += side * math.radians(90 - phi) * 0.5 * w


@motion("clap", 1.3)
def _clap(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
          rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.2, 0.2)
    apart = 0.5 + 0.5 * np.cos(2 * math.pi * _cycles(rng, 2.5, 3.5) * p)
    inward = np.radians(50 - 30 * amp * apart)
    for each in SIDES:
        upper = limb(rng.uniform(20, 40), rng.uniform(55, 80), each, n)
        fore = _norm(np.stack([-each * np.sin(inward), np.full(n, 0.35), np.cos(inward)], axis=1))
        _arm(d, s, each, upper, fore, w, palm=_const((-each, 0, 0), n))


# ---- everyday motions ----


def _to(d: Drive, s: slice, side: int, target: Array, w: Array, b: Performer) -> None:
    """One hand to a point of the body (trunk frame, relative to the shoulders' middle)."""
    upper, fore = reach(target, b, side, d.shrug[s])
    _arm(d, s, side, upper, fore, w)


def _point_at(x: float, y: float, z: float, n: int) -> Array:
    return np.tile(np.array([x, y, z], dtype=np.float64), (n, 1))


def _walk(d: Drive, s: slice, t: Array, amp: float, b: Performer, hz: float) -> None:
    swing = np.radians(22 * amp) * np.sin(2 * math.pi * hz * t)
    for side in SIDES:
        phase = swing * side
        knee = np.radians(30 * amp) * np.clip(np.sin(2 * math.pi * hz * t + side * 1.2), 0, 1)
        d.thigh[side][s] = np.stack([np.zeros(len(t)), -np.cos(phase), np.sin(phase)], axis=1)
        d.shin[side][s] = np.stack(
            [np.zeros(len(t)), -np.cos(phase - knee), np.sin(phase - knee)], axis=1
        )
        arm = -phase * 0.8
        d.upper[side][s] = _norm(d.upper[side][s] + np.stack(
            [np.zeros(len(t)), np.zeros(len(t)), np.sin(arm)], axis=1))  # fmt: skip
    d.root[s, 1] += 0.015 * np.abs(np.sin(2 * math.pi * hz * t))


@motion("stand_still", 2.0)
def _stand_still(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
                 rng: np.random.Generator) -> None:  # fmt: skip
    d.head_yaw[s] += math.radians(rng.uniform(-10, 10)) * np.sin(math.pi * p)


@motion("walk_in_place", 2.5)
def _walk_in_place(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
                   rng: np.random.Generator) -> None:  # fmt: skip
    _walk(d, s, t, amp, b, rng.uniform(0.8, 1.0))


@motion("walk_past", 2.5)
def _walk_past(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
               rng: np.random.Generator) -> None:  # fmt: skip
    direction = rng.choice([-1.0, 1.0])
    d.yaw[s] = direction * math.radians(rng.uniform(70, 110))
    speed = rng.uniform(0.5, 1.0)
    d.root[s, 0] += direction * speed * (t - t[-1] / 2)
    _walk(d, s, t, amp, b, rng.uniform(0.8, 1.0))


@motion("turn_around", 2.0)
def _turn_around(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
                 rng: np.random.Generator) -> None:  # fmt: skip
    turn = rng.choice([-1.0, 1.0]) * math.radians(rng.uniform(150, 200))
    d.yaw[s] += turn * envelope(p, 1.0, 1e-3)
    _walk(d, s, t, 0.4 * amp, b, 1.0)


@motion("scratch_head", 2.0)
def _scratch_head(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
                  rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    target = _point_at(side * 0.3 * b.head, b.neck + 2.0 * b.head, -0.2 * b.head, n)
    target[:, 2] += 0.02 * np.sin(2 * math.pi * 3 * t)
    _to(d, s, side, target, envelope(p, 0.3, 0.3), b)
    d.head_pitch[s] += math.radians(10) * envelope(p, 0.3, 0.3)


@motion("fold_arms", 2.0)
def _fold_arms(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
               rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.4, 1e-3)
    for each in SIDES:
        target = _point_at(-each * b.shoulder_half * 0.9, -0.3 * b.torso + 0.02 * each,
                           0.13 * b.height / 1.75, n)  # fmt: skip
        _to(d, s, each, target, w, b)


@motion("phone_to_ear", 2.0)
def _phone(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
           rng: np.random.Generator) -> None:  # fmt: skip
    target = _point_at(side * 1.0 * b.head, b.neck + 0.7 * b.head, 0.3 * b.head, len(p))
    _to(d, s, side, target, envelope(p, 0.35, 1e-3), b)


@motion("pick_up", 2.5)
def _pick_up(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
             rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.4, 0.4)
    d.bend[s] += math.radians(rng.uniform(50, 80)) * w
    knee = math.radians(rng.uniform(10, 50)) * w
    for each in SIDES:
        d.thigh[each][s] = blend(d.thigh[each][s], limb(np.degrees(knee), 90, each, n), w)
        d.shin[each][s] = blend(d.shin[each][s], limb(-np.degrees(knee) * 0.3, 90, each, n), w)
    d.root[s, 1] -= b.thigh * (1 - np.cos(knee))
    _arm(d, s, side, limb(30, 90, side, n), limb(20, 90, side, n), w)


@motion("stretch", 2.5)
def _stretch(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
             rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.35, 0.35)
    for each in SIDES:
        upper = limb(rng.uniform(150, 175), rng.uniform(20, 70), each, n)
        fore = limb(rng.uniform(160, 178), rng.uniform(120, 170), each, n)  # hands together
        _arm(d, s, each, upper, fore, w, via=limb(90, 60, each, n))
    d.bend[s] -= math.radians(8) * w
    d.head_pitch[s] -= math.radians(15) * w


@motion("adjust_glasses", 1.3)
def _glasses(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
             rng: np.random.Generator) -> None:  # fmt: skip
    target = _point_at(0.0, b.neck + 1.1 * b.head, 1.2 * b.head, len(p))
    _to(d, s, side, target, envelope(p, 0.4, 0.4), b)


@motion("check_watch", 1.8)
def _check_watch(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
                 rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.3, 0.3)
    wrist = -side  # the watch is on the other wrist
    _arm(d, s, wrist, limb(25, 60, wrist, n), limb(95, 160, wrist, n), w)
    d.head_pitch[s] += math.radians(25) * w


@motion("sit_down", 2.5)
def _sit_down(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
              rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.8, 1e-3)
    for each in SIDES:
        d.thigh[each][s] = blend(d.thigh[each][s], limb(85, 85, each, n), w)
    d.root[s, 1] -= (b.thigh * 0.95) * w
    d.root[s, 2] -= b.thigh * 0.7 * w
    d.bend[s] += math.radians(25) * np.sin(math.pi * w)


@motion("shrug", 1.2)
def _shrug(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
           rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.4, 0.4)
    d.shrug[s] += 0.05 * amp * w
    for each in SIDES:
        _arm(d, s, each, limb(15, 10, each, n), limb(70, 40, each, n), w,
             palm=_const((0, 1, 0), n))  # fmt: skip


@motion("hands_in_pockets", 1.5)
def _pockets(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
             rng: np.random.Generator) -> None:  # fmt: skip
    for each in SIDES:
        target = _point_at(each * b.hip_half * 1.4, -b.torso - 0.02, 0.06, len(p))
        _to(d, s, each, target, envelope(p, 0.5, 1e-3), b)


@motion("look_around", 2.5)
def _look_around(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
                 rng: np.random.Generator) -> None:  # fmt: skip
    look = math.radians(rng.uniform(40, 70)) * np.sin(2 * math.pi * p)
    d.head_yaw[s] += look
    d.twist[s] += 0.3 * look


@motion("drink", 2.0)
def _drink(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
           rng: np.random.Generator) -> None:  # fmt: skip
    w = envelope(p, 0.35, 0.35)
    target = _point_at(side * 0.2 * b.head, b.neck + 0.4 * b.head, 1.6 * b.head, len(p))
    _to(d, s, side, target, w, b)
    d.head_pitch[s] -= math.radians(20) * w


@motion("wipe_forehead", 1.5)
def _wipe(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
          rng: np.random.Generator) -> None:  # fmt: skip
    target = _point_at(0.0, b.neck + 1.5 * b.head, 1.1 * b.head, len(p))
    target[:, 0] = side * b.head * (1.0 - 2.0 * p)
    _to(d, s, side, target, envelope(p, 0.3, 0.3), b)


@motion("reach_shelf", 2.0)
def _reach_shelf(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
                 rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.4, 0.4)
    theta = rng.uniform(130, 155)
    _arm(d, s, side, limb(theta, 85, side, n), limb(theta + 5, 85, side, n), w)
    d.head_pitch[s] -= math.radians(20) * w


@motion("crouch", 2.5)
def _crouch(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
            rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.35, 0.35)
    knee = np.radians(rng.uniform(70, 100)) * w
    for each in SIDES:
        d.thigh[each][s] = _norm(np.stack([np.zeros(n), -np.cos(knee), np.sin(knee)], axis=1))
        d.shin[each][s] = _norm(np.stack([np.zeros(n), -np.cos(0.3 * knee), -np.sin(0.3 * knee)],
                                         axis=1))  # fmt: skip
        _arm(d, s, each, limb(40, 90, each, n), limb(30, 90, each, n), w)
    d.root[s, 1] -= b.thigh * (1 - np.cos(knee)) + b.shin * (1 - np.cos(0.3 * knee))
    d.bend[s] += math.radians(35) * w


@motion("rub_hands", 1.5)
def _rub_hands(d: Drive, s: slice, p: Array, t: Array, amp: float, side: int, b: Performer,
               rng: np.random.Generator) -> None:  # fmt: skip
    n = len(p)
    w = envelope(p, 0.3, 0.3)
    for each in SIDES:
        target = _point_at(0.0, -0.45 * b.torso, 0.2 * b.height / 1.75, n)
        target[:, 1] += each * 0.015 * np.sin(2 * math.pi * 4 * t)
        _to(d, s, each, target, w, b)


def perform(
    label: str,
    body: Performer,
    performer: int,
    camera: Camera,
    rng: np.random.Generator,
    *,
    noise: bool = True,
) -> Recording:
    """``label`` performed once by ``body``, seen by ``camera``: idle for 0.4–1 s before and
    after, the motion at this performance's pace, amplitude and time warp."""
    seconds, fn = MOTIONS[label]
    length = max(6, round(seconds * rng.uniform(0.8, 1.25) * FPS))
    lead, tail = (round(rng.uniform(0.4, 1.0) * FPS) for _ in range(2))
    n = lead + length + tail
    drive = rest_drive(n, body, rng)
    span = slice(lead, lead + length)
    u = np.linspace(0.0, 1.0, length)
    warp = rng.uniform(-0.12, 0.12)  # uneven pace inside the motion
    p = np.clip(u ** rng.uniform(0.85, 1.15) + warp * np.sin(math.pi * u), 0.0, 1.0)
    t = np.arange(length) / FPS
    hand = body.hand_side if rng.random() < 0.9 else -body.hand_side
    fn(drive, span, p, t, float(rng.uniform(0.8, 1.2)), hand, body, rng)
    frames = project(landmarks_3d(drive, body), body, camera, rng)
    visibility = np.full((n, 33), 0.98)
    if noise:
        frames, visibility = _landmarker_noise(frames, rng)
    return Recording(
        label=label,
        gesture=label in GESTURES,
        performer=performer,
        hand=hand,
        frames=frames.astype(np.float32),
        visibility=visibility.astype(np.float32),
        span=(lead, lead + length),
    )


def _landmarker_noise(frames: Array, rng: np.random.Generator) -> tuple[Array, Array]:
    """Jitter, occasional misplaced low-visibility hands and frames with no pose."""
    n = frames.shape[0]
    hips = (frames[:, 23, :2] + frames[:, 24, :2]) / 2
    shoulders = (frames[:, 11, :2] + frames[:, 12, :2]) / 2
    torso_px = float(np.median(np.linalg.norm(shoulders - hips, axis=1)))
    scale = rng.uniform(*JITTER_SCALE) * torso_px
    sigma = np.zeros((33, 3))
    for index, part in enumerate(PART_OF):
        sigma[index, :2] = JITTER_XY[part]
        sigma[index, 2] = JITTER_Z[part]
    out = frames + _jitter(n, rng) * sigma * scale
    visibility = np.clip(rng.normal(0.97, 0.02, (n, 33)), 0, 1)
    for frame in np.flatnonzero(rng.random(n) < LOW_VISIBILITY_RATE):
        side_marks = [15, 17, 19, 21] if rng.random() < 0.5 else [16, 18, 20, 22]
        out[frame, side_marks] += rng.normal(0.0, LOW_VISIBILITY_ERROR * torso_px, 3)
        visibility[frame, side_marks] = 0.2
    dropped: npt.NDArray[np.bool_] = np.less(rng.random(n), DROP_RATE)
    dropped[[0, -1]] = False
    out[dropped] = np.nan
    visibility[dropped] = 0.0
    return out, visibility

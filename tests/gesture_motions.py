"""Poses drawn from a standing skeleton whose joints move along known paths, so which
gesture each sequence is, is known exactly (shared by the gesture tests)."""

from __future__ import annotations

import math

import numpy as np

from engine.gestures.sequence import LANDMARKS, LEFT_HIP, LEFT_SHOULDER, RIGHT_HIP, RIGHT_SHOULDER

R_ELBOW, R_WRIST, L_ELBOW, L_WRIST = 14, 16, 13, 15


def standing(rng: np.random.Generator) -> np.ndarray:
    """A standing person, 1 unit from hips to shoulders, hips at the origin (y up is -)."""
    pose = rng.normal(0.0, 0.02, (LANDMARKS, 2))
    pose[:, 1] -= 1.2  # the head's landmarks above the shoulders
    pose[LEFT_SHOULDER], pose[RIGHT_SHOULDER] = (0.25, -1.0), (-0.25, -1.0)
    pose[LEFT_HIP], pose[RIGHT_HIP] = (0.15, 0.0), (-0.15, 0.0)
    pose[L_ELBOW], pose[L_WRIST] = (0.3, -0.55), (0.3, -0.1)
    pose[R_ELBOW], pose[R_WRIST] = (-0.3, -0.55), (-0.3, -0.1)
    for knee_ankle, x in (((25, 27), 0.15), ((26, 28), -0.15)):
        pose[knee_ankle[0]], pose[knee_ankle[1]] = (x, 0.5), (x, 1.0)
    return pose


def motion(kind: str, seed: int, frames: int = 30, warp: float = 1.0) -> np.ndarray:
    """``kind`` performed once over ``frames`` frames, its timing bent by ``warp`` (1: even),
    with a little jitter, somewhere in the image at some size."""
    rng = np.random.default_rng(seed)
    base = standing(rng)
    phases = np.linspace(0.0, 1.0, frames) ** warp
    sequence = np.repeat(base[None], frames, axis=0)
    for f, p in enumerate(phases):
        if kind == "wave":  # right hand up, swinging side to side twice
            sequence[f, R_ELBOW] = (-0.45, -1.1)
            sequence[f, R_WRIST] = (-0.45 + 0.3 * math.sin(4 * math.pi * p), -1.6)
        elif kind == "raise":  # right arm lifted from the side to straight up
            angle = math.pi * p
            sequence[f, R_ELBOW] = (-0.3 - 0.3 * math.sin(angle) * 0.5, -0.55 - 0.5 * p)
            sequence[f, R_WRIST] = (-0.3 - 0.2 * math.sin(angle), -0.1 - 1.7 * p)
        elif kind == "squat":  # everything above the knees goes down and back up
            depth = 0.5 * math.sin(math.pi * p)
            sequence[f, :25, 1] += depth
        elif kind == "still":
            pass
        else:
            raise AssertionError(kind)
    sequence += rng.normal(0.0, 0.015, sequence.shape)
    scale, shift = rng.uniform(40, 400), rng.uniform(0, 1000, 2)
    return sequence * scale + shift


def motion3d(kind: str, seed: int, frames: int = 30, warp: float = 1.0) -> np.ndarray:
    """:func:`motion` with a depth coordinate (0), as the pose landmarker gives."""
    flat = motion(kind, seed, frames, warp)
    return np.concatenate([flat, np.zeros((*flat.shape[:2], 1))], axis=2)

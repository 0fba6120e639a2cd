"""Lexicon clips on our skeleton: conversion, damage checks, the signing core of each clip.

The lexicon's clips were cut by a "wrist above the elbow" heuristic, so they start and end
mid-motion (the hand rising into or leaving the signing space), not at rest and not exactly at
the letter. ``signing_core`` finds the span where the dominant hand is up in the signing space:
chains use that span as the sign and synthesise the movements between signs themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..kinematics.fk import joint_positions
from ..kinematics.ik import solve
from ..kinematics.landmarks import B, LandmarkSet
from ..model.skeleton import JOINT_INDEX, LEFT_HAND, RIGHT_HAND
from ..model.template import TEMPLATE

MIN_FRAMES = 10  # the gss clips are mostly 6-9 frames: too short to be a letter
GLITCH_SIZE = 1.6  # a hand suddenly this much larger than usual: a tracking glitch
MAX_GLITCH_SHARE = 0.2  # more glitch frames than this: the clip's tracking blew up
MAX_WRIST_JUMP = 1.5  # shoulder widths per frame: the hand teleported
MIN_HAND_SEEN = 0.5  # fraction of frames with the dominant hand


@dataclass(frozen=True, eq=False)
class ClipData:
    """One converted clip: rotations (T, 52, 3, 3) float32, valid (T, 52), at ``fps``;
    ``dominant`` "left" or "right"; ``core`` (start, end) inclusive."""

    rotations: np.ndarray
    valid: np.ndarray
    fps: float
    dominant: str
    core: tuple[int, int]


def clean(lm: LandmarkSet) -> tuple[LandmarkSet | None, str | None]:
    """Mask single-frame tracking glitches; (cleaned landmarks, None) or (None, why the clip is
    unusable). A hand whose image size jumps above GLITCH_SIZE times its clip median in a frame
    is a glitch there (often the frame the hand leaves); a clip with many glitches, a hand seen in
    too few frames, or a hand that teleports is dropped."""
    if lm.n_frames < MIN_FRAMES:
        return None, f"too short ({lm.n_frames} frames)"
    sh_ok = lm.body_ok[:, B["left_shoulder"]] & lm.body_ok[:, B["right_shoulder"]]
    if not sh_ok.any():
        return None, "no shoulders"
    sh = float(
        np.median(
            np.linalg.norm(lm.body[sh_ok, B["left_shoulder"], :2] - lm.body[sh_ok, B["right_shoulder"], :2], axis=-1)
        )
    )
    if not sh > 0:
        return None, "degenerate shoulders"
    hands_ok = lm.hands_ok.copy()
    for k in range(2):
        seen = hands_ok[:, k].all(axis=-1)
        if seen.sum() < 2:
            continue
        h = lm.hands[:, k, :, :2]
        size = np.linalg.norm(h.max(axis=1) - h.min(axis=1), axis=-1)
        ratio = size / max(float(np.median(size[seen])), 1e-9)
        glitch = seen & (ratio > GLITCH_SIZE)
        if glitch.sum() > MAX_GLITCH_SHARE * seen.sum():
            return None, f"tracking blow-up (hand {ratio[seen].max():.1f}x its usual size in {glitch.sum()} frames)"
        hands_ok[glitch, k] = False
    seen = hands_ok.all(axis=-1)
    dom = int(np.argmax(seen.sum(axis=0)))
    v = seen[:, dom]
    if v.mean() < MIN_HAND_SEEN:
        return None, f"hand seen in {100 * v.mean():.0f}% of frames"
    wrist = lm.hands[v, dom, 0, :2]
    if len(wrist) > 1:
        jump = np.linalg.norm(np.diff(wrist, axis=0), axis=-1) / sh
        if jump.max() > MAX_WRIST_JUMP:
            return None, f"hand jumps {jump.max():.1f} shoulder widths in a frame"
    out = LandmarkSet(
        lm.body, lm.body_ok, lm.hands, hands_ok, lm.face, lm.face_ok, lm.fps, lm.width, lm.height, lm.meta
    )
    return out, None


def dominant_side(valid: np.ndarray) -> str:
    """The hand seen in more frames (right on a tie)."""
    left = valid[:, LEFT_HAND].all(axis=1).sum()
    right = valid[:, RIGHT_HAND].all(axis=1).sum()
    return "left" if left > right else "right"


def signing_core(rotations: np.ndarray, valid: np.ndarray, dominant: str) -> tuple[int, int]:
    """(start, end) inclusive: the longest run where the dominant hand is seen and its wrist is
    in the upper half of its height range over the clip (the whole seen span when the hand
    hardly moves vertically)."""
    seen = valid[:, JOINT_INDEX[f"{dominant}_wrist"]] & valid[:, (LEFT_HAND if dominant == "left" else RIGHT_HAND)].all(
        1
    )
    if not seen.any():
        return 0, rotations.shape[0] - 1
    y = joint_positions(TEMPLATE, rotations)[:, JOINT_INDEX[f"{dominant}_wrist"], 1]
    lo, hi = y[seen].min(), y[seen].max()
    up = seen & ((y >= lo + 0.5 * (hi - lo)) if hi - lo > 0.05 else True)
    padded = np.concatenate([[False], up, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1]).reshape(-1, 2)
    a, b = max(edges, key=lambda e: e[1] - e[0])
    return int(a), int(b - 1)


def convert(lm: LandmarkSet) -> ClipData:
    """Solve a clip with the default IK (smoothing on: what the editor imports)."""
    res = solve(lm)
    rot = res.rotations.astype(np.float32)
    dom = dominant_side(res.valid)
    return ClipData(rot, res.valid, lm.fps, dom, signing_core(rot, res.valid, dom))


def load_clip(path: Path) -> tuple[ClipData | None, str | None]:
    """Read and convert a lexicon file: (clip, None) or (None, reason it was dropped)."""
    from ..io.errors import FormatError
    from ..io.pose_file import read_landmarks

    try:
        lm = read_landmarks(path)
    except FormatError as e:
        return None, f"unreadable ({e.problem})"
    cleaned, reason = clean(lm)
    if cleaned is None:
        return None, reason
    return convert(cleaned), None

"""Continuous "signing" chains built from real clips, with exact per-frame B/I/O labels.

What a chain does about the traps measured on this data (issue #3):
- clips are trimmed mid-sign: only each clip's signing core is used as the sign, and the
  movements into, between and out of signs are synthesised (``transitions``), optionally from
  and back to a rest pose;
- synthetic transitions are not trivially separable: they continue the real velocities, follow
  asymmetric minimum-jerk arcs and carry real jitter;
- they are not SLERP-like: via-points off the geodesic, overshoot, varied durations;
- fluent signing: holds are compressed or dropped and signs sped up, the next sign's label
  starts inside the transition (co-articulation), the idle hand of one-handed clips is animated
  with damped real hand motion (flagged), chains are mirrored (left-dominant signers), and
  labelled boundaries are blurred by a frame or two (the exact labels are kept too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kinematics.ik_geometry import axis_angle
from ..kinematics.ik_hand import relaxed_hand
from ..model.rotations import FLIP_SIGNS
from ..model.sequence import Segment, labels_from_segments
from ..model.skeleton import JOINT_INDEX, JOINT_NAMES, LEFT_HAND, RIGHT_HAND
from .rotmath import angular_speed, exp_rel, resample, slerp_mats
from .transitions import JitterBank, transition

FPS = 25.0
_MIRROR_INDEX = np.array(
    [JOINT_INDEX[n.replace("left_", "@").replace("right_", "left_").replace("@", "right_")] for n in JOINT_NAMES]
)


@dataclass(frozen=True, eq=False)
class PreparedClip:
    """A clip resampled to the chain rate: rotations (T, 52, 3, 3), valid (T, 52), core
    (start, end) inclusive, dominant "left"/"right"; ``index``: its number in the corpus."""

    index: int
    rotations: np.ndarray
    valid: np.ndarray
    core: tuple[int, int]
    dominant: str


@dataclass(frozen=True, eq=False)
class Chain:
    """rotations (T, 52, 3, 3) float32; valid (T, 52); labels / labels_exact (T,) uint8 B/I/O
    (blurred by a frame or two / exact); real (T,) bool (frame copied from a clip);
    segments_exact: the signs (start, end inclusive); clips: the corpus clip of each sign."""

    rotations: np.ndarray
    valid: np.ndarray
    labels: np.ndarray
    labels_exact: np.ndarray
    real: np.ndarray
    segments_exact: tuple[tuple[int, int], ...]
    clips: tuple[int, ...]
    mirrored: bool
    idle_hand_synth: bool


def prepare(
    index: int, rotations: np.ndarray, valid: np.ndarray, fps: float, core: tuple[int, int], dominant: str
) -> PreparedClip:
    rot, val = resample(rotations, valid, fps, FPS)
    ratio = FPS / fps
    s = int(np.clip(round(core[0] * ratio), 0, len(rot) - 1))
    e = int(np.clip(round(core[1] * ratio), s, len(rot) - 1))
    return PreparedClip(index, rot, val, (s, e), dominant)


def mirror(rot: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mirror-image motion (left <-> right across the body's midplane): joints swap sides
    and every rotation is conjugated by diag(-1, 1, 1) (the same sign pattern as F R F)."""
    return (rot[:, _MIRROR_INDEX] * FLIP_SIGNS).astype(np.float32), valid[:, _MIRROR_INDEX]


def rest_pose(like: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(52, 3, 3): ``like`` with the arms hanging and the hands relaxed (slightly varied)."""
    out = like.copy().astype(np.float64)
    for side, sign in (("left", -1.0), ("right", 1.0)):
        drop = np.radians(rng.uniform(68.0, 80.0))
        out[JOINT_INDEX[f"{side}_collar"]] = np.eye(3)
        out[JOINT_INDEX[f"{side}_shoulder"]] = axis_angle(np.array([0.0, 0.0, 1.0]), sign * drop)
        hinge = np.array([0.0, sign, 0.0])
        out[JOINT_INDEX[f"{side}_elbow"]] = axis_angle(hinge, np.radians(rng.uniform(5.0, 25.0)))
        out[JOINT_INDEX[f"{side}_wrist"]] = axis_angle(np.array([1.0, 0.0, 0.0]), np.radians(rng.uniform(-10, 10)))
        sl = LEFT_HAND if side == "left" else RIGHT_HAND
        out[sl] = relaxed_hand(side)
    return out


def _hand_energy(rot: np.ndarray, dominant: str) -> np.ndarray:
    """(T,) motion energy: mean angular speed (rad/frame) of the dominant wrist and fingers."""
    sl = LEFT_HAND if dominant == "left" else RIGHT_HAND
    idx = [JOINT_INDEX[f"{dominant}_wrist"]] + list(range(sl.start, sl.stop))
    sp = angular_speed(rot[:, idx]).mean(axis=1)
    return np.concatenate([sp[:1], sp]) if len(sp) else np.zeros(len(rot))


def compress(clip: PreparedClip, rng: np.random.Generator, drop_p: float, speed: float) -> np.ndarray:
    """Frame indices of the clip's core with holds thinned out and the sign sped up."""
    s, e = clip.core
    idx = np.arange(s, e + 1)
    if len(idx) <= 4:
        return idx
    energy = _hand_energy(clip.rotations[idx], clip.dominant)
    hold = energy < np.quantile(energy, 0.5)
    keep = ~(hold & (rng.random(len(idx)) < drop_p))
    keep[[0, -1]] = True
    idx = idx[keep]
    pos = np.arange(0.0, len(idx) - 1 + 1e-9, speed)
    idx = idx[np.unique(np.round(pos).astype(int))]
    return idx if len(idx) >= 3 else np.arange(s, e + 1)[:: max(1, (e - s) // 3)]


def _idle_hand(
    n: int, side: str, bank: list[np.ndarray], current_wrist: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """(n, 16, 3, 3) wrist + fingers for an idle hand: slowed, damped real right-hand motion."""
    parts, total = [], 0
    while total < n:
        tr = bank[int(rng.integers(len(bank)))]
        slow = rng.uniform(1.5, 3.0)
        tr, _ = resample(tr, np.ones(tr.shape[:2], bool), FPS, FPS * slow)
        parts.append(tr)
        total += len(tr)
    track = np.concatenate(parts)[:n].astype(np.float64)
    if side == "left":
        track = track * FLIP_SIGNS
    lam = rng.uniform(0.25, 0.6)
    relaxed = np.concatenate([current_wrist[None], relaxed_hand(side)])[None].repeat(n, 0)
    return slerp_mats(relaxed, track, np.full(track.shape[:2], lam))


_SHIFTS = np.array([-2, -1, 0, 1, 2])
_SHIFT_P = np.array([0.1, 0.2, 0.4, 0.2, 0.1])


def _blur(segments: list[tuple[int, int]], n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    out = []
    prev_end = -1
    for i, (s, e) in enumerate(segments):
        ds = int(rng.choice(_SHIFTS, p=_SHIFT_P))
        de = int(rng.choice(_SHIFTS, p=_SHIFT_P))
        s2 = max(s + ds, prev_end + 1, 0)
        nxt = segments[i + 1][0] if i + 1 < len(segments) else n
        e2 = min(e + de, n - 1, nxt - 1)
        if e2 - s2 < 1:
            s2, e2 = max(s, prev_end + 1), min(e, nxt - 1)
        out.append((s2, e2))
        prev_end = e2
    return out


def make_chain(
    clips: list[PreparedClip],
    rng: np.random.Generator,
    jitter: JitterBank | None,
    idle_bank: list[np.ndarray],
    *,
    min_signs: int = 3,
    max_signs: int = 10,
    order: list[int] | None = None,
    mirror_p: float = 0.25,
    rest_p: float = 0.5,
) -> Chain:
    """One chain from clips of one language (see the module docstring). ``order``: the clips to
    spell, by position in ``clips`` (random when None); ``rest_p``: chance of starting from and
    ending at rest (each)."""
    picks: list[int] = list(order) if order is not None else []
    n_signs = int(rng.integers(min_signs, max_signs + 1)) if order is None else 0
    for _ in range(n_signs):
        k = int(rng.integers(len(clips)))
        if picks and k == picks[-1] and len(clips) > 1:
            k = (k + 1 + int(rng.integers(len(clips) - 1))) % len(clips)
        picks.append(k)
    mirrored = bool(rng.random() < mirror_p)
    drop_p = float(rng.uniform(0.5, 1.0))
    speed = float(rng.uniform(1.1, 2.0))
    coart = float(rng.uniform(0.0, 1.0))  # how strongly signs overlap the transitions

    pieces_rot, pieces_val, pieces_real = [], [], []
    segments: list[tuple[int, int]] = []
    t = 0
    prev_rot = prev_prev = None
    prev_valid = None
    dominant = None
    for k in picks:
        c = clips[k]
        rot, val = c.rotations, c.valid
        dom = c.dominant
        if mirrored:
            rot, val = mirror(rot, val)
            dom = "left" if dom == "right" else "right"
        dominant = dominant or dom
        idx = compress(PreparedClip(c.index, rot, val, c.core, dom), rng, drop_p, speed)
        # co-articulation: the sign may start a frame or two into its own core
        cut = int(rng.integers(0, min(3, len(idx) - 3) + 1)) if len(idx) > 5 else 0
        idx = idx[cut:]
        sign_rot, sign_val = rot[idx], val[idx]
        if prev_rot is None:
            if rng.random() < rest_p:  # start from rest
                rest = rest_pose(sign_rot[0], rng)
                hold = int(rng.integers(0, 6))
                n_in = int(rng.integers(8, 21))
                lead = transition(rest, rest, sign_rot[0], sign_rot[min(1, len(sign_rot) - 1)], n_in, rng, rest, jitter)
                rest_frames = np.repeat(rest[None], hold, 0)
                if jitter is not None and hold:
                    rest_frames = exp_rel(rest_frames, jitter.sample(hold, rng))
                block = np.concatenate([rest_frames, lead]) if hold else lead
                pieces_rot.append(block.astype(np.float32))
                pieces_val.append(np.repeat(sign_val[:1], len(block), 0))
                pieces_real.append(np.zeros(len(block), bool))
                t += len(block)
            start = t
        else:
            n_tr = int(round(rng.uniform(0.08, 0.4) * FPS))
            relaxed = rest_pose(prev_rot, rng)
            tr = transition(
                prev_rot, prev_prev, sign_rot[0], sign_rot[min(1, len(sign_rot) - 1)], n_tr, rng, relaxed, jitter
            )
            pieces_rot.append(tr.astype(np.float32))
            pieces_val.append(np.repeat(prev_valid[None] & sign_val[:1], len(tr), 0))
            pieces_real.append(np.zeros(len(tr), bool))
            overlap = int(round(coart * rng.uniform(0.3, 1.0) * len(tr)))
            t += len(tr)
            start = t - overlap
        pieces_rot.append(sign_rot.astype(np.float32))
        pieces_val.append(sign_val)
        pieces_real.append(np.ones(len(sign_rot), bool))
        segments.append((start, t + len(sign_rot) - 1))
        t += len(sign_rot)
        prev_rot, prev_prev, prev_valid = sign_rot[-1], sign_rot[max(len(sign_rot) - 2, 0)], sign_val[-1]
    if rng.random() < rest_p:  # back to rest
        rest = rest_pose(prev_rot, rng)
        n_out = int(rng.integers(8, 21))
        tail = transition(prev_rot, prev_prev, rest, rest, n_out, rng, rest, jitter)
        pieces_rot.append(tail.astype(np.float32))
        pieces_val.append(np.repeat(prev_valid[None], len(tail), 0))
        pieces_real.append(np.zeros(len(tail), bool))
        t += len(tail)

    rot = np.concatenate(pieces_rot)
    valid = np.concatenate(pieces_val)
    real = np.concatenate(pieces_real)
    idle_synth = False
    idle = "left" if dominant == "right" else "right"
    sl = LEFT_HAND if idle == "left" else RIGHT_HAND
    if idle_bank and valid[:, sl].all(1).mean() < 0.5 and rng.random() < 0.5:
        cols = [JOINT_INDEX[f"{idle}_wrist"]] + list(range(sl.start, sl.stop))
        rot[:, cols] = _idle_hand(len(rot), idle, idle_bank, rot[0, cols[0]].astype(np.float64), rng)
        valid[:, cols] = True
        idle_synth = True
    exact = labels_from_segments([Segment(s, e) for s, e in segments], len(rot))
    blurred = labels_from_segments([Segment(s, e) for s, e in _blur(segments, len(rot), rng)], len(rot))
    return Chain(
        rot, valid, blurred, exact, real, tuple(segments), tuple(clips[k].index for k in picks), mirrored, idle_synth
    )

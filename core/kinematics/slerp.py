"""The classical in-betweeners every model is measured against: per-joint quaternion SLERP between
the nearest observed frames, optionally with ease-in / ease-out timing inside each gap.

Observed frames (KEY, or SOURCE where the joint is valid) are returned bit-exact; frames before the
first or after the last observation of a joint hold that observation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..model import spans
from ..model.rotations import matrix_to_quat, quat_to_matrix
from ..model.sequence import FrameState, Sequence

Ease = Callable[[np.ndarray], np.ndarray]


def smoothstep(u: np.ndarray) -> np.ndarray:
    """Cubic ease-in / ease-out: zero velocity at both ends of a gap, monotone on [0, 1]."""
    return u * u * (3.0 - 2.0 * u)


def bracket(observed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each frame and channel, the nearest observed frame before/at and after/at it.

    observed: (T, C) bool. Returns prev, next (T, C) int64 (-1 / T where there is none) and the
    fraction u (T, C) in [0, 1] of the way from prev to next (0 where either is missing).
    """
    t = observed.shape[0]
    idx = np.arange(t)[:, None]
    prev = np.where(observed, idx, -1)
    np.maximum.accumulate(prev, axis=0, out=prev)
    nxt = np.where(observed, idx, t)
    nxt = np.flip(np.minimum.accumulate(np.flip(nxt, 0), axis=0), 0)
    gap = (nxt - prev).astype(np.float64)
    both = (prev >= 0) & (nxt < t) & (gap > 0)
    u = np.where(both, (idx - prev) / np.where(gap > 0, gap, 1.0), 0.0)
    return prev, nxt, u


def slerp_quat(q0: np.ndarray, q1: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Shortest-arc SLERP of unit quaternions (..., 4) at fractions u (...)."""
    dot = np.sum(q0 * q1, axis=-1)
    q1 = np.where(dot[..., None] < 0, -q1, q1)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_t = np.sin(theta)
    small = sin_t < 1e-8
    safe = np.where(small, 1.0, sin_t)
    w0 = np.where(small, 1.0 - u, np.sin((1.0 - u) * theta) / safe)
    w1 = np.where(small, u, np.sin(u * theta) / safe)
    q = w0[..., None] * q0 + w1[..., None] * q1
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def slerp_matrices(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Shortest-arc SLERP between rotation matrices a, b (..., 3, 3) at fractions u (...)."""
    q = slerp_quat(matrix_to_quat(a), matrix_to_quat(b), np.broadcast_to(np.asarray(u, float), np.shape(a)[:-2]))
    return quat_to_matrix(q)


def slerp_fill(rotations: np.ndarray, observed: np.ndarray, ease: Ease | None = None) -> np.ndarray:
    """Fill unobserved frames by SLERP between each joint's nearest observations.

    rotations: (T, J, 3, 3); observed: (T, J) bool. Returns (T, J, 3, 3) float32; observed
    entries are copied unchanged, joints never observed keep their input rotations.
    """
    rotations = np.asarray(rotations)
    t, j = observed.shape
    out = rotations.astype(np.float32, copy=True)
    fill = ~observed & observed.any(axis=0, keepdims=True)
    if not fill.any():
        return out
    prev, nxt, u = bracket(observed)
    ft, fj = np.nonzero(fill)
    p, n, uu = prev[ft, fj], nxt[ft, fj], u[ft, fj]
    p = np.where(p < 0, n, p)  # before the first observation: hold it
    n = np.where(n >= t, p, n)  # after the last: hold it
    if ease is not None:
        uu = ease(uu)
    # observed rotations come from a validated Sequence: skip scipy's re-orthonormalisation
    q0 = matrix_to_quat(rotations[p, fj], assume_valid=True)
    q1 = matrix_to_quat(rotations[n, fj], assume_valid=True)
    out[ft, fj] = quat_to_matrix(slerp_quat(q0, q1, uu)).astype(np.float32)
    return out


def lerp_fill(values: np.ndarray, observed: np.ndarray, ease: Ease | None = None) -> np.ndarray:
    """(T, D) values, (T,) observed -> (T, D) linearly interpolated between observed frames."""
    values = np.asarray(values)
    out = values.astype(np.float32, copy=True)
    if observed.all() or not observed.any():
        return out
    prev, nxt, u = bracket(observed[:, None])
    prev, nxt, u = prev[:, 0], nxt[:, 0], u[:, 0]
    t = len(observed)
    prev = np.where(prev < 0, nxt, prev)
    nxt = np.where(nxt >= t, prev, nxt)
    if ease is not None:
        u = ease(u)
    fill = ~observed
    a, b, w = values[prev[fill]], values[nxt[fill]], u[fill][:, None]
    out[fill] = (a + w * (b - a)).astype(np.float32)
    return out


def inbetween_baseline(seq: Sequence, ease: Ease | None = None, span: tuple[int, int] | None = None) -> Sequence:
    """Fill the GENERATED frames of ``seq`` (all, or those in ``span`` [lo, hi)) by SLERP (or
    eased SLERP) of rotations and linear interpolation of the root translation."""
    lo, hi = (0, seq.n_frames) if span is None else spans.enclosing_span(seq.key_frames, *span, seq.n_frames)
    sl = slice(lo, hi)
    obs = seq.observed[sl]
    rot = slerp_fill(seq.rotations[sl], obs, ease)
    frame_obs = seq.states[sl] != FrameState.GENERATED
    tr = lerp_fill(seq.translation[sl], frame_obs, ease)
    return seq.with_generated(lo, rot, tr)

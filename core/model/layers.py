"""The editing layers over the record (docs/representation.md): time-warp and correction offsets.

A record-derived frame ``f`` shows::

    pose(f) = record(f + warp[f]) @ exp(offset(f))

- ``record(t)``: the recorded motion (``Sequence.source_rotations`` / ``source_translation``)
  at a fractional record time ``t``: rotations by SLERP between the two recorded frames around
  ``t``, translation linearly. A whole-frame time gives the recorded frame itself, bit for bit.
- ``warp``: set by retiming as a monotone C1 cubic Hermite of time through the keys' (new frame,
  record time) anchors (``warp_times``), local to the span between unmoved keys.
- ``offset(f)``: per-joint rotation vectors stored at corrected keys (``Sequence.offsets``),
  blended between neighbouring keys with a smooth transition (``blend``): full at a
  corrected key, zero at an uncorrected one, zero velocity at every key (so the record's own
  velocity shows there), and a change at one key touches only the frames up to its
  neighbouring keys.

KEY frames show their pinned pose (``Sequence.rotations``) exactly; GENERATED frames and joints
with no reliable record belong to the in-betweener. Everything here is closed-form and costs
O(span x joints): no model, no torch.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq

import numpy as np
from scipy.spatial.transform import Rotation

from .sequence import FrameState, Sequence

# record times this close to a whole frame are that frame (Hermite round-off on an identity warp)
SNAP = 1e-6
# offsets smaller than this (radians) are no correction (round-off of record^T @ record)
TINY_OFFSET = 1e-6


def blend(u: np.ndarray) -> np.ndarray:
    """The smooth transition 0 -> 1 on [0, 1]: f(u) / (f(u) + f(1 - u)), f(u) = exp(-1 / u).

    Every derivative is zero at both ends, so a correction fades in and out of the record with
    no kink at the keys (C-infinity), and its first frame step next to a neighbouring key is tiny
    (0.8 % of the correction over a 6-frame gap; smoothstep: 7.4 %, smootherstep: 3.5 %), so the
    velocity there stays the record's own.
    """
    u = np.clip(np.asarray(u, np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        a = np.where(u > 0, np.exp(-1.0 / np.where(u > 0, u, 1.0)), 0.0)
        b = np.where(u < 1, np.exp(-1.0 / np.where(u < 1, 1.0 - u, 1.0)), 0.0)
    return a / (a + b)


# --- time-warp ----------------------------------------------------------------------------------
def monotone_slopes(x: np.ndarray, y: np.ndarray, m0: float | None = None, m1: float | None = None) -> np.ndarray:
    """Slopes at the knots of a monotone (non-decreasing) cubic Hermite through (x, y).

    Interior knots: the weighted harmonic mean of the neighbouring secants (Fritsch-Butland, as
    in PCHIP), zero at a flat secant. End slopes ``m0`` / ``m1`` (None: the end secant) are
    clamped to [0, 3 x secant], the Fritsch-Carlson bound that keeps the curve monotone.
    x, y: (n,) float64, x strictly increasing, y non-decreasing, n >= 2. Returns (n,) float64.
    """
    h = np.diff(x)
    d = np.diff(y) / h
    m = np.zeros_like(x)
    if x.size > 2:
        h0, h1, d0, d1 = h[:-1], h[1:], d[:-1], d[1:]
        pos = (d0 > 0) & (d1 > 0)
        w1, w2 = 2 * h1 + h0, h1 + 2 * h0
        with np.errstate(divide="ignore", invalid="ignore"):
            hm = (w1 + w2) / (w1 / d0 + w2 / d1)
        m[1:-1] = np.where(pos, hm, 0.0)
    m[0] = d[0] if m0 is None else m0
    m[-1] = d[-1] if m1 is None else m1
    m[0] = min(max(m[0], 0.0), 3.0 * d[0])
    m[-1] = min(max(m[-1], 0.0), 3.0 * d[-1])
    return m


def hermite(x: np.ndarray, y: np.ndarray, m: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Evaluate the cubic Hermite through knots (x, y) with slopes m at ``at`` (within [x0, xn])."""
    i = np.clip(np.searchsorted(x, at, side="right") - 1, 0, x.size - 2)
    h = x[i + 1] - x[i]
    s = (at - x[i]) / h
    s2, s3 = s * s, s * s * s
    return (
        (2 * s3 - 3 * s2 + 1) * y[i]
        + (s3 - 2 * s2 + s) * h * m[i]
        + (-2 * s3 + 3 * s2) * y[i + 1]
        + (s3 - s2) * h * m[i + 1]
    )


def warp_times(
    x: np.ndarray, y: np.ndarray, frames: np.ndarray, m0: float | None = None, m1: float | None = None
) -> np.ndarray:
    """Record times of ``frames`` through the anchors (x: new frames, y: record times).

    A monotone C1 cubic Hermite of time; anchors are hit exactly, whole-frame results snapped.
    x, y: (n,) anchors, n >= 2; frames: (m,) within [x0, xn]. Returns (m,) float64.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    m = monotone_slopes(x, y, m0, m1)
    t = hermite(x, y, m, np.asarray(frames, np.float64))
    at = np.searchsorted(x, frames)
    hit = (at < x.size) & (x[np.minimum(at, x.size - 1)] == frames)
    t[hit] = y[at[hit]]
    r = np.rint(t)
    snap = np.abs(t - r) < SNAP
    t[snap] = r[snap]
    return t


# --- the record at fractional times ---------------------------------------------------------------
def slerp_rows(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Shortest-arc SLERP of rotation matrices a, b (n, J, 3, 3) at fractions u (n,) -> float32."""
    n, j = a.shape[:2]
    qa = Rotation.from_matrix(a.reshape(-1, 3, 3).astype(np.float64), assume_valid=True).as_quat()
    qb = Rotation.from_matrix(b.reshape(-1, 3, 3).astype(np.float64), assume_valid=True).as_quat()
    dot = np.sum(qa * qb, axis=-1)
    qb = np.where(dot[:, None] < 0, -qb, qb)
    theta = np.arccos(np.clip(np.abs(dot), 0.0, 1.0))
    uu = np.repeat(np.asarray(u, np.float64), j)
    sin_t = np.sin(theta)
    small = sin_t < 1e-8
    safe = np.where(small, 1.0, sin_t)
    w0 = np.where(small, 1.0 - uu, np.sin((1.0 - uu) * theta) / safe)
    w1 = np.where(small, uu, np.sin(uu * theta) / safe)
    q = w0[:, None] * qa + w1[:, None] * qb
    return Rotation.from_quat(q).as_matrix().astype(np.float32).reshape(n, j, 3, 3)


def sample_record(seq: Sequence, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The record at record ``times`` (n,) float64 (clipped to the record).

    Returns rotations (n, J, 3, 3) float32, translation (n, 3) float32 and validity (n, J) bool
    (both recorded frames around a fractional time must be valid). Whole-frame times copy the
    recorded frame exactly.
    """
    t = seq.n_frames
    times = np.clip(np.asarray(times, np.float64), 0.0, t - 1)
    i0 = np.floor(times).astype(np.int64)
    u = times - i0
    i1 = np.minimum(i0 + 1, t - 1)
    rot = seq.source_rotations[i0]  # fancy indexing: a fresh array
    tr = seq.source_translation[i0]
    valid = seq.source_valid[i0]
    frac = u > 0
    if frac.any():
        f = np.flatnonzero(frac)
        rot[f] = slerp_rows(seq.source_rotations[i0[f]], seq.source_rotations[i1[f]], u[f])
        a, b = seq.source_translation[i0[f]].astype(np.float64), seq.source_translation[i1[f]].astype(np.float64)
        tr[f] = (a + u[f, None] * (b - a)).astype(np.float32)
        valid[f] &= seq.source_valid[i1[f]]
    return rot, tr, valid


def record_times(seq: Sequence, lo: int, hi: int) -> np.ndarray:
    """(hi - lo,) float64 record times of frames [lo, hi)."""
    return np.arange(lo, hi, dtype=np.float64) + seq.warp[lo:hi]


# --- correction offsets ---------------------------------------------------------------------------
def offset_field(key_frames: np.ndarray, key_offsets: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Blended offsets (rotation vectors) at ``frames``.

    key_frames: (K,) ascending; key_offsets: (K, J, 3); frames: (n,). Between two keys the
    offsets blend with ``blend`` weights (smooth in log space, zero velocity at the keys); before
    the first / after the last key they hold. Returns (n, J, 3) float64.
    """
    frames = np.asarray(frames, np.int64)
    k = key_frames.size
    if k == 0:
        return np.zeros((frames.size,) + key_offsets.shape[1:], np.float64)
    i = np.searchsorted(key_frames, frames, side="right") - 1  # key at or before
    a = np.clip(i, 0, k - 1)
    b = np.clip(i + 1, 0, k - 1)
    fa, fb = key_frames[a].astype(np.float64), key_frames[b].astype(np.float64)
    span = np.where(fb > fa, fb - fa, 1.0)
    u = np.where(fb > fa, (frames - fa) / span, 0.0)  # outside the keys a == b: hold
    w = blend(u)[:, None, None]
    va, vb = key_offsets[a].astype(np.float64), key_offsets[b].astype(np.float64)
    return va + w * (vb - va)


def correction_offset(record: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """Offsets (n, 3) float32 turning ``record`` (n, 3, 3) into ``pose`` (n, 3, 3): record @ exp(o) = pose."""
    rel = np.swapaxes(record, -1, -2).astype(np.float64) @ pose.astype(np.float64)
    rv = Rotation.from_matrix(rel).as_rotvec()
    rv[np.linalg.norm(rv, axis=-1) < TINY_OFFSET] = 0.0
    return rv.astype(np.float32)


# --- composing the shown motion -----------------------------------------------------------------
def compose_span(
    seq: Sequence,
    lo: int,
    hi: int,
    joints: Seq[int] | None = None,
    out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The shown motion of frames [lo, hi) rebuilt from the layers.

    Returns new full-length rotations (T, J, 3, 3), translation (T, 3) and valid (T, J) arrays
    (writable copies; shared inputs untouched) where, inside [lo, hi), every record-derived
    frame that is not a key shows record(f + warp) @ exp(offset) (only ``joints`` when given);
    keys keep their poses, GENERATED frames what the in-betweener wrote. Joints with no
    reliable record get the record as a placeholder (the in-betweener refills them). ``valid`` is re-sampled
    from the record for all record-derived frames in the span. ``out``: writable (rotations,
    translation, valid) to update in place instead of copies of ``seq``'s.
    """
    t = seq.n_frames
    lo, hi = max(0, int(lo)), min(t, int(hi))
    if out is None:
        out = (seq.rotations.copy(), seq.translation.copy(), seq.valid.copy())
    rot, tr, valid = out
    if hi <= lo:
        return rot, tr, valid
    frames = np.arange(lo, hi)
    kf = seq.key_frames
    is_key = np.isin(frames, kf)
    rec_frames = frames[~is_key & (seq.base_states[lo:hi] != FrameState.GENERATED)]
    if rec_frames.size == 0:
        return rot, tr, valid
    r_rot, r_tr, r_valid = sample_record(seq, rec_frames + seq.warp[rec_frames])
    valid[rec_frames] = r_valid
    tr[rec_frames] = r_tr
    js = np.arange(seq.n_joints) if joints is None else np.asarray(joints, np.int64)
    off = offset_field(kf, seq.offsets[kf][:, js], rec_frames)  # (n, |js|, 3)
    pose = r_rot[:, js]
    nz = np.any(off != 0, axis=-1)
    if nz.any():
        pose[nz] = pose[nz] @ Rotation.from_rotvec(off[nz]).as_matrix().astype(np.float32)
    # joints with no reliable record show the record too until the in-betweener refills them
    # (the edit's span is dirty): a placeholder that depends on the layers alone, so undoing a
    # retime by the opposite one gives the same frames
    block = rot[rec_frames]
    block[:, js] = pose
    rot[rec_frames] = block
    return rot, tr, valid

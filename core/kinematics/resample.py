"""Cropping and frame-rate resampling of a whole ``Sequence`` (new sequences; not undoable edits).

Resampling keeps the time span: new frame j sits at time j / fps_new, for every such time within
the old frames 0..T-1. Rotations are SLERPed per joint between the two bracketing old frames,
translation and float channels interpolated linearly, states / validity / integer channels taken
from the nearest old frame. Keys move to the nearest new frame and keep their exact pose; B/I/O
labels are nearest too, but every B (a sign onset, one frame long) survives downsampling.
"""

from __future__ import annotations

import numpy as np

from ..model.rotations import matrix_to_quat, quat_to_matrix
from ..model.sequence import Keyframe, Label, Segment, Sequence
from .slerp import slerp_quat


def crop(seq: Sequence, start: int | None = None, end: int | None = None) -> Sequence:
    """Frames ``start..end-1`` (Python slice bounds, negatives from the end). Keys outside are
    dropped, the rest shifted; glosses are clipped to the range."""
    t = seq.n_frames
    lo, hi, _ = slice(start, end).indices(t)
    if hi <= lo:
        raise ValueError(f"empty frame range {start}:{end} of a {t}-frame sequence")
    arrays = {k: v[lo:hi] for k, v in seq.frame_arrays().items()}
    keys = tuple(Keyframe(k.frame - lo, k.kind) for k in seq.keyframes if lo <= k.frame < hi)
    glosses = tuple(
        Segment(max(g.start, lo) - lo, min(g.end, hi - 1) - lo, g.gloss, g.hand)
        for g in seq.glosses
        if g.end >= lo and g.start < hi
    )
    return seq.with_frame_arrays(arrays, keyframes=keys, glosses=glosses)


def _slerp_frames(m: np.ndarray, i0: np.ndarray, i1: np.ndarray, u: np.ndarray) -> np.ndarray:
    """(T, ..., 3, 3) rotations at fractional frames: SLERP between frames i0 and i1 by u (T')."""
    q = matrix_to_quat(m)  # (T, ..., 4)
    uu = u.reshape((-1,) + (1,) * (q.ndim - 2))
    out = quat_to_matrix(slerp_quat(q[i0], q[i1], np.broadcast_to(uu, q[i0].shape[:-1])))
    exact = u == 0.0  # frames that land on an old frame stay bit-exact
    out[exact] = m[i0[exact]]
    return out.astype(m.dtype)


def _is_rotation_channel(a: np.ndarray) -> bool:
    return a.dtype.kind == "f" and a.ndim >= 3 and a.shape[-2:] == (3, 3)


def resample(seq: Sequence, fps: float) -> Sequence:
    """The same motion at ``fps`` (see the module docstring)."""
    fps = float(fps)
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be positive, got {fps}")
    if fps == seq.fps:
        return seq
    t = seq.n_frames
    ratio = fps / seq.fps
    t_new = int(np.floor((t - 1) * ratio + 1e-9)) + 1
    x = np.arange(t_new) / ratio  # old-frame coordinate of each new frame
    x = np.minimum(x, t - 1)
    i0 = np.floor(x + 1e-9).astype(np.int64)
    i0 = np.minimum(i0, t - 1)
    i1 = np.minimum(i0 + 1, t - 1)
    u = np.clip(x - i0, 0.0, 1.0)
    u[np.abs(u) < 1e-9] = 0.0
    nearest = np.minimum(np.floor(x + 0.5 + 1e-9).astype(np.int64), t - 1)  # ties go up

    def lerp(a: np.ndarray) -> np.ndarray:
        w = u.reshape((-1,) + (1,) * (a.ndim - 1))
        a64 = a.astype(np.float64)
        out = a64[i0] + w * (a64[i1] - a64[i0])
        out[u == 0.0] = a64[i0[u == 0.0]]
        return out.astype(a.dtype)

    out: dict[str, np.ndarray] = {}
    for name, a in seq.frame_arrays().items():
        if name in ("rotations", "source_rotations") or (name.startswith("extra:") and _is_rotation_channel(a)):
            out[name] = _slerp_frames(a, i0, i1, u)
        elif name == "labels":
            lab = a[nearest].copy()
            lab[lab == Label.B] = Label.I  # upsampling would repeat an onset: one B per old B
            # an onset goes to the first new frame sampling it, or (skipped when downsampling)
            # to the new frame nearest to it
            olds, first = np.unique(nearest, return_index=True)
            first_of = dict(zip(olds.tolist(), first.tolist()))
            for f in np.nonzero(a == Label.B)[0].tolist():
                lab[first_of.get(f, min(int(np.floor(f * ratio + 0.5)), t_new - 1))] = Label.B
            out[name] = lab
        elif a.dtype.kind == "f":
            out[name] = lerp(a)
        else:
            out[name] = a[nearest]
    new_frame = lambda f: int(min(round(f * ratio), t_new - 1))  # noqa: E731
    keys: dict[int, Keyframe] = {}
    for k in seq.keyframes:  # two keys landing on one frame: the earlier one wins
        f = new_frame(k.frame)
        if f not in keys:
            keys[f] = Keyframe(f, k.kind)
            # a key keeps its exact pose
            out["rotations"][f] = seq.rotations[k.frame]
            out["translation"][f] = seq.translation[k.frame]
    glosses = tuple(
        Segment(new_frame(g.start), max(new_frame(g.start), new_frame(g.end)), g.gloss, g.hand) for g in seq.glosses
    )
    return seq.with_frame_arrays(out, fps=fps, keyframes=tuple(keys.values()), glosses=glosses)

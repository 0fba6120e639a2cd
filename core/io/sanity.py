"""What every read sequence must satisfy before a reader's result is accepted.

Readers check their own layout; this is the shared boundary the registry applies to every
result, so a mutated file cannot slip garbage past a reader that forgot one check: a frame rate
outside ``limits.MIN_FPS..MAX_FPS`` (a BVH ``Frame Time`` of 1e-320, a project fps of 1e300),
more frames or joints than the limits, non-finite or non-rotation matrices (an eye pose of
1e300 radians), non-finite values in any per-frame channel (translation, layers, extra channels such
as an eye pose that overflows float32). Cost: one vectorised pass over the rotations
(~0.1 s for 10 minutes of motion).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..model.sequence import Sequence
from . import limits
from .errors import FormatError

ROTATION_ATOL = 1e-3


def rotations_ok(m: np.ndarray, atol: float = ROTATION_ATOL) -> bool:
    """Whether every (..., 3, 3) matrix is finite, orthonormal and has determinant +1.
    Element-wise over the rows in the array's own precision (batched 3x3 matmuls are slower),
    in chunks: no float64 copy of 10 minutes of motion."""
    if m.ndim < 2 or m.shape[-2:] != (3, 3):
        return False
    flat = m.reshape(-1, 9)
    for i in range(0, len(flat), 1 << 16):
        r = flat[i : i + (1 << 16)]
        if not np.isfinite(r).all():
            return False
        a, b, c = r[:, 0:3], r[:, 3:6], r[:, 6:9]  # the rows
        for u, v, want in ((a, a, 1), (b, b, 1), (c, c, 1), (a, b, 0), (a, c, 0), (b, c, 0)):
            if np.abs(np.einsum("ij,ij->i", u, v) - want).max(initial=0.0) > atol:
                return False
        # orthonormal rows: det = (a x b) . c is +-1; +1 for a rotation
        det = (
            (a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]) * c[:, 0]
            + (a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]) * c[:, 1]
            + (a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]) * c[:, 2]
        )
        if np.abs(det - 1.0).max(initial=0.0) > atol:
            return False
    return True


def check_sequence(path: str | Path, seq: Sequence) -> Sequence:
    """``seq`` unchanged, or FormatError naming ``path`` and the first broken invariant."""
    limits.check_fps(path, seq.fps)
    if seq.n_frames <= 0:
        raise FormatError(path, "the file holds no frames")
    limits.check_count(path, seq.n_frames, limits.MAX_FRAMES, "frames")
    limits.check_count(path, seq.n_joints, limits.MAX_JOINTS, "joints")
    if not math.isfinite(seq.duration):
        raise FormatError(path, f"duration {seq.duration} is not finite")
    if not rotations_ok(np.asarray(seq.rotations)):
        raise FormatError(path, "the motion holds non-finite values or matrices that are not rotations")
    for name, a in seq.frame_arrays().items():  # translation, layers and ``extra:`` channels
        a = np.asarray(a)
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            raise FormatError(path, f"per-frame values {name!r} hold NaN or infinite values (or overflow float32)")
    t = seq.n_frames
    for k in seq.keyframes:
        if not 0 <= k.frame < t:
            raise FormatError(path, f"keyframe at frame {k.frame} outside 0..{t - 1}")
    for g in seq.glosses:
        if not 0 <= g.start <= g.end < t:
            raise FormatError(path, f"segment {g.start}..{g.end} outside 0..{t - 1}")
    return seq

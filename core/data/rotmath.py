"""Small batched rotation helpers for data synthesis: log / exp maps, SLERP resampling."""

from __future__ import annotations

import numpy as np

from ..kinematics.slerp import slerp_matrices as slerp_mats  # noqa: F401 (used by chains)
from ..model.rotations import axis_angle_to_matrix, matrix_to_axis_angle


def log_rel(base: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """(..., 3, 3) base, (..., 3, 3) rot -> (..., 3) rotation vector of base^T rot."""
    return matrix_to_axis_angle(np.swapaxes(base, -1, -2) @ rot)


def exp_rel(base: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Inverse of ``log_rel``: base @ exp(vec)."""
    return base @ axis_angle_to_matrix(vec)


def resample(rot: np.ndarray, valid: np.ndarray, fps_in: float, fps_out: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample (T, J, 3, 3) rotations and (T, J) validity from fps_in to fps_out by SLERP.
    A resampled entry is valid when both frames it is made from are."""
    t = rot.shape[0]
    if abs(fps_in - fps_out) < 1e-6 or t < 2:
        return rot.astype(np.float32), valid.copy()
    n = int(np.floor((t - 1) * fps_out / fps_in + 1e-9)) + 1
    pos = np.arange(n) * fps_in / fps_out
    i0 = np.minimum(np.floor(pos).astype(int), t - 1)
    i1 = np.minimum(i0 + 1, t - 1)
    u = (pos - i0)[:, None] * np.ones(rot.shape[1])
    out = slerp_mats(rot[i0], rot[i1], u)
    return out.astype(np.float32), valid[i0] & valid[i1]


def angular_speed(rot: np.ndarray) -> np.ndarray:
    """(T, J, 3, 3) -> (T-1, J) geodesic angle between consecutive frames, radians."""
    rel = np.swapaxes(rot[:-1], -1, -2) @ rot[1:]
    tr = np.clip((np.trace(rel, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    return np.arccos(tr)

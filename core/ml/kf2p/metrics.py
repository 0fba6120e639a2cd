"""Motion metrics for in-betweening, numpy only (SOKE / Progressive Transformers definitions).

Positions are (T, J, 3) metres; every function returns metres (callers report centimetres).
- MPJPE: mean Euclidean joint error over frames and joints.
- PA-MPJPE: the same after a per-frame Procrustes alignment (rotation, uniform scale,
  translation) of the prediction onto the ground truth.
- DTW-JPE: dynamic time warping between the two sequences with the per-frame mean joint error as
  the local cost. SOKE (``mGPT/metrics/dtw.py``) reports the accumulated cost along the optimal
  path; we divide it by the ground truth's length so it reads in per-frame units (ratios between
  methods on the same frames are unchanged). Dividing by the path's length instead would reward
  a prediction that dwells near the keys: every extra step through a near-zero-cost cell lowers
  the mean.
- DTW-PA-JPE: the same with a Procrustes-aligned local cost.
- velocity / jerk error: mean joint error of the first / third temporal differences (per frame,
  so multiply by fps, fps^3 for physical units).
"""

from __future__ import annotations

import numpy as np


def _procrustes_align(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Align x onto y by a similarity transform per leading index. x, y: (..., J, 3)."""
    mx, my = x.mean(-2, keepdims=True), y.mean(-2, keepdims=True)
    xc, yc = x - mx, y - my
    h = np.swapaxes(xc, -1, -2) @ yc  # (..., 3, 3)
    u, s, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(u @ vt))
    s = s.copy()
    s[..., -1] *= d
    vt = vt.copy()
    vt[..., -1, :] *= d[..., None]
    r = u @ vt  # maps xc -> yc as xc @ r
    var = np.sum(xc**2, axis=(-1, -2))
    scale = np.where(var > 1e-12, s.sum(-1) / np.where(var > 1e-12, var, 1.0), 1.0)
    return scale[..., None, None] * (xc @ r) + my


def joint_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(..., J, 3) -> (...) mean Euclidean error over joints."""
    return np.linalg.norm(pred - gt, axis=-1).mean(-1)


def mpjpe(pred: np.ndarray, gt: np.ndarray, frames: np.ndarray | None = None) -> float:
    err = joint_error(pred, gt)
    return float(err[frames].mean() if frames is not None else err.mean())


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray, frames: np.ndarray | None = None) -> float:
    err = joint_error(_procrustes_align(pred, gt), gt)
    return float(err[frames].mean() if frames is not None else err.mean())


def _dtw(cost: np.ndarray) -> float:
    """Accumulated cost along the optimal monotone path / M. cost: (N predicted, M ground truth)."""
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    # anti-diagonal sweep keeps the inner loop in numpy
    for k in range(2, n + m + 1):
        i = np.arange(max(1, k - m), min(n, k - 1) + 1)
        j = k - i
        acc[i, j] = np.minimum(np.minimum(acc[i - 1, j - 1], acc[i - 1, j]), acc[i, j - 1]) + cost[i - 1, j - 1]
    return float(acc[n, m] / m)


def dtw_jpe(pred: np.ndarray, gt: np.ndarray) -> float:
    cost = joint_error(pred[:, None], gt[None, :])
    return _dtw(cost)


def dtw_pa_jpe(pred: np.ndarray, gt: np.ndarray) -> float:
    n, m = len(pred), len(gt)
    p = np.broadcast_to(pred[:, None], (n, m) + pred.shape[1:])
    g = np.broadcast_to(gt[None, :], (n, m) + gt.shape[1:])
    cost = joint_error(_procrustes_align(p, g), g)
    return _dtw(cost)


def velocity_error(pred: np.ndarray, gt: np.ndarray) -> float:
    return float(joint_error(np.diff(pred, axis=0), np.diff(gt, axis=0)).mean())


def jerk_error(pred: np.ndarray, gt: np.ndarray) -> float:
    return float(joint_error(np.diff(pred, 3, axis=0), np.diff(gt, 3, axis=0)).mean())


def key_adherence(pred: np.ndarray, gt: np.ndarray, keys: np.ndarray) -> float:
    """Largest joint error at the key frames (0 when keys are hit exactly)."""
    if len(keys) == 0:
        return 0.0
    return float(np.linalg.norm(pred[keys] - gt[keys], axis=-1).max())

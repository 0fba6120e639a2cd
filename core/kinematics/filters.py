"""Temporal smoothing of landmark jitter, inside each run of observed frames (gaps are never
bridged; runs too short to filter are left as they are).

- ``one_euro_tracks`` (what the IK uses): a speed-adaptive low-pass (One-Euro), made zero-phase
  by forward and backward passes, so holds are smoothed, fast fingerspelling moves pass and a
  recorded clip keeps its timing.
- ``smooth_tracks``: Savitzky-Golay (a local polynomial fit), zero-phase, for tracks whose speed
  does not vary much. On fingerspelling (every 6th lexicon clip) a 7-frame quadratic left the
  same hold jitter as the IK's One-Euro but a finger bone error of 6.9 degrees against 2.8, so
  the IK does not use it.

Against the raw landmarks, any smoothing moves the result by about the jitter it removes: with
the IK's settings the mean finger bone direction error rises by about 0.5 degree while the
frame-to-frame jitter in holds falls by about a third (``core.kinematics.ik``, ``scripts/eval_ik.py``).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import savgol_filter


def window_for(fps: float, seconds: float = 0.2) -> int:
    """An odd window length covering about ``seconds`` (at least 5 frames)."""
    n = int(round(seconds * fps))
    n = max(n, 5)
    return n if n % 2 else n + 1


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a (T,) bool array."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in edges.reshape(-1, 2)]


def smooth_tracks(x: np.ndarray, ok: np.ndarray, window: int, order: int = 2) -> np.ndarray:
    """Filter each point's track over time, run by run.

    x: (T, N, D) values; ok: (T, N) bool. Returns a new (T, N, D) array; unobserved entries are
    returned unchanged. Points with the same observation pattern are filtered together.
    """
    x = np.asarray(x, dtype=np.float64)
    ok = np.asarray(ok, dtype=bool)
    out = x.copy()
    if x.shape[0] < order + 2:
        return out
    patterns, inverse = np.unique(ok.T, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    for k, pattern in enumerate(patterns):
        cols = np.flatnonzero(inverse == k)
        for a, b in _runs(pattern):
            n = b - a
            w = min(window, n if n % 2 else n - 1)
            if w <= order + 1:
                continue
            block = x[a:b, cols]
            out[a:b, cols] = savgol_filter(block, w, order, axis=0, mode="interp")
    return out


def _alpha(cutoff: np.ndarray, fps: float) -> np.ndarray:
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau * fps)


def _one_euro_pass(
    x: np.ndarray, fps: float, min_cutoff: float, beta: float, d_cutoff: float, scale: np.ndarray
) -> np.ndarray:
    """One causal One-Euro pass over (n, P, D) (Casiez et al., CHI 2012): a low-pass whose
    cutoff rises with the speed, so holds are smoothed and fast moves pass through."""
    out = np.empty_like(x)
    prev = x[0]
    dprev = np.zeros(x.shape[1:-1])
    out[0] = prev
    a_d = _alpha(np.asarray(d_cutoff, float), fps)
    for i in range(1, x.shape[0]):
        speed = np.linalg.norm(x[i] - prev, axis=-1) * fps / scale  # (P,) sizes per second
        dprev = dprev + a_d * (speed - dprev)
        a = _alpha(min_cutoff + beta * dprev, fps)[..., None]
        prev = prev + a * (x[i] - prev)
        out[i] = prev
    return out


def one_euro_tracks(
    x: np.ndarray,
    ok: np.ndarray,
    fps: float,
    *,
    min_cutoff: float = 2.0,
    beta: float = 4.0,
    d_cutoff: float = 2.0,
    scale: float | np.ndarray = 1.0,
) -> np.ndarray:
    """Zero-phase One-Euro smoothing of point tracks, run by run of observed frames.

    x: (T, N, D) positions; ok: (T, N) bool; ``scale``: the size (scalar or (N,)) that speeds
    are measured in (e.g. the hand's size in pixels), so ``beta`` is per size-per-second.
    A forward pass and a backward pass over its output, averaged with the backward pass over
    the input, cancel the lag of a causal filter. Unobserved entries are returned unchanged.
    """
    x = np.asarray(x, dtype=np.float64)
    ok = np.asarray(ok, dtype=bool)
    out = x.copy()
    scale_arr = np.broadcast_to(np.asarray(scale, float), (x.shape[1],))
    scale_arr = np.where(scale_arr > 0, scale_arr, 1.0)
    patterns, inverse = np.unique(ok.T, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    for k, pattern in enumerate(patterns):
        cols = np.flatnonzero(inverse == k)
        for a, b in _runs(pattern):
            if b - a < 3:
                continue
            block = x[a:b, cols]
            s = scale_arr[cols]
            fwd = _one_euro_pass(block, fps, min_cutoff, beta, d_cutoff, s)
            fb = _one_euro_pass(fwd[::-1], fps, min_cutoff, beta, d_cutoff, s)[::-1]
            bwd = _one_euro_pass(block[::-1], fps, min_cutoff, beta, d_cutoff, s)[::-1]
            bf = _one_euro_pass(bwd, fps, min_cutoff, beta, d_cutoff, s)
            out[a:b, cols] = 0.5 * (fb + bf)
    return out

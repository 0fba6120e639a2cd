"""Waveform summaries: min / max peaks per bucket, at several bucket sizes, so a lane draws any
zoom from at most a few thousand points (10 minutes at 48 kHz is 28.8 M samples)."""

from __future__ import annotations

import numpy as np

LEVELS = (32, 256, 2048, 16384)


def peaks(x: np.ndarray, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi), each (ceil(N / bucket),) float32: min and max of ``x`` (N,) per bucket."""
    n = x.shape[0]
    m = -(-n // bucket)
    pad = m * bucket - n
    if pad:
        x = np.concatenate([x, np.repeat(x[-1:], pad)]) if n else np.zeros(bucket, np.float32)
    b = x.reshape(-1, bucket)
    return b.min(axis=1).astype(np.float32), b.max(axis=1).astype(np.float32)


class Waveform:
    """Peaks of a mono signal (N,) at ``rate`` for every size in ``LEVELS``."""

    def __init__(self, mono: np.ndarray, rate: int) -> None:
        self.rate = int(rate)
        self.n = int(mono.shape[0])
        self.levels = {b: peaks(mono, b) for b in LEVELS if b <= max(self.n, 1) or b == LEVELS[0]}

    def envelope(self, t0: float, t1: float, columns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, lo, hi) over media seconds [t0, t1] with about ``columns`` points or fewer:
        the coarsest level that still gives one bucket per column."""
        t0, t1 = max(0.0, t0), min(self.n / self.rate, t1)
        if t1 <= t0 or columns <= 0:
            e = np.zeros(0, np.float32)
            return e.astype(np.float64), e, e
        per_col = (t1 - t0) * self.rate / columns
        usable = [b for b in self.levels if b <= per_col] or [min(self.levels)]
        b = max(usable)
        lo, hi = self.levels[b]
        i0, i1 = int(t0 * self.rate) // b, min(len(lo), int(np.ceil(t1 * self.rate / b)) + 1)
        times = (np.arange(i0, i1) + 0.5) * b / self.rate
        return times, lo[i0:i1], hi[i0:i1]

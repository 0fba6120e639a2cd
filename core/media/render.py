"""What an audio player outputs for a playhead: blocks of samples from a media position, at a
speed, pitch kept (WSOLA time-stretch) or not (varispeed, resampled).

The renderer is a stream: ``start(t)`` places it at media time t, each ``render(n)`` returns the
next n output samples (n, C) and advances the media position by exactly ``n * speed / rate``
seconds, so audio never drifts from a playhead that advances by the same rule. Pitch-kept
stretching (WSOLA, Verhelst & Roelands 1993) places every analysis window at its nominal position
plus a shift of at most ``TOLERANCE`` samples chosen for the best waveform continuity; the shift
never accumulates, so the error to the nominal position stays under ``TOLERANCE / rate`` (5 ms).
Past the end of the media (or before its start) it outputs silence.
"""

from __future__ import annotations

import numpy as np

FRAME = 1024  # WSOLA window (samples)
HOP = FRAME // 2  # synthesis hop: Hann windows at 50 % overlap sum to one
TOLERANCE = 256


class Renderer:
    """Output blocks from ``samples`` (N, C) float32 at ``rate`` (the device's rate)."""

    def __init__(self, samples: np.ndarray, rate: int) -> None:
        self.x = np.asarray(samples, np.float32)
        if self.x.ndim == 1:
            self.x = self.x[:, None]
        self.rate = int(rate)
        self.channels = int(self.x.shape[1])
        self.speed = 1.0
        self.keep_pitch = True
        self.pos = 0.0  # media position (samples) of the next output sample
        self._win = np.hanning(FRAME + 1)[:FRAME].astype(np.float32)  # periodic Hann: exact 50 % OLA
        self._reset_stretch()

    def _reset_stretch(self) -> None:
        self._ola = np.zeros((FRAME, self.channels), np.float32)  # overlap-add accumulator
        self._ready = np.zeros((0, self.channels), np.float32)  # finished output not yet returned
        self._ready_pos = self.pos  # media position of _ready[0]
        self._prev: float | None = None  # where the last window was actually taken
        self._nominal = self.pos  # nominal position of the next window

    def start(self, t: float) -> None:
        """Place the stream at media time ``t`` seconds."""
        self.pos = float(t) * self.rate
        self._reset_stretch()

    def set_speed(self, speed: float, keep_pitch: bool | None = None) -> None:
        self.speed = float(speed)
        if keep_pitch is not None:
            self.keep_pitch = bool(keep_pitch)
        self._reset_stretch()

    @property
    def time(self) -> float:
        """Media time (s) of the next output sample."""
        return self.pos / self.rate

    def _slice(self, start: int, n: int) -> np.ndarray:
        """x[start:start + n], zero outside the media."""
        out = np.zeros((n, self.channels), np.float32)
        a, b = max(start, 0), min(start + n, self.x.shape[0])
        if b > a:
            out[a - start : b - start] = self.x[a:b]
        return out

    def render(self, n: int) -> np.ndarray:
        """The next ``n`` output samples (n, C) float32."""
        if self.speed == 1.0:
            out = self._slice(int(round(self.pos)), n)
        elif not self.keep_pitch:
            out = self._varispeed(n)
        else:
            out = self._stretch(n)
        self.pos += n * self.speed
        return out

    def _varispeed(self, n: int) -> np.ndarray:
        p = self.pos + np.arange(n) * self.speed
        i0 = int(np.floor(p[0]))
        seg = self._slice(i0, int(np.ceil(p[-1])) - i0 + 2)
        rel = p - i0
        k = np.floor(rel).astype(np.int64)
        f = (rel - k).astype(np.float32)[:, None]
        return seg[k] * (1 - f) + seg[k + 1] * f

    def _stretch(self, n: int) -> np.ndarray:
        if self._prev is None:
            # prime with the window one hop back, so the first samples out are at full level
            self._nominal = self.pos - HOP * self.speed
            self._stretch_step()
            self._ready = self._ready[:0]
        while self._ready.shape[0] < n:
            self._stretch_step()
        out, self._ready = self._ready[:n], self._ready[n:]
        return out

    def _stretch_step(self) -> None:
        nominal = int(round(self._nominal))
        if self._prev is None:
            take = nominal
        else:
            # the window that best continues the waveform the last window started
            natural = self._slice(int(self._prev) + HOP, FRAME).mean(axis=1)
            region = self._slice(nominal - TOLERANCE, FRAME + 2 * TOLERANCE).mean(axis=1)
            if not natural.any() or not region.any():
                take = nominal
            else:
                corr = np.correlate(region, natural, mode="valid")
                take = nominal - TOLERANCE + int(np.argmax(corr))
        frame = self._slice(take, FRAME) * self._win[:, None]
        self._ola += frame
        self._ready = np.concatenate([self._ready, self._ola[:HOP]])
        self._ola = np.concatenate([self._ola[HOP:], np.zeros((HOP, self.channels), np.float32)])
        self._prev = float(take)
        self._nominal += HOP * self.speed

"""Playback at the sequence's fps: the frame shown is computed from a monotonic clock
(``QElapsedTimer``), so a slow redraw drops frames instead of drifting behind.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, Signal

from .document import Document

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0)


class Playback(QObject):
    """Signals: playingChanged(bool)."""

    playingChanged = Signal(bool)

    def __init__(self, doc: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.speed = 1.0
        self.loop = True
        self.clock = QElapsedTimer()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self._anchor = 0
        self.frames_shown = 0
        self.frames_dropped = 0
        self._last = -1
        # seconds played since play(), when something else keeps time (the audio output's clock)
        self.clock_source: Callable[[], float] | None = None

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def play_range(self) -> tuple[int, int]:
        """Inclusive frames played: the selected range when there is one, else everything."""
        if self.doc.range and self.doc.range[1] > self.doc.range[0]:
            return self.doc.range
        return 0, self.doc.n_frames - 1

    def toggle(self) -> None:
        self.stop() if self.playing else self.play()

    def play(self) -> None:
        lo, hi = self.play_range()
        f = self.doc.current_frame
        if not lo <= f < hi:
            f = lo
            self.doc.set_current_frame(f)
        self._anchor = f
        self._last = f
        self.frames_shown = self.frames_dropped = 0
        self.clock.start()
        self.timer.start(max(4, int(1000.0 / (self.doc.fps * self.speed) / 2)))
        self.playingChanged.emit(True)

    def stop(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.playingChanged.emit(False)

    def set_speed(self, speed: float) -> None:
        playing = self.playing
        if playing:
            self.timer.stop()
        self.speed = float(np.clip(speed, SPEEDS[0], SPEEDS[-1]))
        if playing:
            self.play()

    def _tick(self) -> None:
        lo, hi = self.play_range()
        elapsed = self.clock.nsecsElapsed() / 1e9 if self.clock_source is None else max(0.0, self.clock_source())
        f = self._anchor + int(elapsed * self.doc.fps * self.speed)
        if f > hi:
            if not self.loop:
                self.doc.set_current_frame(hi)
                self.stop()
                return
            f = lo + (f - lo) % (hi - lo + 1)
        if f != self._last:
            step = (f - self._last) % (hi - lo + 1) if self._last >= 0 else 1
            self.frames_dropped += max(0, step - 1)
            self.frames_shown += 1
            self._last = f
            self.doc.set_current_frame(f)

    # --- stepping (stops playback) -------------------------------------------------------------
    def step(self, delta: int) -> None:
        self.stop()
        self.doc.set_current_frame(self.doc.current_frame + delta)

    def jump_key(self, direction: int) -> None:
        self.stop()
        keys = self.doc.key_frames()
        f = self.doc.current_frame
        cand = keys[keys > f] if direction > 0 else keys[keys < f]
        if cand.size:
            self.doc.set_current_frame(int(cand[0] if direction > 0 else cand[-1]))

    def home(self) -> None:
        self.stop()
        self.doc.set_current_frame(self.play_range()[0] if self.doc.range else 0)

    def end(self) -> None:
        self.stop()
        self.doc.set_current_frame(self.play_range()[1] if self.doc.range else self.doc.n_frames - 1)

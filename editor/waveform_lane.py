"""The audio lane under the timeline: the waveform of the document's audio, in frames on the
timeline's own x axis (linked, so it pans and zooms with it), min / max peaks per pixel column
(``core.media.waveform``), shifted by the audio's offset."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from core.media.waveform import Waveform


class WaveformLane(pg.PlotWidget):
    def __init__(self, link_to: pg.ViewBox, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="#15191d")
        self.setObjectName("waveform-lane")
        pi = self.getPlotItem()
        for side in ("left", "bottom", "top", "right"):
            pi.hideAxis(side)
        pi.setMenuEnabled(False)
        pi.hideButtons()
        self.vb = pi.getViewBox()
        self.vb.setMouseEnabled(x=False, y=False)
        self.vb.setYRange(-1.05, 1.05, padding=0)
        self.vb.setXLink(link_to)
        self.setFixedHeight(48)
        self.curve = pg.PlotDataItem(pen=pg.mkPen("#5fc48a", width=1), connect="pairs", skipFiniteCheck=True)
        self.vb.addItem(self.curve)
        self.label = pg.TextItem("audio", color="#6b7480", anchor=(0, 0))
        self.vb.addItem(self.label)
        self.wave: Waveform | None = None
        self.fps = 25.0
        self.offset_s = 0.0
        self.vb.sigXRangeChanged.connect(lambda *a: self.redraw())
        self.hide()

    def set_audio(self, mono: np.ndarray | None, rate: int, fps: float, offset_s: float) -> None:
        self.wave = Waveform(mono, rate) if mono is not None else None
        self.fps, self.offset_s = float(fps), float(offset_s)
        self.setVisible(self.wave is not None)
        self.redraw()

    def set_offset(self, offset_s: float) -> None:
        self.offset_s = float(offset_s)
        self.redraw()

    def envelope_frames(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frames, lo, hi) drawn for the visible range."""
        if self.wave is None:
            e = np.zeros(0)
            return e, e, e
        (x0, x1), _ = self.vb.viewRange()
        cols = max(16, int(self.width()))
        t0, t1 = x0 / self.fps + self.offset_s, x1 / self.fps + self.offset_s
        times, lo, hi = self.wave.envelope(t0, t1, cols)
        return (times - self.offset_s) * self.fps, lo, hi

    def redraw(self) -> None:
        frames, lo, hi = self.envelope_frames()
        if frames.size == 0:
            self.curve.setData([], [])
            return
        x = np.repeat(frames, 2)
        y = np.empty(2 * len(frames), np.float32)
        y[0::2], y[1::2] = lo, hi
        peak = max(float(np.abs(y).max()), 1e-3)
        self.curve.setData(x, y / peak)
        self.label.setPos(self.vb.viewRange()[0][0], 1.0)

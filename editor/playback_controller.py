"""Playback actions: play / pause, step, jump between keys, first / last frame, loop, speed; and
the status bar's fps readout while playing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from .playback import SPEEDS, Playback

if TYPE_CHECKING:
    from PySide6.QtWidgets import QLabel

    from .main_window import MainWindow


class PlaybackController(QObject):
    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.playback = Playback(win.doc, win)
        self.fps_label: QLabel | None = None
        self.playback.playingChanged.connect(self._on_playing)

    def act_play(self) -> None:
        self.playback.toggle()

    def act_step_back(self) -> None:
        self.playback.step(-1)

    def act_step_forward(self) -> None:
        self.playback.step(1)

    def act_next_key(self) -> None:
        self.playback.jump_key(1)

    def act_prev_key(self) -> None:
        self.playback.jump_key(-1)

    def act_first_frame(self) -> None:
        self.playback.home()

    def act_last_frame(self) -> None:
        self.playback.end()

    def act_loop(self, on: bool) -> None:
        self.playback.loop = bool(on)

    def speed_handlers(self) -> dict[str, Callable]:
        """The action table's ``speed_<x>`` entries -> their slots."""
        return {f"speed_{s:g}": (lambda checked=False, s=s: self.playback.set_speed(s)) for s in SPEEDS}

    def _on_playing(self, playing: bool) -> None:
        self.win.acts["play"].setText("&Pause" if playing else "&Play / pause")
        if self.fps_label is None:
            return
        pb = self.playback
        if not playing:
            if pb.frames_shown:
                el = pb.clock.nsecsElapsed() / 1e9
                self.fps_label.setText(f"{pb.frames_shown / max(el, 1e-6):.1f} fps shown · {pb.frames_dropped} dropped")
        else:
            self.fps_label.setText(f"playing {pb.speed:g}× at {self.win.doc.fps:g} fps")

"""Audio beside the timeline: plays the document's audio link through ``core.media.output`` in
step with ``Playback``, which then takes its time from the audio clock (so the playhead follows
the sound, never the other way round); loops with the play range, plays at the playback speed
with the pitch kept or not; a short snippet when the playhead moves while stopped (scrubbing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from core.media.audio import Audio
from core.media.output import AudioOutput, available

if TYPE_CHECKING:
    from .document import Document
    from .playback import Playback


class AudioPlayer(QObject):
    """Signals: message(text) (a failure to tell the user about, once)."""

    message = Signal(str)

    def __init__(self, doc: Document, playback: Playback, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.playback = playback
        self.audio: Audio | None = None
        self.output: AudioOutput | None = None
        self.offset_s = 0.0
        self.device: str | None = None
        self.keep_pitch = True
        self.scrub = True
        self.muted = False
        self._failed = False
        playback.playingChanged.connect(self._on_playing)
        doc.currentFrameChanged.connect(self._on_frame)

    # --- setup -----------------------------------------------------------------------------------
    def set_audio(self, audio: Audio | None, offset_s: float = 0.0) -> None:
        self.close()
        self.audio, self.offset_s, self._failed = audio, float(offset_s), False

    def set_offset(self, offset_s: float) -> None:
        self.offset_s = float(offset_s)
        if self.playback.playing:
            self._on_playing(True)

    def set_device(self, device: str | None) -> None:
        self.device = device or None
        self.close()
        self._failed = False

    def _output(self) -> AudioOutput | None:
        if self.audio is None or self.muted or self._failed:
            return None
        if self.output is None:
            reason = available()
            if reason is not None:
                self._fail(reason)
                return None
            try:
                self.output = AudioOutput(self.audio.samples, self.audio.rate, self.device)
            except Exception as e:  # noqa: BLE001 - PortAudio errors are many; playback goes on silent
                self._fail(f"audio output failed: {e}")
                return None
        return self.output

    def _fail(self, why: str) -> None:
        self._failed = True
        self.message.emit(why)

    def close(self) -> None:
        self.playback.clock_source = None
        if self.output is not None:
            self.output.close()
            self.output = None

    @property
    def underflows(self) -> int:
        return self.output.underflows if self.output is not None else 0

    # --- following playback -------------------------------------------------------------------
    def _media_t(self, frame: float) -> float:
        return frame / self.doc.fps + self.offset_s

    def _on_playing(self, playing: bool) -> None:
        pb = self.playback
        out = self._output() if playing else self.output
        if out is None:
            pb.clock_source = None
            return
        if not playing:
            pb.clock_source = None
            out.stop()
            return
        lo, hi = pb.play_range()
        out.loop = (self._media_t(lo), self._media_t(hi + 1)) if pb.loop else None
        try:
            out.play(self._media_t(self.doc.current_frame), pb.speed, self.keep_pitch)
        except Exception as e:  # noqa: BLE001
            self.close()
            self._fail(f"audio output failed: {e}")
            return
        pb.clock_source = out.played_s

    def _on_frame(self, frame: int) -> None:
        if self.playback.playing or not self.scrub:
            return
        out = self._output()
        if out is None:
            return
        try:
            out.scrub(self._media_t(frame))
        except Exception as e:  # noqa: BLE001
            self.close()
            self._fail(f"audio output failed: {e}")

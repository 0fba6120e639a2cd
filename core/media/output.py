"""Audio playback through ``sounddevice`` (PortAudio), the clock the playhead follows.

The output stream's callback pulls each block from a ``Renderer`` and counts what it wrote, so
the media time being heard is known to the sample: ``clock()`` is the media time at the start of
the last block written, plus the time since that callback (capped at one block), minus the
stream's output latency, all scaled by the speed. A playhead that reads ``clock()`` cannot drift
from the sound. Output underflows PortAudio reports are counted (``underflows``).

The stream runs only while something plays (playback or a scrub snippet): an idle stream would
spin writing silence on a clockless sink. ``pace=True`` (the default) holds the callback back
when the device takes samples faster than real time, which only a clockless sink does (the ALSA
file sink of tests and benchmarks: without it a minute "plays" in a fraction of a second); a
sound card never waits there. ``render_ms_max`` is the slowest callback's work: above one block's
duration a real device would underflow. ``sounddevice`` is imported on first use, so a machine
without PortAudio still opens documents (``available()`` says why audio is off).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .render import Renderer

BLOCK = 1024
SCRUB_S = 0.08  # one scrub snippet: two video frames at 25 fps


def available() -> str | None:
    """None when audio output works here, else the reason."""
    try:
        import sounddevice  # noqa: F401
    except (OSError, ImportError) as e:
        return f"audio output unavailable ({e})"
    return None


def output_devices() -> list[str]:
    """Names of the output devices PortAudio sees (empty without PortAudio)."""
    if available():
        return []
    import sounddevice as sd

    return [str(d["name"]) for d in sd.query_devices() if d.get("max_output_channels", 0) > 0]


def device_rate(device: str | None) -> int:
    import sounddevice as sd

    info: Any = sd.query_devices(device if device else None, "output")
    return int(info["default_samplerate"]) or 48000


@dataclass(frozen=True)
class LogEntry:
    """One callback: ``sample`` output samples were written before it; the block starts at media
    time ``media_t`` (s)."""

    sample: int
    media_t: float


class AudioOutput:
    """Plays ``samples`` (N, C) float32 at ``rate`` (already the device's rate) on ``device``."""

    def __init__(
        self,
        samples: np.ndarray,
        rate: int,
        device: str | None = None,
        *,
        blocksize: int = BLOCK,
        log: bool = False,
        pace: bool = True,
    ) -> None:
        self.renderer = Renderer(samples, rate)
        self.rate = int(rate)
        self.device = device or None
        self.blocksize = int(blocksize)
        self.underflows = 0
        self.samples_out = 0
        self.callbacks = 0
        self.log: list[LogEntry] | None = [] if log else None
        self.loop: tuple[float, float] | None = None  # media seconds [lo, hi)
        self._lock = threading.Lock()
        self._stream: Any = None
        self._remaining: int | None = None  # scrub: samples left to play (None: play on)
        self._block_t = 0.0  # media time at the start of the last block
        self._block_wall = 0.0
        self._block_sample = 0
        self._play_sample = 0
        self.pace = pace
        self._pace_origin: tuple[float, int] | None = None  # (wall time, samples_out) at a (re)start
        self.render_ms_max = 0.0
        self._playing = False

    # --- control (GUI thread) ---------------------------------------------------------------
    def _ensure_stream(self) -> Any:
        import sounddevice as sd

        if self._stream is None:
            self._stream = sd.OutputStream(
                samplerate=self.rate,
                channels=self.renderer.channels,
                dtype="float32",
                blocksize=self.blocksize,
                device=self.device,
                # a deeper device buffer: a callback held up by the GIL (decoding, drawing) still
                # lands in time; the clock subtracts the latency, so the playhead stays on the sound
                latency="high",
                callback=self._callback,
            )
        elif self._stream.active or not self._stream.stopped:
            self._stream.stop()
        return self._stream

    def play(self, t: float, speed: float = 1.0, keep_pitch: bool = True) -> None:
        """Play from media time ``t`` on (until ``stop``), looping over ``loop`` when set."""
        stream = self._ensure_stream()
        with self._lock:
            self.renderer.set_speed(speed, keep_pitch)
            self.renderer.start(t)
            self._remaining = None
            self._block_t, self._block_wall, self._block_sample = t, time.perf_counter(), self.samples_out
            self._play_sample = self.samples_out
            self._pace_origin = None
            self._playing = True
        stream.start()

    def scrub(self, t: float, seconds: float = SCRUB_S) -> None:
        """A short snippet at media time ``t`` at normal speed (the playhead is being dragged)."""
        if self._playing:
            return
        stream = self._ensure_stream()
        with self._lock:
            self.renderer.set_speed(1.0)
            self.renderer.start(t)
            self._remaining = int(seconds * self.rate)
            self._pace_origin = None
        stream.start()

    def stop(self) -> None:
        with self._lock:
            self._playing = False
            self._remaining = 0
        if self._stream is not None and not self._stream.stopped:
            self._stream.stop()

    def close(self) -> None:
        self.stop()
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def latency(self) -> float:
        return float(self._stream.latency) if self._stream is not None else 0.0

    def clock(self) -> float:
        """Media time (s) being heard now."""
        return self.heard()[1]

    def played_s(self) -> float:
        """Seconds of output heard since the last ``play`` (not media seconds: x speed for those)."""
        return (self.heard()[0] - self._play_sample) / self.rate

    def heard(self) -> tuple[float, float]:
        """(output sample index, media time in s) being heard now: the start of the last block
        written, plus the time since (at most a block), less the device's latency."""
        with self._lock:
            t, wall, n0, speed = self._block_t, self._block_wall, self._block_sample, self.renderer.speed
        since = min(time.perf_counter() - wall, self.blocksize / self.rate) - self.latency
        return n0 + since * self.rate, t + since * speed

    # --- the audio thread -----------------------------------------------------------------------
    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        import sounddevice as sd

        if status.output_underflow:
            self.underflows += 1
        if self.pace:
            self._wait_for_real_time()
        work = time.perf_counter()
        with self._lock:
            r = self.renderer
            if self._remaining is not None and self._remaining <= 0:
                outdata.fill(0)
                raise sd.CallbackStop
            self._block_t, self._block_wall, self._block_sample = r.time, time.perf_counter(), self.samples_out
            if self.log is not None:
                self.log.append(LogEntry(self.samples_out, r.time))
            done = 0
            while done < frames:
                n = frames - done
                if self.loop is not None and self._remaining is None:
                    lo, hi = self.loop
                    if r.time >= hi:
                        r.start(lo)
                    n = max(1, min(n, int(np.ceil((hi - r.time) * self.rate / r.speed))))
                outdata[done : done + n] = r.render(n)
                done += n
            if self._remaining is not None:
                keep = min(frames, self._remaining)
                outdata[keep:] = 0
                self._remaining -= frames
            self.samples_out += frames
            self.callbacks += 1
        self.render_ms_max = max(self.render_ms_max, (time.perf_counter() - work) * 1000)

    def _wait_for_real_time(self) -> None:
        now = time.perf_counter()
        if self._pace_origin is None:
            self._pace_origin = (now, self.samples_out)
            return
        t0, n0 = self._pace_origin
        # a device holds its buffer (its latency) plus a block or two ahead of what it plays
        ahead = (self.samples_out - n0) / self.rate - (now - t0) - self.latency - 2 * self.blocksize / self.rate
        if ahead > 0:
            time.sleep(ahead)

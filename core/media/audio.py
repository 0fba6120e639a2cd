"""Audio from WAV, FLAC or a video's audio track (anything ffmpeg reads), decoded with PyAV.

``load_audio(path, rate=None)`` -> ``Audio``: float32 samples (N, C) in [-1, 1], C = 1 or 2
(more channels are mixed down to stereo), at the file's rate or resampled to ``rate`` (the output
device's, so playback never resamples on the fly). Sample 0 is media time 0: in a video, the
time of its first video frame (``core.media.video``), so a sound track that starts later (or
earlier) than the picture is padded (or trimmed) to stay in step with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..io.errors import FormatError

MAX_SECONDS = 6 * 3600  # six hours of stereo at 48 kHz is ~8 GB of float32: refuse beyond


@dataclass(frozen=True)
class Audio:
    """``samples`` (N, C) float32, read-only; ``rate`` samples per second."""

    samples: np.ndarray
    rate: int
    path: Path | None = None

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return self.n_samples / self.rate

    def mono(self) -> np.ndarray:
        """(N,) float32 mean of the channels."""
        return self.samples.mean(axis=1, dtype=np.float32) if self.channels > 1 else self.samples[:, 0]


def load_audio(path: str | Path, rate: int | None = None) -> Audio:
    import av

    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "no such file")
    try:
        container: Any = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as e:
        raise FormatError(path, f"not a readable audio or video file ({e})") from None
    with container:
        if not container.streams.audio:
            raise FormatError(path, "has no audio track")
        st = container.streams.audio[0]
        lead_s = _lead(st, container.streams.video[0] if container.streams.video else None)
        channels = 1 if (st.codec_context.channels or 1) == 1 else 2
        out_rate = int(rate or st.codec_context.sample_rate or 0)
        if out_rate <= 0:
            raise FormatError(path, "the audio track has no sample rate")
        resampler = av.AudioResampler(format="flt", layout="mono" if channels == 1 else "stereo", rate=out_rate)
        chunks: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(st):
                for rf in resampler.resample(frame):
                    a = rf.to_ndarray().reshape(-1, channels)
                    chunks.append(a)
                    total += a.shape[0]
                if total > MAX_SECONDS * out_rate:
                    raise FormatError(path, f"audio longer than {MAX_SECONDS // 3600} hours")
            for rf in resampler.resample(None):
                chunks.append(rf.to_ndarray().reshape(-1, channels))
        except av.FFmpegError as e:
            raise FormatError(path, f"audio decoding failed ({e})") from None
    if not chunks:
        raise FormatError(path, "the audio track is empty")
    samples = np.concatenate(chunks).astype(np.float32, copy=False)
    lead = int(round(lead_s * out_rate))
    if lead > 0:
        samples = np.concatenate([np.zeros((lead, channels), np.float32), samples])
    elif lead < 0:
        samples = samples[-lead:]
    samples = np.ascontiguousarray(samples)
    samples.setflags(write=False)
    return Audio(samples, out_rate, path)


def _lead(audio: Any, video: Any) -> float:
    """Seconds from the picture's first frame to the sound's first sample (0 without a picture)."""
    if video is None:
        return 0.0

    def start(st: Any) -> float:
        return float(st.start_time * st.time_base) if st.start_time is not None and st.time_base else 0.0

    return start(audio) - start(video)


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> Path:
    """16-bit PCM WAV of (N,) or (N, C) float samples in [-1, 1] (tests and examples)."""
    import wave

    a = np.asarray(samples, np.float64)
    if a.ndim == 1:
        a = a[:, None]
    pcm = np.clip(np.round(a * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(a.shape[1])
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(pcm.tobytes())
    return Path(path)

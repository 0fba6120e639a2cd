"""Video frames by index, decoded with PyAV (ffmpeg), frame-accurate, with a frame cache.

A frame's index is its presentation time: ``round((pts - start) * time_base * fps)``, never the
count of frames decoded since a seek (a seek lands on a keyframe before the target, and B-frames
arrive out of decode order). Reading frame i:

- cached: returned at once (an LRU over a byte budget, at the output size asked for);
- a little ahead of the decoder (playback, scrubbing forwards): decode on, no seek;
- otherwise: seek to the keyframe at or before i and decode forwards. Every frame decoded on the
  way is cached, so scrubbing back and forth within a group of pictures is cache hits.

Decoding is for one thread at a time (the editor's decode thread); ``cached_frame`` may be called
from any other thread meanwhile (the cache has its own lock), so a viewer shows what is already
decoded at once and waits only for the rest.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..io.errors import FormatError
from .timemap import video_frame_at

# decoding on is cheaper than a seek (which restarts at a keyframe) up to about a GOP ahead
FORWARD_WINDOW = 48


class VideoReader:
    """Frames of the first video stream of ``path`` as (H, W, 3) uint8 RGB arrays.

    ``width``: frames are scaled to this width (aspect kept, even height) when given, which also
    makes the cache hold more of them; ``cache_mb``: the cache's budget.
    """

    def __init__(self, path: str | Path, *, width: int | None = None, cache_mb: float = 256.0) -> None:
        import av

        self.path = Path(path)
        if not self.path.is_file():
            raise FormatError(self.path, "no such file")
        try:
            self._container: Any = av.open(str(self.path))
        except (av.FFmpegError, OSError, ValueError) as e:
            raise FormatError(self.path, f"not a readable video ({e})") from None
        if not self._container.streams.video:
            self._container.close()
            raise FormatError(self.path, "has no video stream")
        st = self._container.streams.video[0]
        st.thread_type = "AUTO"
        self._stream: Any = st
        rate = st.average_rate or st.guessed_rate or st.base_rate
        if not rate or float(rate) <= 0:
            self._container.close()
            raise FormatError(self.path, "the video stream has no frame rate")
        self.fps_fraction = Fraction(rate)
        self.fps = float(rate)
        self._tb = Fraction(st.time_base or Fraction(1, 90000))
        self._start = int(st.start_time or 0)
        self.src_width, self.src_height = int(st.codec_context.width), int(st.codec_context.height)
        if width and width < self.src_width:
            self.width = int(width)
            self.height = max(2, int(round(self.src_height * width / self.src_width / 2)) * 2)
        else:
            self.width, self.height = self.src_width, self.src_height
        self.n_frames = self._count_frames()
        self._budget = int(cache_mb * 1e6)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._decoder: Any = None
        self._pos = -1  # index of the last frame the decoder produced (-1: needs a seek)
        self.seeks = 0
        self.decoded = 0
        self.hits = 0

    def _count_frames(self) -> int:
        st = self._stream
        if st.frames and st.frames > 0:
            return int(st.frames)
        dur = st.duration if st.duration is not None else None
        if dur is not None:
            return max(1, int(math.floor(float(dur * self._tb) * self.fps + 0.5)))
        if self._container.duration:
            return max(1, int(math.floor(self._container.duration / 1e6 * self.fps + 0.5)))
        return 1

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    def index_of(self, pts: int) -> int:
        return int(math.floor(float((pts - self._start) * self._tb) * self.fps + 0.5))

    def frame_at_time(self, t: float) -> tuple[int, np.ndarray]:
        """(index, RGB image) of the frame shown at media time ``t`` (round(t * fps))."""
        i = video_frame_at(t, self.fps, self.n_frames)
        return i, self.frame(i)

    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` (clamped to the file) as a read-only (H, W, 3) uint8 array."""
        i = self.clamp(i)
        got = self.cached_frame(i)
        if got is not None:
            self.hits += 1
            return got
        if not (0 <= self._pos < i <= self._pos + FORWARD_WINDOW):
            self._seek(i)
        img = self._decode_until(i)
        if img is None:  # past the real end (the header over-counted): the last frame there is
            self.n_frames = max(1, self._pos + 1) if self._pos >= 0 else self.n_frames
            last = self.cached_frame(self._pos)
            if last is None:
                raise FormatError(self.path, f"frame {i} cannot be decoded")
            return last
        return img

    def clamp(self, i: int) -> int:
        return min(max(int(i), 0), self.n_frames - 1)

    def cached_frame(self, i: int) -> np.ndarray | None:
        """Frame ``i`` if it is in the cache, else None (safe from any thread)."""
        with self._cache_lock:
            got = self._cache.get(i)
            if got is not None:
                self._cache.move_to_end(i)
            return got

    def _seek(self, i: int) -> None:
        target = self._start + int(Fraction(i) / self.fps_fraction / self._tb)
        self._container.seek(max(target, self._start), stream=self._stream, backward=True, any_frame=False)
        self._decoder = self._container.decode(self._stream)
        self._pos = -1
        self.seeks += 1

    def _decode_until(self, i: int) -> np.ndarray | None:
        import av

        first = True
        while True:
            try:
                fr = next(self._decoder) if self._decoder is not None else None
            except StopIteration:
                fr = None
            except av.FFmpegError as e:
                raise FormatError(self.path, f"decoding failed near frame {i} ({e})") from None
            if fr is None:
                self._pos = -1 if self._pos < 0 else self._pos
                self._decoder = None
                return None
            k = self.index_of(fr.pts if fr.pts is not None else 0)
            if first and k > i and i > 0:
                # the seek landed after the target (an inexact index): start from the beginning
                first = False
                self._container.seek(self._start, stream=self._stream, backward=True, any_frame=False)
                self._decoder = self._container.decode(self._stream)
                self.seeks += 1
                continue
            first = False
            self.decoded += 1
            self._pos = k
            if k >= i - FORWARD_WINDOW:
                img = self._to_rgb(fr)
                self._store(k, img)
                if k >= i:
                    if k == i:
                        return img
                    return self.cached_frame(i) if self.cached(i) else img

    def _to_rgb(self, fr: Any) -> np.ndarray:
        if (self.width, self.height) != (self.src_width, self.src_height):
            img = fr.to_ndarray(format="rgb24", width=self.width, height=self.height)
        else:
            img = fr.to_ndarray(format="rgb24")
        img.setflags(write=False)
        return img

    def _store(self, k: int, img: np.ndarray) -> None:
        with self._cache_lock:
            self._cache[k] = img
            self._cache.move_to_end(k)
            per = img.nbytes
            while len(self._cache) > 1 and len(self._cache) * per > self._budget:
                self._cache.popitem(last=False)

    def cached(self, i: int) -> bool:
        with self._cache_lock:
            return i in self._cache

    def close(self) -> None:
        self._decoder = None
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

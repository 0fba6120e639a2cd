"""Document time <-> media time.

A media link carries ``offset_s``: the media time shown at document time 0, so
``media_time = doc_time + offset_s`` (a video with 2 s of lead-in before the motion starts has
offset +2). The video frame shown at media time t is ``round(t * video_fps)``: the frame whose
presentation interval is nearest, clamped to the frames the file has.
"""

from __future__ import annotations

import math

MAX_OFFSET_S = 24 * 3600.0  # a day: beyond it an offset is a typo, not an alignment


def doc_time(frame: float, fps: float) -> float:
    """Seconds at document frame ``frame``."""
    return float(frame) / float(fps)


def media_time(doc_t: float, offset_s: float) -> float:
    return float(doc_t) + float(offset_s)


def video_frame_at(t: float, video_fps: float, n_frames: int | None = None) -> int:
    """The video frame shown at media time ``t``: round(t * fps), clamped to [0, n_frames - 1]."""
    # floor(x + 0.5) rather than Python's round (banker's): ties go forward, consistently
    f = int(math.floor(float(t) * float(video_fps) + 0.5))
    if f < 0:
        return 0
    if n_frames is not None and f >= n_frames:
        return max(0, n_frames - 1)
    return f


def video_frame_for_doc_frame(
    frame: int, doc_fps: float, video_fps: float, offset_s: float, n_frames: int | None = None
) -> int:
    return video_frame_at(media_time(doc_time(frame, doc_fps), offset_s), video_fps, n_frames)


def valid_offset(x: object) -> float:
    """``x`` as an offset in seconds; ValueError unless a finite number within a day."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"offset must be a number, got {type(x).__name__}")
    v = float(x)
    if not math.isfinite(v) or abs(v) > MAX_OFFSET_S:
        raise ValueError(f"offset {v!r} s is not finite or beyond {MAX_OFFSET_S:g} s")
    return v

"""Snapping in the timeline: the playhead snaps to keys, and dragged keys snap to the playhead,
when within a few pixels (positions are whole frames anyway). Hold Shift to move freely."""

from __future__ import annotations

import numpy as np

SNAP_PX = 6.0


def snap_frame(x: float, targets: np.ndarray, frames_per_px: float, px: float = SNAP_PX) -> float:
    """``x`` (frames) moved onto the nearest of ``targets`` within ``px`` pixels, else unchanged."""
    targets = np.asarray(targets, float)
    if targets.size == 0:
        return x
    i = int(np.argmin(np.abs(targets - x)))
    return float(targets[i]) if abs(targets[i] - x) <= px * abs(frames_per_px) else x


def snap_delta(
    delta: int, frames: list[int], anchor: int, playhead: int, frames_per_px: float, px: float = SNAP_PX
) -> int:
    """A key drag's delta adjusted so the grabbed key (``anchor``) lands on the playhead when it
    comes within ``px`` pixels of it."""
    if anchor not in frames:
        return delta
    if abs(anchor + delta - playhead) <= px * abs(frames_per_px):
        return playhead - anchor
    return delta

"""FAST decoding and keyframe policies: per-frame probabilities -> labels -> segments -> keyframes.

numpy only (the editor decodes without torch). Labels follow docs/representation.md: 0 = O, 1 = I,
2 = B (first frame of a sign).

Decoding (``decode``), in order:
1. a frame is inside a sign where P(I) + P(B) > P(O);
2. every peak of P(B) (a local maximum within ``peak_radius`` frames) at least ``1 - sensitivity``
   high is a B frame and starts a sign, even inside a run of I (this is how two signs with no O
   between them are separated); a peak on an O frame pulls that frame inside;
3. labels -> segments by the editor's rules (``core.model.sequence.segments_from_labels``): B starts
   a sign, so does O->I without a B, back-to-back Bs merge, a sign ends at the last I before an O;
4. gaps of fewer than ``merge_gap`` O frames between two segments are closed when the second
   segment did not start at a B peak (an O flicker inside one sign), then segments shorter than
   ``min_length`` frames are dropped (merging first, so flicker fragments are not lost);
5. keyframes: onset, midpoint ``(start+end)//2`` and offset of each segment, with their kinds.

``official_keyframes`` is the official SignSparK mode-3 policy (docs/official-checkpoints.md), which treats
any non-zero run as one segment; it is for SignSparK-record data, not for FAST output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from ..model.sequence import (
    Keyframe,
    Label,
    Segment,
    keyframes_from_segments,
    labels_from_segments,
    segments_from_labels,
)

DEFAULT_SENSITIVITY = 0.5
DEFAULT_MIN_LENGTH = 3
DEFAULT_MERGE_GAP = 2


@dataclass(frozen=True)
class DecodeOptions:
    """How probabilities become segments.

    sensitivity: in (0, 1]; a P(B) peak of height >= 1 - sensitivity starts a sign. Higher finds
        more (shorter) signs.
    min_length: segments shorter than this many frames are dropped.
    merge_gap: O gaps shorter than this many frames inside one sign are closed (0 = never).
    peak_radius: a P(B) peak is the maximum within +-peak_radius frames.
    """

    sensitivity: float = DEFAULT_SENSITIVITY
    min_length: int = DEFAULT_MIN_LENGTH
    merge_gap: int = DEFAULT_MERGE_GAP
    peak_radius: int = 2

    def __post_init__(self) -> None:
        if not (0.0 < self.sensitivity <= 1.0):
            raise ValueError(f"sensitivity must be in (0, 1], got {self.sensitivity}")
        if self.min_length < 1 or self.merge_gap < 0 or self.peak_radius < 0:
            raise ValueError("min_length >= 1, merge_gap >= 0 and peak_radius >= 0 are required")

    def overridden(
        self, sensitivity: float | None = None, min_length: int | None = None, merge_gap: int | None = None
    ) -> DecodeOptions:
        """These options with the values a user gave (None: keep this one's), checked again."""
        given = {"sensitivity": sensitivity, "min_length": min_length, "merge_gap": merge_gap}
        return replace(self, **{k: v for k, v in given.items() if v is not None})


@dataclass(frozen=True)
class Decoded:
    """The result of decoding one sequence: labels (T,) uint8, segments, keyframes."""

    labels: np.ndarray
    segments: tuple[Segment, ...]
    keyframes: tuple[Keyframe, ...]


def b_peaks(p_b: np.ndarray, threshold: float, radius: int = 2) -> np.ndarray:
    """Frames where P(B) is a local maximum within +-radius frames and >= threshold.

    p_b: (T,) probabilities. Returns (K,) int64 ascending. On a plateau only its first frame
    counts, so one wide peak gives one onset.
    """
    p = np.asarray(p_b, dtype=np.float64)
    t = p.shape[0]
    if t == 0:
        return np.zeros(0, np.int64)
    pad = np.pad(p, radius, constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * radius + 1)
    is_max = p >= win.max(axis=1)
    # plateau: keep the first frame of equal maxima (strictly greater than the frames before it)
    if radius > 0:
        before = win[:, :radius].max(axis=1)
        is_max &= p > before
    return np.flatnonzero(is_max & (p >= threshold)).astype(np.int64)


def labels_from_probs(
    probs: np.ndarray, sensitivity: float = DEFAULT_SENSITIVITY, peak_radius: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1-2 of the decoding. probs: (T, 3) O/I/B probabilities.

    Returns labels (T,) uint8 and the B-peak frames (K,) int64.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != 3:
        raise ValueError(f"probs must be (T, 3), got {probs.shape}")
    inside = probs[:, 1] + probs[:, 2] > probs[:, 0]
    peaks = b_peaks(probs[:, 2], 1.0 - sensitivity, peak_radius)
    labels = np.where(inside, Label.I, Label.O).astype(np.uint8)
    labels[peaks] = Label.B
    return labels, peaks


def clean_segments(
    segments: Iterable[Segment],
    b_starts: Iterable[int] = (),
    min_length: int = DEFAULT_MIN_LENGTH,
    merge_gap: int = DEFAULT_MERGE_GAP,
) -> list[Segment]:
    """Step 4: close short O gaps inside a sign (unless the next segment starts at an explicit B
    onset in ``b_starts``), then drop segments shorter than ``min_length`` frames."""
    starts = set(int(b) for b in b_starts)
    merged: list[Segment] = []
    for s in sorted(segments):
        if merged:
            prev = merged[-1]
            gap = s.start - prev.end - 1
            if 0 < gap < merge_gap and s.start not in starts:
                merged[-1] = Segment(prev.start, s.end, prev.gloss or s.gloss)
                continue
        merged.append(s)
    return [s for s in merged if s.end - s.start + 1 >= min_length]


def decode_labels(
    labels: np.ndarray, b_starts: Iterable[int] | None = None, options: DecodeOptions = DecodeOptions()
) -> Decoded:
    """Steps 3-5 on labels. ``b_starts`` defaults to the B frames of ``labels``."""
    labels = np.asarray(labels, dtype=np.uint8)
    if b_starts is None:
        b_starts = np.flatnonzero(labels == Label.B)
    segs = clean_segments(segments_from_labels(labels), b_starts, options.min_length, options.merge_gap)
    return Decoded(
        labels=labels_from_segments(segs, labels.shape[0]),
        segments=tuple(segs),
        keyframes=tuple(keyframes_from_segments(segs)),
    )


def decode(probs: np.ndarray, options: DecodeOptions = DecodeOptions()) -> Decoded:
    """Per-frame O/I/B probabilities (T, 3) -> clean labels, segments and keyframes."""
    labels, peaks = labels_from_probs(probs, options.sensitivity, options.peak_radius)
    return decode_labels(labels, peaks, options)


# --- the official SignSparK policy (docs/official-checkpoints.md) ------------------------------------------
def official_segment_bounds(labels: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of non-zero labels as (start, end) inclusive; 1 and 2 are the same, so a 2
    inside a run does not split it. The clip is treated as having 0 before and after it."""
    nz = np.concatenate([[False], np.asarray(labels) != 0, [False]])
    d = np.diff(nz.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return [(int(s), int(e)) for s, e in zip(starts, ends)]


def official_keyframes(labels: np.ndarray, max_len: int | None = None) -> list[int]:
    """Official mode 3: {start, (start+end)//2, end} of every non-zero run, sorted and unique.

    Computed on the full clip; with ``max_len`` (the official ``seq_len`` 304) frames >= max_len
    are then dropped, as the official loader does when it truncates a clip.
    """
    keys: set[int] = set()
    for s, e in official_segment_bounds(labels):
        keys.update((s, (s + e) // 2, e))
    out = sorted(keys)
    if max_len is not None:
        out = [k for k in out if k < max_len]
    return out


# --- kinematic baseline --------------------------------------------------------------------------
def speed_minima_labels(
    speed: np.ndarray, threshold: float = 1.0, smooth: int = 5, min_length: int = DEFAULT_MIN_LENGTH
) -> np.ndarray:
    """A classical segmenter to measure FAST against: signs are the stretches where the hands slow
    down, transitions where they move.

    speed: (T,) per-sequence-normalised hand speed (1 = the sequence's typical speed). It is
    smoothed (moving average over ``smooth`` frames); each maximal run below ``threshold`` (a
    speed valley) is one sign, the fast stretches between are transitions. Runs shorter than
    ``min_length`` frames are dropped.
    Returns (T,) uint8 labels.
    """
    s = np.asarray(speed, dtype=np.float64)
    if smooth > 1 and s.size:
        k = np.ones(smooth) / smooth
        s = np.convolve(np.pad(s, (smooth // 2, smooth - 1 - smooth // 2), mode="edge"), k, mode="valid")
    labels = np.where(s < threshold, Label.I, Label.O).astype(np.uint8)
    segs = [g for g in segments_from_labels(labels) if g.end - g.start + 1 >= min_length]
    return labels_from_segments(segs, labels.shape[0])

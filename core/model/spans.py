"""Frame spans and keys: the one home of "grow a dirty span to the neighbouring keys".

Spans are half-open frame ranges ``[lo, hi)``; ``key_frames`` is a sorted (K,) int array (a
sequence's ``key_frames``).
"""

from __future__ import annotations

import numpy as np

Span = tuple[int, int]


def enclosing_span(key_frames: np.ndarray, lo: int, hi: int, n_frames: int) -> Span:
    """Grow [lo, hi) to the nearest keys outside it: from the last key before ``lo`` to the first
    key at or after ``hi`` (included), or the sequence's ends.

    Every joint is observed at a key, so what an edit or an in-betweening inside [lo, hi) depends
    on ends there: an in-betweening of the grown span equals that of the whole sequence inside
    [lo, hi), and an edit's dirty span is the grown span of the frames it touched.
    """
    keys = np.asarray(key_frames)
    before, after = keys[keys < lo], keys[keys >= hi]
    return (int(before[-1]) if before.size else 0), (int(after[0]) + 1 if after.size else int(n_frames))


def trim_keys(key_frames: np.ndarray, lo: int, hi: int) -> Span:
    """[lo, hi) without the keys at its ends (keys are never regenerated; an edit's dirty span runs
    from key to key, and growing it to the enclosing keys would otherwise add a gap on each side).
    Empty (lo == hi) when the span holds nothing but keys."""
    keys = np.asarray(key_frames)
    inside = set(keys[(keys >= lo) & (keys < hi)].tolist())
    while lo < hi and lo in inside:
        lo += 1
    while hi > lo and hi - 1 in inside:
        hi -= 1
    return lo, hi

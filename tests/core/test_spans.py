"""The one home of "grow a dirty span to the neighbouring keys" against a frame-by-frame reading."""

from __future__ import annotations

import numpy as np

from core.model.spans import enclosing_span, trim_keys


def brute_enclosing(keys, lo, hi, t):
    a = lo - 1
    while a > 0 and a not in keys:
        a -= 1
    b = hi
    while b < t and b not in keys:
        b += 1
    return max(a, 0), (b + 1 if b < t else t)


def test_enclosing_span_reaches_the_keys_around_it_or_the_ends():
    rng = np.random.default_rng(1)
    for _ in range(300):
        t = int(rng.integers(5, 60))
        keys = np.unique(rng.integers(0, t, int(rng.integers(0, 8))))
        lo = int(rng.integers(0, t))
        hi = int(rng.integers(lo, t + 1))
        assert enclosing_span(keys, lo, hi, t) == brute_enclosing(set(keys.tolist()), lo, hi, t), (keys, lo, hi)
    assert enclosing_span(np.array([0, 10, 20]), 10, 11, 30) == (0, 21)  # a key inside stays inside
    assert enclosing_span(np.array([], np.int64), 3, 4, 9) == (0, 9)


def test_trim_keys_drops_keys_at_the_ends_only():
    keys = np.array([0, 10, 11, 15, 20])
    assert trim_keys(keys, 10, 21) == (12, 20)
    assert trim_keys(keys, 12, 15) == (12, 15)
    assert trim_keys(keys, 10, 12) == (12, 12)  # nothing but keys: empty
    assert trim_keys(keys, 14, 17) == (14, 17)  # a key inside stays

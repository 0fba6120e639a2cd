"""FAST decoding rules, sensitivity, keyframe policies (ours and the official mode 3)."""

from __future__ import annotations

import numpy as np
import pytest

from core.ml.segmentation import (
    DecodeOptions,
    b_peaks,
    clean_segments,
    decode,
    decode_labels,
    official_keyframes,
    official_segment_bounds,
    speed_minima_labels,
)
from core.model.sequence import KeyKind, Segment
from tests.conftest import official_file

O, I, B = 0, 1, 2


def lab(s: str) -> np.ndarray:
    return np.array(["OIB".index(c) for c in s], np.uint8)


def spans(d) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in d.segments]


NO_CLEAN = DecodeOptions(min_length=1, merge_gap=0)


def test_b_starts_a_sign_even_inside_a_run_of_i():
    d = decode_labels(lab("OBIIIBIIIO"), options=NO_CLEAN)
    assert spans(d) == [(1, 4), (5, 8)]


def test_o_to_i_without_b_starts_a_sign():
    d = decode_labels(lab("OOIIIOOIIO"), options=NO_CLEAN)
    assert spans(d) == [(2, 4), (7, 8)]


def test_back_to_back_bs_merge_into_one_onset():
    d = decode_labels(lab("OBBBIIO"), options=NO_CLEAN)
    assert spans(d) == [(1, 5)]


def test_sign_ends_at_last_i_before_o_and_may_touch_the_ends():
    d = decode_labels(lab("IIIOOBII"), options=NO_CLEAN)
    assert spans(d) == [(0, 2), (5, 7)]


def test_short_segments_are_dropped():
    d = decode_labels(lab("OBIOOOBIIIIO"), options=DecodeOptions(min_length=3, merge_gap=0))
    assert spans(d) == [(6, 10)]
    assert d.labels.tolist() == lab("OOOOOOBIIIIO").tolist()


def test_short_o_gap_inside_a_sign_is_closed_but_not_before_an_explicit_onset():
    # I-flicker: gap of one O frame, second piece starts with I -> one sign
    assert spans(decode_labels(lab("OBIIOIIIO"), options=DecodeOptions(min_length=1, merge_gap=2))) == [(1, 7)]
    # the second piece starts at a B: two signs
    assert spans(decode_labels(lab("OBIIOBIIO"), options=DecodeOptions(min_length=1, merge_gap=2))) == [(1, 3), (5, 7)]
    # a gap as long as merge_gap stays open
    assert spans(decode_labels(lab("OBIIOOIIO"), options=DecodeOptions(min_length=1, merge_gap=2))) == [(1, 3), (6, 7)]


def test_merge_happens_before_min_length_so_fragments_survive():
    segs = clean_segments([Segment(0, 1), Segment(3, 4)], b_starts=[0], min_length=3, merge_gap=2)
    assert [(s.start, s.end) for s in segs] == [(0, 4)]


def test_keyframes_onset_mid_offset_with_kinds():
    d = decode_labels(lab("OBIIIIIOOBIIO"), options=NO_CLEAN)
    got = [(k.frame, k.kind) for k in d.keyframes]
    assert got == [
        (1, KeyKind.ONSET),
        (3, KeyKind.MID),
        (6, KeyKind.OFFSET),
        (9, KeyKind.ONSET),
        (10, KeyKind.MID),
        (11, KeyKind.OFFSET),
    ]


def _probs(p_o, p_i, p_b) -> np.ndarray:
    p = np.stack([p_o, p_i, p_b], 1).astype(np.float64)
    return p / p.sum(1, keepdims=True)


def test_peaks_of_p_b_split_a_continuous_run_and_sensitivity_controls_them():
    t = 40
    p_b = np.full(t, 0.02)
    p_b[[5, 15, 25]] = [0.9, 0.45, 0.2]  # three onset candidates of decreasing confidence
    p_o = np.full(t, 0.05)
    p_o[:5] = 0.9
    p_o[35:] = 0.9
    p_i = 1.0 - p_o - p_b
    probs = _probs(p_o, np.clip(p_i, 0.01, None), p_b)
    counts = [len(decode(probs, DecodeOptions(sensitivity=s)).segments) for s in (0.2, 0.6, 0.85, 1.0)]
    assert counts == [1, 2, 3, 3]
    d = decode(probs, DecodeOptions(sensitivity=0.6))
    assert spans(d) == [(5, 14), (15, 34)]


def test_b_peaks_plateau_and_radius():
    p = np.array([0, 0.8, 0.8, 0, 0, 0.5, 0.6, 0, 0, 0.7], float)
    assert b_peaks(p, 0.3, radius=1).tolist() == [1, 6, 9]
    assert b_peaks(p, 0.3, radius=4).tolist() == [1, 9]
    assert b_peaks(p, 0.75, radius=1).tolist() == [1]


def test_decode_options_reject_nonsense():
    with pytest.raises(ValueError):
        DecodeOptions(sensitivity=0.0)
    with pytest.raises(ValueError):
        DecodeOptions(min_length=0)


def test_speed_minima_baseline_finds_slow_stretches():
    speed = np.concatenate([np.full(5, 3.0), np.full(10, 0.2), np.full(6, 3.0), np.full(8, 0.3), np.full(4, 3.0)])
    labels = speed_minima_labels(speed, threshold=1.0, smooth=1)
    segs = official_segment_bounds(labels)
    assert segs == [(5, 14), (21, 28)]


# --- the official SignSparK mode-3 policy ------------------------------------------------------
def test_official_policy_merges_adjacent_signs_and_ignores_inner_b():
    labels = np.zeros(50, np.int64)
    labels[3:21] = 1
    labels[3] = 2
    labels[21:41] = 1
    labels[21] = 2  # adjacent sign: the official policy does not split on it
    assert official_segment_bounds(labels) == [(3, 40)]
    assert official_keyframes(labels) == [3, 21, 40]


def test_official_policy_short_runs_and_clip_edges():
    labels = np.array([1, 0, 0, 2, 0, 0, 1, 1, 0, 0, 2, 1])
    # run 0..0 -> {0}; 3..3 -> {3}; 6..7 -> {6, 7}; 10..11 -> {10, 11}
    assert official_keyframes(labels) == [0, 3, 6, 7, 10, 11]


def test_official_policy_matches_the_reference_pipeline():
    ref = np.load(official_file("data_reference.npz"), allow_pickle=False)
    seq_len = ref["hand_features"].shape[-1]
    for i, clip in enumerate(("A", "B", "C")):
        want = [int(k) for k in ref["hand_keyframes_padded"][i] if k >= 0]
        got = official_keyframes(ref[f"raw_clip{clip}_segment"], max_len=seq_len)
        assert got == want, clip
        for stream in ("body", "face"):
            assert [int(k) for k in ref[f"{stream}_keyframes_padded"][i] if k >= 0] == want


def test_user_options_override_the_models_decoding_defaults():
    from core.ml.segmentation import DecodeOptions

    base = DecodeOptions(0.4, 5, 3, 2)
    assert base.overridden() == base
    assert base.overridden(sensitivity=0.7) == DecodeOptions(0.7, 5, 3, 2)
    assert base.overridden(min_length=9, merge_gap=0) == DecodeOptions(0.4, 9, 0, 2)
    with pytest.raises(ValueError, match="sensitivity"):
        base.overridden(sensitivity=1.5)

"""Segmentation metrics on hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from core.ml import seg_metrics as m
from core.model.sequence import Segment


def lab(s: str) -> np.ndarray:
    return np.array(["OIB".index(c) for c in s], np.uint8)


def test_frame_f1_macro_by_hand():
    gold = lab("OOBIIIOO")
    pred = lab("OBIIIOOO")
    # O: tp 3 (0,6,7), fp 1 (5), fn 1 (1) -> 6/8; I: tp 2 (3,4), fp 1 (2), fn 1 (5) -> 4/6;
    # B: tp 0, fp 1, fn 1 -> 0
    assert m.frame_f1(gold, pred) == pytest.approx((6 / 8 + 4 / 6 + 0.0) / 3)


def test_frame_f1_perfect_and_absent_class():
    g = lab("OOIIIOO")
    assert m.frame_f1(g, g) == 1.0  # B absent from both: left out, not counted as 0


def test_segment_iou_covers_union_of_frames():
    gold = [Segment(2, 5), Segment(8, 9)]
    pred = [Segment(3, 9)]
    # gold frames {2,3,4,5,8,9}; pred {3..9}; inter {3,4,5,8,9} = 5; union {2..9} = 8
    assert m.segment_iou(gold, pred, 12) == pytest.approx(5 / 8)
    assert m.segment_iou([], [], 5) == 1.0


def test_segment_ratio():
    assert m.segment_ratio(lab("OBIOBIOBI"), lab("OBIIIIOBI")) == pytest.approx(2 / 3)
    assert m.segment_ratio([], []) == 1.0


def test_boundary_matching_is_one_to_one_within_tolerance():
    assert m.match_boundaries([10, 20], [11, 12, 19], tolerance=2) == 2
    assert m.match_boundaries([10], [13], tolerance=2) == 0
    assert m.match_boundaries([10, 11], [10], tolerance=5) == 1


def test_pooled_counts_add_up():
    g1, p1 = lab("OBIIOOBIO"), lab("OBIIOOOOO")
    g2, p2 = lab("BIIO"), lab("BIIO")
    s = m.evaluate([(g1, p1), (g2, p2)], tolerance=0)
    assert s.n_gold == 3 and s.n_pred == 2
    assert s.segment_ratio == pytest.approx(2 / 3)
    # boundaries: gold 6 (3 onsets + 3 offsets), predicted 4, all 4 predicted ones exact
    assert s.boundary_precision == 1.0 and s.boundary_recall == pytest.approx(4 / 6)
    # IoU pooled: inter 3 + 3, union 5 + 3
    assert s.iou == pytest.approx(6 / 8)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        m.frame_f1(lab("OOI"), lab("OO"))

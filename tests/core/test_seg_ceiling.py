"""The segmentation ceiling oracle (core.ml.seg_ceiling)."""

from dataclasses import dataclass

import numpy as np

from core.ml import seg_metrics
from core.ml.seg_ceiling import onsets, oracle_labels, overlap_table
from core.model.sequence import Segment, labels_from_segments


@dataclass
class Chain:
    real: np.ndarray
    segments: tuple


def make_chain(rng, overlaps_for):
    """Signs of 6-12 real frames joined by transitions of 3-6 synthetic frames; each labelled onset
    starts ``overlaps_for(n)`` frames into the transition before it."""
    real, segs, t = [], [], 0
    for i in range(5):
        n = int(rng.integers(3, 7))
        real += [False] * n
        t += n
        o = 0 if i == 0 else int(overlaps_for(n))
        length = int(rng.integers(6, 13))
        segs.append(Segment(t - o, t + length - 1))
        real += [True] * length
        t += length
    return Chain(np.array(real + [False] * 4), tuple(segs))


def test_onsets_reads_overlap_transition_length_and_end():
    real = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0], bool)
    segs = (Segment(3, 5), Segment(8, 12))
    assert onsets(real, segs) == [((True, 3), 0, 3, 5), ((False, 4), 2, 10, 12)]


def test_a_table_that_knows_the_overlaps_reproduces_gold():
    rng = np.random.default_rng(0)
    chains = [make_chain(rng, lambda n: n // 2) for _ in range(20)]  # overlap a function of n
    table = overlap_table(chains)
    for ch in chains:
        gold = labels_from_segments(list(ch.segments), len(ch.real))
        np.testing.assert_array_equal(oracle_labels(ch.real, ch.segments, table), gold)


def test_random_overlaps_cap_the_b_score_and_the_table_takes_the_mode():
    rng = np.random.default_rng(1)
    draw = lambda n: rng.choice([0, 1, 2], p=[0.2, 0.5, 0.3])  # noqa: E731
    train = [make_chain(rng, draw) for _ in range(200)]
    table = overlap_table(train)
    assert set(v for (first, _), v in table.items() if not first) == {1}
    test = [make_chain(rng, draw) for _ in range(100)]
    res = seg_metrics.evaluate(
        (labels_from_segments(list(c.segments), len(c.real)), oracle_labels(c.real, c.segments, table)) for c in test
    ).as_dict()
    # B is exact only where the drawn overlap was the mode (first signs always): ~0.5 of 4/5 + 1/5
    assert 0.45 < res["f1_b"] < 0.8
    assert res["segment_ratio"] == 1.0 and res["frame_f1"] < 0.95

"""The bundled FAST model (assets/models/fast): it loads with weights_only, is small, and finds
the signs of the bundled default sample (a chain of real letters whose labels are known)."""

from __future__ import annotations

import json

import pytest

from core.ml.fast.infer import DEFAULT_MODEL_DIR

pytestmark = pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "fast.pt").is_file(), reason="no bundled FAST model in assets/models/fast"
)


def test_bundle_is_small_and_documented():
    assert (DEFAULT_MODEL_DIR / "fast.pt").stat().st_size < 5_000_000
    card = (DEFAULT_MODEL_DIR / "MODEL_CARD.md").read_text()
    cfg = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())
    assert "python -m core train fast" in card and "seed" in card.lower()
    assert 0 < cfg["decode"]["sensitivity"] <= 1


def test_bundled_model_segments_the_default_sample():
    from core.io import registry
    from core.ml import seg_metrics
    from core.ml.fast.infer import Segmenter
    from core.model.sequence import segments_from_labels

    sample = DEFAULT_MODEL_DIR.parents[1] / "samples" / "default.signframe"
    if not sample.is_file():
        pytest.skip("no bundled default sample")
    seq = registry.read(sample)
    gold = segments_from_labels(seq.labels)
    assert gold, "the default sample carries its sign labels"
    dec = Segmenter.load().segment(seq)
    assert 0.6 * len(gold) <= len(dec.segments) <= 1.5 * len(gold)
    assert seg_metrics.segment_iou(seq.labels, dec.labels, seq.n_frames) > 0.6

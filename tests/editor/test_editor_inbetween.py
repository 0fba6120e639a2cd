"""Live in-betweening in the window: model choice, reroll, stale results, FAST proposals as one step."""

from __future__ import annotations

import numpy as np

from core.jobs import InbetweenResult
from core.jobs.requests import FramePatch
from core.kinematics.slerp import inbetween_baseline
from core.model.sequence import FrameState, Keyframe, KeyKind, Segment, labels_from_segments
from editor.commands import ApplyProposals, push
from tests.editor.helpers import baseline, settle


def generated(seq):
    return np.nonzero(seq.states == FrameState.GENERATED)[0]


def test_switching_the_model_regenerates_every_generated_frame(qtbot, window):
    doc = window.doc
    settle(qtbot, window)
    gen = generated(doc.sequence)
    np.testing.assert_allclose(doc.sequence.rotations[gen], baseline(doc.sequence).rotations[gen], atol=1e-5)
    window.model_actions["slerp"].trigger()
    assert window.bridge.model == "slerp" and window.settings.value("models/inbetweener") == "slerp"
    settle(qtbot, window)
    plain = inbetween_baseline(doc.sequence)
    np.testing.assert_allclose(doc.sequence.rotations[gen], plain.rotations[gen], atol=1e-5)
    assert not np.allclose(plain.rotations[gen], baseline(doc.sequence).rotations[gen], atol=1e-3)
    assert "SLERP" in window.st_inbetween.text()


def test_reroll_draws_a_new_seed_and_asks_again(qtbot, window):
    doc = window.doc
    settle(qtbot, window)
    seed, n = doc.seed, window.bridge.results_applied
    window.acts["reroll"].trigger()
    settle(qtbot, window)
    assert doc.seed != seed and window.bridge.results_applied > n
    assert doc.undo_stack.count() == 0  # generated frames are not history


def test_a_stale_result_is_dropped(qtbot, window):
    doc = window.doc
    settle(qtbot, window)
    before = doc.sequence
    t = before.n_frames
    junk = np.broadcast_to(np.eye(3, dtype=np.float32), (t,) + before.rotations.shape[1:]).copy()
    stale = InbetweenResult(doc.generation - 1, "eased", "cpu", (FramePatch(0, junk, np.zeros((t, 3), np.float32)),))
    assert doc.apply_generated(stale) is False
    assert doc.sequence is before
    fresh = InbetweenResult(doc.generation, "eased", "cpu", (FramePatch(0, junk, np.zeros((t, 3), np.float32)),))
    assert doc.apply_generated(fresh) is True
    gen = generated(before)
    np.testing.assert_array_equal(doc.sequence.rotations[gen], junk[gen])  # only GENERATED frames written
    keys = before.key_frames
    np.testing.assert_array_equal(doc.sequence.rotations[keys], before.rotations[keys])


def test_accepting_proposals_replaces_labels_and_keys_in_the_range_as_one_step(qtbot, window):
    doc = window.doc
    settle(qtbot, window)
    before = doc.sequence
    lo, hi = 60, 130
    segs = [Segment(70, 90), Segment(100, 125)]
    labels = labels_from_segments(segs, before.n_frames)[lo:hi]
    keys = [
        Keyframe(70, KeyKind.ONSET),
        Keyframe(80, KeyKind.MID),
        Keyframe(90, KeyKind.OFFSET),
        Keyframe(100, KeyKind.ONSET),
        Keyframe(112, KeyKind.MID),
        Keyframe(125, KeyKind.OFFSET),
    ]
    assert push(doc, ApplyProposals(doc, lo, hi, labels, keys)) is None
    settle(qtbot, window)
    seq = doc.sequence
    in_range = [k for k in seq.keyframes if lo <= k.frame < hi]
    assert in_range == keys
    assert [k for k in seq.keyframes if not lo <= k.frame < hi] == [
        k for k in before.keyframes if not lo <= k.frame < hi
    ]
    np.testing.assert_array_equal(seq.labels[lo:hi], labels)
    np.testing.assert_array_equal(seq.labels[:lo], before.labels[:lo])
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    settle(qtbot, window)
    assert doc.sequence.keyframes == before.keyframes
    np.testing.assert_array_equal(doc.sequence.labels, before.labels)


def test_the_default_file_is_the_bundled_sample_or_the_demo():
    from editor.app import DEFAULT_SAMPLE, load_initial

    seq, path, error = load_initial(None)
    assert error is None and seq.n_frames > 0
    if DEFAULT_SAMPLE.is_file():
        assert path == DEFAULT_SAMPLE
    else:
        assert path is None and seq.meta.get("source") == "procedural demo"

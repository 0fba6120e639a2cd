"""Inserted and deleted material: what has no record becomes GENERATED, the record moves with
the frames, and undo is exact."""

from __future__ import annotations

import numpy as np

from core.jobs.requests import merge_spans
from core.kinematics.slerp import inbetween_baseline, smoothstep
from core.model import FrameState
from core.model import edits as ed
from tests.core.test_edits import same
from tests.core.test_edits_layers import smooth_seq


def test_inserted_frames_are_generated_and_the_rest_moves_later():
    seq = smooth_seq()
    k = int(seq.key_frames[5])
    change = ed.insert_frames(seq, 40, 6)
    got = change.sequence
    assert got.n_frames == seq.n_frames + 6
    assert (got.states[40:46] == FrameState.GENERATED).all() and not got.valid[40:46].any()
    np.testing.assert_array_equal(got.rotations[:40], seq.rotations[:40])
    np.testing.assert_array_equal(got.rotations[46:], seq.rotations[40:])
    assert got.key_at(k + 6 if k >= 40 else k) is not None
    assert not got.warp.any()  # nothing was re-timed: the record moved with its frames
    spans = merge_spans(got, [change.dirty])
    assert spans and spans[0][0] <= 40 and spans[-1][1] >= 46
    filled = inbetween_baseline(got, smoothstep, change.dirty)
    assert not np.array_equal(filled.rotations[42], got.rotations[42])
    assert same(change.undo(), seq)


def test_deleted_frames_take_their_keys_and_the_cut_is_bridged():
    seq = smooth_seq()
    kf = seq.key_frames.tolist()
    change = ed.delete_frames(seq, 50, 59)
    got = change.sequence
    assert got.n_frames == seq.n_frames - 10
    assert [k for k in kf if 50 <= k <= 59]  # keys were cut with the frames
    assert got.key_frames.tolist() == [k for k in kf if k < 50] + [k - 10 for k in kf if k >= 60]
    np.testing.assert_array_equal(got.rotations[:48], seq.rotations[:48])
    np.testing.assert_array_equal(got.rotations[52:], seq.rotations[62:])
    bridged = [f for f in (48, 49, 50, 51) if got.key_at(f) is None]
    assert (got.states[bridged] == FrameState.GENERATED).all()
    assert merge_spans(got, [change.dirty])
    assert same(change.undo(), seq)


def test_material_edits_keep_a_warped_record_aligned():
    seq = smooth_seq()
    k = int(seq.key_frames[9])  # 54
    warped = ed.move_keys(seq, [k], 2).sequence
    ins = ed.insert_frames(warped, 10, 4).sequence
    np.testing.assert_array_equal(ins.rotations[14:], warped.rotations[10:])
    np.testing.assert_array_equal(ins.warp[14:], warped.warp[10:])
    # rebuilding the shown frames from the layers gives what is shown
    again = ed.set_span_state(ins, 40, 70, FrameState.SOURCE).sequence
    np.testing.assert_array_equal(again.rotations, ins.rotations)

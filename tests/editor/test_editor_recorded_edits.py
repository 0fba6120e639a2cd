"""The editing model in the window (DESIGN.md section 2): dragging a key re-times the recorded
motion, a pose change blends into it, the states band shows key / recorded / warped / generated,
and only what has no record goes to the in-betweener."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from core.model import edits
from core.model.sequence import FrameState, KeyKind
from editor.commands import SetJointRotations, push
from editor.timeline import STATE_RGBA
from tests.editor.helpers import settle
from tests.editor.test_editor_timeline import drag, neighbours


def band_rgba(tl, frame: int) -> tuple:
    return tuple(int(v) for v in tl.state_img.image[0, frame])


def test_drag_a_recorded_key_warps_the_recording_and_needs_no_in_betweening(qtbot, window):
    doc, tl = window.doc, window.timeline
    settle(qtbot, window)
    before = doc.sequence
    key = next(k.frame for k in before.keyframes if k.kind == KeyKind.MID)  # HELLO: recorded
    lo, hi = neighbours(before, key)
    assert (before.states[lo + 1 : hi] == FrameState.SOURCE).sum() == hi - lo - 2
    applied = window.bridge.results_applied
    drag(qtbot, tl, key, key + 4)
    settle(qtbot, window)

    seq = doc.sequence
    assert seq.key_at(key + 4).kind == KeyKind.MID and doc.undo_stack.count() == 1
    want = edits.retime_keys(before, {key: key + 4}).sequence  # the same edit, done by core
    np.testing.assert_array_equal(seq.rotations, want.rotations)
    between = np.setdiff1d(np.arange(lo + 1, hi), [key + 4])
    assert (seq.states[between] == FrameState.WARPED).all()
    assert not (seq.states == FrameState.GENERATED)[lo : hi + 1].any()
    np.testing.assert_array_equal(seq.rotations[: lo + 1], before.rotations[: lo + 1])
    np.testing.assert_array_equal(seq.rotations[hi:], before.rotations[hi:])
    # nothing for the in-betweener: the answers carried no frames
    assert window.bridge.results_applied > applied and window.bridge.last_result.patches == ()
    assert band_rgba(tl, int(between[0])) == STATE_RGBA[FrameState.WARPED]

    doc.undo_stack.undo()
    settle(qtbot, window)
    np.testing.assert_array_equal(doc.sequence.rotations, before.rotations)
    np.testing.assert_array_equal(doc.sequence.warp, before.warp)
    assert band_rgba(tl, int(between[0])) == STATE_RGBA[FrameState.SOURCE]


def test_a_pose_correction_blends_into_the_recording_and_undoes_exactly(qtbot, window):
    doc = window.doc
    settle(qtbot, window)
    before = doc.sequence
    key = next(k.frame for k in before.keyframes if k.kind == KeyKind.MID)
    lo, hi = neighbours(before, key)
    j = before.skeleton.names.index("right_elbow")
    target = (
        before.rotations[key, j].astype(np.float64) @ Rotation.from_euler("z", 20, degrees=True).as_matrix()
    ).astype(np.float32)
    assert push(doc, SetJointRotations(doc, key, [j], target[None])) is None
    settle(qtbot, window)
    seq = doc.sequence
    np.testing.assert_array_equal(seq.rotations[key, j], target)
    outside = np.ones(seq.n_frames, bool)
    outside[lo + 1 : hi] = False
    np.testing.assert_array_equal(seq.rotations[outside], before.rotations[outside])
    around = np.setdiff1d(np.arange(lo + 1, hi), [key])
    assert (seq.states[around] == FrameState.WARPED).all()
    # the recording's own motion is still there: frame-to-frame changes stay close to the record's
    d_rec = np.abs(np.diff(before.rotations[lo : hi + 1, j], axis=0)).max()
    d_new = np.abs(np.diff(seq.rotations[lo : hi + 1, j], axis=0)).max()
    assert d_new < d_rec + 0.2
    doc.undo_stack.undo()
    settle(qtbot, window)
    np.testing.assert_array_equal(doc.sequence.rotations, before.rotations)
    assert not doc.sequence.offsets.any()


def test_regenerate_from_keys_then_keep_recording(qtbot, window):
    doc = window.doc
    settle(qtbot, window)
    key = next(k.frame for k in doc.sequence.keyframes if k.kind == KeyKind.MID)
    drag(qtbot, window.timeline, key, key + 3)
    settle(qtbot, window)
    warped = doc.sequence
    lo, hi = neighbours(warped, key + 3)
    doc.set_range((lo + 1, key + 2))
    window.keys.act_regenerate()
    settle(qtbot, window)
    assert (doc.sequence.states[lo + 1 : key + 3] == FrameState.GENERATED).all()
    assert not np.array_equal(doc.sequence.rotations[lo + 1 : key + 3], warped.rotations[lo + 1 : key + 3])
    window.keys.act_keep_source()
    settle(qtbot, window)
    # the re-timed recording is back, exactly
    np.testing.assert_array_equal(doc.sequence.rotations, warped.rotations)
    assert (doc.sequence.states[lo + 1 : key + 3] == FrameState.WARPED).all()


def test_the_states_band_has_a_legend(qtbot, window):
    text = window.timeline.state_legend.textItem.toPlainText()
    for word in ("key", "recorded", "warped", "generated"):
        assert word in text


def test_insert_and_delete_frames_from_the_key_menu(qtbot, window):
    """Key > Insert frames adds GENERATED material the in-betweener fills; Key > Delete frame range
    cuts the range (keys after it move earlier); each is one undo step that restores the frames."""
    doc = window.doc
    settle(qtbot, window)
    before = doc.sequence
    at = before.n_frames // 2
    doc.set_current_frame(at)
    window.keys.act_insert_frames(6)
    settle(qtbot, window)
    seq = doc.sequence
    assert seq.n_frames == before.n_frames + 6 and doc.undo_stack.count() == 1
    assert (seq.base_states[at : at + 6] == FrameState.GENERATED).all()
    assert np.isfinite(seq.rotations[at : at + 6]).all()
    later = [k.frame for k in before.keyframes if k.frame >= at]
    assert [k.frame for k in seq.keyframes if k.frame >= at + 6] == [f + 6 for f in later]
    doc.undo_stack.undo()
    settle(qtbot, window)
    np.testing.assert_array_equal(doc.sequence.rotations, before.rotations)

    doc.set_range((at, at + 9))
    window.acts["delete_frames"].trigger()
    settle(qtbot, window)
    seq = doc.sequence
    assert seq.n_frames == before.n_frames - 10 and doc.range is None
    assert [k.frame for k in seq.keyframes if k.frame >= at] == [
        k.frame - 10 for k in before.keyframes if k.frame > at + 9
    ]
    doc.undo_stack.undo()
    settle(qtbot, window)
    assert doc.sequence.n_frames == before.n_frames
    np.testing.assert_array_equal(doc.sequence.rotations, before.rotations)

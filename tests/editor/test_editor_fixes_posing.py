"""Regression tests for the editor bugs of the posing issue: the body vanishing after onion
skin on / off, the inspector editing a key that is not on screen after a nudge, stale inspector
angles after a redo."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.model import JOINT_INDEX
from core.model.sequence import FrameState
from editor import pose_controls as pc
from tests.editor.helpers import settle

BACKGROUND = np.array([0x1D, 0x21, 0x27])


def drawn_share(vp) -> float:
    """The share of the view's pixels that are not background, from a fresh render."""
    vp.draw_now()
    vp.render_now()
    q = vp.display.image
    a = np.frombuffer(q.constBits(), np.uint8).reshape(q.height(), q.bytesPerLine())
    a = a[:, : q.width() * 4].reshape(q.height(), q.width(), 4)
    return float((np.abs(a[..., :3].astype(int) - BACKGROUND).sum(-1) > 30).mean())


def test_onion_skin_on_then_off_keeps_the_body(qtbot, window):
    vp, doc = window.viewport, window.doc
    doc.set_current_frame(50)
    qtbot.wait(30)
    before = drawn_share(vp)
    assert before > 0.05
    qtbot.keyClick(window, Qt.Key.Key_O)
    qtbot.wait(30)
    assert drawn_share(vp) >= before  # body plus ghosts
    qtbot.keyClick(window, Qt.Key.Key_O)
    qtbot.wait(30)
    assert drawn_share(vp) == pytest.approx(before, abs=0.002)
    for f in (51, 52, 50):  # and it stays on the following frames
        doc.set_current_frame(f)
        qtbot.wait(20)
    assert drawn_share(vp) == pytest.approx(before, abs=0.002)


def test_after_a_nudge_the_inspector_edits_only_the_frame_on_screen(qtbot, window):
    doc, insp = window.doc, window.inspector
    doc.set_current_frame(37)
    doc.select_keys([40])
    doc.set_joint(JOINT_INDEX["right_index1"])
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)  # nudge: 40 -> 41
    qtbot.wait(30)
    assert doc.sequence.key_at(41) is not None and doc.current_frame == 37
    before = doc.sequence.rotations.copy()
    n = doc.undo_stack.count()
    assert not insp.flex.isEnabled()  # nothing on screen to edit
    assert "Frame 37" in insp.key_label.text()
    insp.flex.slider.setFocus()
    qtbot.keyClick(insp.flex.slider, Qt.Key.Key_PageUp)
    assert insp.set_finger(JOINT_INDEX["right_index1"], 40.0) is False
    np.testing.assert_array_equal(doc.sequence.rotations, before)
    assert doc.undo_stack.count() == n


def test_after_redo_the_inspector_shows_the_regenerated_frame_on_screen(qtbot, window):
    doc, insp = window.doc, window.inspector
    settle(qtbot, window)
    j = JOINT_INDEX["right_index1"]
    doc.set_current_frame(97)
    doc.set_joint(j)
    assert insp.set_finger(j, 70.0)
    settle(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    f = 100  # between the keys around 97, filled by the in-betweener
    assert doc.state_at(f) == FrameState.GENERATED
    doc.set_current_frame(f)
    settle(qtbot, window)
    shown_before = insp.flex.value()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot, window)
    qtbot.wait(30)
    want = pc.finger_params(doc.sequence.skeleton, j, doc.sequence.rotations[f, j])[0]
    assert abs(want - shown_before) > 1.0  # the redo changed that frame
    assert insp.flex.value() == pytest.approx(want, abs=0.06)


def test_hands_camera_frames_the_active_hand_large(qtbot, window):
    from core.kinematics.fk import forward_kinematics

    vp, doc = window.viewport, window.doc
    doc.set_current_frame(97)
    doc.set_joint(JOINT_INDEX["right_index2"])
    qtbot.keyClick(window, Qt.Key.Key_H)
    vp.draw_now()
    seq = doc.sequence
    wr, wp = forward_kinematics(seq.skeleton, seq.rotations[97:98], seq.translation[97:98])
    idx = [21] + list(range(37, 52))
    pts = np.concatenate([wp[0, idx], wp[0, idx] + np.einsum("jab,jb->ja", wr[0, idx], seq.skeleton.tips[idx])])
    px = vp.project(pts)
    h = vp.display.height()
    w = vp.display.width()
    size = px.max(0) - px.min(0)
    assert max(size[0] / w, size[1] / h) > 0.5  # the hand fills most of the view (it was ~50 px)
    assert (px >= 0).all() and (px[:, 0] <= w).all() and (px[:, 1] <= h).all()  # and all of it shows
    # with no joint selected, the hand that moves more is framed
    doc.set_joint(-1)
    assert vp.active_hand() in ("left", "right")


def test_inspector_reads_out_flexion_abduction_twist_and_edits_flexion(qtbot, window):
    from core.kinematics.anatomy import joint_params, to_params

    doc, insp = window.doc, window.inspector
    doc.set_current_frame(97)
    j = JOINT_INDEX["right_elbow"]
    doc.set_joint(j)
    qtbot.wait(20)
    assert [s.name.text() for s in insp.angles] == ["Flexion", "Abduction", "Twist"]
    jp = joint_params(doc.sequence.skeleton, j)
    before = to_params(jp, doc.sequence.rotations[97, j])
    for s, v in zip(insp.angles, before):
        assert s.value_label.text() == f"{v:.1f}°"
    insp.angles[0].slider.setFocus()
    qtbot.keyClick(insp.angles[0].slider, Qt.Key.Key_PageUp)  # one page: 1 degree
    after = to_params(jp, doc.sequence.rotations[97, j])
    assert after[0] == pytest.approx(round(before[0], 1) + 1.0, abs=0.06)
    np.testing.assert_allclose(after[1:], before[1:], atol=0.06)
    # a joint without anatomical parameters keeps its three angles
    doc.set_joint(JOINT_INDEX["right_collar"])
    qtbot.wait(20)
    assert insp.angles[0].name.text() == "X angle"

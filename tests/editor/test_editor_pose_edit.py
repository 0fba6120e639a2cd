"""Correcting a pose at a key: finger sliders, reset, copy / paste, mirror; undo and redo."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.model import JOINT_INDEX, TEMPLATE
from core.model.rotations import flip_hand, is_rotation
from editor import pose_controls as pc
from tests.editor.helpers import baseline, generated_between, settle


@pytest.mark.parametrize("name", ["left_index1", "right_index1", "right_middle2", "left_thumb1", "right_thumb3"])
def test_finger_parameters_round_trip(name):
    j = JOINT_INDEX[name]
    r = pc.finger_rotation(TEMPLATE, j, 37.0, 8.0, -5.0)
    assert is_rotation(r)
    flex, spread, twist = pc.finger_params(TEMPLATE, j, r)
    assert (flex, spread, twist) == pytest.approx((37.0, 8.0, -5.0), abs=1e-3)


def test_positive_flexion_curls_towards_the_palm_on_both_hands():
    from core.kinematics.fk import joint_positions

    for side in ("left", "right"):
        j = JOINT_INDEX[f"{side}_index1"]
        rot = np.broadcast_to(np.eye(3, dtype=np.float32), (1, TEMPLATE.n_joints, 3, 3)).copy()
        rot[0, j] = pc.finger_rotation(TEMPLATE, j, 60.0, 0.0)
        pos = joint_positions(TEMPLATE, rot)[0]
        tip_drop = pos[JOINT_INDEX[f"{side}_index3"], 1] - TEMPLATE.rest_positions()[JOINT_INDEX[f"{side}_index3"], 1]
        assert tip_drop < -0.02  # palms face down in the rest pose: the fingertip goes down


def test_same_slider_values_give_mirrored_hands():
    for finger in ("index1", "thumb2"):
        left = pc.finger_rotation(TEMPLATE, JOINT_INDEX[f"left_{finger}"], 40.0, -6.0, 3.0)
        right = pc.finger_rotation(TEMPLATE, JOINT_INDEX[f"right_{finger}"], 40.0, -6.0, 3.0)
        np.testing.assert_allclose(flip_hand(left), right, atol=1e-6)


def test_edit_a_finger_at_a_key_regenerates_the_neighbours(qtbot, window):
    doc, insp = window.doc, window.inspector
    settle(qtbot, window)
    key, lo, hi = 97, 75, 120  # mid key of the second sign and its neighbouring keys
    doc.set_current_frame(key)
    j = JOINT_INDEX["right_index1"]
    doc.set_joint(j)
    assert insp.flex.isVisible() and insp.flex.isEnabled()
    before = doc.sequence
    fmin, fmax, _, _ = pc.FINGER_LIMITS["index"][0]
    # drag the flexion slider: press, several values, release -> one undo step
    insp.flex.slider.sliderPressed.emit()
    for v in (20, 40, 60, 75):
        insp.flex.slider.setValue(v * 10)
    insp.flex.slider.sliderReleased.emit()
    settle(qtbot, window)
    seq = doc.sequence
    assert doc.undo_stack.count() == 1
    flex, _, _ = pc.finger_params(seq.skeleton, j, seq.rotations[key, j])
    assert flex == pytest.approx(75.0, abs=0.05)
    others = [i for i in range(seq.n_joints) if i != j]
    np.testing.assert_array_equal(seq.rotations[key, others], before.rotations[key, others])
    # neighbours: regenerated from the new key pose, equal to the baseline fill
    gen = generated_between(seq, lo, hi + 1)
    assert gen.size > 20
    np.testing.assert_allclose(seq.rotations[gen], baseline(seq).rotations[gen], atol=1e-5)
    changed = np.abs(seq.rotations[gen, j] - before.rotations[gen, j]).max(axis=(1, 2))
    assert (changed > 1e-3).mean() > 0.9  # the finger moves differently all through the gap
    np.testing.assert_array_equal(seq.rotations[:lo], before.rotations[:lo])
    np.testing.assert_array_equal(seq.rotations[hi + 1 :], before.rotations[hi + 1 :])
    # the slider is bounded by the anatomical limits
    insp.flex.slider.setValue(int(200 * 10))
    settle(qtbot, window)
    flex, _, _ = pc.finger_params(seq.skeleton, j, doc.sequence.rotations[key, j])
    assert flex == pytest.approx(fmax, abs=0.05)
    assert doc.undo_stack.count() == 2

    # undo / redo with the standard shortcuts
    edited = doc.sequence
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    np.testing.assert_allclose(doc.sequence.rotations, before.rotations, atol=1e-6)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    np.testing.assert_allclose(doc.sequence.rotations, edited.rotations, atol=1e-6)


def test_no_key_under_the_playhead_means_no_pose_edit(qtbot, window):
    doc, insp = window.doc, window.inspector
    doc.set_current_frame(5)
    doc.select_keys([])
    doc.set_joint(JOINT_INDEX["right_index1"])
    assert not insp.flex.isEnabled()
    assert insp.set_finger(JOINT_INDEX["right_index1"], 50.0) is False
    assert doc.undo_stack.count() == 0


def test_reset_copy_paste_and_mirror(qtbot, window):
    doc, insp = window.doc, window.inspector
    settle(qtbot, window)
    src, dst = 40, 97
    left, right = pc.hand_joints("left"), pc.hand_joints("right")
    doc.set_current_frame(src)
    doc.set_joint(JOINT_INDEX["right_middle1"])
    insp.buttons["copy_hand"].click()
    insp.buttons["copy_pose"].click()
    pose = doc.sequence.rotations[src].copy()
    initial = doc.sequence.rotations[dst].copy()
    doc.set_current_frame(dst)
    insp.buttons["paste_pose"].click()
    np.testing.assert_array_equal(doc.sequence.rotations[dst], pose)
    # the right hand's shape onto the left hand (mirrored by the flip)
    doc.set_joint(JOINT_INDEX["left_index2"])
    insp.buttons["paste_hand"].click()
    np.testing.assert_allclose(doc.sequence.rotations[dst, left], flip_hand(pose[right]), atol=1e-6)
    insp.buttons["reset_hand"].click()
    np.testing.assert_allclose(doc.sequence.rotations[dst, left], np.broadcast_to(np.eye(3), (15, 3, 3)), atol=1e-7)
    insp.buttons["mirror_rl"].click()
    np.testing.assert_allclose(
        doc.sequence.rotations[dst, left], flip_hand(doc.sequence.rotations[dst, right]), atol=1e-6
    )
    doc.set_joint(JOINT_INDEX["right_elbow"])
    assert insp.angles[0].isVisible() and not insp.flex.isVisible()
    insp.buttons["reset_joint"].click()
    np.testing.assert_allclose(doc.sequence.rotations[dst, JOINT_INDEX["right_elbow"]], np.eye(3), atol=1e-7)
    assert doc.undo_stack.count() == 5
    settle(qtbot, window)
    for _ in range(5):
        doc.undo_stack.undo()
    settle(qtbot, window)
    np.testing.assert_array_equal(doc.sequence.rotations[dst], initial)
    assert doc.undo_stack.index() == 0


def test_click_a_joint_in_the_viewport_selects_it(qtbot, window):
    vp = window.viewport
    doc = window.doc
    doc.set_current_frame(97)
    vp.draw_now()
    j = JOINT_INDEX["left_elbow"]
    x, y = vp.project(vp._positions[j : j + 1])[0]
    native = vp.display  # the widget showing the canvas image
    ratio = vp.canvas.pixel_scale
    from PySide6.QtCore import QPoint

    qtbot.mouseClick(native, Qt.MouseButton.LeftButton, pos=QPoint(int(round(x / ratio)), int(round(y / ratio))))
    qtbot.waitUntil(lambda: doc.joint == j, timeout=3000)
    assert window.inspector.tree.currentItem().data(0, Qt.ItemDataRole.UserRole) == j


def test_browsing_joints_never_edits(qtbot, window):
    """Showing a joint re-ranges the sliders (which clamps their values): that must not push edits."""
    doc = window.doc
    doc.set_current_frame(157)  # the mid key of the fist-shaped sign: fingers curled
    assert doc.sequence.key_at(157) is not None
    before = doc.sequence.rotations.copy()
    for j in list(range(doc.sequence.n_joints)) + [JOINT_INDEX["right_middle2"], JOINT_INDEX["right_thumb1"]]:
        doc.set_joint(j)
    assert doc.undo_stack.count() == 0
    np.testing.assert_array_equal(doc.sequence.rotations, before)

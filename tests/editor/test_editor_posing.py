"""Posing in the viewport with real mouse events: arm IK by dragging a wrist, the elbow swivel,
finger IK by dragging a fingertip, the rotate gizmo's rings, numeric entry; one undo step each."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from core.kinematics.anatomy import limit_violations
from core.kinematics.fk import forward_kinematics
from core.kinematics.pose_ik import fingertip
from core.model import JOINT_INDEX


def world(doc, f):
    seq = doc.sequence
    wr, wp = forward_kinematics(seq.skeleton, seq.rotations[f : f + 1], seq.translation[f : f + 1])
    return wr[0], wp[0]


def pt(xy) -> QPoint:
    return QPoint(int(round(xy[0])), int(round(xy[1])))


def drag(qtbot, widget, a, b, steps: int = 8) -> None:
    """Press at a, move in steps to b, release: real mouse events."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=pt(a))
    for t in np.linspace(0, 1, steps + 1)[1:]:
        qtbot.mouseMove(widget, pos=pt(a + t * (b - a)))
        qtbot.wait(5)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=pt(b))
    qtbot.wait(30)


def at_key(qtbot, window, frame: int = 40):
    doc, vp = window.doc, window.viewport
    assert doc.sequence.key_at(frame) is not None
    doc.set_current_frame(frame)
    vp.draw_now()
    qtbot.wait(20)
    return doc, vp


def corrected_span(seq, k):
    kf = seq.key_frames
    prev = int(kf[kf < k][-1]) if (kf < k).any() else -1
    nxt = int(kf[kf > k][0]) if (kf > k).any() else seq.n_frames
    outside = np.ones(seq.n_frames, bool)
    outside[prev + 1 : nxt] = False
    return outside


def test_the_view_ray_passes_through_the_projected_point(qtbot, window):
    doc, vp = at_key(qtbot, window)
    p = vp._positions[JOINT_INDEX["right_wrist"]]
    o, d = vp.ray(vp.project(p[None])[0])
    off = (p - o) - ((p - o) @ d) * d
    assert np.linalg.norm(off) < 1e-3


@pytest.mark.parametrize("hold", [True, False])
def test_drag_a_wrist_10_cm_moves_the_arm_by_ik_within_limits_in_one_undo_step(qtbot, window, hold):
    doc, vp = at_key(qtbot, window, 40)
    vp.pose_tool.hold_wrist = hold
    before = doc.sequence.rotations.copy()
    n_undo = doc.undo_stack.count()
    w = JOINT_INDEX["right_wrist"]
    wr0, wp0 = world(doc, 40)
    right, up, _ = vp.camera_axes()
    target = wp0[w] + 0.1 * normalize(right + 0.5 * up)
    a, b = vp.project(np.stack([wp0[w], target]))
    drag(qtbot, vp.display, a, b)
    wr1, wp1 = world(doc, 40)
    moved = np.linalg.norm(wp1[w] - wp0[w])
    assert abs(moved - 0.1) < 0.01, moved
    assert np.linalg.norm(wp1[w] - target) < 0.01
    assert limit_violations(doc.sequence.skeleton, doc.sequence.rotations[40], [17, 19, 21]) == []
    if hold:
        np.testing.assert_allclose(wr1[w], wr0[w], atol=2e-3)
    # the locality check: nothing changes outside the span between the neighbouring keys
    outside = corrected_span(doc.sequence, 40)
    np.testing.assert_array_equal(doc.sequence.rotations[outside], before[outside])
    assert doc.undo_stack.count() == n_undo + 1
    doc.undo_stack.undo()
    np.testing.assert_array_equal(doc.sequence.rotations, before)


def normalize(v):
    return v / np.linalg.norm(v)


def test_drag_the_elbow_swivels_it_and_keeps_the_wrist(qtbot, window):
    doc, vp = at_key(qtbot, window, 40)
    e, w = JOINT_INDEX["right_elbow"], JOINT_INDEX["right_wrist"]
    wr0, wp0 = world(doc, 40)
    right, up, _ = vp.camera_axes()
    a, b = vp.project(np.stack([wp0[e], wp0[e] + 0.06 * up]))
    drag(qtbot, vp.display, a, b)
    wr1, wp1 = world(doc, 40)
    np.testing.assert_allclose(wp1[w], wp0[w], atol=1e-3)  # the wrist stays
    np.testing.assert_allclose(wr1[w], wr0[w], atol=2e-3)  # and so does the hand
    assert np.linalg.norm(wp1[e] - wp0[e]) > 0.02  # the elbow went round


def test_drag_a_fingertip_bends_that_finger_only(qtbot, window):
    doc, vp = at_key(qtbot, window, 40)
    sk = doc.sequence.skeleton
    j3 = JOINT_INDEX["right_index3"]
    joints = [j3 - 2, j3 - 1, j3]
    before = doc.sequence.rotations.copy()
    wr0, wp0 = world(doc, 40)
    tip0 = fingertip(sk, wr0, wp0, j3)
    # where the tip goes when the finger curls 25 degrees more at each joint (reachable)
    from core.kinematics.anatomy import clamp_params, from_params, joint_params, to_params

    curled = doc.sequence.rotations[40].copy()
    for j in joints:
        jp = joint_params(sk, j)
        p = to_params(jp, curled[j])
        p[0] += 25.0
        curled[j] = from_params(jp, clamp_params(jp, p))
    cr, cp = forward_kinematics(sk, curled[None], doc.sequence.translation[40:41])
    goal = fingertip(sk, cr[0], cp[0], j3)
    assert doc.sequence.key_at(40) is not None
    # press on the last joint's marker and drag by the goal's screen offset: the tip follows
    a, b, c = vp.project(np.stack([wp0[j3], tip0, goal]))
    assert vp.pick(a) == j3
    drag(qtbot, vp.display, a, a + (c - b))
    wr1, wp1 = world(doc, 40)
    tip1 = fingertip(sk, wr1, wp1, j3)
    assert np.linalg.norm(tip1 - tip0) > 0.01
    # on screen the tip went most of the way to where the mouse put it (the mouse's point, at the
    # press's depth, is not always on the finger's reach)
    before_px, after_px = np.linalg.norm(b - c), np.linalg.norm(vp.project(tip1[None])[0] - c)
    assert after_px < 0.5 * before_px, (before_px, after_px)
    others = [j for j in range(sk.n_joints) if j not in joints]
    np.testing.assert_array_equal(doc.sequence.rotations[40][others], before[40][others])
    assert limit_violations(sk, doc.sequence.rotations[40], joints) == []


def ring_drag_points(vp, frame, axis: int, quarter: float = 0.25):
    """Two pixels on one gizmo ring, a quarter turn apart, and the ring's world points."""
    from editor.gizmo import rings

    pts = rings(frame)[axis]
    i0 = 0
    i1 = int(round(quarter * len(pts)))
    return vp.project(pts[[i0, i1]]), pts[[i0, i1]]


def test_gizmo_ring_drag_turns_the_joint_about_that_axis(qtbot, window):
    doc, vp = at_key(qtbot, window, 40)
    j = JOINT_INDEX["head"]
    doc.set_joint(j)
    vp.draw_now()
    qtbot.wait(20)
    frame = vp.pose_tool.gizmo_frame()
    assert frame is not None and vp.gizmo.line.visible
    # the ring that faces the camera most: a drag along it is well defined
    axis = int(np.argmax(np.abs(frame.axes.T @ frame.toward)))
    (a, b), _ = ring_drag_points(vp, frame, axis)
    wr0, _ = world(doc, 40)
    n_undo = doc.undo_stack.count()
    drag(qtbot, vp.display, a, b, steps=12)
    wr1, _ = world(doc, 40)
    delta = wr1[j] @ wr0[j].T
    from scipy.spatial.transform import Rotation

    rv = Rotation.from_matrix(delta).as_rotvec()
    assert abs(np.degrees(np.linalg.norm(rv)) - 90.0) < 8.0
    assert abs(abs(normalize(rv) @ frame.axes[:, axis]) - 1.0) < 1e-3
    assert doc.undo_stack.count() == n_undo + 1


def test_numeric_entry_turns_the_joint_exactly(qtbot, window):
    doc, vp = at_key(qtbot, window, 40)
    j = JOINT_INDEX["right_elbow"]
    doc.set_joint(j)
    bar = vp.pose_bar
    bar.frame.setCurrentText("Local")
    bar.axis.setCurrentText("Z")
    bar.degrees.setValue(30.0)
    wr0, _ = world(doc, 40)
    n_undo = doc.undo_stack.count()
    qtbot.mouseClick(bar.apply, Qt.MouseButton.LeftButton)
    wr1, _ = world(doc, 40)
    from scipy.spatial.transform import Rotation

    rv = Rotation.from_matrix(wr1[j] @ wr0[j].T).as_rotvec()
    assert abs(np.degrees(np.linalg.norm(rv)) - 30.0) < 0.01
    assert abs(normalize(rv) @ wr0[j][:, 2] - 1.0) < 1e-5
    assert doc.undo_stack.count() == n_undo + 1


def test_off_key_a_wrist_drag_edits_nothing(qtbot, window):
    doc, vp = at_key(qtbot, window, 40)
    doc.set_current_frame(45)  # not a key
    vp.draw_now()
    qtbot.wait(20)
    assert doc.sequence.key_at(45) is None
    before = doc.sequence.rotations.copy()
    w = JOINT_INDEX["right_wrist"]
    _, wp0 = world(doc, 45)
    right, _, _ = vp.camera_axes()
    a, b = vp.project(np.stack([wp0[w], wp0[w] + 0.1 * right]))
    drag(qtbot, vp.display, a, b)
    np.testing.assert_array_equal(doc.sequence.rotations, before)


def test_the_drag_previews_live_and_esc_cancels_without_an_edit(qtbot, window):
    doc, vp = at_key(qtbot, window, 40)
    w = JOINT_INDEX["right_wrist"]
    before = doc.sequence.rotations.copy()
    n = doc.undo_stack.count()
    _, wp0 = world(doc, 40)
    right, _, _ = vp.camera_axes()
    a, b = vp.project(np.stack([wp0[w], wp0[w] + 0.08 * right]))
    qtbot.mousePress(vp.display, Qt.MouseButton.LeftButton, pos=pt(a))
    for t in np.linspace(0, 1, 6)[1:]:
        qtbot.mouseMove(vp.display, pos=pt(a + t * (b - a)))
        qtbot.wait(5)
    vp.draw_now()
    # the view shows the dragged wrist while the document is untouched
    assert np.linalg.norm(vp._positions[w] - (wp0[w] + 0.08 * right)) < 0.01
    np.testing.assert_array_equal(doc.sequence.rotations, before)
    qtbot.keyClick(vp.display, Qt.Key.Key_Escape)
    qtbot.mouseRelease(vp.display, Qt.MouseButton.LeftButton, pos=pt(b))
    vp.draw_now()
    np.testing.assert_array_equal(doc.sequence.rotations, before)
    assert doc.undo_stack.count() == n
    np.testing.assert_allclose(vp._positions[w], wp0[w], atol=1e-6)


def test_a_free_gizmo_drag_constrained_to_one_axis_turns_about_it_only(qtbot, window):
    from scipy.spatial.transform import Rotation

    doc, vp = at_key(qtbot, window, 40)
    j = JOINT_INDEX["head"]
    doc.set_joint(j)
    vp.draw_now()
    vp.pose_bar.constraint.setCurrentText("Y")
    frame = vp.pose_tool.gizmo_frame()
    c = vp.project(frame.centre[None])[0]
    wr0, _ = world(doc, 40)
    # inside the outer ring, away from the axis rings and the joint marker
    a = c + np.array([12.0, 9.0])
    drag(qtbot, vp.display, a, a + np.array([40.0, 0.0]))
    wr1, _ = world(doc, 40)
    rv = Rotation.from_matrix(wr1[j] @ wr0[j].T).as_rotvec()
    assert np.degrees(np.linalg.norm(rv)) > 3.0
    assert abs(abs(normalize(rv) @ frame.axes[:, 1]) - 1.0) < 1e-4


def test_wheel_zoom_keeps_the_point_under_the_cursor(qtbot, window):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    doc, vp = at_key(qtbot, window, 40)
    p = vp._positions[JOINT_INDEX["right_wrist"]]
    xy = vp.project(p[None])[0]
    scale0 = vp.camera.scale_factor
    pos = QPointF(float(xy[0]), float(xy[1]))
    ev = QWheelEvent(
        pos,
        vp.display.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(vp.display, ev)
    assert vp.camera.scale_factor < scale0 * 0.9  # zoomed in
    # the wrist is where it was on screen (within a few pixels: it is not on the focal plane)
    assert np.linalg.norm(vp.project(p[None])[0] - xy) < 4.0
    # the middle of the view moved toward the cursor: not a zoom to the centre
    assert np.linalg.norm(np.asarray(vp.camera.center) - p) < np.linalg.norm(np.asarray([0.0, 0.33, 0.0]) - p)


def test_a_fingertip_drag_with_the_wrist_free_turns_the_wrist_too(qtbot, window):
    doc, vp = at_key(qtbot, window, 40)
    bar = vp.pose_bar
    qtbot.mouseClick(bar.hold, Qt.MouseButton.LeftButton, pos=QPoint(8, bar.hold.height() // 2))
    assert not vp.pose_tool.hold_wrist
    sk = doc.sequence.skeleton
    j3, w = JOINT_INDEX["right_index3"], JOINT_INDEX["right_wrist"]
    before = doc.sequence.rotations.copy()
    wr0, wp0 = world(doc, 40)
    _, up, _ = vp.camera_axes()
    a, b = vp.project(np.stack([wp0[j3], wp0[j3] - 0.06 * up]))  # further than the finger reaches
    drag(qtbot, vp.display, a, b)
    rot = doc.sequence.rotations[40]
    assert np.abs(rot[w] - before[40, w]).max() > 1e-3  # the wrist turned
    assert limit_violations(sk, rot, [w, j3 - 2, j3 - 1, j3]) == []
    wr1, wp1 = world(doc, 40)
    np.testing.assert_allclose(wp1[w], wp0[w], atol=1e-6)  # and stayed where it was

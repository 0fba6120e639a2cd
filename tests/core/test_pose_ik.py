"""Posing by dragging (core): two-bone arm IK and finger IK within anatomical limits, the
anatomical readout's round trip, and the locality of the resulting correction."""

from __future__ import annotations

import numpy as np
import pytest

from core.kinematics.anatomy import (
    clamp_rotation,
    from_params,
    joint_params,
    limit_violations,
    to_params,
)
from core.kinematics.fk import forward_kinematics
from core.kinematics.pose_ik import arm_ik, finger_ik, finger_joints, fingertip
from core.model import edits as ed
from core.model.template import TEMPLATE as SK


def bent_pose() -> np.ndarray:
    """Arms lowered 60 degrees and elbows bent 70: a signing-like start, inside every limit."""
    rot = np.tile(np.eye(3), (52, 1, 1))
    for side in ("left", "right"):
        sh = joint_params(SK, SK.index(f"{side}_elbow"))
        assert sh is not None
        rot[SK.index(f"{side}_elbow")] = from_params(sh, [70.0, 0.0, 0.0])
        sg = 1.0 if side == "left" else -1.0
        c, s = np.cos(np.radians(-60 * sg)), np.sin(np.radians(-60 * sg))
        rot[SK.index(f"{side}_shoulder")] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    return rot


@pytest.mark.parametrize("joint", ["left_index1", "right_middle2", "left_thumb1", "right_wrist", "left_elbow", "neck"])
def test_anatomical_params_round_trip_and_mirror(joint):
    j = SK.index(joint)
    jp = joint_params(SK, j)
    assert jp is not None
    p = np.array([25.0, 7.0, -4.0])
    np.testing.assert_allclose(to_params(jp, from_params(jp, p)), p, atol=1e-9)
    if joint.startswith(("left", "right")):
        other = joint.replace("left", "X").replace("right", "left").replace("X", "right")
        jo = joint_params(SK, SK.index(other))
        assert jo is not None
        # the same numbers give mirror-image rotations: F R F with F = diag(1, -1, -1)
        f = np.diag([1.0, -1.0, -1.0])
        np.testing.assert_allclose(from_params(jo, p), f @ from_params(jp, p) @ f, atol=1e-12)


def test_clamp_and_violations_name_the_joint():
    j = SK.index("right_elbow")
    jp = joint_params(SK, j)
    assert jp is not None
    rot = np.tile(np.eye(3), (52, 1, 1))
    rot[j] = from_params(jp, [170.0, 0.0, 0.0])
    v = limit_violations(SK, rot)
    assert len(v) == 1 and "right_elbow flexion 170.0" in v[0]
    rot[j] = clamp_rotation(jp, rot[j])
    assert limit_violations(SK, rot) == []
    np.testing.assert_allclose(to_params(jp, rot[j])[0], 150.0, atol=1e-6)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("move", [(0.1, 0, 0), (0, 0.1, 0), (0, 0, 0.1), (-0.06, -0.06, 0.05)])
@pytest.mark.parametrize("hold", [True, False])
def test_arm_ik_moves_the_wrist_10_cm_within_limits(side, move, hold):
    rot, tr = bent_pose(), np.zeros(3)
    wr, wp = forward_kinematics(SK, rot[None], tr[None])
    w = SK.index(f"{side}_wrist")
    target = wp[0, w] + np.array(move) * 0.1 / np.linalg.norm(move)
    ch = arm_ik(SK, rot, tr, side, target, hold_wrist=hold)
    new = rot.copy()
    new[list(ch.joints)] = ch.rotations
    wr2, wp2 = forward_kinematics(SK, new[None], tr[None])
    assert np.linalg.norm(wp2[0, w] - target) < 1e-4
    assert limit_violations(SK, new) == []
    sh = SK.index(f"{side}_shoulder")
    np.testing.assert_allclose(wp2[0, sh], wp[0, sh], atol=1e-9)  # the shoulder stays put
    if hold:  # the hand keeps its world orientation
        np.testing.assert_allclose(wr2[0, w], wr[0, w], atol=1e-5)
    else:  # the hand follows the forearm: its local rotation is unchanged
        assert w not in ch.joints


def test_arm_ik_swivel_turns_the_elbow_about_the_shoulder_wrist_axis():
    rot, tr = bent_pose(), np.zeros(3)
    _, wp = forward_kinematics(SK, rot[None], tr[None])
    w, e = SK.index("right_wrist"), SK.index("right_elbow")
    target = wp[0, w] + [0.0, 0.05, 0.05]
    a = arm_ik(SK, rot, tr, "right", target)
    b = arm_ik(SK, rot, tr, "right", target, swivel=np.radians(30.0))
    pa, pb = rot.copy(), rot.copy()
    pa[list(a.joints)], pb[list(b.joints)] = a.rotations, b.rotations
    _, qa = forward_kinematics(SK, pa[None], tr[None])
    _, qb = forward_kinematics(SK, pb[None], tr[None])
    np.testing.assert_allclose(qb[0, w], qa[0, w], atol=1e-5)  # same wrist
    assert np.linalg.norm(qb[0, e] - qa[0, e]) > 0.05  # the elbow moved round
    s = qa[0, SK.index("right_shoulder")]
    axis = (qa[0, w] - s) / np.linalg.norm(qa[0, w] - s)
    va, vb = qa[0, e] - s, qb[0, e] - s
    va, vb = va - (va @ axis) * axis, vb - (vb @ axis) * axis
    ang = np.degrees(np.arctan2(np.cross(va, vb) @ axis, va @ vb))
    assert abs(ang - 30.0) < 0.5


def test_arm_ik_out_of_reach_stretches_within_limits():
    rot, tr = bent_pose(), np.zeros(3)
    _, wp = forward_kinematics(SK, rot[None], tr[None])
    s = wp[0, SK.index("left_shoulder")]
    ch = arm_ik(SK, rot, tr, "left", s + [2.0, 0.0, 0.0])
    new = rot.copy()
    new[list(ch.joints)] = ch.rotations
    assert limit_violations(SK, new) == []
    assert ch.reached > 1.0  # reported honestly, not faked


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("finger", ["index", "pinky", "thumb"])
def test_finger_ik_reaches_a_reachable_tip_within_limits(side, finger):
    rot, tr = bent_pose(), np.zeros(3)
    joints = finger_joints(SK, side, finger)
    # the target: the tip of the same finger posed by known angles inside the limits
    posed = rot.copy()
    for j, p in zip(joints, ([35.0, 8.0, 0.0], [40.0, 0.0, 0.0], [20.0, 0.0, 0.0])):
        jp = joint_params(SK, j)
        assert jp is not None
        posed[j] = from_params(jp, p)
    wr, wp = forward_kinematics(SK, posed[None], tr[None])
    target = fingertip(SK, wr[0], wp[0], joints[-1])
    ch = finger_ik(SK, rot, tr, side, finger, target)
    new = rot.copy()
    new[list(ch.joints)] = ch.rotations
    wr2, wp2 = forward_kinematics(SK, new[None], tr[None])
    assert np.linalg.norm(fingertip(SK, wr2[0], wp2[0], joints[-1]) - target) < 1e-3
    assert limit_violations(SK, new) == []
    others = [j for j in range(52) if j not in joints]
    np.testing.assert_array_equal(new[others], rot[others])


def test_an_ik_drag_at_a_key_changes_nothing_outside_the_corrected_span():
    from tests.core.test_edits_layers import smooth_seq

    seq = smooth_seq()
    kf = seq.key_frames
    k, prev, nxt = int(kf[5]), int(kf[4]), int(kf[6])
    rot = seq.rotations[k].astype(np.float64)
    _, wp = forward_kinematics(SK, rot[None], seq.translation[k][None])
    w = SK.index("right_wrist")
    target = wp[0, w] + [0.0, 0.1, 0.0]
    ch = arm_ik(SK, rot, seq.translation[k], "right", target)
    got = ed.set_joint_rotations(seq, k, list(ch.joints), ch.rotations).sequence
    outside = np.ones(seq.n_frames, bool)
    outside[prev + 1 : nxt] = False
    np.testing.assert_array_equal(got.rotations[outside], seq.rotations[outside])
    _, wp2 = forward_kinematics(SK, got.rotations[k][None], got.translation[k][None])
    assert abs(np.linalg.norm(wp2[0, w] - wp[0, w]) - 0.1) < 1e-3


@pytest.mark.parametrize("side", ["left", "right"])
def test_finger_ik_with_the_wrist_free_reaches_further_within_limits(side):
    rot, tr = bent_pose(), np.zeros(3)
    joints = finger_joints(SK, side, "index")
    wrist = SK.index(f"{side}_wrist")
    # the target: the tip with the wrist flexed 40 degrees and the finger curled a little
    posed = rot.copy()
    jw = joint_params(SK, wrist)
    assert jw is not None
    posed[wrist] = from_params(jw, [40.0, 10.0, 0.0])
    j1 = joint_params(SK, joints[0])
    assert j1 is not None
    posed[joints[0]] = from_params(j1, [20.0, 0.0, 0.0])
    wr, wp = forward_kinematics(SK, posed[None], tr[None])
    target = fingertip(SK, wr[0], wp[0], joints[-1])
    held = finger_ik(SK, rot, tr, side, "index", target)
    free = finger_ik(SK, rot, tr, side, "index", target, move_wrist=True)
    assert wrist not in held.joints and wrist in free.joints
    assert held.reached > 0.02  # the finger alone cannot get there
    assert free.reached < 1e-3
    new = rot.copy()
    new[list(free.joints)] = free.rotations
    assert limit_violations(SK, new) == []
    # the hand moved, the arm did not
    _, p2 = forward_kinematics(SK, new[None], tr[None])
    _, p0 = forward_kinematics(SK, rot[None], tr[None])
    np.testing.assert_allclose(p2[0, wrist], p0[0, wrist], atol=1e-9)


def test_bench_pose_ik_reports_each_solver(capsys):
    import json

    from core.cli import main

    assert main(["bench", "pose-ik", "--repeat", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["solves"] == 100
    for k in ("arm_ik_ms", "finger_ik_ms", "finger_ik_wrist_free_ms"):
        assert out[k]["median"] > 0 and out[k]["p95"] >= out[k]["median"]

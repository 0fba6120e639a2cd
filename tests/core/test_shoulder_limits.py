"""Shoulder (glenohumeral) limits: the swing-twist readout measured from the hanging arm, the
cone and twist limits, and arm IK that keeps the shoulder within them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.kinematics.anatomy import (
    SHOULDER_TWIST,
    clamp_rotation,
    from_params,
    joint_params,
    limit_violations,
    shoulder_cone,
    shoulder_excess,
    to_params,
)
from core.kinematics.fk import forward_kinematics
from core.kinematics.pose_ik import arm_ik
from core.model.template import TEMPLATE as SK

F = np.diag([1.0, -1.0, -1.0])


def shoulder(side: str):
    jp = joint_params(SK, SK.index(f"{side}_shoulder"))
    assert jp is not None and jp.swing_twist
    return jp


def humerus(side: str, r: np.ndarray) -> np.ndarray:
    """World direction (3,) of the upper arm for a shoulder rotation r with the collar at rest."""
    b = SK.offsets[SK.index(f"{side}_elbow")]
    return r @ b / np.linalg.norm(b)


@pytest.mark.parametrize("side", ["left", "right"])
def test_readout_is_measured_from_the_hanging_arm(side):
    jp = shoulder(side)
    out = 1.0 if side == "left" else -1.0  # SMPL-X: the left arm points to +x in the T pose
    # the T pose is 90 degrees of abduction, no flexion, no twist
    np.testing.assert_allclose(to_params(jp, np.eye(3)), [0.0, 90.0, 0.0], atol=1e-9)
    # zero: the arm hangs; flexion 90 points it forward (+z); abduction -30 crosses the body
    np.testing.assert_allclose(humerus(side, from_params(jp, [0.0, 0.0, 0.0])), [0, -1, 0], atol=0.08)
    fwd = humerus(side, from_params(jp, [90.0, 0.0, 0.0]))
    assert fwd[2] > 0.99
    across = humerus(side, from_params(jp, [0.0, -30.0, 0.0]))
    assert across[0] * out < -0.4 and across[1] < -0.8
    # positive twist is internal: with the arm hanging, the forearm's hinge turns the flexed
    # forearm (forward at twist 0) toward the body's midline
    el = joint_params(SK, SK.index(f"{side}_elbow"))
    w = SK.offsets[SK.index(f"{side}_wrist")]
    for twist, sign in ((0.0, 0.0), (40.0, -1.0), (-40.0, 1.0)):
        fore = from_params(jp, [0.0, 0.0, twist]) @ from_params(el, [90.0, 0.0, 0.0]) @ w
        fore = fore / np.linalg.norm(fore)
        assert fore[2] > 0.7  # forward
        assert fore[0] * out == pytest.approx(sign * np.sin(np.radians(40.0)), abs=0.1)


@pytest.mark.parametrize("p", [[25.0, 7.0, -4.0], [120.0, -40.0, 60.0], [-40.0, 20.0, -80.0]])
def test_round_trip_and_mirror(p):
    jl, jr = shoulder("left"), shoulder("right")
    np.testing.assert_allclose(to_params(jl, from_params(jl, p)), p, atol=1e-9)
    np.testing.assert_allclose(from_params(jr, p), F @ from_params(jl, p) @ F, atol=1e-12)
    # any rotation survives the readout (the chart covers all but the arm straight up)
    r = np.linalg.qr(np.random.default_rng(3).normal(size=(20, 3, 3)))[0]
    r *= np.sign(np.linalg.det(r))[:, None, None]
    np.testing.assert_allclose(from_params(jl, to_params(jl, r)), r, atol=1e-9)


def test_published_ranges_are_inside_and_beyond_them_is_a_named_violation():
    j = SK.index("left_shoulder")
    jp = shoulder("left")
    rot = np.tile(np.eye(3), (52, 1, 1))
    # full flexion, full abduction, 60 extension, 45 adduction, 90 external / 70 internal rotation
    for p in ([175.0, 0.0, 0.0], [0.0, 175.0, 0.0], [-59.0, 0.0, 0.0], [0.0, -45.0, 0.0], [30.0, 10.0, -89.0]):
        rot[j] = from_params(jp, p)
        assert limit_violations(SK, rot) == [], p
    # the arm forward across the chest (touching the other shoulder) is allowed
    rot[j] = from_params(jp, [70.0, -55.0, 0.0])
    assert limit_violations(SK, rot) == []
    for p, what in (([-90.0, 0.0, 0.0], "elevation"), ([0.0, -80.0, 0.0], "elevation"), ([20, 20, 130], "twist")):
        rot[j] = from_params(jp, p)
        v = limit_violations(SK, rot)
        assert len(v) == 1 and v[0].startswith(f"left_shoulder {what}"), v
        rot[j] = clamp_rotation(jp, rot[j])
        assert limit_violations(SK, rot) == []
    # the clamp keeps a rotation inside the limits as it is
    inside = from_params(jp, [40.0, 30.0, 20.0])
    np.testing.assert_allclose(clamp_rotation(jp, inside), inside, atol=1e-12)
    # and pulls the swing back along its own plane of elevation (extension 90 -> extension 60)
    back = clamp_rotation(jp, from_params(jp, [-90.0, 0.0, 5.0]))
    np.testing.assert_allclose(to_params(jp, back), [-60, 0, 5], atol=1e-6)


def random_inside(rng, n: int) -> np.ndarray:
    """(n, 3) shoulder params drawn uniformly inside the cone and the twist range."""
    out = []
    while len(out) < n:
        p = rng.uniform([-60, -50, SHOULDER_TWIST[0]], [180, 180, SHOULDER_TWIST[1]])
        if not any(shoulder_excess(p)) and np.hypot(p[0], p[1]) < 170:
            out.append(p)
    return np.array(out)


@pytest.mark.parametrize("side", ["left", "right"])
def test_arm_ik_to_random_reachable_targets_never_breaks_the_shoulder(side):
    rng = np.random.default_rng(7 if side == "left" else 8)
    sh, el = SK.index(f"{side}_shoulder"), SK.index(f"{side}_elbow")
    jp, ejp = shoulder(side), joint_params(SK, el)
    wr = SK.index(f"{side}_wrist")
    start = np.tile(np.eye(3), (52, 1, 1))
    start[sh] = from_params(jp, [20.0, 20.0, 0.0])
    start[el] = from_params(ejp, [60.0, 0.0, 0.0])
    tr = np.zeros(3)
    reached = 0
    for p in random_inside(rng, 60):
        goal = start.copy()
        goal[sh] = from_params(jp, p)
        goal[el] = from_params(ejp, [rng.uniform(5, 145), 0.0, 0.0])
        target = forward_kinematics(SK, goal[None], tr[None])[1][0, wr]
        ch = arm_ik(SK, start, tr, side, target)
        new = start.copy()
        new[list(ch.joints)] = ch.rotations
        assert limit_violations(SK, new, [sh, el]) == []
        reached += ch.reached < 1e-3
    assert reached >= 57  # a reachable target is reached (a swivel exists that keeps the limits)


@pytest.mark.parametrize("side", ["left", "right"])
def test_arm_ik_picks_the_nearest_swivel_that_keeps_the_shoulder(side):
    from core.kinematics.ik_geometry import axis_angle

    sh, wr = SK.index(f"{side}_shoulder"), SK.index(f"{side}_wrist")
    jp = shoulder(side)
    start = np.tile(np.eye(3), (52, 1, 1))  # the T pose: the collar's world rotation is identity
    tr = np.zeros(3)
    _, wp = forward_kinematics(SK, start[None], tr[None])
    target = wp[0, sh] + 0.8 * (wp[0, wr] - wp[0, sh]) + [0.0, -0.05, 0.1]
    aim = (target - wp[0, sh]) / np.linalg.norm(target - wp[0, sh])
    free = arm_ik(SK, start, tr, side, target, swivel=0.0)
    assert free.reached < 1e-4
    for swivel in (np.radians(170.0), -np.radians(170.0)):
        ch = arm_ik(SK, start, tr, side, target, swivel=swivel)
        new = start.copy()
        new[list(ch.joints)] = ch.rotations
        assert limit_violations(SK, new, [sh]) == []
        assert ch.reached < 1e-4  # the wrist still reaches the target
        # it swivelled about the shoulder -> target axis ...
        turn = ch.rotations[0].astype(float) @ free.rotations[0].astype(float).T
        got = float(Rotation.from_matrix(turn).as_rotvec() @ aim)
        np.testing.assert_allclose(turn, axis_angle(aim, got), atol=1e-5)
        # ... to the allowed swivel nearest the one asked for (on the circle, within 1 degree)
        grid = np.radians(np.arange(-180.0, 180.0, 0.5))
        ok = ~np.any(np.stack(shoulder_excess(to_params(jp, axis_angle(aim, grid) @ free.rotations[0]))) > 0, 0)
        assert not ok.all()  # the asked swivel is past the limits
        gap_got = abs((got - swivel + np.pi) % (2 * np.pi) - np.pi)
        gaps = np.abs((grid[ok] - swivel + np.pi) % (2 * np.pi) - np.pi)
        assert gap_got <= gaps.min() + np.radians(1.0)
        assert gap_got > np.radians(1.0)


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_target_behind_the_back_is_clamped_not_contorted(side):
    sh, el, wr = (SK.index(f"{side}_{n}") for n in ("shoulder", "elbow", "wrist"))
    jp = shoulder(side)
    start = np.tile(np.eye(3), (52, 1, 1))
    start[sh] = from_params(jp, [10.0, 20.0, 0.0])
    tr = np.zeros(3)
    _, wp = forward_kinematics(SK, start[None], tr[None])
    # straight back from the shoulder at shoulder height, nearly the arm's length: the humerus
    # would point within ~10 degrees of straight back (extension 90; 60 is the limit), whatever
    # the swivel
    target = wp[0, sh] + [0.0, 0.0, -0.5]
    got = []
    for swivel in (0.0, 1.0, -2.0):
        ch = arm_ik(SK, start, tr, side, target, swivel=swivel)
        new = start.copy()
        new[list(ch.joints)] = ch.rotations
        assert limit_violations(SK, new) == []
        p = to_params(jp, new[sh])
        assert np.hypot(p[0], p[1]) <= shoulder_cone(np.degrees(np.arctan2(p[1], p[0]))) + 0.5
        assert ch.reached > 0.02  # refused: it falls short rather than contorting the arm
        got.append(ch.rotations)
        _, wp2 = forward_kinematics(SK, new[None], tr[None])
        # but it gets as close as the limits allow: the wrist went back, behind the shoulder
        assert wp2[0, wr, 2] < wp[0, sh, 2] - 0.1
        assert np.linalg.norm(wp2[0, wr] - target) < np.linalg.norm(wp[0, wr] - target) - 0.1
        assert ch.reached == pytest.approx(np.linalg.norm(wp2[0, wr] - target), abs=1e-5)
    # the closest allowed arm does not depend on the swivel asked for
    np.testing.assert_allclose(got[0], got[1], atol=1e-3)
    np.testing.assert_allclose(got[0], got[2], atol=1e-3)

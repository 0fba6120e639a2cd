import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from core.kinematics.fk import forward_kinematics, joint_positions, tip_positions
from core.kinematics.fk_torch import TorchFK
from core.model.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from core.model.skeleton import JOINT_NAMES, N_JOINTS, PARENTS, SMPLX_INDEX
from core.model.template import TEMPLATE
from tests.core.fake_smplx import write_fake_smplx


def random_pose(t, seed, scale=0.6):
    aa = np.random.default_rng(seed).normal(scale=scale, size=(t, N_JOINTS, 3))
    return axis_angle_to_matrix(aa)


def test_rest_pose_gives_rest_positions():
    rot = np.broadcast_to(np.eye(3), (3, N_JOINTS, 3, 3))
    pos = joint_positions(TEMPLATE, rot, np.array([[0, 0, 0], [1, 2, 3], [0, 0, 0]]))
    np.testing.assert_allclose(pos[0], TEMPLATE.rest_positions(), atol=1e-12)
    np.testing.assert_allclose(pos[1], TEMPLATE.rest_positions() + [1, 2, 3], atol=1e-12)


def test_template_is_anatomically_plausible():
    p = TEMPLATE.rest_positions()
    i = TEMPLATE.index
    # the subject's left is +X, the head is up, the hand measures about 18 cm
    assert p[i("left_wrist"), 0] > 0.5 and p[i("right_wrist"), 0] < -0.5
    assert p[i("head"), 1] > p[i("neck"), 1] > p[i("spine3"), 1]
    hand = np.linalg.norm(p[i("left_middle3")] - p[i("left_wrist")]) + np.linalg.norm(TEMPLATE.tips[i("left_middle3")])
    assert 0.17 < hand < 0.20
    # thumbs point forward (+Z), mirror symmetry
    assert p[i("left_thumb3"), 2] > p[i("left_thumb1"), 2]
    swap = {"left_": "right_", "right_": "left_"}
    mirror = [JOINT_NAMES.index(next((swap[k] + n[len(k) :] for k in swap if n.startswith(k)), n)) for n in JOINT_NAMES]
    np.testing.assert_allclose(p[mirror] * [-1, 1, 1], p, atol=1e-12)


def test_fk_rotating_a_parent_carries_children():
    rot = np.broadcast_to(np.eye(3), (1, N_JOINTS, 3, 3)).copy()
    e = TEMPLATE.index("left_elbow")
    rot[0, e] = Rotation.from_euler("y", 90, degrees=True).as_matrix()
    pos = joint_positions(TEMPLATE, rot)
    rest = TEMPLATE.rest_positions()
    w = TEMPLATE.index("left_wrist")
    fore = rest[w] - rest[e]
    np.testing.assert_allclose(
        pos[0, w] - pos[0, e], Rotation.from_euler("y", 90, degrees=True).apply(fore), atol=1e-12
    )
    assert np.allclose(pos[0, :e], rest[:e])  # joints before the elbow in the tree do not move


def test_fk_matches_smplx_on_generated_model(tmp_path):
    smplx = pytest.importorskip("smplx")
    rest = TEMPLATE.rest_positions()
    j55 = np.zeros((55, 3))
    j55[SMPLX_INDEX] = rest
    j55[22:25] = rest[TEMPLATE.index("head")] + np.array([[0, 0.02, 0.05], [0.03, 0.05, 0.08], [-0.03, 0.05, 0.08]])
    path = write_fake_smplx(tmp_path, j55)
    t = 6
    rots = random_pose(t, seed=3)
    aa = matrix_to_axis_angle(rots).astype(np.float32)
    transl = np.random.default_rng(4).normal(size=(t, 3)).astype(np.float32)
    model = smplx.SMPLX(str(path), ext="npz", use_pca=False, flat_hand_mean=True, batch_size=t)
    tt = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    out = model(
        global_orient=tt(aa[:, 0]),
        body_pose=tt(aa[:, 1:22].reshape(t, -1)),
        left_hand_pose=tt(aa[:, 22:37].reshape(t, -1)),
        right_hand_pose=tt(aa[:, 37:52].reshape(t, -1)),
        transl=tt(transl),
    )
    theirs = out.joints[:, :55].detach().numpy()[:, SMPLX_INDEX]
    ours = joint_positions(TEMPLATE, rots, transl)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_torch_fk_matches_numpy_and_has_gradients():
    rots = random_pose(5, seed=9)
    tr = np.random.default_rng(1).normal(size=(5, 3))
    wr, wp = forward_kinematics(TEMPLATE, rots, tr)
    fk = TorchFK(TEMPLATE)
    r = torch.tensor(rots, dtype=torch.float64, requires_grad=True)
    pos, world_r = fk(r, torch.tensor(tr), return_rotations=True)
    np.testing.assert_allclose(pos.detach().numpy(), wp, atol=1e-10)
    np.testing.assert_allclose(world_r.detach().numpy(), wr, atol=1e-10)
    pos[:, TEMPLATE.index("right_index3")].sum().backward()
    assert r.grad[:, TEMPLATE.index("right_elbow")].abs().sum() > 0
    assert r.grad[:, TEMPLATE.index("left_elbow")].abs().sum() == 0


def test_tips_follow_the_last_phalanx():
    rots = random_pose(2, seed=5)
    wr, wp = forward_kinematics(TEMPLATE, rots)
    tips = tip_positions(TEMPLATE, wr, wp)
    j = TEMPLATE.index("left_index3")
    assert np.isclose(np.linalg.norm(tips[0, j] - wp[0, j]), np.linalg.norm(TEMPLATE.tips[j]))
    assert PARENTS[j] == TEMPLATE.index("left_index2")

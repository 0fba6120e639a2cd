"""World joint positions export (.joints.npz)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.io import FormatError, joints, registry
from core.model.sequence import new_sequence
from core.model.skeleton import JOINT_INDEX, N_JOINTS, PARENTS
from core.model.template import TEMPLATE


def test_rest_pose_and_translation(tmp_path):
    t = 3
    trans = np.array([[0, 0, 0], [1, 2, 3], [-0.5, 0, 0.25]], np.float32)
    seq = new_sequence(np.broadcast_to(np.eye(3), (t, N_JOINTS, 3, 3)), 24.0, trans)
    path = tmp_path / "o.joints.npz"
    registry.write(path, seq)
    d = np.load(path, allow_pickle=False)
    assert d["positions"].dtype == np.float32 and d["positions"].shape == (t, N_JOINTS, 3)
    np.testing.assert_allclose(d["positions"], TEMPLATE.rest_positions()[None] + trans[:, None], atol=1e-6)
    assert d["joint_names"].dtype.kind == "U"
    assert d["joint_names"].tolist()[:2] == ["pelvis", "left_hip"]
    assert {"neck", "left_wrist", "right_index1"} <= set(d["joint_names"].tolist())
    assert d["parents"].tolist() == list(PARENTS)
    assert float(d["fps"]) == 24.0


def test_rotating_the_shoulder_moves_the_wrist(tmp_path):
    rot = np.broadcast_to(np.eye(3), (1, N_JOINTS, 3, 3)).copy()
    s, w = JOINT_INDEX["left_shoulder"], JOINT_INDEX["left_wrist"]
    rz = Rotation.from_euler("z", 90, degrees=True)
    rot[0, s] = rz.as_matrix()
    joints.write(tmp_path / "a.joints.npz", new_sequence(rot, 25.0))
    pos = np.load(tmp_path / "a.joints.npz")["positions"][0]
    rest = TEMPLATE.rest_positions()
    np.testing.assert_allclose(pos[w], rest[s] + rz.apply(rest[w] - rest[s]), atol=1e-6)
    np.testing.assert_allclose(pos[JOINT_INDEX["right_wrist"]], rest[JOINT_INDEX["right_wrist"]], atol=1e-6)


def test_empty_sequence_is_refused(tmp_path):
    seq = new_sequence(np.zeros((0, N_JOINTS, 3, 3)), 25.0)
    with pytest.raises(FormatError, match="e.joints.npz"):
        joints.write(tmp_path / "e.joints.npz", seq)
    assert not (tmp_path / "e.joints.npz").exists()

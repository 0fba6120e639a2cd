"""The bodies the viewport draws: core.avatar's signer, an SMPL-X model folder, the mannequin."""

from __future__ import annotations

import numpy as np
import pytest

from core.kinematics.fk import forward_kinematics
from core.model import TEMPLATE
from core.model.skeleton import SMPLX_INDEX


@pytest.fixture
def pose(demo):
    r, p = forward_kinematics(TEMPLATE, demo.rotations[40:41], demo.translation[40:41])
    return r[0], p[0], demo.rotations[40]


def test_the_signer_is_skinned_like_core_avatar_skins_it(pose):
    pytest.importorskip("core.avatar")
    from core.avatar import build_avatar
    from editor.avatar import CoreAvatar, load_avatar

    a = load_avatar(TEMPLATE)
    assert isinstance(a, CoreAvatar)
    v, n = a.pose(*pose)
    np.testing.assert_allclose(v, build_avatar(TEMPLATE).skin(pose[0], pose[1]), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-4)
    assert a.colors.shape == (a.n_vertices, 4) and a.faces.max() < a.n_vertices


def test_an_smplx_folder_gives_the_smplx_mesh_on_our_joints(tmp_path, pose):
    pytest.importorskip("smplx")
    from editor.avatar import SmplxAvatar
    from tests.core.fake_smplx import write_fake_smplx

    (tmp_path / "smplx").mkdir()
    j55 = np.zeros((55, 3))
    j55[SMPLX_INDEX] = TEMPLATE.rest_positions()
    write_fake_smplx(tmp_path / "smplx", j55)  # its first 55 vertices sit on the joints
    a = SmplxAvatar(tmp_path, TEMPLATE)
    v, n = a.pose(*pose)
    assert v.shape == (a.n_vertices, 3) and np.isfinite(v).all()
    np.testing.assert_allclose(v[SMPLX_INDEX], pose[1], atol=1e-5)


def test_the_mannequin_moves_rigidly_with_its_joints(pose):
    from editor.mannequin import Mannequin

    m = Mannequin(TEMPLATE)
    rest_r = np.broadcast_to(np.eye(3), (TEMPLATE.n_joints, 3, 3))
    v0, _ = m.pose(rest_r, TEMPLATE.rest_positions())
    v1, n1 = m.pose(*pose[:2])
    j = m.joint
    # each vertex keeps its offset from its joint, rotated by the joint's world rotation
    want = np.einsum("vab,vb->va", pose[0][j], v0 - TEMPLATE.rest_positions()[j]) + pose[1][j]
    np.testing.assert_allclose(v1, want, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(n1, axis=1), 1.0, atol=1e-4)

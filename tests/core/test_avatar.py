"""The default avatar: a closed, skinned low-poly signer that follows our skeleton."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.avatar import build_avatar
from core.kinematics.fk import forward_kinematics
from core.model.skeleton import JOINT_INDEX, JOINT_NAMES, N_JOINTS, PARENTS, Skeleton
from core.model.template import TEMPLATE

FINGERS = ("index", "middle", "ring", "pinky", "thumb")


@pytest.fixture(scope="module")
def av():
    return build_avatar()


def _pose(rotvecs: dict[str, list[float]]):
    rot = np.broadcast_to(np.eye(3), (N_JOINTS, 3, 3)).copy()
    for name, rv in rotvecs.items():
        rot[JOINT_INDEX[name]] = Rotation.from_rotvec(rv).as_matrix()
    wr, wp = forward_kinematics(TEMPLATE, rot[None])
    return wr[0], wp[0]


def test_sizes_and_indices(av):
    assert 1500 <= av.n_vertices <= 6000
    assert av.vertices.shape == (av.n_vertices, 3) and av.faces.shape[1] == 3
    assert av.faces.min() >= 0 and av.faces.max() < av.n_vertices
    v = av.vertices.astype(float)
    area = np.linalg.norm(
        np.cross(v[av.faces[:, 1]] - v[av.faces[:, 0]], v[av.faces[:, 2]] - v[av.faces[:, 0]]), axis=1
    )
    assert area.min() > 1e-10
    assert av.face_materials.shape == (len(av.faces),) and av.face_materials.max() < len(av.materials)


def test_skin_weights_are_sparse_convex_and_on_our_joints(av):
    assert av.joints.shape == av.weights.shape == (av.n_vertices, 4)
    assert av.joints.min() >= 0 and av.joints.max() < N_JOINTS
    assert av.weights.min() >= 0 and np.allclose(av.weights.sum(1), 1.0, atol=1e-6)
    w = av.weight_matrix()
    assert w.shape == (av.n_vertices, N_JOINTS) and ((w > 0).sum(1) <= 4).all()


def test_every_body_part_is_there_and_closed_and_outward(av):
    names = {n for n, _, _ in av.parts}
    expected = {"torso", "neck", "head", "nose"} | {
        f"{s}_{p}" for s in ("left", "right") for p in ("arm", "palm", "leg", "foot") + FINGERS
    }
    assert expected <= names
    v = av.vertices.astype(float)
    for name, a, b in av.parts:
        faces = av.faces[(av.faces >= a).all(1) & (av.faces < b).all(1)]
        assert len(faces) > 0, name
        # closed: every edge is shared by exactly two triangles, in opposite directions
        edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
        directed = {tuple(e) for e in edges.tolist()}
        assert len(directed) == len(edges), name
        assert all((e[1], e[0]) in directed for e in directed), name
        # outward: positive enclosed volume
        vol = np.einsum("ij,ij->i", v[faces[:, 0]], np.cross(v[faces[:, 1]], v[faces[:, 2]])).sum() / 6
        assert vol > 0, name
    assert sum(b - a for _, a, b in av.parts) == av.n_vertices


def test_sized_and_placed_like_the_skeleton(av):
    rest = TEMPLATE.rest_positions()
    v = av.vertices
    head_top = rest[JOINT_INDEX["head"]] + TEMPLATE.tips[JOINT_INDEX["head"]]
    assert abs(v[:, 1].max() - head_top[1]) < 0.02
    assert v[:, 1].min() < rest[JOINT_INDEX["left_ankle"]][1] - 0.02  # feet below the ankles
    for side, sign in (("left", 1), ("right", -1)):
        palm = v[av.part(f"{side}_palm")]
        assert (sign * palm[:, 0] > 0.6).all()  # the subject's left hand on +X
        for f in FINGERS:  # every finger reaches its own tip
            tip = rest[JOINT_INDEX[f"{side}_{f}3"]] + TEMPLATE.tips[JOINT_INDEX[f"{side}_{f}3"]]
            pts = v[av.part(f"{side}_{f}")]
            assert np.linalg.norm(pts - tip, axis=1).min() < 0.006, (side, f)
    nose = v[av.part("nose")]
    assert nose[:, 2].max() > v[av.part("head")][:, 2].max()  # faces +Z


def test_rest_pose_skins_to_the_rest_mesh(av):
    wr, wp = _pose({})
    assert np.abs(av.skin(wr, wp) - av.vertices).max() < 1e-6


def test_rigid_body_motion_moves_the_mesh_rigidly(av):
    r = Rotation.from_rotvec([0.3, -1.2, 0.5]).as_matrix()
    wr = np.broadcast_to(r, (N_JOINTS, 3, 3))
    rest = TEMPLATE.rest_positions()
    t = np.array([0.4, -0.1, 2.0])
    wp = rest @ r.T + t
    expect = av.vertices.astype(float) @ r.T + t
    assert np.abs(av.skin(wr, wp) - expect).max() < 1e-5


def test_skinning_matches_a_per_vertex_reference(av):
    rng = np.random.default_rng(3)
    rot = Rotation.random(2 * N_JOINTS, random_state=rng).as_matrix().reshape(2, N_JOINTS, 3, 3)
    wr, wp = forward_kinematics(TEMPLATE, rot, rng.normal(size=(2, 3)))
    got = av.skin(wr, wp)
    assert got.shape == (2, av.n_vertices, 3)
    rest = TEMPLATE.rest_positions()
    for f in range(2):
        ref = np.zeros((av.n_vertices, 3))
        for k in range(4):
            j = av.joints[:, k]
            local = av.vertices - rest[j]
            ref += av.weights[:, k, None] * (np.einsum("vab,vb->va", wr[f, j], local) + wp[f, j])
        assert np.abs(got[f] - ref).max() < 1e-5
        assert np.abs(av.skin(wr[f], wp[f]) - got[f]).max() < 1e-6  # unbatched call agrees


def test_a_finger_curl_bends_only_that_finger_towards_the_palm(av):
    wr, wp = _pose({"left_index1": [0, 0, -np.pi / 2], "left_index2": [0, 0, -np.pi / 2]})
    posed = av.skin(wr, wp)
    moved = np.linalg.norm(posed - av.vertices, axis=1)
    index = av.part("left_index")
    assert moved[index].max() > 0.04
    for side in ("left", "right"):
        for f in FINGERS:
            if (side, f) != ("left", "index"):
                assert moved[av.part(f"{side}_{f}")].max() < 1e-6, (side, f)
    # the curled finger ends below the palm (palms face -Y in the rest pose)
    palm_bottom = av.vertices[av.part("left_palm")][:, 1].min()
    tip = posed[index][np.argmax(np.linalg.norm(posed[index] - wp[JOINT_INDEX["left_index1"]], axis=1))]
    assert tip[1] < palm_bottom


def test_elbow_bend_moves_forearm_and_hand_not_the_other_arm(av):
    wr, wp = _pose({"right_elbow": [0, 1.5, 0]})
    moved = np.linalg.norm(av.skin(wr, wp) - av.vertices, axis=1)
    assert moved[av.part("right_palm")].min() > 0.2
    assert moved[av.part("left_arm")].max() < 1e-6 and moved[av.part("left_palm")].max() < 1e-6
    assert moved[av.part("head")].max() < 1e-6


def test_follows_another_skeleton():
    rest = TEMPLATE.rest_positions() * 1.1
    sk = Skeleton.from_rest_positions(JOINT_NAMES, PARENTS, rest, TEMPLATE.tips * 1.1)
    big = build_avatar(sk)
    small = build_avatar()
    assert build_avatar(sk) is big  # cached per skeleton
    assert np.allclose(np.ptp(big.vertices, axis=0), 1.1 * np.ptp(small.vertices, axis=0), rtol=0.02)
    assert np.allclose(big.rest_joints, rest)


def test_vertex_normals_point_out(av):
    n = av.vertex_normals()
    assert np.allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-6)
    head = av.part("head")
    centre = av.vertices[head].mean(0)
    assert (np.einsum("ij,ij->i", n[head], av.vertices[head] - centre) > 0).all()


def test_one_normals_routine_for_one_frame_and_many(av):
    from core.avatar.normals import VertexNormals, vertex_normals

    # a regular octahedron: every corner sits on four equal faces, its normal points outward
    corners = np.concatenate([np.eye(3), -np.eye(3)])
    faces = []
    for sx in (1, -1):
        for sy in (1, -1):
            for sz in (1, -1):
                tri = [0 if sx > 0 else 3, 1 if sy > 0 else 4, 2 if sz > 0 else 5]
                faces.append(tri if sx * sy * sz > 0 else tri[::-1])
    n = vertex_normals(corners, np.array(faces))
    np.testing.assert_allclose(n, corners, atol=1e-12)
    # frames at once equal frame by frame; float32 stays float32
    posed = av.skin(np.tile(np.eye(3), (2, av.n_joints, 1, 1)), np.stack([av.rest_joints, av.rest_joints + 0.1]))
    many = VertexNormals(av.faces, av.n_vertices)(posed)
    assert many.dtype == np.float32 and many.shape == posed.shape
    for t in range(2):
        np.testing.assert_allclose(many[t], av.vertex_normals(posed[t]), atol=1e-5)

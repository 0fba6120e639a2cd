"""Left and right hands survive every export: an asymmetric hand pose (left index curled 90
degrees, right pinky 45 degrees) comes out on the correct hand, bent towards the palm, in every
format and every reader we did not write."""

from __future__ import annotations

import numpy as np
import pytest
from export_readers import BLENDER, Z_UP, blender_read, bvhio_read, finger_bends, hands_sequence, pybvh_read, ufbx_read

from core.avatar import build_avatar
from core.io import bvh, fbx, registry
from core.kinematics.fk import forward_kinematics
from core.model.skeleton import JOINT_NAMES

VARIANTS = [("y", "m"), ("z", "cm")]
EXPECTED = {("left", "index"): (90.0, 1.0), ("right", "pinky"): (45.0, np.sin(np.pi / 4))}


def to_ours(points: np.ndarray, up: str, unit: str) -> np.ndarray:
    """A reader's raw positions (file axes and unit) -> our frame, metres."""
    c = np.eye(3) if up == "y" else Z_UP
    return np.asarray(points) @ c / (100.0 if unit == "cm" else 1.0)


def check_hands(rest: dict, posed: dict, where: str) -> None:
    bends = finger_bends(rest, posed)
    for key, (angle, down) in bends.items():
        if key in EXPECTED:
            want_angle, want_down = EXPECTED[key]
            assert abs(angle - want_angle) < 0.5, (where, key, angle)
            assert abs(down - want_down) < 0.01, (where, key, down)  # towards the palm
        else:
            assert angle < 0.5, (where, key, angle)
    # the subject's left hand is on +X
    assert posed["left_wrist"][0] > 0.5 and posed["right_wrist"][0] < -0.5, where


@pytest.fixture(scope="module")
def seq():
    return hands_sequence()


@pytest.fixture(scope="module")
def files(tmp_path_factory, seq):
    folder = tmp_path_factory.mktemp("hands")
    out = {}
    for up, unit in VARIANTS:
        out["bvh", up, unit] = folder / f"hands_{up}_{unit}.bvh"
        bvh.write(out["bvh", up, unit], seq, up=up, unit=unit)
        for mesh in (False, True):
            kind = "fbx+mesh" if mesh else "fbx"
            out[kind, up, unit] = folder / f"hands_{kind.replace('+', '_')}_{up}_{unit}.fbx"
            fbx.write(out[kind, up, unit], seq, up=up, unit=unit, mesh=mesh)
    return out


def test_the_pose_itself_is_what_the_test_expects(seq):
    p = forward_kinematics(seq.skeleton, seq.rotations)[1]
    check_hands(dict(zip(JOINT_NAMES, p[0])), dict(zip(JOINT_NAMES, p[1])), "our FK")


@pytest.mark.parametrize("up,unit", VARIANTS)
def test_bvh_pybvh(files, up, unit):
    pos, _ = pybvh_read(files["bvh", up, unit])
    frame = {n: to_ours(pos[n], up, unit) for n in JOINT_NAMES}
    check_hands({n: v[0] for n, v in frame.items()}, {n: v[1] for n, v in frame.items()}, "pybvh")


@pytest.mark.parametrize("up,unit", VARIANTS)
def test_bvh_bvhio(files, up, unit):
    pos, _, _ = bvhio_read(files["bvh", up, unit], [0, 1])
    frame = {n: to_ours(pos[n], up, unit) for n in JOINT_NAMES}
    check_hands({n: v[0] for n, v in frame.items()}, {n: v[1] for n, v in frame.items()}, "bvhio")


@pytest.mark.parametrize("up,unit", VARIANTS)
def test_bvh_our_reader(files, up, unit):
    back = registry.read(files["bvh", up, unit])
    p = forward_kinematics(back.skeleton, back.rotations, back.translation)[1]
    check_hands(dict(zip(JOINT_NAMES, p[0])), dict(zip(JOINT_NAMES, p[1])), "core.io.bvh")


@pytest.fixture(scope="module")
def ufbx_scenes(files):
    return ufbx_read([p for k, p in files.items() if k[0] != "bvh"], [0, 1], skin=True)


@pytest.mark.parametrize("kind", ["fbx", "fbx+mesh"])
@pytest.mark.parametrize("up,unit", VARIANTS)
def test_fbx_ufbx(ufbx_scenes, files, kind, up, unit):
    r = ufbx_scenes[files[kind, up, unit]]
    raw = r["positions"]["raw"]
    check_hands(
        {n: to_ours(raw[0][n], up, unit) for n in JOINT_NAMES},
        {n: to_ours(raw[1][n], up, unit) for n in JOINT_NAMES},
        "ufbx raw",
    )
    conv = r["positions"]["ours"]
    check_hands(conv[0], conv[1], "ufbx converted")


def check_mesh_fingers(rest: np.ndarray, posed: np.ndarray, where: str) -> None:
    """Skinned avatar vertices (our frame): the left index and right pinky went down, towards
    the palm, the left index the most; no other finger moved."""
    av = build_avatar()
    drop = rest[:, 1] - posed[:, 1]
    moved = np.linalg.norm(posed - rest, axis=1)
    left_index, right_pinky = av.part("left_index"), av.part("right_pinky")
    assert drop[left_index].max() > 0.05 and drop[right_pinky].max() > 0.015, where
    assert drop[right_pinky].max() < drop[left_index].max(), where
    assert (posed[left_index][:, 0] > 0.5).all() and (posed[right_pinky][:, 0] < -0.5).all(), where
    for side in ("left", "right"):
        for f in ("index", "middle", "ring", "pinky", "thumb"):
            if (side, f) not in EXPECTED:
                assert moved[av.part(f"{side}_{f}")].max() < 1e-4, (where, side, f)


@pytest.mark.parametrize("up,unit", VARIANTS)
def test_fbx_mesh_ufbx_skinning(ufbx_scenes, files, up, unit):
    r = ufbx_scenes[files["fbx+mesh", up, unit]]
    skinned = r["skinned"]["raw"]
    check_mesh_fingers(to_ours(skinned[0], up, unit), to_ours(skinned[1], up, unit), "ufbx skinning")


@pytest.mark.skipif(BLENDER is None, reason="Blender is not installed")
def test_blender_every_format(files):
    opts = {("y", "m"): {}, ("z", "cm"): {"axis_forward": "Y", "axis_up": "Z", "global_scale": 0.01}}
    requests = [(p, opts[k[1], k[2]] if k[0] == "bvh" else {}) for k, p in files.items()]
    got = blender_read(requests, [0, 1])
    for key, path in files.items():
        r = got[path]
        # Blender's world is Z up, facing -Y: back to ours
        rest = {n: r["positions"][0][n] @ Z_UP for n in JOINT_NAMES}
        posed = {n: r["positions"][1][n] @ Z_UP for n in JOINT_NAMES}
        check_hands(rest, posed, f"Blender {key}")
        if key[0] == "fbx+mesh":
            check_mesh_fingers(r["mesh"][0] @ Z_UP, r["mesh"][1] @ Z_UP, f"Blender mesh {key}")

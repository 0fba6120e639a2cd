"""BVH export/import, checked with readers we did not write (pybvh, bvhio, Blender)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from export_readers import BLENDER, Z_UP, blender_read, bvhio_read, in_target, pybvh_read, signing_sequence

from core.io import bvh, registry
from core.io.errors import FormatError
from core.kinematics.fk import forward_kinematics
from core.model.sequence import new_sequence
from core.model.skeleton import JOINT_NAMES, N_JOINTS, PARENTS, Skeleton
from core.model.template import TEMPLATE

FRAMES = [0, 7, 15, 23]
VARIANTS = [("y", "m"), ("y", "cm"), ("z", "m"), ("z", "cm")]


@pytest.fixture(scope="module")
def seq():
    return signing_sequence(t=24, fps=30.0)


@pytest.fixture(scope="module")
def fk(seq):
    return forward_kinematics(seq.skeleton, seq.rotations, seq.translation)[1]


@pytest.fixture(scope="module")
def exported(tmp_path_factory, seq):
    folder = tmp_path_factory.mktemp("bvh")
    out = {}
    for up, unit in VARIANTS:
        out[up, unit] = folder / f"sign_{up}_{unit}.bvh"
        bvh.write(out[up, unit], seq, up=up, unit=unit)
    return out


def test_hierarchy_follows_the_bvh_layout(exported, seq):
    text = exported["y", "m"].read_text()
    assert text.startswith("HIERARCHY\nROOT pelvis\n")
    joints = re.findall(r"^\s*(?:ROOT|JOINT) (\S+)\n\s*\{\n\s*OFFSET [^\n]+\n\s*CHANNELS (\d+) ([^\n]+)$", text, re.M)
    assert sorted(n for n, _, _ in joints) == sorted(JOINT_NAMES)
    for name, count, channels in joints:
        if name == "pelvis":
            assert channels.split() == ["Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"]
        else:
            assert count == "3" and channels.split() == ["Zrotation", "Xrotation", "Yrotation"]
    leaves = [n for j, n in enumerate(JOINT_NAMES) if j not in PARENTS]
    assert len(leaves) == 13  # 10 finger tips, head, two feet
    assert text.count("End Site") == len(leaves)
    for name in leaves:  # each leaf's block holds an End Site before it closes
        block = text[text.index(f"JOINT {name}\n") :]
        assert block.index("End Site") < block.index("}\n", block.index("CHANNELS"))
    assert f"Frames: {seq.n_frames}\n" in text
    frame_time = re.search(r"Frame Time: (\S+)", text).group(1)
    assert len(frame_time.split(".")[1]) >= 9 and abs(1 / float(frame_time) - 30.0) < 1e-6
    rows = text.split("Frame Time:")[1].strip().splitlines()[1:]
    assert len(rows) == seq.n_frames and all(len(r.split()) == 3 + 3 * N_JOINTS for r in rows)


@pytest.mark.parametrize("up,unit", VARIANTS)
def test_pybvh_positions_match_our_fk(exported, fk, up, unit):
    pos, frame_time = pybvh_read(exported[up, unit])
    scale = 100.0 if unit == "cm" else 1.0
    expect = in_target(fk, up, unit)
    got = np.stack([pos[n] for n in JOINT_NAMES], axis=1)
    assert got.shape == expect.shape
    assert np.abs(got - expect).max() / scale < 1e-4
    assert abs(1 / frame_time - 30.0) < 1e-5


@pytest.mark.parametrize("up,unit", VARIANTS)
def test_bvhio_positions_match_our_fk(exported, fk, seq, up, unit):
    pos, frame_time, count = bvhio_read(exported[up, unit], FRAMES)
    scale = 100.0 if unit == "cm" else 1.0
    expect = in_target(fk[FRAMES], up, unit)
    got = np.stack([pos[n] for n in JOINT_NAMES], axis=1)
    assert np.abs(got - expect).max() / scale < 1e-4
    assert count == seq.n_frames and abs(1 / frame_time - 30.0) < 1e-5


@pytest.mark.parametrize("order", ["auto", "XYZ", "YZX", {"left_elbow": "XZY", "right_wrist": "ZYX"}])
def test_other_rotation_orders_read_the_same(tmp_path, seq, fk, order):
    path = tmp_path / "o.bvh"
    bvh.write(path, seq, order=order)
    pos, _ = pybvh_read(path)
    assert np.abs(np.stack([pos[n] for n in JOINT_NAMES], 1) - fk).max() < 1e-4
    if isinstance(order, dict):
        elbow = r"JOINT left_elbow\n\s*\{\n[^\n]*\n\s*CHANNELS 3 Xrotation Zrotation Yrotation"
        assert re.search(elbow, path.read_text())


def test_auto_order_keeps_middle_angle_away_from_gimbal_lock(tmp_path):
    # an elbow swinging to 100 degrees about Y: ZXY keeps Y last (fine); an order with Y in the
    # middle would pass through lock at 90
    t = np.linspace(0, np.radians(100), 20)
    rot = np.broadcast_to(np.eye(3), (20, N_JOINTS, 3, 3)).copy()
    c, s = np.cos(t), np.sin(t)
    rot[:, 18] = np.stack(
        [np.stack([c, 0 * t, s], -1), np.stack([0 * t, 1 + 0 * t, 0 * t], -1), np.stack([-s, 0 * t, c], -1)], -2
    )
    seq = new_sequence(rot, 25.0)
    path = tmp_path / "a.bvh"
    bvh.write(path, seq, order="auto")
    channels = re.search(
        r"JOINT left_elbow\n\s*\{\n[^\n]*\n\s*CHANNELS 3 (\w)rotation (\w)rotation (\w)rotation", path.read_text()
    ).groups()
    assert channels[1] != "Y"


@pytest.mark.parametrize("up,unit", VARIANTS)
def test_round_trip_through_our_reader(exported, seq, up, unit):
    back = bvh.read(exported[up, unit])
    assert back.n_frames == seq.n_frames and back.fps == 30.0
    assert back.skeleton.names == seq.skeleton.names and back.skeleton.parents == seq.skeleton.parents
    assert np.abs(back.rotations - seq.rotations).max() < 1e-5
    assert np.abs(back.translation - seq.translation).max() < 1e-5
    assert np.abs(back.skeleton.offsets - seq.skeleton.offsets).max() < 1e-5
    assert back.meta["bvh_up"] == up and back.meta["bvh_layout"] == "ours"


def test_reader_keeps_the_files_own_skeleton(tmp_path):
    # a taller signer standing on the floor: not the template's offsets
    rest = TEMPLATE.rest_positions() * 1.1 + [0.0, 1.02, 0.0]
    sk = Skeleton.from_rest_positions(JOINT_NAMES, PARENTS, rest, TEMPLATE.tips * 1.1)
    seq = signing_sequence(t=10, fps=25.0, skeleton=sk)
    path = tmp_path / "tall.bvh"
    registry.write(path, seq)
    back = registry.read(path)
    assert np.abs(back.skeleton.offsets - sk.offsets).max() < 1e-5
    assert np.abs(back.skeleton.tips - sk.tips).max() < 1e-5
    p0 = forward_kinematics(sk, seq.rotations, seq.translation)[1]
    p1 = forward_kinematics(back.skeleton, back.rotations, back.translation)[1]
    assert np.abs(p0 - p1).max() < 1e-5
    pos, _ = pybvh_read(path)
    assert np.abs(np.stack([pos[n] for n in JOINT_NAMES], 1) - p0).max() < 1e-4


@pytest.mark.parametrize("fps", [30.0, 30 / 1.001, 25.0, 24.0, 60.0, 12.5, 7.0])
def test_frame_time_gives_back_the_exact_rate(tmp_path, fps):
    seq = new_sequence(np.broadcast_to(np.eye(3), (3, N_JOINTS, 3, 3)), fps)
    path = tmp_path / "r.bvh"
    bvh.write(path, seq)
    frame_time = float(re.search(r"Frame Time: (\S+)", path.read_text()).group(1))
    assert abs(1 / frame_time - fps) < 1e-6 * fps
    assert abs(bvh.read(path).fps - fps) < 1e-9 * fps


# --- files from other tools -------------------------------------------------------------------

MIXAMO_BVH = """HIERARCHY
ROOT mixamorig:Hips
{
  OFFSET 0.0 95.0 0.0
  CHANNELS 6 Zrotation Xrotation Yrotation Xposition Yposition Zposition
  JOINT mixamorig:Spine
  {
    OFFSET 0.0 10.0 0.0
    CHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation
    JOINT mixamorig:LeftArm
    {
      OFFSET 18.0 35.0 0.0
      CHANNELS 3 Xrotation Yrotation Zrotation
      JOINT mixamorig:LeftForeArm
      {
        OFFSET 29.0 0.0 0.0
        CHANNELS 3 Xrotation Yrotation Zrotation
        JOINT mixamorig:LeftHand
        {
          OFFSET 25.0 0.0 0.0
          CHANNELS 3 Xrotation Yrotation Zrotation
          JOINT mixamorig:LeftHandIndex1
          {
            OFFSET 9.0 0.0 2.5
            CHANNELS 3 Xrotation Yrotation Zrotation
            End Site
            {
              OFFSET 4.0 0.0 0.0
            }
          }
        }
      }
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
0 0 0 0 95 0  0 10 0 0 0 0  0 0 0  0 0 0  0 0 0  0 0 0
0 0 0 5 95 0  0 10 0 0 0 0  0 0 -90  0 0 0  0 0 0  0 0 -90
"""


def test_reads_mixamo_names_any_channel_order_and_joint_positions(tmp_path):
    path = tmp_path / "mixamo.bvh"
    path.write_text(MIXAMO_BVH)
    seq = registry.read(path)
    assert seq.meta["bvh_scheme"] == "humanik" and seq.meta["bvh_layout"] == "retargeted"
    assert seq.fps == 30.0 and seq.n_frames == 2
    j = {n: i for i, n in enumerate(JOINT_NAMES)}
    p = forward_kinematics(seq.skeleton, seq.rotations, seq.translation)[1]
    # frame 1: LeftArm (our left_shoulder) rotated -90 about Z: the arm hangs straight down
    arm = p[1, j["left_elbow"]] - p[1, j["left_shoulder"]]
    assert np.allclose(arm / np.linalg.norm(arm), [0, -1, 0], atol=1e-6)
    # and the index, curled -90 about Z at its base, points back towards the body (+X -> -Y -> ...)
    finger = p[1, j["left_index2"]] - p[1, j["left_index1"]]
    hand = p[1, j["left_wrist"]] - p[1, j["left_elbow"]]
    assert abs(np.dot(finger, hand)) < 1e-6 * np.linalg.norm(finger) * np.linalg.norm(hand)
    assert np.allclose(seq.translation[1] - seq.translation[0], [0.05, 0, 0], atol=1e-6)  # cm -> m
    assert seq.valid[0, j["left_wrist"]] and not seq.valid[0, j["right_wrist"]]


def test_a_foreign_rest_pose_is_retargeted_by_bone_direction(tmp_path):
    # the same rig in an A-pose: the forearm and hand hang 45 degrees down at rest
    text = MIXAMO_BVH.replace("OFFSET 25.0 0.0 0.0", "OFFSET 17.7 -17.7 0.0").replace(
        "OFFSET 9.0 0.0 2.5", "OFFSET 6.4 -6.4 2.5"
    )
    path = tmp_path / "apose.bvh"
    path.write_text(text)
    seq = registry.read(path)
    j = {n: i for i, n in enumerate(JOINT_NAMES)}
    p = forward_kinematics(seq.skeleton, seq.rotations, seq.translation)[1]
    forearm = p[0, j["left_wrist"]] - p[0, j["left_elbow"]]
    assert np.allclose(forearm / np.linalg.norm(forearm), [np.sqrt(0.5), -np.sqrt(0.5), 0], atol=1e-3)
    upper = p[0, j["left_elbow"]] - p[0, j["left_shoulder"]]
    assert np.allclose(upper / np.linalg.norm(upper), [1, 0, 0], atol=1e-3)


@pytest.mark.parametrize(
    "names,expected",
    [
        (
            ["Pelvis", "L_Hip", "L_Wrist", "R_Index1", "Spine3"],
            ["pelvis", "left_hip", "left_wrist", "right_index1", "spine3"],
        ),
        (
            [
                "mixamorig:Hips",
                "mixamorig:Spine",
                "mixamorig:Spine2",
                "mixamorig:LeftShoulder",
                "mixamorig:LeftArm",
                "mixamorig:RightForeArm",
                "mixamorig:RightHandThumb2",
                "mixamorig:LeftHandPinky3",
                "mixamorig:LeftUpLeg",
            ],
            [
                "pelvis",
                "spine1",
                "spine3",
                "left_collar",
                "left_shoulder",
                "right_elbow",
                "right_thumb2",
                "left_pinky3",
                "left_hip",
            ],
        ),
        (
            ["Hips", "LeftArm", "LeftForeArm", "LeftHand", "RightHandIndex1", "Head"],
            ["pelvis", "left_shoulder", "left_elbow", "left_wrist", "right_index1", "head"],
        ),
        (
            ["pelvis", "spine_01", "clavicle_l", "upperarm_l", "lowerarm_r", "hand_r", "index_02_l", "thumb_03_r"],
            [
                "pelvis",
                "spine1",
                "left_collar",
                "left_shoulder",
                "right_elbow",
                "right_wrist",
                "left_index2",
                "right_thumb3",
            ],
        ),
    ],
)
def test_known_naming_schemes(names, expected):
    _, mapping = bvh.match_joints(names)
    got = {JOINT_NAMES[ours]: names[theirs] for ours, theirs in mapping.items()}
    assert got == dict(zip(expected, names))


# --- malformed input and failed exports ---------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        "truncated_hierarchy",
        "fewer_rows",
        "more_rows",
        "nan",
        "text",
        "short_row",
        "no_motion",
        "zero_frames",
        "bad_channel",
    ],
)
def test_malformed_files_are_refused(exported, tmp_path, damage):
    text = exported["y", "m"].read_text()
    head, rows = text.split("Frame Time:")
    rows = rows.splitlines()
    ft, data = rows[0], rows[1:]
    broken = {
        "truncated_hierarchy": text[: len(text) // 20],
        "fewer_rows": head + "Frame Time:" + "\n".join([ft] + data[:-3]) + "\n",
        "more_rows": head + "Frame Time:" + "\n".join([ft] + data + data[:1]) + "\n",
        "nan": head
        + "Frame Time:"
        + "\n".join([ft] + data[:5] + [data[5].replace(data[5].split()[7], "nan", 1)] + data[6:]),
        "text": head + "Frame Time:" + "\n".join([ft] + data[:5] + ["x " + data[5].split(" ", 1)[1]] + data[6:]),
        "short_row": head + "Frame Time:" + "\n".join([ft] + data[:5] + [data[5].rsplit(" ", 1)[0]] + data[6:]),
        "no_motion": text.split("MOTION")[0],
        "zero_frames": text.split("MOTION")[0] + "MOTION\nFrames: 0\nFrame Time: 0.04\n",
        "bad_channel": text.replace("Zrotation Xrotation Yrotation", "Zrotation Xrotation Wrotation", 1),
    }[damage]
    path = tmp_path / "broken.bvh"
    path.write_text(broken)
    with pytest.raises(FormatError) as e:
        registry.read(path)
    assert "broken.bvh" in str(e.value) and "\n" not in str(e.value)


def _corrupt(seq, **arrays):
    for k, v in arrays.items():
        object.__setattr__(seq, k, v)  # what a buggy upstream stage could hand over
    return seq


@pytest.mark.parametrize("problem", ["nan_rotation", "nan_translation", "nan_offset", "not_rotation", "empty"])
def test_bad_values_are_refused_before_writing(tmp_path, problem):
    seq = signing_sequence(t=5)
    if problem == "nan_rotation":
        r = seq.rotations.copy()
        r[2, 30, 0, 0] = np.nan
        seq = _corrupt(seq, rotations=r)
    elif problem == "nan_translation":
        tr = seq.translation.copy()
        tr[1, 2] = np.inf
        seq = _corrupt(seq, translation=tr)
    elif problem == "nan_offset":
        off = TEMPLATE.offsets.copy()
        off[5] = np.nan
        seq = signing_sequence(t=5, skeleton=Skeleton(JOINT_NAMES, PARENTS, off, TEMPLATE.tips.copy()))
    elif problem == "not_rotation":
        r = seq.rotations.copy()
        r[3, 10] *= 2.0
        seq = _corrupt(seq, rotations=r)
    else:
        seq = new_sequence(np.zeros((0, N_JOINTS, 3, 3)), 30.0)
    target = tmp_path / "out.bvh"
    target.write_text("previous export\n")
    with pytest.raises(FormatError) as e:
        registry.write(target, seq)
    assert "out.bvh" in str(e.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bvh"]
    assert target.read_text() == "previous export\n"


def test_failed_export_leaves_no_partial_file(tmp_path):
    seq = signing_sequence(t=bvh.ROW_CHUNK + 100)

    def fail_midway(fraction: float) -> None:
        if 0 < fraction < 1:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        bvh.write(tmp_path / "new.bvh", seq, progress=fail_midway)
    assert list(tmp_path.iterdir()) == []


def test_bad_options_are_refused(tmp_path, seq):
    for opts in ({"unit": "mm"}, {"up": "x"}, {"order": "XXY"}):
        with pytest.raises(FormatError):
            bvh.write(tmp_path / "o.bvh", seq, **opts)
    assert list(tmp_path.iterdir()) == []


# --- Blender ---------------------------------------------------------------------------------


@pytest.mark.skipif(BLENDER is None, reason="Blender is not installed")
def test_blender_imports_each_variant_at_our_positions(exported, fk, seq):
    # Blender's importer assumes Y up and metres unless told: the defaults of our writer. Other
    # variants are imported with the options a user would set for them.
    opts = {
        ("y", "m"): {},
        ("y", "cm"): {"global_scale": 0.01},
        ("z", "m"): {"axis_forward": "Y", "axis_up": "Z"},
        ("z", "cm"): {"axis_forward": "Y", "axis_up": "Z", "global_scale": 0.01},
    }
    got = blender_read([(exported[v], opts[v]) for v in VARIANTS], FRAMES)
    for v in VARIANTS:
        r = got[exported[v]]
        assert sorted(r["bones"]) == sorted(JOINT_NAMES)
        assert all(r["parents"][n] == (JOINT_NAMES[p] if p >= 0 else None) for n, p in zip(JOINT_NAMES, PARENTS))
        assert r["action_range"] == [1.0, float(seq.n_frames)]
        assert abs(r["fps"] - 30.0) < 1e-3
        for f in FRAMES:
            pos = np.stack([r["positions"][f][n] for n in JOINT_NAMES])
            assert np.abs(pos - fk[f] @ Z_UP.T).max() < 1e-4, (v, f)

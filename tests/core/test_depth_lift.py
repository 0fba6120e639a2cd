"""Depth check and lifting of flat / 2-D landmarks, per-joint validity, ``eval import``.

Fixtures are the bundled real clips with their z flattened or dropped on purpose, and synthetic
motions with a known answer; nothing here reads ../shared/realdata.
"""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from core.cli import main as cli_main
from core.io.pose_file import read, read_landmarks, write_landmarks
from core.kinematics.depth import check_depth
from core.kinematics.fk import forward_kinematics
from core.kinematics.ik import landmarks_to_sequence
from core.kinematics.ik_geometry import axis_angle
from core.kinematics.ik_synth import synthesize
from core.kinematics.import_eval import flatten_depth, front_counts, wrists_in_chest
from core.kinematics.landmarks import B, LandmarkSet
from core.kinematics.lift import _palm_model, _palm_poses, lift_body
from core.model.rotations import identity
from core.model.sequence import FrameState
from core.model.skeleton import JOINT_INDEX as J
from core.model.skeleton import RIGHT_HAND

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "assets" / "samples").glob("*.pose"))


@pytest.fixture(scope="module")
def samples() -> dict[str, LandmarkSet]:
    assert len(SAMPLES) >= 3
    return {p.stem: read_landmarks(p) for p in SAMPLES}


def _constant_z(lm: LandmarkSet) -> LandmarkSet:
    def c(a):
        a = a.copy()
        a[..., 2] = 7.0
        return a

    return LandmarkSet(
        c(lm.body), lm.body_ok, c(lm.hands), lm.hands_ok, c(lm.face), lm.face_ok, lm.fps, lm.width, lm.height, lm.meta
    )


def test_depth_check_tells_real_flat_and_missing_z_apart(samples):
    for name, lm in samples.items():
        real = check_depth(lm)
        assert real["body"].has_depth and real["hands"].has_depth, (name, real)
        flat = check_depth(flatten_depth(lm))
        assert flat["body"].kind == "flat" and flat["hands"].kind == "flat", (name, flat)
        dropped = flatten_depth(lm, drop=True)
        assert check_depth(dropped, has_z=False)["body"].kind == "2d"
        assert check_depth(_constant_z(lm))["hands"].kind == "2d"  # one constant z holds nothing


def _inside_torso(seq) -> np.ndarray:
    """(T, 2) observed wrists inside the chest: over the torso's front view and less than 5 cm in
    front of the chest joint."""
    rel, _ = wrists_in_chest(seq)
    sk = seq.skeleton
    rest = sk.rest_positions()
    half = 0.5 * abs(rest[sk.index("left_shoulder"), 0] - rest[sk.index("right_shoulder"), 0])
    top = rest[sk.index("left_shoulder"), 1] - rest[sk.index("spine3"), 1]
    bottom = rest[sk.index("pelvis"), 1] - rest[sk.index("spine3"), 1]
    valid = np.stack([seq.valid[:, sk.index(f"{s}_wrist")] for s in ("left", "right")], 1)
    over = (np.abs(rel[..., 0]) < half) & (rel[..., 1] < top) & (rel[..., 1] > bottom)
    return valid & over & (rel[..., 2] < 0.05)


@pytest.mark.parametrize("drop", [False, True], ids=["flat", "2d"])
def test_lifted_hands_work_in_front_of_the_body(samples, drop):
    raised = front = raised_old = front_old = 0
    for name, lm in samples.items():
        flat = flatten_depth(lm, drop=drop)
        seq = landmarks_to_sequence(flat)
        assert set(seq.meta["lifted"]) >= {"body", "hands"}, name
        r, f = front_counts(seq)
        raised, front = raised + r, front + f
        assert not _inside_torso(seq).any(), name  # never a hand inside the torso
        old = landmarks_to_sequence(flat, lift_depth=False)
        r, f = front_counts(old)
        raised_old, front_old = raised_old + r, front_old + f
    assert raised > 50
    assert front / raised >= 0.95
    assert front_old / raised_old < 0.8  # what flat files gave without lifting


def test_files_with_depth_are_read_exactly_as_before(samples):
    for name, lm in samples.items():
        new = landmarks_to_sequence(lm)
        old = landmarks_to_sequence(lm, lift_depth=False)
        assert new.meta["lifted"] == [], name
        assert np.array_equal(new.rotations, old.rotations) and np.array_equal(new.translation, old.translation)


def _reaching(t: int = 40) -> np.ndarray:
    """Both arms from hanging to reaching forward and back again, elbows bending."""
    rot = identity((t, 52)).astype(np.float64)
    s = np.sin(np.linspace(0, np.pi, t))
    z, x = np.broadcast_to([0.0, 0.0, 1.0], (t, 3)), np.broadcast_to([1.0, 0.0, 0.0], (t, 3))
    y = np.broadcast_to([0.0, 1.0, 0.0], (t, 3))
    for side, sign in (("left", -1.0), ("right", 1.0)):
        down = axis_angle(z, sign * 1.3 * np.ones(t))
        forward = axis_angle(x, -1.2 * s)  # swing the hanging arm forward
        rot[:, J[f"{side}_shoulder"]] = forward @ down
        rot[:, J[f"{side}_elbow"]] = axis_angle(sign * y, 0.3 + 1.0 * s)  # flex: forearm forward
    rot[:, J["spine3"]] = axis_angle(x, 0.05 * np.ones(t))
    return rot


def test_lift_body_recovers_a_known_reach():
    rot = _reaching()
    lm = synthesize(rot, metres_per_pixel=0.002)
    _, wp = forward_kinematics(__import__("core.model.template", fromlist=["TEMPLATE"]).TEMPLATE, rot)
    fwd = lift_body(lm.body, lm.body_ok) * 0.002  # metres
    for side in ("left", "right"):
        truth = wp[:, J[f"{side}_wrist"], 2] - wp[:, J[f"{side}_shoulder"], 2]
        lifted = fwd[:, B[f"{side}_wrist"]]
        reach = truth > 0.15
        assert reach.sum() > 10
        assert (lifted[reach] > 0).all()  # in front, never behind
        # lengths come from the clip's own projections: depth within 5 cm where it matters
        assert np.median(np.abs(lifted[reach] - truth[reach])) < 0.05


def test_palm_pose_is_one_of_the_two_mirror_solutions(rng):
    pts, basis, normal = _palm_model(__import__("core.model.template", fromlist=["TEMPLATE"]).TEMPLATE, "right")
    palm = pts[[0, 5, 9, 13, 17]]
    from scipy.spatial.transform import Rotation

    r = Rotation.random(20, random_state=1).as_matrix()
    scale = 400.0
    obs = np.einsum("tij,pj->tpi", r, palm)[..., :2] * scale
    rots, s, good = _palm_poses(obs, palm, basis, normal)
    assert good.all() and np.allclose(s, scale, rtol=1e-6)
    err = np.minimum(np.abs(rots[:, 0] - r).max(axis=(1, 2)), np.abs(rots[:, 1] - r).max(axis=(1, 2)))
    assert err.max() < 1e-6
    # the other solution projects the palm (nearly planar) almost the same way: the ambiguity is real
    other = np.where((np.abs(rots[:, 0] - r).max(axis=(1, 2)) < 1e-6)[:, None, None], rots[:, 1], rots[:, 0])
    extent = np.ptp(obs, axis=1).max()
    assert np.abs(np.einsum("tij,pj->tpi", other, palm)[..., :2] * scale - obs).max() < 0.1 * extent


def test_lifted_hand_shapes_are_no_worse_than_flat_ones(samples):
    from core.kinematics.import_eval import hand_shape_error_cm

    new, old, new_3d, old_3d = [], [], [], []
    for lm in samples.values():
        real_scale = landmarks_to_sequence(lm).meta["ik"]["depth_scales"]["hands"]
        flat = flatten_depth(lm)
        seq_new = landmarks_to_sequence(flat)
        seq_old = landmarks_to_sequence(flat, lift_depth=False)
        new.append(hand_shape_error_cm(seq_new, flat, 1.0, planar=True))
        old.append(hand_shape_error_cm(seq_old, flat, seq_old.meta["ik"]["depth_scales"]["hands"], planar=True))
        # against the clip's real 3-D hands, which the flattened file no longer holds
        new_3d.append(hand_shape_error_cm(seq_new, lm, real_scale, planar=False))
        old_3d.append(hand_shape_error_cm(seq_old, lm, real_scale, planar=False))
    assert np.mean(new) <= np.mean(old)
    assert np.mean(new) < 0.7  # cm on an 18 cm hand
    assert np.mean(new_3d) < np.mean(old_3d)


def _with_confidence(src: Path, dst: Path, component: str, frames: slice, value: float) -> None:
    from pose_format import Pose

    pose = Pose.read(src.read_bytes())
    start = 0
    for c in pose.header.components:
        if c.name == component:
            conf = np.array(pose.body.confidence)
            conf[frames, :, start : start + len(c.points)] = value
            pose.body.confidence = conf
            break
        start += len(c.points)
    else:
        raise AssertionError(f"no {component} in {src}")
    with open(dst, "wb") as f:
        pose.write(f)


def test_low_confidence_invalidates_only_the_joints_it_drives(tmp_path, samples):
    src = next(p for p in SAMPLES if read(p).valid[:, RIGHT_HAND].all(1).mean() > 0.8)
    dst = tmp_path / "lowconf.pose"
    _with_confidence(src, dst, "RIGHT_HAND_LANDMARKS", slice(5, 10), 0.3)
    base = read(src, min_confidence=0.5)
    seq = read(dst, min_confidence=0.5)
    lost = np.zeros(seq.n_frames, bool)
    lost[5:10] = True
    right = list(range(RIGHT_HAND.start, RIGHT_HAND.stop)) + [J["right_wrist"]]
    assert not seq.valid[lost][:, right].any()
    assert np.array_equal(seq.valid[~lost][:, right], base.valid[~lost][:, right])
    others = [j for j in range(seq.n_joints) if j not in right]
    assert np.array_equal(seq.valid[:, others], base.valid[:, others])
    assert (seq.base_states[lost] == FrameState.SOURCE).all()  # the frame is kept: only joints are filled
    assert np.isfinite(seq.rotations).all()
    # below the threshold nothing changes
    assert np.array_equal(read(dst, min_confidence=0.2).valid, read(src, min_confidence=0.2).valid)


def test_a_body_that_cannot_be_lifted_is_named(tmp_path, samples):
    lm = flatten_depth(next(iter(samples.values())), drop=True)
    body_ok = lm.body_ok.copy()
    body_ok[:, [B["left_shoulder"], B["right_shoulder"]]] = False
    lm = LandmarkSet(lm.body, body_ok, lm.hands, lm.hands_ok, lm.face, lm.face_ok, lm.fps, lm.width, lm.height, lm.meta)
    seq = landmarks_to_sequence(lm)
    assert "body" not in seq.meta["lifted"]
    assert any("shoulders are never seen" in w for w in seq.meta["warnings"])


def _run(argv) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        rc = cli_main(argv)
    return rc, out.getvalue()


def test_info_reports_depth_and_lifting(tmp_path, samples):
    rc, text = _run(["info", str(SAMPLES[0])])
    assert rc == 0 and "depth      body scaled_z" in text and "lifted" not in text
    lm = flatten_depth(next(iter(samples.values())))
    p = tmp_path / "flat.pose"
    write_landmarks(p, lm)
    rc, text = _run(["info", str(p)])
    assert rc == 0 and "body flat (lifted to 3-D)" in text
    rc, text = _run(["info", str(p), "--json", "--no-lift"])
    meta = json.loads(text)["meta"]
    assert meta["depth"]["body"]["kind"] == "flat" and meta["lifted"] == []


def test_eval_import_over_a_folder(tmp_path):
    for p in SAMPLES:
        shutil.copy(p, tmp_path / p.name)
    rc, text = _run(["eval", "import", str(tmp_path), "--json"])
    assert rc == 0
    result = json.loads(text)
    assert result["files"] == len(SAMPLES) and not result["unreadable"]
    s = result["summary"]
    assert s["as_read"]["front_share"] >= 0.92
    assert s["flattened"]["front_share"] >= 0.95 and s["2d"]["front_share"] >= 0.95
    assert s["flattened_unlifted"]["front_share"] < s["flattened"]["front_share"]
    for row in result["per_file"]:
        assert row["lifted"] == [] and set(row["flattened"]["lifted"]) >= {"body", "hands"}
        assert 0.0 <= row["repaired_joints"] <= row["repaired_frames"] <= 1.0
    rc, _ = _run(["eval", "import", str(tmp_path / "nothing-here")])
    assert rc == 2


def test_bench_import_reports_every_path():
    rc, text = _run(["bench", "import", "--minutes", "0.05", "--repeat", "1", "--json"])
    assert rc == 0
    result = json.loads(text)
    assert result["frames"] == 75
    assert set(result["frames_per_second"]) == {"real_depth", "flat_lifted", "flat_as_is", "2d_lifted"}
    assert all(v > 0 for v in result["frames_per_second"].values())

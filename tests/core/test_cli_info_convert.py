"""``python -m core info`` / ``convert`` (run as real subprocesses) and the crop / resample they use."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.io import project, registry
from core.kinematics.resample import crop, resample
from core.model.sequence import Keyframe, KeyKind, Label, Segment
from tests.core.helpers_io import ROOT, edited_sequence, random_sequence


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic angle between rotation matrices (..., 3, 3)."""
    ra = Rotation.from_matrix(a.reshape(-1, 3, 3))
    rb = Rotation.from_matrix(b.reshape(-1, 3, 3))
    return (ra.inv() * rb).magnitude().reshape(a.shape[:-2])


# --- info ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["x.signframe", "x.npz", "x.smplx.npz", "x.signspark.npz"])
def test_info_json_on_each_format(tmp_path, name):
    seq = edited_sequence(40)
    path = tmp_path / name
    registry.write(path, seq)
    r = cli("info", path, "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["file"] == str(path) and info["frames"] == 40 and info["fps"] == seq.fps
    assert info["duration_s"] == pytest.approx(40 / seq.fps)
    assert info["joints"] == 52 and len(info["joint_names"]) == 52 and info["joint_names"][0] == "pelvis"
    expected_format = {
        "x.signframe": "project",
        "x.npz": "smplx",
        "x.smplx.npz": "smplx",
        "x.signspark.npz": "signspark",
    }[name]
    assert info["format"] == expected_format
    if name == "x.signframe":  # the project holds keys, states, glosses, labels, text
        assert info["keyframes"] == [
            {"frame": 3, "kind": "onset"},
            {"frame": 7, "kind": "mid"},
            {"frame": 11, "kind": "offset"},
            {"frame": 21, "kind": "user"},
        ]
        assert info["segments"] == [
            {"start": 3, "end": 11, "gloss": "HELLO"},
            {"start": 15, "end": 37, "gloss": "WORLD"},
        ]
        assert info["states"] == {"key": 4, "source": 27, "warped": 0, "generated": 9}
        assert info["text"] == "hello world" and info["language"] == "BSL"
    if name in ("x.signframe", "x.signspark.npz"):
        assert info["labels"] == seq.labels.tolist()
    else:  # SMPL-X parameter files hold no labels
        assert info["labels"] == [0] * 40 and info["segments"] == []


def test_info_json_on_bvh(tmp_path):
    """BVH (its reader lives in core.io.bvh) through the same command."""
    if importlib.util.find_spec("core.io.bvh") is None:
        pytest.skip("core.io.bvh is not in this build")
    registry.write(tmp_path / "a.bvh", random_sequence(12, seed=4, fps=25.0))
    r = cli("info", tmp_path / "a.bvh", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert (info["format"], info["frames"], info["fps"], info["joints"]) == ("bvh", 12, 25.0, 52)


def test_info_text_output(tmp_path):
    registry.write(tmp_path / "a.signframe", edited_sequence(40))
    r = cli("info", tmp_path / "a.signframe")
    assert r.returncode == 0, r.stderr
    assert "40 at 30 fps" in r.stdout and "keyframes  4" in r.stdout and "HELLO" in r.stdout


# --- convert ---------------------------------------------------------------------------


def test_convert_smplx_npz_project_round_trip(tmp_path):
    seq = random_sequence(30, seed=9)
    registry.write(tmp_path / "in.npz", seq)
    assert cli("convert", tmp_path / "in.npz", tmp_path / "mid.signframe").returncode == 0
    r = cli("convert", tmp_path / "mid.signframe", tmp_path / "out.smplx.npz", "--layout", "amass")
    assert r.returncode == 0, r.stderr
    a, b = np.load(tmp_path / "in.npz"), np.load(tmp_path / "out.smplx.npz")
    assert set(a.files) <= set(b.files)
    for key in a.files:
        if a[key].dtype.kind == "f":
            np.testing.assert_allclose(b[key], a[key], atol=1e-6, rtol=0, err_msg=key)
        else:
            assert a[key] == b[key], key
    back = registry.read(tmp_path / "out.smplx.npz")
    np.testing.assert_allclose(back.rotations, seq.rotations, atol=1e-6, rtol=0)


def test_convert_record_project_round_trip(tmp_path):
    seq = random_sequence(30, seed=10, fps=25.0)
    registry.write(tmp_path / "in.signspark.npz", seq)
    assert cli("convert", tmp_path / "in.signspark.npz", tmp_path / "mid.signframe").returncode == 0
    assert cli("convert", tmp_path / "mid.signframe", tmp_path / "out.signspark.npz").returncode == 0
    a, b = np.load(tmp_path / "in.signspark.npz"), np.load(tmp_path / "out.signspark.npz")
    assert set(a.files) == set(b.files)
    for key in a.files:
        if a[key].dtype.kind == "f":
            np.testing.assert_allclose(b[key], a[key], atol=1e-6, rtol=0, err_msg=key)
        else:
            np.testing.assert_array_equal(b[key], a[key], err_msg=key)


def test_convert_range_and_fps(tmp_path):
    seq = random_sequence(40, seed=11, fps=25.0)
    registry.write(tmp_path / "in.signframe", seq)
    r = cli("convert", tmp_path / "in.signframe", tmp_path / "out.signframe", "--range", "5:25", "--fps", "50")
    assert r.returncode == 0, r.stderr
    out = project.read(tmp_path / "out.signframe")
    assert out.fps == 50.0 and out.n_frames == 39  # frames 5..24 at twice the rate
    np.testing.assert_array_equal(out.rotations[::2], seq.rotations[5:25])
    np.testing.assert_array_equal(out.translation[::2], seq.translation[5:25])


def test_convert_passes_writer_options_it_accepts(tmp_path):
    if importlib.util.find_spec("core.io.bvh") is None:
        pytest.skip("core.io.bvh is not in this build")
    registry.write(tmp_path / "in.signframe", random_sequence(5, seed=1))
    r = cli("convert", tmp_path / "in.signframe", tmp_path / "a.bvh", "--unit", "cm", "--up", "z")
    assert r.returncode == 0, r.stderr
    r = cli("convert", tmp_path / "in.signframe", tmp_path / "b.bvh", "--layout", "parts")
    assert r.returncode == 2 and "--layout" in r.stderr and not (tmp_path / "b.bvh").exists()


def _nan_npz(path):
    p = np.zeros((4, 165))
    p[1, 5] = np.nan
    np.savez(path, poses=p, trans=np.zeros((4, 3)))


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "unknown ext",
        "option not taken",
        "bad range",
        "empty range",
        "NaN input",
        "write-only input",
        "bad fps",
    ],
)
def test_convert_errors_are_one_line_exit_2(tmp_path, case):
    good = tmp_path / "good.signframe"
    registry.write(good, random_sequence(10, seed=2))
    nan = tmp_path / "nan.npz"
    _nan_npz(nan)
    joints = tmp_path / "j.joints.npz"
    registry.write(joints, random_sequence(3, seed=2))
    args, named = {
        "missing": ((tmp_path / "none.npz", tmp_path / "o.signframe"), "none.npz"),
        "unknown ext": ((good, tmp_path / "o.xyz"), "o.xyz"),
        "option not taken": ((good, tmp_path / "o.npz", "--up", "z"), "--up"),
        "bad range": ((good, tmp_path / "o.npz", "--range", "a:b"), "--range"),
        "empty range": ((good, tmp_path / "o.npz", "--range", "8:3"), "--range"),
        "NaN input": ((nan, tmp_path / "o.signframe"), "nan.npz"),
        "write-only input": ((joints, tmp_path / "o.signframe"), "j.joints.npz"),
        "bad fps": ((good, tmp_path / "o.npz", "--fps", "0"), "--fps"),
    }[case]
    r = cli("convert", *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1 and named in r.stderr
    assert not (tmp_path / "o.signframe").exists() and not (tmp_path / "o.npz").exists()


def test_info_error_on_damaged_file(tmp_path):
    bad = tmp_path / "bad.signspark.npz"
    bad.write_bytes(b"PK\x03\x04 nope")
    r = cli("info", bad, "--json")
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and str(bad) in r.stderr


# --- crop / resample -------------------------------------------------------------------


def test_crop_shifts_keys_and_clips_glosses():
    seq = edited_sequence(40)  # keys 3, 7, 11, 21; glosses 3..11, 15..37, 30..31
    c = crop(seq, 5, 31)
    assert c.n_frames == 26
    assert c.keyframes == (Keyframe(2, KeyKind.MID), Keyframe(6, KeyKind.OFFSET), Keyframe(16, KeyKind.USER))
    assert c.glosses == (Segment(0, 6, "HELLO"), Segment(10, 25, "WORLD"), Segment(25, 25, None))
    for k, v in seq.frame_arrays().items():
        np.testing.assert_array_equal(c.frame_arrays()[k], v[5:31], err_msg=k)
    assert crop(seq, None, -10).n_frames == 30
    with pytest.raises(ValueError):
        crop(seq, 20, 10)


def test_resample_doubling_slerps_midpoints():
    seq = random_sequence(21, seed=12, fps=25.0)
    seq = seq.replace(rotations=seq.rotations, keyframes=(Keyframe(4, KeyKind.ONSET),))
    up = resample(seq, 50.0)
    assert up.n_frames == 41 and up.fps == 50.0
    np.testing.assert_array_equal(up.rotations[::2], seq.rotations)
    mid = up.rotations[1::2]
    a, b = seq.rotations[:-1], seq.rotations[1:]
    # a SLERP midpoint is half way along the geodesic from each neighbour
    np.testing.assert_allclose(_angle(a, mid), _angle(a, b) / 2, atol=2e-6)
    np.testing.assert_allclose(_angle(mid, b), _angle(a, b) / 2, atol=2e-6)
    np.testing.assert_allclose(up.translation[1::2], (seq.translation[:-1] + seq.translation[1:]) / 2, atol=1e-6)
    np.testing.assert_allclose(
        up.extra_frames["expression"][1::2],
        (seq.extra_frames["expression"][:-1] + seq.extra_frames["expression"][1:]) / 2,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        _angle(seq.extra_frames["jaw"][:-1], up.extra_frames["jaw"][1::2]),
        _angle(seq.extra_frames["jaw"][:-1], seq.extra_frames["jaw"][1:]) / 2,
        atol=2e-6,
    )
    assert up.keyframes == (Keyframe(8, KeyKind.ONSET),)
    assert resample(seq, 25.0) is seq


def test_resample_down_keeps_key_poses_and_onsets():
    seq = edited_sequence(40)  # 30 fps; keys 3, 7, 11, 21; B at 3 and 15
    down = resample(seq, 12.0)
    assert down.n_frames == int((40 - 1) * 0.4) + 1 == 16
    frames = {k.frame: k for k in down.keyframes}
    for old in (3, 7, 11, 21):
        new = int(np.floor(old * 0.4 + 0.5))
        assert new in frames
        np.testing.assert_array_equal(down.rotations[new], seq.rotations[old])
        np.testing.assert_array_equal(down.translation[new], seq.translation[old])
    # frame 7 (x 0.4 = 2.8) and frame 3 (1.2) stay apart; every sign onset survives
    assert (down.labels == Label.B).sum() == (seq.labels == Label.B).sum() == 2
    assert down.states.shape == (16,) and set(np.unique(down.base_states)) <= {0, 1}
    assert all(g.start <= g.end < 16 for g in down.glosses)


def test_convert_passes_landmark_options_to_the_pose_reader(tmp_path):
    clip = ROOT / "assets" / "samples" / "cse_letter_H.pose"
    if not clip.exists():
        pytest.skip("bundled .pose sample missing")
    outs = {}
    for name, extra in (("default", ()), ("raw", ("--no-smooth",)), ("template", ("--template-skeleton",))):
        out = tmp_path / f"{name}.joints.npz"
        r = cli("convert", str(clip), str(out), *extra)
        assert r.returncode == 0, r.stderr
        outs[name] = np.load(out, allow_pickle=False)["positions"]
    assert outs["default"].shape == outs["raw"].shape
    assert not np.allclose(outs["default"], outs["raw"])  # smoothing changed the motion
    assert not np.allclose(outs["default"], outs["template"])  # another skeleton
    r = cli("convert", str(ROOT / "assets" / "samples" / "default.signframe"), str(tmp_path / "x.bvh"), "--no-smooth")
    assert r.returncode == 2 and "--no-smooth does not apply" in r.stderr and "Traceback" not in r.stderr


# --- SMPL-X up axis ----------------------------------------------------------------------


def test_info_prints_the_detected_up_axis(tmp_path):
    from tests.core.test_io_smplx import write_z_up_amass

    write_z_up_amass(tmp_path / "amass.npz", t=10)
    r = cli("info", tmp_path / "amass.npz")
    assert r.returncode == 0, r.stderr
    assert "up axis    z (Z-up source, turned Y-up)" in r.stdout
    registry.write(tmp_path / "ours.npz", random_sequence(5, seed=3))
    r = cli("info", tmp_path / "ours.npz", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["meta"]["up_axis_source"] == "y"


def test_convert_up_axis_flag(tmp_path):
    """auto turns an AMASS file upright and writes it back Z-up; --up-axis y keeps it as stored;
    the flag is refused for inputs that are not SMPL-X."""
    from core.kinematics.fk import joint_positions
    from core.model.skeleton import JOINT_INDEX
    from tests.core.test_io_smplx import write_z_up_amass

    src = tmp_path / "amass.npz"
    write_z_up_amass(src, t=10, seed=2)
    assert cli("convert", src, tmp_path / "auto.signframe").returncode == 0
    r = cli("convert", src, tmp_path / "y.signframe", "--up-axis", "y")
    assert r.returncode == 0, r.stderr
    head, pelvis = JOINT_INDEX["head"], JOINT_INDEX["pelvis"]
    up = project.read(tmp_path / "auto.signframe")
    pos = joint_positions(up.skeleton, up.rotations, up.translation)
    assert (pos[:, head, 1] > pos[:, pelvis, 1] + 0.4).all()
    stored = project.read(tmp_path / "y.signframe")
    pos = joint_positions(stored.skeleton, stored.rotations, stored.translation)
    assert (pos[:, head, 2] > pos[:, pelvis, 2] + 0.4).all()
    r = cli("convert", tmp_path / "auto.signframe", tmp_path / "back.npz")
    assert r.returncode == 0, r.stderr
    a, b = np.load(src), np.load(tmp_path / "back.npz")
    for key in ("poses", "trans"):
        np.testing.assert_allclose(b[key], a[key], atol=1e-6, rtol=0, err_msg=key)
    r = cli("convert", tmp_path / "auto.signframe", tmp_path / "o.npz", "--up-axis", "z")
    assert r.returncode == 2 and "--up-axis does not apply to project files" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "o.npz").exists()

"""Real-signing evaluation of the in-betweener and the classical fallbacks it hands gaps to:
C2 rotation spline, monotone cubic, per-gap fallbacks in the refiner, the tracking-gap protocol,
and ``eval kf2p`` on a folder of real ``.pose`` files (the bundled samples, copied)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")

from core.kinematics.slerp import inbetween_baseline, smoothstep  # noqa: E402
from core.ml import baselines as B  # noqa: E402
from core.ml import refiner as R  # noqa: E402
from core.ml.kf2p import eval as E  # noqa: E402
from core.ml.kf2p import inbetween as K  # noqa: E402
from core.ml.refiner import RefinerNet, load_refiner, save_refiner  # noqa: E402
from core.model.rotations import axis_angle_to_matrix  # noqa: E402
from core.model.sequence import FrameState, Keyframe, new_sequence  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def smooth_motion(t: int, seed: int = 0) -> np.ndarray:
    """(t, 52, 3, 3): slow sinusoids per joint (a C-infinity motion a spline should track)."""
    rng = np.random.default_rng(seed)
    s = np.arange(t)[:, None, None] / 25.0
    aa = 0.5 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6, (1, 52, 3)) * s + rng.uniform(0, 6, (1, 52, 3)))
    return axis_angle_to_matrix(aa).astype(np.float32)


def keyed(rot: np.ndarray, spacing: int) -> object:
    t = len(rot)
    seq = new_sequence(rot, 25.0, check_rotations=False)
    keys = sorted(set(range(0, t, spacing)) | {t - 1})
    return seq.replace(
        base_states=np.full(t, FrameState.GENERATED, np.uint8), keyframes=tuple(Keyframe(k) for k in keys)
    )


def err(a: np.ndarray, b: np.ndarray, joints=slice(12, 52)) -> float:
    return float(np.abs(a[:, joints] - b[:, joints]).mean())


def test_spline_fill_keeps_observations_and_tracks_smooth_motion_better_than_slerp():
    rot = smooth_motion(120)
    seq = keyed(rot, 6)
    spline = B.SplineInbetweener().fill_all(seq)
    slerp = inbetween_baseline(seq, None)
    keys = seq.key_frames
    assert np.array_equal(spline.rotations[keys], rot[keys])  # keys exact
    assert np.array_equal(spline.rotations[:, :12], inbetween_baseline(seq, smoothstep).rotations[:, :12])
    assert err(spline.rotations, rot) < 0.5 * err(slerp.rotations, rot)
    r = spline.rotations.reshape(-1, 3, 3).astype(np.float64)
    assert np.abs(r @ np.swapaxes(r, 1, 2) - np.eye(3)).max() < 1e-4


def test_spline_through_two_observations_is_slerp():
    rot = smooth_motion(20, seed=3)
    obs = np.zeros((20, 52), bool)
    obs[[2, 15]] = True
    got = B.spline_fill(rot, obs, range(52))
    from core.kinematics.slerp import slerp_fill

    want = slerp_fill(rot, obs, None)
    assert np.abs(got[2:16] - want[2:16]).max() < 1e-5


@pytest.mark.parametrize("name", ["pchip", "spline"])
def test_windowed_fallback_samplers_hit_keys_and_beat_slerp_on_smooth_motion(name):
    rot = smooth_motion(150, seed=1)
    seq = keyed(rot, 8)
    sampler = B.fallback_sampler(name, "body")
    inb = K.KF2PInbetweener({"body": sampler, "hand": B.fallback_sampler(name, "hand")})
    out = inb.fill_all(seq)
    keys = seq.key_frames
    assert np.array_equal(out.rotations[keys], rot[keys])
    assert err(out.rotations, rot) < err(inbetween_baseline(seq, None).rotations, rot)
    # windowed spline ~ whole-sequence spline away from the window edges
    if name == "spline":
        whole = B.SplineInbetweener().fill_all(seq)
        assert np.abs(out.rotations[30:120, 12:22] - whole.rotations[30:120, 12:22]).max() < 0.05


def _noisy(net: RefinerNet, seed: int) -> RefinerNet:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            if p.abs().sum() == 0:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
    return net.eval()


def test_fallback_table_hands_gaps_to_classical_methods_and_survives_a_checkpoint(tmp_path):
    """Gaps of 4 frames -> spline, 12 -> eased, 8 -> the network: each gap gets exactly that
    method's frames, and the table round-trips through save / load."""
    torch.manual_seed(0)
    body = _noisy(RefinerNet.create("body", timing=True), 1)
    body.spec = replace(body.spec, fallback_by_gap=((4, "spline"), (8, ""), (12, "eased")))
    path = save_refiner(tmp_path / "body.pt", body)
    loaded = load_refiner(path).model
    assert loaded.spec.fallback_by_gap == ((4, "spline"), (8, ""), (12, "eased"))
    rot = smooth_motion(200, seed=2)
    keys = list(range(0, 40, 4)) + list(range(40, 120, 8)) + list(range(120, 200, 12)) + [199]
    seq = keyed(rot, 4).replace(keyframes=tuple(Keyframe(k) for k in sorted(set(keys))))
    table = K.KF2PInbetweener({"body": K.RefinerSampler(loaded)}).fill_all(seq)
    net = K.KF2PInbetweener({"body": K.RefinerSampler(loaded, strength=1.0)}).fill_all(seq)
    spline = K.KF2PInbetweener({"body": B.fallback_sampler("spline", "body")}).fill_all(seq)
    eased = inbetween_baseline(seq, smoothstep)
    body_j = slice(12, 22)
    assert np.array_equal(table.rotations[1:36, body_j], spline.rotations[1:36, body_j])
    assert np.array_equal(table.rotations[121:192, body_j], eased.rotations[121:192, body_j])
    assert np.abs(table.rotations[41:112, body_j] - net.rotations[41:112, body_j]).max() < 1e-5
    assert np.abs(net.rotations[41:112, body_j] - eased.rotations[41:112, body_j]).max() > 1e-3
    with pytest.raises(ValueError):
        replace(body.spec, fallback_by_gap=((4, "cubic"),))


def test_network_is_skipped_where_every_gap_falls_back():
    """A refiner whose table hands every gap to eased SLERP returns the eased baseline exactly
    (and never runs the network: a broken network would not matter)."""
    body = RefinerNet.create("body", timing=True)
    body.spec = replace(body.spec, fallback_by_gap=((4, "eased"),))

    def broken(*a, **k):
        raise AssertionError("network called")

    body.forward = broken
    seq = keyed(smooth_motion(80), 8)
    out = K.KF2PInbetweener({"body": K.RefinerSampler(body)}).fill_all(seq)
    assert np.array_equal(out.rotations, inbetween_baseline(seq, smoothstep).rotations)


def test_in_record_tells_tracking_gaps_from_key_gaps():
    obs = np.zeros((1, 30, 1), bool)
    obs[0, [0, 8, 16]] = True  # sparse keys
    obs[0, 20:24] = True
    obs[0, 27:30] = True  # a 3-frame dropout in a recording
    rec = R.in_record(torch.tensor(obs))[0, :, 0].numpy()
    assert rec[24:27].all()
    assert not rec[1:8].any() and not rec[9:16].any() and not rec[17:20].any()
    assert not rec[obs[0, :, 0]].any()


def test_tracking_gaps_lie_inside_tracked_stretches():
    rng = np.random.default_rng(0)
    valid = np.ones((300, 52), bool)
    valid[100:140, 40] = False  # the right hand lost for 40 frames
    joints = list(range(37, 52))
    gaps = E.tracking_gaps(valid, joints, rng)
    assert len(gaps) >= 5
    ok = valid[:, joints].all(axis=1)
    for a, b in gaps:
        assert 2 <= b - a <= 12
        assert ok[a - 2 : b + 2].all()
    assert all(b1 + 8 <= a2 for (_, b1), (a2, _) in zip(gaps, gaps[1:]))


def test_gap_protocol_scores_only_removed_frames_and_spline_wins_on_smooth_motion():
    from core.ml.kf2p.data import Clips

    rot = smooth_motion(200, seed=4)
    clips = Clips([rot], [np.ones((200, 52), bool)], ["x"], ["a"])
    res = E.gap_protocol(clips, {n: B.load_baseline(n) for n in ("slerp", "eased", "spline")})
    m = res["methods"]
    assert res["gaps"] > 0 and res["frames"] >= 2 * res["gaps"]
    assert m["spline"]["mpjpe"] < m["slerp"]["mpjpe"]
    assert m["slerp"]["ratio_vs_slerp"]["mpjpe"] == 1.0


@pytest.fixture()
def pose_folder(tmp_path):
    d = tmp_path / "real"
    d.mkdir()
    for f in sorted((ROOT / "assets" / "samples").glob("*.pose")):
        shutil.copy(f, d / f.name)
    return d


def test_eval_kf2p_on_a_folder_of_real_pose_files(pose_folder):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "eval",
            "kf2p",
            str(pose_folder),
            "--spacings",
            "4,8",
            "--phases",
            "1",
            "--model",
            "eased",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["kind"] == "real folder" and res["clips"] == len(list(pose_folder.glob("*.pose")))
    for stream in ("body", "hand"):
        row = res["summary"][stream]["8"]
        assert set(row) >= {"eased", "spline", "pchip", "timing_oracle"}
        assert row["eased"]["mpjpe_vs_slerp"] > 0
    assert {"slerp", "eased", "spline"} <= set(res["gap_protocol"]["methods"])
    half = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "eval",
            "kf2p",
            str(pose_folder),
            "--spacings",
            "8",
            "--phases",
            "1",
            "--model",
            "eased",
            "--half",
            "odd",
            "--no-gaps",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert half.returncode == 0, half.stderr
    assert json.loads(half.stdout)["clips"] == len(list(pose_folder.glob("*.pose"))) // 2


def test_real_calibration_rule_and_tables():
    """``choose``: the lowest MPJPE among candidates at least 1 % below eased SLERP that are not
    worse on DTW-JPE and not rougher; eased SLERP when none qualifies. ``specs_from_choice``
    turns the choice into the refiner's tables (strength 0 wherever a classical method is used)."""
    from core.ml.kf2p import realcal as C

    def m(mpjpe, dtw=1.0, vel=1.0, jerk=1.0):
        return {"mpjpe": mpjpe, "dtw_jpe": dtw, "velocity_error": vel, "jerk_error": jerk}

    rows = {
        "eased": m(1.0),
        "pchip": m(0.90, dtw=1.01),
        "spline": m(0.95),
        "model@0.5": m(0.80, jerk=1.2),
        "model@0.25": m(0.995),
    }
    assert C.choose(rows, list(rows))[0] == "spline"  # pchip: worse DTW; model@0.5: jerk; 0.25: < 1 %
    assert C.choose({"eased": m(1.0), "pchip": m(1.2)}, ["eased", "pchip"])[0] == "eased"
    spec = R.RefinerSpec("hand", 15, timing=True)
    choice = {"4": {"method": "pchip"}, "8": {"method": "model@0.5"}, "12": {"method": "eased"}}
    out = C.specs_from_choice(spec, choice, record="eased")
    assert out.strength_by_gap == ((4, 0.0), (8, 0.5), (12, 0.0))
    assert out.fallback_by_gap == ((4, "pchip"), (8, ""), (12, "eased"))
    assert out.geometry == 0.0 and out.record_fallback == "eased" and out.strength == 0.5

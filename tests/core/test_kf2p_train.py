"""Training the bundled refiner: samples, augmentation, losses, the CLI, resume, eval."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from core.kinematics.fk import joint_positions  # noqa: E402
from core.ml.kf2p import adapt as KA  # noqa: E402
from core.ml.kf2p import data as KD  # noqa: E402
from core.ml.kf2p import loss as KL  # noqa: E402
from core.model.rotations import axis_angle_to_matrix  # noqa: E402
from core.model.template import TEMPLATE  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def synthetic_clips(n_clips: int = 24, seed: int = 0) -> KD.Clips:
    """Smooth random motion, 6 'languages'; the last hand untracked in some frames."""
    rng = np.random.default_rng(seed)
    clips = KD.Clips()
    for i in range(n_clips):
        t = int(rng.integers(30, 60))
        s = np.arange(t)[:, None, None] / 25.0
        aa = 0.4 * np.sin(2 * np.pi * rng.uniform(0.5, 2.0, (1, 52, 3)) * s + rng.uniform(0, 6, (1, 52, 3)))
        valid = np.ones((t, 52), bool)
        valid[: t // 3, 22:37] = False  # left hand not detected at first
        clips.rotations.append(axis_angle_to_matrix(aa).astype(np.float32))
        clips.valid.append(valid)
        clips.language.append(f"l{i % 6}")
        clips.text.append("a")
    return clips


def test_key_placement_spacing_phase_and_source_documents():
    rng = np.random.default_rng(0)
    gaps, firsts = [], []
    for _ in range(300):
        obs = KD.place_keys(200, rng)
        k = np.nonzero(obs)[0]
        gaps += np.diff(k).tolist()
        firsts.append(k[0])
    gaps = np.array(gaps)
    assert gaps.min() >= 3 and gaps.max() <= 24
    mid = np.mean((gaps >= 8) & (gaps <= 16))
    assert mid > 0.55  # weighted towards 8-16 (uniform over 3..24 would give 0.41)
    assert len(set(firsts)) > 8  # random phases
    fixed = KD.place_keys(100, rng, spacing=10)
    assert set(np.diff(np.nonzero(fixed)[0])) == {10}
    doc = KD.place_keys(100, rng, source_doc=True)
    assert 0.5 < doc.mean() < 1.0  # mostly SOURCE, one or two regenerated spans


def test_mirroring_reflects_the_body_and_is_its_own_inverse():
    rng = np.random.default_rng(1)
    rot = axis_angle_to_matrix(rng.normal(0, 0.5, (5, 52, 3))).astype(np.float32)
    rot[:, :12] = np.eye(3)
    valid = np.ones((5, 52), bool)
    valid[:, 20] = False
    m, v = KD._mirror_body(rot, valid)
    mm, vv = KD._mirror_body(m, v)
    assert np.allclose(mm, rot) and np.array_equal(vv, valid)
    assert not v[:, 21].any() and v[:, 20].all()  # validity swapped with the joints
    # the mirrored pose is the reflection x -> -x of the original (the template is symmetric)
    p = joint_positions(TEMPLATE, rot)[:, :22]
    q = joint_positions(TEMPLATE, m)[:, :22]
    swap = list(range(22))
    for a, b in KD.MIRROR_PAIRS + ((1, 2), (4, 5), (7, 8), (10, 11)):
        swap[a], swap[b] = b, a
    assert np.allclose(q[:, swap] * [-1, 1, 1], p, atol=1e-5)


def test_speed_resampling():
    rot = axis_angle_to_matrix(
        np.linspace(0, 1, 21)[:, None, None] * np.array([0, 0, 1.0]) * np.ones((21, 2, 1))
    ).astype(np.float32)
    valid = np.ones((21, 2), bool)
    same, _ = KD._resample(rot, valid, 1.0)
    assert same is rot
    fast, fv = KD._resample(rot, valid, 2.0)
    assert len(fast) == 11 and np.allclose(fast, rot[::2], atol=1e-5)
    slow, _ = KD._resample(rot, valid, 0.5)
    assert len(slow) == 41 and np.allclose(slow[::2], rot, atol=1e-5)


@pytest.mark.parametrize("timing", [False, True])
def test_samples_and_losses_are_well_formed(timing):
    from core.ml.refiner import refined

    clips = synthetic_clips()
    for stream, n in (("body", 10), ("hand", 15)):
        sm = KD.Sampler(clips, stream, 48, 0)
        b = sm.sample(6)
        assert b.gt.shape == (6, 48, n, 3, 3) and b.obs.shape == (6, 48, n)
        assert not (b.obs & ~b.valid).any()  # untracked joints are never keys
        lf = KL.StreamLoss(stream, 0.1, "cpu", phase_scale=0.25 if timing else None)
        d = KL.tensors(b, "cpu", lf)
        assert d["cond"].shape == (6, 6 * n + 2, 48)
        x1 = KL.target_state(d, lf)
        assert x1.shape == d["mask"].shape == d["target_ok"].shape == (6, (4 if timing else 3) * n, 48)
        # the target state rebuilds the ground truth from the baseline where it is known
        rebuilt = refined(d["base"], d["obs"], x1, lf.spec, 1.0)
        known = torch.from_numpy(b.valid & b.y_mask[..., None])
        assert torch.allclose(rebuilt[known], d["gt"][known], atol=1e-4)
        # point weights: only bracketed, generated frames count
        assert float(d["pw"].sum()) > 0
        assert float(d["pw"][torch.from_numpy(b.obs.all(-1))].sum()) == 0


@pytest.mark.parametrize("timing", [False, True])
def test_a_few_steps_reduce_the_loss_on_a_fixed_batch(timing):
    from core.ml.refiner import HashedTextEncoder, RefinerNet

    torch.manual_seed(0)
    clips = synthetic_clips()
    b = KD.Sampler(clips, "hand", 32, 1).sample(8, source_doc=0.0)
    model = RefinerNet.create("hand", "official-tiny", res_scale=0.2, timing=timing, phase_scale=0.25)
    lf = KL.StreamLoss.for_spec(model.spec, "cpu")
    opt = torch.optim.AdamW(model.parameters(), 3e-3)
    enc = HashedTextEncoder()

    def loss_at_t0():
        g = torch.Generator().manual_seed(5)
        with torch.no_grad():
            return KL.training_step(model, lf, b, g, enc, "cpu", text_dropout=0.0, det_frac=1.0, t0_frac=1.0)[0].item()

    before = loss_at_t0()
    gen = torch.Generator().manual_seed(0)
    for _ in range(40):
        loss, _ = KL.training_step(model, lf, b, gen, enc, "cpu", det_frac=1.0, t0_frac=1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss_at_t0() < 0.8 * before


def _run(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_cli_trains_resumes_and_writes_loadable_checkpoints(tmp_path):
    from core.ml.refiner import load_refiner

    data = tmp_path / "clips.npz"
    synthetic_clips(30).save(data)
    out = tmp_path / "model"
    common = [
        "train",
        "kf2p",
        "--data",
        str(data),
        "--out",
        str(out),
        "--stream",
        "hand",
        "--preset",
        "official-tiny",
        "--window",
        "32",
        "--batch",
        "4",
        "--val-batches",
        "1",
        "--no-progress",
        "--save-every",
        "3",
        "--state-dir",
        str(tmp_path / "state"),
    ]
    r = _run(*common, "--iters", "4", "--no-calibrate")
    assert r.returncode == 0, r.stderr
    first = load_refiner(out / "hand.pt")
    assert first.meta["steps"] == 4 and first.model.spec.stream == "hand"
    assert 0.0 <= first.model.spec.strength <= 1.5
    assert first.model.spec.strength_by_gap == ()
    r = _run(*common, "--iters", "7", "--resume", "--calibrate-spacings", "8")
    assert r.returncode == 0, r.stderr
    assert "resumed at step 4" in r.stderr
    second = load_refiner(out / "hand.pt")
    assert second.meta["steps"] == 7
    # the strength table was chosen on the validation language and written into the checkpoint
    assert [g for g, _ in second.model.spec.strength_by_gap] == [8]
    assert second.meta["calibration"]["per_spacing"]["8"]["strength"] == second.model.spec.strength_by_gap[0][1]
    # the default kind retimes: a phase table, then the off-path residual's
    assert second.model.spec.timing
    assert second.meta["calibration"]["per_spacing"]["8"]["geometry"] == second.model.spec.geometry_by_gap[0][1]
    assert (tmp_path / "state" / "train_state_hand.pt").is_file()
    # a timing run's state does not resume as another kind of model
    r = _run(*common, "--iters", "8", "--resume", "--kind", "residual", "--no-calibrate")
    assert r.returncode == 2 and "timing" in r.stderr and "Traceback" not in r.stderr
    assert not list(out.glob("train_state*"))  # optimizer state stays out of the model folder
    log = json.loads((out / "train_log.json").read_text())
    assert log["results"][0]["steps"] == 7
    # the trained folder is a model for inbetween / eval
    r = _run(
        "eval",
        "kf2p",
        str(data),
        "--json",
        "--model",
        str(out),
        "--split",
        "all",
        "--spacings",
        "4,8",
        "--phases",
        "1",
        "--max-runs",
        "6",
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    hand = res["results"]["hand"]["spacings"]["8"]
    assert {"slerp", "eased", "model"} <= set(hand)
    for name in ("slerp", "eased", "model"):
        for key in ("mpjpe", "pa_mpjpe", "dtw_jpe", "dtw_pa_jpe", "velocity_error", "jerk_error"):
            assert np.isfinite(hand[name][key])
        assert hand[name]["key_rotation_max_abs"] == 0.0  # keys hit exactly
    assert hand["eased"]["mpjpe"] != hand["slerp"]["mpjpe"]
    assert "ratio_vs_slerp" in hand["model"]


def test_cli_rejects_bad_input(tmp_path):
    r = _run("train", "kf2p", "--data", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "missing.npz" in r.stderr and "Traceback" not in r.stderr
    r = _run("train", "kf2p", "--data", str(tmp_path), "--window", "30")
    assert r.returncode == 2 and "multiple of 8" in r.stderr
    r = _run("eval", "kf2p", str(tmp_path / "missing.npz"))
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_adapt_to_this_sequence_uses_only_source_frames_outside_the_span():
    from core.ml.kf2p.inbetween import KF2PInbetweener, RefinerSampler
    from core.ml.refiner import RefinerNet
    from core.model.sequence import FrameState, Keyframe, new_sequence

    clip = synthetic_clips(1, seed=3)
    t = 200
    rot = np.concatenate([clip.rotations[0]] * 6)[:t]
    seq = new_sequence(rot, 25.0)
    states = np.full(t, FrameState.SOURCE, np.uint8)
    states[150:170] = FrameState.GENERATED
    states[180:] = FrameState.GENERATED
    seq = seq.replace(base_states=states, keyframes=(Keyframe(90), Keyframe(120), Keyframe(175)))
    src = KD.source_clips(seq, exclude=[(100, 110)])
    # the excluded span grows to its keys (90..120 inclusive); GENERATED frames never count, nor
    # stretches shorter than 12 frames (170..179)
    assert [len(r) for r in src.rotations] == [90, 29]
    torch.manual_seed(0)
    net = RefinerNet.create("hand", "official-tiny", res_scale=0.2)
    inb = KF2PInbetweener({"hand": RefinerSampler(net.eval())})
    before = {k: v.clone() for k, v in net.state_dict().items()}
    adapted = KA.adapt_inbetweener(inb, src, steps=3, batch=2, window=32)
    assert adapted is not inb and adapted.streams["hand"].model is not net
    after = adapted.streams["hand"].model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # the original is untouched
    assert KA.adapt_inbetweener(inb, src, steps=3, cancel=lambda: True) is None

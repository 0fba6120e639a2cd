"""In-betweening of a document through the KF2P path: baselines, refiner, windows, spans, CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from core.kinematics.slerp import inbetween_baseline, smoothstep  # noqa: E402
from core.ml.kf2p import inbetween as K  # noqa: E402
from core.ml.refiner import RefinerNet, save_refiner  # noqa: E402
from core.model.edits import move_keys, set_joint_rotations  # noqa: E402
from core.model.rotations import FLIP_SIGNS, axis_angle_to_matrix  # noqa: E402
from core.model.sequence import FrameState, Keyframe, new_sequence  # noqa: E402
from core.model.skeleton import LEFT_HAND, RIGHT_HAND  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def motion(t: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = np.arange(t)[:, None, None] / 25.0
    aa = 0.4 * np.sin(2 * np.pi * rng.uniform(0.3, 2.0, (1, 52, 3)) * s + rng.uniform(0, 6, (1, 52, 3)))
    return axis_angle_to_matrix(aa).astype(np.float32)


def keyed(t: int, spacing: int = 9, seed: int = 0, source: tuple[int, int] | None = None):
    """Keys every ``spacing`` frames, GENERATED elsewhere (SOURCE on ``source`` [a, b))."""
    seq = new_sequence(motion(t, seed), 25.0, np.zeros((t, 3)))
    states = np.full(t, FrameState.GENERATED, np.uint8)
    if source:
        states[source[0] : source[1]] = FrameState.SOURCE
    keys = list(range(0, t, spacing)) + [t - 1]
    return seq.replace(keyframes=tuple(Keyframe(k) for k in sorted(set(keys))), base_states=states)


def noisy(net: RefinerNet, seed: int = 0) -> RefinerNet:
    """A refiner whose output layers are not zero: a stand-in for a trained one."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            if p.abs().sum() == 0:  # the zero-initialised layers
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
    return net.eval()


def refiner_inb(zero: bool = False, timing: bool = False, **kw) -> K.KF2PInbetweener:
    torch.manual_seed(0)
    body, hand = RefinerNet.create("body", timing=timing), RefinerNet.create("hand", timing=timing)
    if not zero:
        body, hand = noisy(body, 1), noisy(hand, 2)
    samplers = {
        "body": K.RefinerSampler(body.eval(), variation=kw.pop("variation", 0.0)),
        "hand": K.RefinerSampler(hand.eval()),
    }
    return K.KF2PInbetweener(samplers, **kw)


def test_baselines_equal_the_classical_fill():
    seq = keyed(120, source=(40, 60))
    for name, ease in (("slerp", None), ("eased", smoothstep)):
        out = K.load_inbetweener(name).fill_all(seq)
        want = inbetween_baseline(seq, ease)
        assert np.array_equal(out.rotations, want.rotations)
        assert np.array_equal(out.translation, want.translation)


@pytest.mark.parametrize("timing", [False, True])
def test_zero_initialised_refiner_returns_the_eased_baseline_exactly(timing):
    seq = keyed(150)
    out = refiner_inb(zero=True, timing=timing).fill_all(seq)
    assert np.array_equal(out.rotations, inbetween_baseline(seq, smoothstep).rotations)


def test_running_the_models_leaves_the_callers_floats_ieee():
    """Denormals are flushed only while the models run: the calling thread's numpy arithmetic
    afterwards still has subnormals (a flag left on changed every later computation)."""
    tiny = np.array([5e-324])
    assert (tiny * 1.0)[0] != 0.0
    refiner_inb().fill_all(keyed(60))
    assert (tiny * 1.0)[0] != 0.0


@pytest.mark.parametrize("timing", [False, True])
def test_refiner_changes_only_generated_stream_joints_and_hits_keys(timing):
    seq = keyed(150, source=(60, 80))
    out = refiner_inb(timing=timing).fill_all(seq)
    eased = inbetween_baseline(seq, smoothstep)
    obs = seq.states != FrameState.GENERATED
    assert np.array_equal(out.rotations[obs], seq.rotations[obs])  # keys and SOURCE frames exact
    assert np.array_equal(out.rotations[:, :12], eased.rotations[:, :12])  # spine / legs: baseline
    assert np.array_equal(out.translation, eased.translation)
    gen = ~obs
    for joints in (slice(12, 22), LEFT_HAND, RIGHT_HAND):
        assert np.abs(out.rotations[gen][:, joints] - eased.rotations[gen][:, joints]).max() > 1e-3
    # outputs are rotations
    r = out.rotations.reshape(-1, 3, 3).astype(np.float64)
    assert np.abs(r @ np.swapaxes(r, 1, 2) - np.eye(3)).max() < 1e-4


def test_dirty_span_regeneration_equals_a_full_fill():
    inb = refiner_inb()
    seq = inb.fill_all(keyed(300))
    change = move_keys(seq, [99], 2)
    patch = inb.fill_patch(change.sequence, change.dirty)
    full = inb.fill_all(change.sequence)
    lo, hi = patch.start, patch.stop
    assert lo <= change.dirty[0] and hi >= change.dirty[1]
    assert np.abs(patch.rotations - full.rotations[lo:hi]).max() < 1e-5
    # and the service-style fill leaves everything outside the span untouched
    out = inb.fill(change.sequence, change.dirty, lambda: False, 0)
    assert np.array_equal(out.rotations[:lo], change.sequence.rotations[:lo])
    assert np.array_equal(out.rotations[hi:], change.sequence.rotations[hi:])


class CountingSampler:
    """Wraps a sampler and counts the frames it is asked to process."""

    def __init__(self, inner) -> None:
        self.inner, self.frames = inner, 0
        for k in ("stream", "max_window", "multiple", "channels", "label", "text_encoder"):
            setattr(self, k, getattr(inner, k))

    def sample(self, w, noise, steps, cancel, text):
        self.frames += int(w.base.shape[0] * w.base.shape[1])
        return self.inner.sample(w, noise, steps, cancel, text)


def test_edit_cost_does_not_grow_with_sequence_length():
    counts = []
    for t in (400, 4000):
        inb = refiner_inb()
        seq = keyed(t)
        spy = {k: CountingSampler(s) for k, s in inb.streams.items()}
        inb.streams = spy
        change = set_joint_rotations(seq, 198, [20], axis_angle_to_matrix(np.array([[0.3, 0, 0]])))
        inb.fill_patch(change.sequence, change.dirty)
        counts.append(sum(s.frames for s in spy.values()))
    assert counts[0] > 0 and counts[0] == counts[1]


def test_windows_batched_or_not_give_the_same_frames():
    seq = keyed(200, spacing=7)
    a = refiner_inb(batch=1).fill_all(seq)
    b = refiner_inb(batch=32).fill_all(seq)
    assert np.abs(a.rotations - b.rotations).max() < 1e-5


def test_noise_is_fixed_per_document_and_rerolled_on_request():
    seq = keyed(100)
    inb = refiner_inb(variation=1.0)
    a, b = inb.fill_all(seq, seed=3), inb.fill_all(seq, seed=3)
    c = inb.fill_all(seq, seed=inb.reroll(3))
    assert np.array_equal(a.rotations, b.rotations)
    assert np.abs(a.rotations - c.rotations).max() > 1e-4
    det = refiner_inb(variation=0.0)
    assert np.array_equal(det.fill_all(seq, seed=1).rotations, det.fill_all(seq, seed=2).rotations)
    # noise of a frame does not depend on the window it is drawn in
    f = np.arange(50, 120)
    assert np.array_equal(K.frame_noise(5, 1, f, 45)[10:], K.frame_noise(5, 1, f[10:], 45))


def test_one_right_hand_model_serves_both_hands_mirrored():
    """Swapping the hands (and flipping each) mirrors the result: left goes through the flip."""
    seq = keyed(120)
    rot = seq.rotations.copy()
    mir = rot.copy()
    mir[:, LEFT_HAND] = rot[:, RIGHT_HAND] * FLIP_SIGNS
    mir[:, RIGHT_HAND] = rot[:, LEFT_HAND] * FLIP_SIGNS
    seq_m = seq.replace(rotations=mir, source_rotations=mir)
    inb = refiner_inb()
    a, b = inb.fill_all(seq), inb.fill_all(seq_m)
    assert np.abs(b.rotations[:, LEFT_HAND] - a.rotations[:, RIGHT_HAND] * FLIP_SIGNS).max() < 1e-5
    assert np.abs(b.rotations[:, RIGHT_HAND] - a.rotations[:, LEFT_HAND] * FLIP_SIGNS).max() < 1e-5


def test_cancel_stops_a_fill():
    from core.ml.solver import Cancelled

    with pytest.raises(Cancelled):
        refiner_inb().fill_all(keyed(80), cancel=lambda: True)


def test_checkpoint_folder_and_official_layout_through_the_same_path(tmp_path):
    from core.ml.checkpoint import save_ours
    from core.ml.unet import KF2PNet, UNetConfig

    torch.manual_seed(3)
    save_refiner(tmp_path / "hand.pt", noisy(RefinerNet.create("hand"), 4))
    inb = K.load_inbetweener(str(tmp_path))
    assert set(inb.streams) == {"hand"}
    seq = keyed(90)
    out = inb.fill_all(seq)
    keys = seq.key_frames
    assert np.array_equal(out.rotations[keys], seq.rotations[keys])
    # an absolute-6D network (official layout, official-tiny size) on the body stream
    cfg = UNetConfig.preset("official-tiny", 60)
    net = KF2PNet(cfg, zero_init=False)
    save_ours(tmp_path / "abs_body.pt", net, cfg)
    both = K.load_inbetweener(f"{tmp_path / 'hand.pt'},{tmp_path / 'abs_body.pt'}", steps=2)
    assert set(both.streams) == {"hand", "body"}
    out2 = both.fill_all(seq)
    assert np.array_equal(out2.rotations[keys], seq.rotations[keys])
    r = out2.rotations[:, 12:22].reshape(-1, 3, 3).astype(np.float64)
    assert np.abs(r @ np.swapaxes(r, 1, 2) - np.eye(3)).max() < 1e-4
    with pytest.raises(K.ModelLoadError, match="no such file"):
        K.load_inbetweener(str(tmp_path / "nope.pt"))
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(K.ModelLoadError, match="junk.pt"):
        K.load_inbetweener(str(tmp_path / "junk.pt"))


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_inbetween_every_n_writes_keys_exactly(tmp_path):
    from core.io import registry

    seq = new_sequence(motion(60, 5), 25.0)
    src = tmp_path / "in.signframe"
    registry.write(src, seq)
    out = tmp_path / "out.signframe"
    r = _cli("inbetween", str(src), "--keys", "every:10", "--out", str(out), "--model", "slerp")
    assert r.returncode == 0, r.stderr
    res = registry.read(out)
    keys = list(range(0, 60, 10)) + [59]
    assert [k.frame for k in res.keyframes] == keys
    assert np.array_equal(res.rotations[keys], seq.rotations[keys])
    gen = np.setdiff1d(np.arange(60), keys)
    assert np.abs(res.rotations[gen] - seq.rotations[gen]).max() > 1e-3  # really regenerated
    # user mistakes: one line, exit 2
    for bad in (
        ["--keys", "every:x"],
        ["--keys", "frames:1,999"],
        ["--keys", "sometimes"],
        ["--keys", "every:4", "--model", str(tmp_path / "missing.pt")],
    ):
        r = _cli("inbetween", str(src), *bad, "--out", str(out))
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr


def test_jobs_registry_uses_this_module():
    from core import jobs

    spec = jobs.model_spec("bundled")
    target = spec.factory if isinstance(spec.factory, str) else ""
    assert target.split(":")[0] == "core.ml.kf2p.inbetween"
    if (K.BUNDLED_DIR / "body.pt").is_file():
        inb = jobs.create("bundled")
        seq = keyed(80)
        out = inb.fill(seq, (20, 30), lambda: False, 0)
        assert np.array_equal(out.rotations[seq.key_frames], seq.rotations[seq.key_frames])


def test_strength_table_scales_corrections_per_gap_length():
    """Strength 0 for short gaps and 1 for long ones: short gaps come back as the eased
    baseline, long gaps as the full correction (the same as a uniform strength of 1)."""
    from dataclasses import replace

    seq = keyed(160, spacing=4)
    keys = list(range(0, 60, 4)) + list(range(60, 160, 12)) + [159]
    seq = seq.replace(keyframes=tuple(Keyframe(k) for k in sorted(set(keys))))
    inb = refiner_inb()
    body = inb.streams["body"].model
    body.spec = replace(body.spec, strength_by_gap=((4, 0.0), (6, 0.0), (8, 1.0), (24, 1.0)))
    table = K.KF2PInbetweener({"body": K.RefinerSampler(body)})
    full = K.KF2PInbetweener({"body": K.RefinerSampler(body, strength=1.0)})
    eased = inbetween_baseline(seq, smoothstep)
    a, b = table.fill_all(seq), full.fill_all(seq)
    short, long_ = slice(1, 56), slice(61, 155)
    assert np.array_equal(a.rotations[short, 12:22], eased.rotations[short, 12:22])
    assert np.abs(a.rotations[long_, 12:22] - b.rotations[long_, 12:22]).max() < 1e-5
    assert np.abs(b.rotations[short, 12:22] - eased.rotations[short, 12:22]).max() > 1e-3

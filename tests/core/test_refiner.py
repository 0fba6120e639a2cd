"""The bundled refiner's pieces: SO(3) maths, the baseline in torch, features, checkpoints, text."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from core.kinematics.fk import forward_kinematics  # noqa: E402
from core.kinematics.slerp import slerp_fill, smoothstep  # noqa: E402
from core.ml import refiner as R  # noqa: E402
from core.model.rotations import axis_angle_to_matrix, matrix_to_axis_angle  # noqa: E402


def _rot(rng, shape, sigma=1.0):
    return axis_angle_to_matrix(rng.normal(0, sigma, shape + (3,)))


def test_so3_log_exp_match_scipy():
    rng = np.random.default_rng(0)
    aa = rng.normal(0, 1.0, (500, 3))
    aa[:3] = 0.0
    aa[3] = [1e-6, 0, 0]
    aa[4] = [0, 3.1, 0]  # near pi
    m = torch.tensor(axis_angle_to_matrix(aa))
    assert np.allclose(R.so3_log(m).numpy(), matrix_to_axis_angle(m.numpy()), atol=1e-6)
    assert np.allclose(R.so3_exp(torch.tensor(aa)).numpy(), m.numpy(), atol=1e-9)


@pytest.mark.parametrize("eased", [False, True])
def test_geodesic_fill_equals_numpy_slerp(eased):
    rng = np.random.default_rng(1)
    t, n = 50, 4
    rot = _rot(rng, (t, n), 0.9).astype(np.float32)
    obs = np.zeros((t, n), bool)
    obs[[2, 9, 21, 22, 40]] = True
    obs[30, 1] = True  # one joint observed alone
    want = slerp_fill(rot, obs, smoothstep if eased else None)
    got = R.geodesic_fill(torch.tensor(rot, dtype=torch.float64)[None], torch.tensor(obs)[None], eased)[0]
    assert np.abs(got.numpy() - want).max() < 1e-5
    assert np.array_equal(got.numpy()[obs], rot[obs])  # observed entries untouched


def test_condition_holds_baseline_velocities_and_gap_phase():
    rng = np.random.default_rng(2)
    t, n = 20, 3
    base = _rot(rng, (t, n), 0.5)
    obs = np.zeros((t, n), bool)
    obs[[0, 10, 19]] = True
    cond = R.refiner_condition(torch.tensor(base)[None], torch.tensor(obs)[None])[0].numpy()  # (6n+2, T)
    assert cond.shape == (6 * n + 2, t)
    rel = np.einsum("tjba,tjbc->tjac", base[:-1], base[1:])
    want = matrix_to_axis_angle(rel).reshape(t - 1, 3 * n).T * R.VEL_SCALE
    assert np.allclose(cond[: 3 * n, :-1], want, atol=1e-5)
    phase, gap = cond[6 * n], cond[6 * n + 1]
    assert phase[0] == 0 and phase[10] == 0  # observed
    assert np.isclose(phase[5], 0.5) and np.isclose(gap[5], 10 / R.GAP_SCALE)


def test_residual_round_trip():
    rng = np.random.default_rng(3)
    base = torch.tensor(_rot(rng, (2, 16, 5)))
    tgt = torch.tensor(_rot(rng, (2, 16, 5)))
    res = R.residual(base, tgt)
    assert res.shape == (2, 15, 16)
    assert torch.allclose(R.apply_residual(base, res), tgt, atol=1e-9)


def test_fresh_refiner_predicts_zero_velocity():
    torch.manual_seed(0)
    m = R.RefinerNet.create("hand").eval()
    x = torch.randn(2, 45, 32)
    v = m(
        x,
        torch.rand(2),
        torch.zeros_like(x),
        torch.zeros(2, 45, 32, dtype=torch.bool),
        torch.ones(2, 1, 32, dtype=torch.bool),
        torch.randn(2, 92, 32),
    )
    assert torch.count_nonzero(v) == 0


def test_checkpoint_round_trip_and_errors(tmp_path):
    torch.manual_seed(1)
    m = R.RefinerNet.create("body", res_scale=0.07, strength=0.6)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = R.save_refiner(tmp_path / "body.pt", m, {"note": "test"})
    loaded = R.load_refiner(path)
    assert loaded.model.spec == m.spec and loaded.meta == {"note": "test"}
    x = torch.randn(1, 30, 24)
    args = (
        x,
        0.3,
        torch.zeros_like(x),
        torch.zeros(1, 30, 24, dtype=torch.bool),
        torch.ones(1, 1, 24, dtype=torch.bool),
        torch.randn(1, 62, 24),
    )
    m.eval()
    with torch.no_grad():
        assert torch.equal(m(*args), loaded.model(*args))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(R.RefinerCheckpointError, match="bad.pt"):
        R.load_refiner(bad)
    other = tmp_path / "other.pt"
    torch.save({"format": "something-else"}, other)
    with pytest.raises(R.RefinerCheckpointError, match="not a Signframe KF2P refiner"):
        R.load_refiner(other)
    with pytest.raises(R.RefinerCheckpointError, match="no such file"):
        R.load_refiner(tmp_path / "missing.pt")


def test_half_checkpoint_is_smaller_and_close(tmp_path):
    torch.manual_seed(2)
    m = R.RefinerNet.create("hand")
    full = R.save_refiner(tmp_path / "f.pt", m)
    half = R.save_refiner(tmp_path / "h.pt", m, half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    a, b = m.state_dict(), R.load_refiner(half).model.state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-3, rtol=1e-3) for k in a)


def test_hashed_text_encoder():
    enc = R.HashedTextEncoder()
    a = enc.embed("hello", "ase")
    assert a.shape == (640,) and np.isclose(np.linalg.norm(a), enc.scale, atol=1e-4)
    assert np.array_equal(a, R.HashedTextEncoder().embed("hello", "ase"))  # stable
    assert not np.allclose(a, enc.embed("hello", "gsg"))  # the language tag counts
    assert not np.allclose(a, enc.embed("goodbye", "ase"))
    assert not np.any(enc.embed("", None))  # the null text
    assert enc(["a", "b"], ["ase", None]).shape == (2, 640)


@pytest.mark.parametrize("stream", ["body", "hand"])
def test_stream_points_depend_on_the_listed_joints(stream):
    """Turning one stream joint moves exactly the points whose ``depends`` lists it."""
    sp = R.stream_points(stream)
    sk, nf = sp["skeleton"], sp["n_fixed"]
    n = sk.n_joints - nf
    rng = np.random.default_rng(4)

    def points(rot):
        wr, wp = forward_kinematics(sk, rot[None])
        tips = wp + np.einsum("tjab,jb->tja", wr, sk.tips)
        return np.where(sp["is_tip"][:, None], tips[0, sp["points"]], wp[0, sp["points"]])

    rest = np.tile(np.eye(3), (sk.n_joints, 1, 1))
    rest[nf:] = _rot(rng, (n,), 0.3)
    p0 = points(rest)
    for j in range(n):
        turned = rest.copy()
        turned[nf + j] = turned[nf + j] @ _rot(rng, (), 0.5)
        moved = np.linalg.norm(points(turned) - p0, axis=-1) > 1e-9
        assert np.array_equal(moved, sp["depends"][:, j]), (stream, j)


def test_strength_by_gap_interpolates_and_clamps():
    spec = R.RefinerSpec("hand", 15, strength=0.9, strength_by_gap=[[4, 0.2], [8, 0.6], [16, 0.1]])
    assert spec.strength_by_gap == ((4, 0.2), (8, 0.6), (16, 0.1))  # JSON lists accepted
    got = spec.strength_at(torch.tensor([0.0, 4.0, 6.0, 8.0, 12.0, 16.0, 30.0]))
    assert torch.allclose(got, torch.tensor([0.2, 0.2, 0.4, 0.6, 0.35, 0.1, 0.1]))
    plain = R.RefinerSpec("hand", 15, strength=0.9)
    assert torch.allclose(plain.strength_at(torch.tensor([3.0, 20.0])), torch.tensor([0.9, 0.9]))
    assert R.RefinerSpec(**json.loads(json.dumps(spec.to_dict()))) == spec


def _keyed_on_geodesics(rng, b=2, t=21, n=4, keys=(0, 6, 20)):
    """Random key poses; in between, each joint on its key-to-key geodesic at a timing that is
    not the eased one (phase sqrt(u)). Returns (target, obs, base, true phase shift)."""
    gt = torch.tensor(_rot(rng, (b, t, n), 0.8))
    obs = torch.zeros(b, t, n, dtype=torch.bool)
    obs[:, list(keys)] = True
    for a, c in zip(keys[:-1], keys[1:]):
        w = R.so3_log(gt[:, a].transpose(-1, -2) @ gt[:, c])
        for f in range(a + 1, c):
            gt[:, f] = gt[:, a] @ R.so3_exp(((f - a) / (c - a)) ** 0.5 * w)
    base = R.geodesic_fill(gt, obs, eased=True)
    _, _, u, _ = R.bracket_torch(obs)
    shift = torch.where(obs, torch.zeros(()), u.double() ** 0.5 - R.smoothstep_t(u.double()))
    return gt, obs, base, shift


def test_timing_targets_find_the_phase_and_rebuild_the_target():
    rng = np.random.default_rng(7)
    gt, obs, base, shift = _keyed_on_geodesics(rng)
    spec = R.RefinerSpec("body", 4, res_scale=0.3, timing=True, phase_scale=0.2)
    phase, res = R.timing_targets(base, obs, gt)
    assert phase.shape == (2, 4, 21) and res.shape == (2, 12, 21)
    # a target on the key path: the phase is its timing and nothing is left off the path
    assert torch.allclose(phase.transpose(1, 2), shift, atol=1e-6)
    assert res.abs().max() < 1e-6
    # anything off the path comes back through the residual
    noisy = gt @ torch.tensor(_rot(rng, (2, 21, 4), 0.1))
    noisy = torch.where(obs[..., None, None], gt, noisy)
    phase, res = R.timing_targets(base, obs, noisy)
    x = torch.cat([phase / spec.phase_scale, res / spec.res_scale], dim=1)
    assert torch.allclose(R.refined(base, obs, x, spec, 1.0), noisy, atol=1e-6)


def test_timing_refiner_moves_joints_only_along_their_key_paths():
    rng = np.random.default_rng(8)
    gt, obs, base, _ = _keyed_on_geodesics(rng)
    spec = R.RefinerSpec("body", 4, res_scale=0.3, timing=True, phase_scale=0.2)
    zero = torch.zeros(2, 16, 21, dtype=base.dtype)
    assert torch.equal(R.refined(base, obs, zero, spec, 1.0), base)  # state 0: the eased baseline
    x = torch.tensor(rng.normal(0, 2.0, (2, 16, 21)))
    out = R.refined(base, obs, x, spec, 1.0, k_geometry=0.0)
    assert torch.equal(out[obs], base[obs])  # keys exact
    a, w, _, _ = R.key_geodesics(base, obs)
    v = R.so3_log(a.transpose(-1, -2) @ out)
    assert torch.linalg.cross(v, w).abs().max() < 1e-6  # on the geodesic ...
    along = (v * w).sum(-1) / (w * w).sum(-1).clamp_min(1e-12)
    inside = ~obs & ((w * w).sum(-1) > 0)
    assert along[inside].min() >= -1e-9 and along[inside].max() <= 1 + 1e-9  # ... between its keys
    assert (out - base).abs().max() > 0.05
    # strength 0 with no residual strength: the baseline
    assert torch.allclose(R.refined(base, obs, x, spec, 0.0, 0.0), base, atol=1e-12)


def test_timing_spec_round_trips_through_a_checkpoint(tmp_path):
    net = R.RefinerNet.create(
        "hand",
        "official-tiny",
        res_scale=0.2,
        timing=True,
        phase_scale=0.3,
        strength_by_gap=((4, 0.5), (16, 1.0)),
        geometry_by_gap=((4, 0.0), (16, 0.25)),
    )
    assert net.spec.channels == 60
    R.save_refiner(tmp_path / "hand.pt", net)
    back = R.load_refiner(tmp_path / "hand.pt").model.spec
    assert back == net.spec
    assert torch.allclose(back.geometry_at(torch.tensor([4.0, 10.0, 30.0])), torch.tensor([0.0, 0.125, 0.25]))

"""FAST features, network, checkpoint files, windowed inference and the training loop."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.ml.fast.features import HAND_DIM, hand_features
from core.ml.fast.infer import FastModelError, Segmenter, load_model, predict_features, save_model
from core.ml.fast.net import FastConfig, FastNet
from core.ml.fast.train import (
    Sample,
    TrainConfig,
    change_speed,
    evaluate_model,
    fast_loss,
    synthetic_sample,
    synthetic_samples,
    train,
)
from core.ml.segmentation import DecodeOptions
from core.model.rotations import axis_angle_to_matrix
from core.model.sequence import new_sequence, segments_from_labels
from core.model.skeleton import JOINT_NAMES, Skeleton
from core.model.template import TEMPLATE

torch.set_num_threads(1)
SMALL = FastConfig(width=32, layers=1, heads=2)


def random_sequence(rng, t=40, skeleton=TEMPLATE):
    rot = axis_angle_to_matrix(rng.normal(0, 0.4, (t, skeleton.n_joints, 3)).cumsum(0) * 0.1)
    return new_sequence(rot.astype(np.float32), 25.0, rng.normal(0, 0.01, (t, 3)).cumsum(0), skeleton=skeleton)


# --- features ------------------------------------------------------------------------------------
def _mirror(seq):
    """The same motion performed mirror-wise: M R M on every joint (M = diag(-1, 1, 1)), left and
    right joints swapped, translation mirrored."""
    m = np.diag([-1.0, 1.0, 1.0]).astype(np.float32)
    swap = [
        JOINT_NAMES.index(n.replace("left_", "@").replace("right_", "left_").replace("@", "right_"))
        for n in JOINT_NAMES
    ]
    rot = m @ seq.rotations[:, swap] @ m
    tr = seq.translation * np.array([-1, 1, 1], np.float32)
    return new_sequence(rot, seq.fps, tr)


def test_feature_layout_and_left_hand_conjugation_is_a_mirror(rng):
    seq = random_sequence(rng)
    f = hand_features(seq)
    assert f.shape == (seq.n_frames, 2, HAND_DIM) and f.dtype == np.float32
    g = hand_features(_mirror(seq))
    # a mirrored signer's left hand looks exactly like the original right hand, and vice versa
    np.testing.assert_allclose(g[:, 0], f[:, 1], atol=2e-5)
    np.testing.assert_allclose(g[:, 1], f[:, 0], atol=2e-5)


def test_finger_features_are_the_6d_rows_of_the_local_rotations(rng):
    seq = random_sequence(rng)
    f = hand_features(seq)
    right_index1 = JOINT_NAMES.index("right_index1")
    r = seq.rotations[:, right_index1]
    np.testing.assert_allclose(f[:, 1, 12:18], r[:, :2, :].reshape(-1, 6), atol=1e-6)
    # left hand enters conjugated: F R F = R * sign pattern
    left_index1 = JOINT_NAMES.index("left_index1")
    fl = seq.rotations[:, left_index1] * np.array([[1, -1, -1], [-1, 1, 1], [-1, 1, 1]], np.float32)
    np.testing.assert_allclose(f[:, 0, 12:18], fl[:, :2, :].reshape(-1, 6), atol=1e-6)


def test_kinematic_features_are_free_of_body_size(rng):
    seq = random_sequence(rng)
    big = Skeleton(TEMPLATE.names, TEMPLATE.parents, TEMPLATE.offsets * 1.7)
    f = hand_features(seq)
    g = hand_features(new_sequence(seq.rotations, 25.0, seq.translation * 1.7, skeleton=big))
    np.testing.assert_allclose(g, f, atol=1e-4)
    assert np.abs(f[..., 102:]).max() > 0.1  # the kinematic channels are not trivially zero


def test_missing_hand_gives_a_zero_stream(rng):
    seq = random_sequence(rng)
    valid = np.ones((seq.n_frames, seq.n_joints), bool)
    valid[10:20, JOINT_NAMES.index("left_wrist")] = False
    f = hand_features(seq.replace(valid=valid))
    assert np.all(f[10:20, 0] == 0) and np.all(np.abs(f[10:20, 1]).sum(-1) > 0)
    assert np.all(np.abs(f[:10, 0]).sum(-1) > 0)


# --- network -------------------------------------------------------------------------------------
def test_padding_does_not_change_the_valid_frames():
    torch.manual_seed(0)
    net = FastNet(SMALL).eval()
    x = torch.randn(1, 30, 2, HAND_DIM)
    with torch.no_grad():
        ref = net(x)
        padded = torch.cat([x, torch.randn(1, 10, 2, HAND_DIM)], 1)
        mask = torch.zeros(1, 40, dtype=torch.bool)
        mask[:, 30:] = True
        out = net(padded, mask)
    assert out.shape == (1, 40, 3)
    torch.testing.assert_close(out[:, :30], ref, atol=1e-5, rtol=1e-5)


def test_windowed_inference_matches_one_pass_when_the_window_covers_the_sequence():
    torch.manual_seed(0)
    net = FastNet(SMALL).eval()
    feats = [np.random.default_rng(1).normal(0, 1, (t, 2, HAND_DIM)).astype(np.float32) for t in (50, 17)]
    probs = predict_features(net, feats, window=64, context=8)
    with torch.no_grad():
        for f, p in zip(feats, probs):
            ref = torch.softmax(net(torch.from_numpy(f)[None]), -1)[0].numpy()
            np.testing.assert_allclose(p, ref, atol=1e-5)
    # long sequences in overlapping windows: probabilities stay normalised, every frame covered
    long = [np.random.default_rng(2).normal(0, 1, (300, 2, HAND_DIM)).astype(np.float32)]
    p = predict_features(net, long, window=64, context=8)[0]
    assert p.shape == (300, 3)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)


def test_ctc_term_prefers_the_right_number_of_onsets():
    cfg = TrainConfig(ctc_weight=1.0, class_weights=(1.0, 1.0, 1.0))
    labels = torch.tensor([[0, 2, 1, 1, 0, 0, 2, 1, 1, 0]])
    pad = torch.zeros_like(labels, dtype=torch.bool)
    good = torch.full((1, 10, 3), -4.0)
    good[0, :, 1] = 0.0
    good[0, [1, 6], 2] = 4.0
    bad = good.clone()
    bad[0, 6, 2] = -4.0  # the second onset is missing
    _, info_good = fast_loss(good, labels, pad, cfg)
    _, info_bad = fast_loss(bad, labels, pad, cfg)
    assert info_good["ctc"] < info_bad["ctc"]


def test_speed_change_keeps_every_sign_and_its_onset(rng):
    seq, labels = synthetic_sample(rng, n_signs=6)
    f = hand_features(seq)
    for factor in (0.7, 1.4):
        g, y = change_speed(f, labels, factor)
        assert g.shape[0] == y.shape[0] == int(round(len(labels) / factor))
        assert len(segments_from_labels(y)) == len(segments_from_labels(labels))
        assert (y == 2).sum() == (labels == 2).sum()


# --- checkpoints ---------------------------------------------------------------------------------
def test_checkpoint_round_trip_and_rejections(tmp_path):
    torch.manual_seed(0)
    net = FastNet(SMALL).eval()
    save_model(tmp_path / "m", net, 25.0, DecodeOptions(sensitivity=0.7), {"note": "x"})
    loaded, cfg = load_model(tmp_path / "m")
    assert cfg["decode"]["sensitivity"] == 0.7 and cfg["meta"]["note"] == "x"
    x = torch.randn(2, 20, 2, HAND_DIM)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net(x))
    assert Segmenter.load(tmp_path / "m").options.sensitivity == 0.7
    # a config that does not match the weights
    c = json.loads((tmp_path / "m" / "config.json").read_text())
    c["model"]["width"] = 48
    (tmp_path / "m" / "config.json").write_text(json.dumps(c))
    with pytest.raises(FastModelError, match="does not match"):
        load_model(tmp_path / "m")
    # a pickle that is not plain tensors is refused by weights_only loading
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text(json.dumps({**c, "model": SMALL.to_dict()}))
    torch.save({"w": Sample}, tmp_path / "bad" / "fast.pt")
    with pytest.raises(FastModelError):
        load_model(tmp_path / "bad")
    with pytest.raises(FastModelError, match="not a FAST model folder"):
        load_model(tmp_path / "nothing")


# --- training ------------------------------------------------------------------------------------
def test_training_learns_and_resumes(tmp_path):
    tr = synthetic_samples(24, seed=0)
    va = synthetic_samples(6, seed=1)
    cfg = TrainConfig(epochs=2, steps_per_epoch=15, batch_size=12, crop_min=48, crop_max=96, model=SMALL)
    untrained = evaluate_model(FastNet(SMALL).eval(), va, DecodeOptions())
    s1 = train(tr, va, tmp_path, cfg, progress=False, log=lambda _: None)
    assert len(s1["history"]) == 2
    model, _ = load_model(tmp_path)
    trained = evaluate_model(model, va, DecodeOptions())
    assert trained["frame_f1"] > untrained["frame_f1"] + 0.1
    assert trained["iou"] > 0.6
    # resume continues at epoch 3 with the saved history
    cfg3 = TrainConfig(**{**cfg.__dict__, "epochs": 3})
    s2 = train(tr, va, tmp_path, cfg3, resume=True, progress=False, log=lambda _: None)
    assert [h["epoch"] for h in s2["history"]] == [1, 2, 3]


def test_training_is_deterministic_for_a_seed(tmp_path):
    tr = synthetic_samples(8, seed=3)
    cfg = TrainConfig(epochs=1, steps_per_epoch=3, batch_size=4, crop_min=32, crop_max=48, model=SMALL)
    train(tr, [], tmp_path / "a", cfg, progress=False, log=lambda _: None)
    train(tr, [], tmp_path / "b", cfg, progress=False, log=lambda _: None)
    a = torch.load(tmp_path / "a" / "fast.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "fast.pt", weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- the interpolation-shortcut check ------------------------------------------------------------
def test_retransition_keeps_sign_frames_and_remakes_transitions(rng):
    from core.ml.fast.data import TRANSITION_STYLES, retransition

    seq, labels = synthetic_sample(rng, n_signs=5)
    inside = labels > 0
    first, last = np.flatnonzero(inside)[[0, -1]]
    between = ~inside
    between[:first] = False
    between[last + 1 :] = False
    for style in TRANSITION_STYLES:
        new = retransition(seq, labels, style, rng)
        np.testing.assert_array_equal(new.rotations[inside], seq.rotations[inside])
        np.testing.assert_array_equal(new.rotations[:first], seq.rotations[:first])
        changed = np.abs(new.rotations - seq.rotations).max(axis=(1, 2, 3))
        assert changed[between].min() > 0
    with pytest.raises(ValueError):
        retransition(seq, labels, "teleport", rng)


def test_smoothness_shortcut_flags_interpolated_frames():
    from core.ml.fast.data import smoothness_shortcut_labels

    g = np.random.default_rng(0)
    f = g.normal(0, 0.05, (60, 2, HAND_DIM)).astype(np.float32)
    ramp = np.linspace(0, 1, 20)[:, None, None]
    f[20:40] = f[19] * (1 - ramp) + f[40] * ramp  # a perfectly linear (zero-jerk) stretch
    lab = smoothness_shortcut_labels(f, threshold=1e-4)
    assert np.all(lab[22:38] == 0)  # flagged as transition
    assert np.all(lab[3:17] > 0) and np.all(lab[43:57] > 0)

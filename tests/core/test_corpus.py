"""The training corpus: build (determinism, damage, language split, labels), file layout, reader,
and the transition traps (not smoother than real frames, not SLERP)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from core.data.chains import FPS, make_chain, mirror, prepare
from core.data.corpus import build_corpus, load_corpus, motion_energy
from core.data.lexicon import LexiconEntry
from core.data.rotmath import angular_speed, log_rel, slerp_mats
from core.data.transitions import build_jitter_bank, transition
from core.io.pose_file import write_landmarks
from core.kinematics.ik_geometry import axis_angle
from core.kinematics.ik_synth import synthesize
from core.model.rotations import identity, is_rotation
from core.model.sequence import KeyKind, Label, labels_from_segments
from core.model.skeleton import JOINT_INDEX as J
from core.model.skeleton import JOINT_NAMES, RIGHT_HAND


def _letter_motion(rng: np.random.Generator, t: int) -> np.ndarray:
    """The right arm rises into the signing space, holds a handshape that changes, and lowers."""
    rot = identity((t, 52)).astype(np.float64)
    s = np.linspace(0, 1, t)
    up = np.clip(np.minimum(s / 0.25, (1 - s) / 0.25), 0, 1)
    ax = lambda v: np.broadcast_to(np.asarray(v, float), (t, 3))  # noqa: E731
    rot[:, J["left_shoulder"]] = axis_angle(ax([0, 0, 1]), np.full(t, -1.25))
    rot[:, J["right_shoulder"]] = axis_angle(ax([0, 0, 1]), 1.25 - 1.0 * up)
    rot[:, J["right_elbow"]] = axis_angle(ax([0, 1, 0]), 0.3 + 1.6 * up)
    rot[:, J["right_wrist"]] = axis_angle(ax([1, 0, 0]), rng.uniform(-0.5, 0.5) * up)
    a, b = rng.uniform(0.2, 1.4, 2)
    for k, f in enumerate(("index", "middle", "pinky", "ring")):
        bend = a + (b - a) * s + 0.1 * k
        rot[:, J[f"right_{f}1"]] = axis_angle(ax([0, 0, 1]), 0.5 * bend)
        rot[:, J[f"right_{f}2"]] = axis_angle(ax([0, 0, 1]), bend)
        rot[:, J[f"right_{f}3"]] = axis_angle(ax([0, 0, 1]), 0.6 * bend)
    return rot


def _fake_lexicon(folder: Path) -> list[LexiconEntry]:
    """Six fake languages of synthetic one-letter clips (with landmark noise), one too-short clip
    and one whose hand blows up."""
    rng = np.random.default_rng(0)
    entries = []
    for lang in ("aaa", "bbb", "ccc", "ddd", "eee", "fff"):
        for k in range(4):
            t = int(rng.integers(22, 30))
            lm = synthesize(_letter_motion(rng, t))
            noisy = lm.hands + rng.normal(0, 0.4, lm.hands.shape) * np.array([1, 1, 0.001])
            lm = type(lm)(
                lm.body + rng.normal(0, 0.4, lm.body.shape) * np.array([1, 1, 0.003]),
                lm.body_ok,
                noisy,
                lm.hands_ok,
                lm.face,
                lm.face_ok,
                lm.fps,
                lm.width,
                lm.height,
            )
            ok = lm.hands_ok.copy()
            ok[:, 0] = False  # one-handed: the left hand is never seen
            lm = type(lm)(lm.body, lm.body_ok, lm.hands, ok, lm.face, lm.face_ok, lm.fps, lm.width, lm.height)
            p = folder / lang / f"{lang}{k}.pose"
            p.parent.mkdir(parents=True, exist_ok=True)
            write_landmarks(p, lm)
            entries.append(LexiconEntry(p, f"{lang}/{p.name}", lang, "xx", "ABCD"[k]))
    short = synthesize(_letter_motion(rng, 7))
    p = folder / "aaa" / "short.pose"
    write_landmarks(p, short)
    entries.append(LexiconEntry(p, "aaa/short.pose", "aaa", "xx", "E"))
    lm = synthesize(_letter_motion(rng, 25))
    hands = lm.hands.copy()
    centre = hands[:, 1].mean(axis=1, keepdims=True)
    hands[2:12, 1] = centre[2:12] + 8.0 * (hands[2:12, 1] - centre[2:12])  # ten frames of blow-up
    lm = type(lm)(lm.body, lm.body_ok, hands, lm.hands_ok, lm.face, lm.face_ok, lm.fps, lm.width, lm.height)
    p = folder / "bbb" / "blowup.pose"
    write_landmarks(p, lm)
    entries.append(LexiconEntry(p, "bbb/blowup.pose", "bbb", "xx", "F"))
    return entries


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    entries = _fake_lexicon(d / "lexicon")
    out = d / "a.npz"
    report = build_corpus(out, seed=5, n_chains=20, entries=entries)
    return d, entries, out, report


def test_build_is_deterministic(built):
    d, entries, out, _ = built
    again = d / "b.npz"
    build_corpus(again, seed=5, n_chains=20, entries=entries)
    assert out.read_bytes() == again.read_bytes()
    other = d / "c.npz"
    build_corpus(other, seed=6, n_chains=20, entries=entries)
    assert out.read_bytes() != other.read_bytes()


def test_damaged_clips_are_dropped_with_a_reason(built):
    _, _, out, report = built
    c = load_corpus(out)
    reasons = dict(c.dropped)
    assert "too short" in reasons["aaa/short.pose"]
    assert "blow-up" in reasons["bbb/blowup.pose"]
    assert len(c.clips) == 24 and report.n_dropped == 2
    assert all(cl.source not in reasons for cl in c.clips)


def test_layout_is_plain_arrays(built):
    _, _, out, _ = built
    with np.load(out, allow_pickle=False) as z:  # raises on any pickled member
        arrays = {k: z[k] for k in z.files}
    assert str(arrays["format"]) == "signframe-corpus"
    assert arrays["chain_rot6d"].dtype == np.float16 and arrays["chain_rot6d"].shape[1:] == (52, 6)
    assert list(arrays["joint_names"]) == list(JOINT_NAMES)
    assert arrays["clip_offsets"][-1] == len(arrays["clip_rot6d"]) == len(arrays["clip_valid"])
    assert arrays["chain_offsets"][-1] == len(arrays["chain_labels"]) == len(arrays["chain_rot6d"])
    assert arrays["segment_offsets"][-1] == len(arrays["segments"]) == len(arrays["segment_clip"])
    assert all(a.dtype != object for a in arrays.values())


def test_whole_languages_are_held_out(built):
    _, _, out, _ = built
    c = load_corpus(out)
    assert set(c.split.values()) == {"train", "val", "test"}
    assert sum(v == "train" for v in c.split.values()) >= 2
    for ch in c.chains:
        assert ch.split == c.split[ch.language]
        assert {c.clips[k].language for k in ch.clips} == {ch.language}
    assert len(c.chains_in("train")) > len(c.chains_in("val"))


def test_chain_labels_segments_and_keys(built):
    _, _, out, _ = built
    c = load_corpus(out)
    for ch in c.chains:
        t = len(ch.labels)
        assert ch.fps == FPS and ch.rot6d.shape == (t, 52, 6)
        assert np.array_equal(ch.labels_exact, labels_from_segments(ch.segments, t))
        assert all(ch.labels_exact[s.start] == Label.B for s in ch.segments)
        assert len(ch.segments) == len(ch.clips) >= 3
        starts = [s.start for s in ch.segments]
        assert starts == sorted(starts) and all(a.end < b.start for a, b in zip(ch.segments, ch.segments[1:]))
        # blurred labels move a boundary by at most two frames
        assert np.sum(ch.labels != ch.labels_exact) <= 4 * len(ch.segments) + 2
        kinds = [k.kind for k in ch.keyframes]
        assert kinds.count(KeyKind.ONSET) == len(ch.segments)
        assert is_rotation(ch.rotations()[:, 12:], atol=5e-3).all()
        # most sign frames are real clip frames; transitions are synthesised
        assert ch.real.any() and (~ch.real).any()


def test_real_chain_frames_are_clip_frames(built):
    _, _, out, _ = built
    c = load_corpus(out)
    ch = next(x for x in c.chains if not x.mirrored)
    rot = ch.rotations()
    for seg, k in zip(ch.segments, ch.clips):
        clip = c.clips[k]
        prepared = prepare(k, clip.rotations(), np.asarray(clip.valid), clip.fps, clip.core, clip.dominant)
        frames = [f for f in range(seg.start, seg.end + 1) if ch.real[f]]
        assert frames
        for f in frames:  # each real frame is one of the clip's frames (float16 storage)
            d = np.abs(prepared.rotations[:, 12:] - rot[f, 12:]).max(axis=(1, 2, 3)).min()
            assert d < 5e-3


def test_mirror_swaps_sides_and_is_an_involution():
    rng = np.random.default_rng(1)
    rot = _letter_motion(rng, 10).astype(np.float32)
    valid = np.zeros((10, 52), bool)
    valid[:, RIGHT_HAND] = True
    m, mv = mirror(rot, valid)
    assert mv[:, J["left_index1"]].all() and not mv[:, J["right_index1"]].any()
    back, bv = mirror(m, mv)
    assert np.allclose(back, rot) and np.array_equal(bv, valid)
    from core.kinematics.fk import joint_positions
    from core.model.template import TEMPLATE

    p, q = joint_positions(TEMPLATE, rot), joint_positions(TEMPLATE, m)
    assert np.allclose(q[:, J["left_wrist"]] * [-1, 1, 1], p[:, J["right_wrist"]], atol=1e-5)


def test_transition_continues_the_motion_and_leaves_the_geodesic():
    ax = np.array([0.0, 0.0, 1.0])
    a = identity((52,)).astype(np.float64)
    b = a.copy()
    b[J["right_index2"]] = axis_angle(ax, 1.2)
    b[J["right_shoulder"]] = axis_angle(ax, 0.8)
    a_prev = a.copy()
    a_prev[J["right_shoulder"]] = axis_angle(ax, -0.05)  # moving at 0.05 rad/frame into a
    n = 10
    devs = []
    for seed in range(5):
        tr = transition(a, a_prev, b, b, n, np.random.default_rng(seed), a, None)
        assert tr.shape == (n, 52, 3, 3) and is_rotation(tr).all()
        # the first step continues a's velocity roughly; the last frame is close to b
        assert np.degrees(angular_speed(np.stack([a, tr[0]]))[0, J["right_shoulder"]]) < 20
        assert np.degrees(angular_speed(np.stack([tr[-1], b]))[0, J["right_index2"]]) < 25
        u = np.arange(1, n + 1) / (n + 1)
        s = slerp_mats(np.broadcast_to(a, tr.shape), np.broadcast_to(b, tr.shape), u[:, None] * np.ones(52))
        devs.append(np.degrees(np.linalg.norm(log_rel(s, tr), axis=-1))[:, J["right_index2"]].max())
    assert np.mean(devs) > 3.0, "transitions must not be SLERP"


needs_lexicon = pytest.mark.skipif(
    importlib.util.find_spec("spoken_to_signed") is None,
    reason="spoken-to-signed (the 'training' extra) is not installed",
)


@needs_lexicon
def test_on_real_clips_transitions_are_not_smoother_than_signs(tmp_path):
    """The trap measured on this data: a smoothness threshold must not separate synthetic
    transition frames from real ones, and chains must move more than the held clips."""
    from core.data.clips import load_clip
    from core.data.lexicon import read_lexicon

    entries = [e for e in read_lexicon() if e.language in ("cse", "ase")][:30]
    prepared = []
    for i, e in enumerate(entries):
        c, _ = load_clip(e.path)
        if c is not None:
            prepared.append(prepare(i, c.rotations, c.valid, c.fps, c.core, c.dominant))
    jitter = build_jitter_bank([(p.rotations, p.valid) for p in prepared])
    acc_real, acc_synth, energy_chain = [], [], []
    for k in range(12):
        ch = make_chain(prepared, np.random.default_rng(k), jitter, [])
        rot = ch.rotations.astype(np.float64)
        cols = [J["left_wrist"], J["right_wrist"]] + list(range(22, 52))
        w = log_rel(rot[:-1, cols], rot[1:, cols])
        acc = np.linalg.norm(w[1:] - w[:-1], axis=-1).mean(axis=1)
        r = ch.real
        acc_real.append(acc[r[1:-1] & r[:-2] & r[2:]])
        acc_synth.append(acc[~r[1:-1]])
        energy_chain.append(motion_energy(rot))
    acc_real, acc_synth = np.concatenate(acc_real), np.concatenate(acc_synth)
    # probability that a real frame is rougher than a synthetic one: 0.5 = indistinguishable
    both = np.concatenate([acc_real, acc_synth])
    ranks = np.empty(len(both))
    ranks[np.argsort(both)] = np.arange(len(both))
    auc = (ranks[: len(acc_real)].mean() - (len(acc_real) - 1) / 2) / len(acc_synth)
    assert 0.3 < auc < 0.7, f"a smoothness threshold separates transitions (AUC {auc:.2f})"
    core_energy = np.concatenate([motion_energy(p.rotations[p.core[0] : p.core[1] + 1]) for p in prepared])
    assert np.percentile(np.concatenate(energy_chain), 10) > np.percentile(core_energy, 10)


def test_cli_without_the_lexicon_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    import importlib.util as iu

    from core.cli import main

    real = iu.find_spec
    monkeypatch.setattr(iu, "find_spec", lambda name, *a: None if name == "spoken_to_signed" else real(name, *a))
    assert main(["data", "build", "--out", str(tmp_path / "c.npz"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "spoken-to-signed" in err[0]
    assert not (tmp_path / "c.npz").exists()


def test_info_reads_a_built_corpus(built, capsys):
    import json

    from core.cli import main

    _, _, out, _ = built
    assert main(["data", "info", str(out)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["clips"] == 24 and info["chains"] == 20 and sum(info["chains_per_split"].values()) == 20

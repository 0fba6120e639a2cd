"""Fresh training chains for FAST (``train fast --fresh-chains``): drawn from the corpus's
training-language clips with the builder's make_chain, deterministic for a seed, labelled like
the fixed training chains, and mixed into training batches.

The corpus is a small one written here in the corpus file layout (core/data/corpus.py): toy
one-sign clips from ``synthetic_sample`` in five languages (three train, one val, one test), and
fixed chains made from them with the builder's own helpers, so no lexicon or IK is needed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.cli import main
from core.data.chains import make_chain, prepare
from core.data.corpus import (
    FORMAT,
    VERSION,
    chain_banks,
    load_corpus,
    pick_languages,
    save_arrays,
    training_chain_source,
)
from core.ml.fast.data import FreshChains, samples_from_corpus
from core.ml.fast.features import features_from_arrays
from core.ml.fast.net import FastConfig
from core.ml.fast.train import TrainConfig, synthetic_sample, train
from core.model.rotations import matrix_to_6d, sixd_to_matrix
from core.model.sequence import Label, Segment, labels_from_segments, segments_from_labels
from core.model.skeleton import JOINT_NAMES, LEFT_HAND
from core.model.template import TEMPLATE

torch.set_num_threads(1)

LANGS = ("aaa", "bbb", "ccc", "ddd", "eee")
SPLIT = ("train", "train", "train", "val", "test")
SMALL = FastConfig(width=16, layers=1, heads=2)


def _concat(parts, tail, dtype):
    off = np.zeros(len(parts) + 1, np.int64)
    off[1:] = np.cumsum([len(p) for p in parts])
    return np.concatenate(parts).astype(dtype) if parts else np.zeros((0,) + tail, dtype), off


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = np.random.default_rng(11)
    clips = []  # (language index, rotations (T, 52, 3, 3), valid (T, 52), core, dominant)
    for li in range(len(LANGS)):
        for k in range(4):
            seq, lab = synthetic_sample(rng, n_signs=1, hold=(8, 14))
            seg = segments_from_labels(lab)[0]
            valid = np.ones(seq.rotations.shape[:2], bool)
            if k % 2:
                valid[:, LEFT_HAND] = False  # one-handed: the builder may animate the idle hand
            clips.append((li, seq.rotations, valid, (seg.start, seg.end), "right"))
    # the file stores float16 6D: prepare the clips from what a reader gets back
    rot6d = [matrix_to_6d(r).astype(np.float16) for _, r, _, _, _ in clips]
    prepared = [
        prepare(i, sixd_to_matrix(r6.astype(np.float32)), c[2], 25.0, c[3], c[4])
        for i, (r6, c) in enumerate(zip(rot6d, clips))
    ]
    train_ids = [i for i, c in enumerate(clips) if SPLIT[c[0]] == "train"]
    jitter, idle = chain_banks([prepared[i] for i in train_ids])
    chains = []
    for si, s in enumerate(("train", "val", "test")):
        langs = [li for li in range(len(LANGS)) if SPLIT[li] == s]
        crng = np.random.default_rng([1, si])
        for li in pick_languages([4] * len(langs), 4, crng):
            lang = langs[int(li)]
            mine = [prepared[i] for i, c in enumerate(clips) if c[0] == lang]
            chains.append((lang, make_chain(mine, crng, jitter, idle if s == "train" else [], max_signs=5)))
    clip_r, clip_off = _concat(rot6d, (52, 6), np.float16)
    ch_r, ch_off = _concat([matrix_to_6d(c.rotations) for _, c in chains], (52, 6), np.float16)
    segs, seg_off = _concat([np.array(c.segments_exact, np.int32).reshape(-1, 2) for _, c in chains], (2,), np.int32)
    arrays = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION, np.int64),
        "seed": np.array(1, np.int64),
        "chain_fps": np.array(25.0),
        "joint_names": np.array(JOINT_NAMES),
        "languages": np.array(LANGS),
        "language_split": np.array(SPLIT),
        "clip_offsets": clip_off,
        "clip_rot6d": clip_r,
        "clip_valid": _concat([c[2] for c in clips], (52,), bool)[0],
        "clip_language": np.array([c[0] for c in clips], np.int16),
        "clip_letter": np.array(["A"] * len(clips)),
        "clip_fps": np.full(len(clips), 25.0, np.float32),
        "clip_source": np.array([f"{LANGS[c[0]]}/{i}.pose" for i, c in enumerate(clips)]),
        "clip_core": np.array([c[3] for c in clips], np.int32),
        "clip_dominant": np.array([c[4] for c in clips]),
        "dropped_source": np.zeros(0, "<U1"),
        "dropped_reason": np.zeros(0, "<U1"),
        "chain_offsets": ch_off,
        "chain_rot6d": ch_r,
        "chain_valid": _concat([c.valid for _, c in chains], (52,), bool)[0],
        "chain_labels": _concat([c.labels for _, c in chains], (), np.uint8)[0],
        "chain_labels_exact": _concat([c.labels_exact for _, c in chains], (), np.uint8)[0],
        "chain_real": _concat([c.real for _, c in chains], (), bool)[0],
        "chain_language": np.array([lang for lang, _ in chains], np.int16),
        "chain_mirrored": np.array([c.mirrored for _, c in chains], bool),
        "chain_idle_synth": np.array([c.idle_hand_synth for _, c in chains], bool),
        "segment_offsets": seg_off,
        "segments": segs,
        "segment_clip": np.concatenate([np.array(c.clips, np.int32) for _, c in chains]),
    }
    path = tmp_path_factory.mktemp("fresh") / "corpus.npz"
    save_arrays(path, arrays)
    return path


def test_pool_is_deterministic_and_uses_only_training_clips(corpus):
    c = load_corpus(corpus)
    train_clips = {x.index for x in c.clips_in("train")}
    lang_of = {x.index: x.language for x in c.clips}
    src = training_chain_source(c, corpus)
    assert set(src.clips) == {"aaa", "bbb", "ccc"}
    assert {p.index for v in src.clips.values() for p in v} == train_clips

    fresh = FreshChains(corpus, exact=False)
    a = fresh.chains(20, np.random.default_rng(5))
    b = fresh.chains(20, np.random.default_rng(5))
    other = fresh.chains(20, np.random.default_rng(6))
    for (la, sa, x), (lb, sb, y) in zip(a, b):
        assert (la, sa, x.clips) == (lb, sb, y.clips)
        np.testing.assert_array_equal(x.rotations, y.rotations)
        np.testing.assert_array_equal(x.labels, y.labels)
    assert [x.clips for _, _, x in a] != [x.clips for _, _, x in other]
    for lang, _, ch in a + other:
        assert set(ch.clips) <= train_clips
        assert {lang_of[i] for i in ch.clips} == {lang}  # one language per chain
    assert len({lang for lang, _, _ in a + other}) > 1

    s1, s2 = fresh(6, np.random.default_rng(9)), fresh(6, np.random.default_rng(9))
    for x, y in zip(s1, s2):
        np.testing.assert_array_equal(x.features, y.features)
        assert x.language in src.clips and x.kind.startswith("fresh")


def test_fresh_labels_follow_the_segments_and_the_label_choice(corpus):
    blurred = FreshChains(corpus, exact=False)
    exact = FreshChains(corpus, exact=True)
    chains = blurred.chains(15, np.random.default_rng(2))
    for _, _, ch in chains:
        segs = [Segment(s, e) for s, e in ch.segments_exact]
        np.testing.assert_array_equal(ch.labels_exact, labels_from_segments(segs, len(ch.labels_exact)))
        onsets = np.flatnonzero(ch.labels == Label.B)
        assert len(onsets) == len(segs)
        assert all(abs(int(o) - g.start) <= 2 for o, g in zip(onsets, segs))
        assert ch.real.sum() > 0 and (~ch.real).sum() > 0
    # the samples carry the chosen labels of the same chains, and the fixed samples' features
    for want, src in (("labels", blurred), ("labels_exact", exact)):
        samples = src(15, np.random.default_rng(2))
        for s, (_, style, ch) in zip(samples, chains):
            np.testing.assert_array_equal(s.labels, getattr(ch, want))
            assert s.features.shape == (len(ch.labels), 2, 107) and s.fps == 25.0
            if style == "as-built":
                rot = sixd_to_matrix(matrix_to_6d(ch.rotations).astype(np.float16).astype(np.float32))
                np.testing.assert_allclose(s.features, features_from_arrays(rot, None, ch.valid, TEMPLATE), atol=1e-6)
    # with a remade style in the mix, some chains are remade and their real frames kept
    mixed = FreshChains(corpus, exact=True, styles=["linear-jitter"])
    kinds = {s.kind.split("/")[-1] for s in mixed(12, np.random.default_rng(4))}
    assert "linear-jitter" in kinds and kinds & {"fresh", "fresh-mirrored"}


def test_training_mixes_fresh_chains_deterministically(corpus, tmp_path):
    tr = samples_from_corpus(corpus, "train")
    fresh = FreshChains(corpus, exact=False)
    calls = []

    def source(n, rng):
        calls.append(n)
        return fresh(n, rng)

    cfg = TrainConfig(
        epochs=2, steps_per_epoch=2, batch_size=4, crop_min=32, crop_max=48, model=SMALL, fresh_chains=0.5, fresh_pool=3
    )
    train(tr, [], tmp_path / "a", cfg, progress=False, log=lambda _: None, fresh=source)
    assert calls == [3, 3]  # one pool per epoch
    train(tr, [], tmp_path / "b", cfg, progress=False, log=lambda _: None, fresh=fresh)
    plain = TrainConfig(**{**cfg.__dict__, "fresh_chains": 0.0})
    train(tr, [], tmp_path / "c", plain, progress=False, log=lambda _: None)
    a, b, c = (torch.load(tmp_path / x / "fast.pt", weights_only=True) for x in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    with pytest.raises(ValueError, match="fresh"):
        train(tr, [], tmp_path / "d", cfg, progress=False, log=lambda _: None)


def test_train_fast_cli_with_fresh_chains(corpus, tmp_path, capsys):
    out = tmp_path / "m"
    assert (
        main(
            [
                "train",
                "fast",
                "--corpus",
                str(corpus),
                "--out",
                str(out),
                "--epochs",
                "2",
                "--steps-per-epoch",
                "2",
                "--batch-size",
                "4",
                "--width",
                "16",
                "--layers",
                "1",
                "--fresh-chains",
                "0.5",
                "--fresh-pool",
                "4",
                "--remake-transitions",
                "linear-jitter",
                "--no-progress",
            ]
        )
        == 0
    )
    log = json.loads((out / "train_log.json").read_text())
    assert [h["epoch"] for h in log["history"]] == [1, 2] and all("fresh_s" in h for h in log["history"])
    meta = json.loads((out / "config.json").read_text())["meta"]
    assert meta["train"]["fresh_chains"] == 0.5 and meta["train"]["fresh_pool"] == 4
    assert meta["languages"]["train"] == ["aaa", "bbb", "ccc"]
    capsys.readouterr()
    for bad, msg in ((["--fresh-chains", "1.5"], "--fresh-chains"), (["--fresh-pool", "0"], "--fresh-pool")):
        args = ["train", "fast", "--corpus", str(corpus), "--out", str(out), "--fresh-chains", "0.5"] + bad
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and msg in err
    assert main(["train", "fast", "--synthetic", "4", "--out", str(out), "--fresh-chains", "0.5"]) == 2
    assert "--corpus" in capsys.readouterr().err


def test_a_corpus_without_training_clips_is_a_one_line_error(corpus, tmp_path, capsys):
    with np.load(corpus, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    keep = np.array([SPLIT[int(li)] != "train" for li in arrays["clip_language"]])
    off = arrays["clip_offsets"]
    frames = np.concatenate([np.arange(off[i], off[i + 1]) for i in np.flatnonzero(keep)])
    arrays["clip_offsets"] = np.concatenate([[0], np.cumsum(np.diff(off)[keep])]).astype(np.int64)
    for k in ("clip_rot6d", "clip_valid"):
        arrays[k] = arrays[k][frames]
    for k in ("clip_language", "clip_letter", "clip_fps", "clip_source", "clip_core", "clip_dominant"):
        arrays[k] = arrays[k][keep]
    path = tmp_path / "no_train_clips.npz"
    save_arrays(path, arrays)
    assert len(load_corpus(path).clips_in("train")) == 0 and len(load_corpus(path).clips_in("val")) == 4
    assert (
        main(
            [
                "train",
                "fast",
                "--corpus",
                str(path),
                "--out",
                str(tmp_path / "m"),
                "--epochs",
                "1",
                "--fresh-chains",
                "0.5",
                "--no-progress",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and "training-language clips" in err

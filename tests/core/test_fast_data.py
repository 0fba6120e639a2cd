"""FAST on a corpus file: the adapter over ``core.data.corpus`` and ``eval fast CORPUS``.

The corpus here is a small fake one written in the corpus file layout (core/data/corpus.py),
from toy sequences, so the test needs neither the lexicon nor a long build.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("core.data.corpus")

from core.cli import main  # noqa: E402
from core.data.corpus import FORMAT, VERSION, save_arrays  # noqa: E402
from core.ml.fast.data import samples_from_corpus  # noqa: E402
from core.ml.fast.eval import is_corpus  # noqa: E402
from core.ml.fast.train import synthetic_sample  # noqa: E402
from core.model.rotations import matrix_to_6d  # noqa: E402
from core.model.skeleton import JOINT_NAMES  # noqa: E402


def _blur(labels: np.ndarray) -> np.ndarray:
    out = labels.copy()
    b = np.flatnonzero(labels == 2)
    out[b] = 1
    out[np.minimum(b + 1, len(labels) - 1)] = 2
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = np.random.default_rng(3)
    langs = ["aaa", "bbb", "ccc"]
    split = ["train", "val", "test"]
    rot, lab, exact, real, lang, off, segs, soff = [], [], [], [], [], [0], [], [0]
    for i in range(9):
        seq, labels = synthetic_sample(rng, n_signs=4)
        rot.append(matrix_to_6d(seq.rotations))
        exact.append(labels)
        lab.append(_blur(labels))
        real.append(labels > 0)
        lang.append(i % 3)
        off.append(off[-1] + len(labels))
        from core.model.sequence import segments_from_labels

        s = [(g.start, g.end) for g in segments_from_labels(labels)]
        segs += s
        soff.append(soff[-1] + len(s))
    n = off[-1]
    arrays = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION, np.int64),
        "seed": np.array(0, np.int64),
        "chain_fps": np.array(25.0),
        "joint_names": np.array(JOINT_NAMES),
        "languages": np.array(langs),
        "language_split": np.array(split),
        "clip_offsets": np.zeros(1, np.int64),
        "clip_rot6d": np.zeros((0, 52, 6), np.float16),
        "clip_valid": np.zeros((0, 52), bool),
        "clip_language": np.zeros(0, np.int16),
        "clip_letter": np.zeros(0, "<U1"),
        "clip_fps": np.zeros(0, np.float32),
        "clip_source": np.zeros(0, "<U1"),
        "clip_core": np.zeros((0, 2), np.int32),
        "clip_dominant": np.zeros(0, "<U5"),
        "dropped_source": np.zeros(0, "<U1"),
        "dropped_reason": np.zeros(0, "<U1"),
        "chain_offsets": np.array(off, np.int64),
        "chain_rot6d": np.concatenate(rot).astype(np.float16),
        "chain_valid": np.ones((n, 52), bool),
        "chain_labels": np.concatenate(lab),
        "chain_labels_exact": np.concatenate(exact),
        "chain_real": np.concatenate(real),
        "chain_language": np.array(lang, np.int16),
        "chain_mirrored": np.zeros(9, bool),
        "chain_idle_synth": np.zeros(9, bool),
        "segment_offsets": np.array(soff, np.int64),
        "segments": np.array(segs, np.int32),
        "segment_clip": np.zeros(len(segs), np.int32),
    }
    path = tmp_path_factory.mktemp("corpus") / "toy_corpus.npz"
    save_arrays(path, arrays)
    return path, exact, lab


def test_corpus_splits_labels_and_features(corpus):
    path, exact, blurred = corpus
    assert is_corpus(path)
    tr = samples_from_corpus(path, "train")
    te = samples_from_corpus(path, "test")
    assert [s.language for s in tr] == ["aaa"] * 3 and [s.language for s in te] == ["ccc"] * 3
    # training uses the blurred labels unless asked for the exact ones; test uses the exact ones
    np.testing.assert_array_equal(tr[0].labels, blurred[0])
    np.testing.assert_array_equal(samples_from_corpus(path, "train", exact=True)[0].labels, exact[0])
    np.testing.assert_array_equal(te[0].labels, exact[2])
    assert tr[0].features.shape == (len(exact[0]), 2, 107)


def test_remade_transitions_change_only_synthetic_frames(corpus):
    path, exact, _ = corpus
    a = samples_from_corpus(path, "test")
    b = samples_from_corpus(path, "test", transitions="ease-out-jitter")
    for x, y, lab in zip(a, b, exact[2::3]):
        assert y.kind.endswith("ease-out-jitter")
        rot_x, rot_y = x.features[..., :102], y.features[..., :102]
        inside = lab > 0
        np.testing.assert_allclose(rot_y[inside], rot_x[inside], atol=1e-6)
        first, last = np.flatnonzero(inside)[[0, -1]]
        gap = ~inside
        gap[:first] = gap[last + 1 :] = False
        assert np.abs(rot_y[gap] - rot_x[gap]).max() > 1e-3


def test_eval_fast_on_a_corpus_reports_each_transition_style(corpus, tmp_path, capsys):
    from core.ml.fast.net import FastConfig
    from core.ml.fast.train import TrainConfig, train

    path, _, _ = corpus
    cfg = TrainConfig(
        epochs=1,
        steps_per_epoch=3,
        batch_size=4,
        crop_min=32,
        crop_max=64,
        model=FastConfig(width=16, layers=1, heads=2),
    )
    train(samples_from_corpus(path, "train"), [], tmp_path / "m", cfg, progress=False, log=lambda _: None)
    assert main(["eval", "fast", str(path), "--model", str(tmp_path / "m"), "--transitions", "all", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["languages"] == ["ccc"] and res["sequences"] == 3
    assert set(res["by_transitions"]) == {"as-built", "linear-jitter", "ease-out-jitter", "hold-then-move"}
    assert main(["eval", "fast", str(path), "--model", str(tmp_path / "m"), "--split", "val", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["languages"] == ["bbb"]

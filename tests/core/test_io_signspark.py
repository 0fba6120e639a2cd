"""SignSparK records: the official layout, 6D row convention and hand flip against the official
data pipeline (data_reference.npz), and lossless round trips."""

from __future__ import annotations

import numpy as np
import pytest

from core.io import FormatError, project, registry
from core.io import signspark_record as sr
from core.model.sequence import Segment
from core.model.skeleton import LEFT_HAND, RIGHT_HAND
from tests.core.helpers_io import random_sequence, reference_file

SEQ_LEN = 304
F = np.diag([1.0, -1.0, -1.0])


def _clip_fields(ref, clip: str) -> dict[str, np.ndarray]:
    prefix = f"raw_clip{clip}_"
    return {k[len(prefix) :]: ref[k] for k in ref.files if k.startswith(prefix)}


def _official_batch_item(x: np.ndarray) -> np.ndarray:
    """(C, T) -> (C, 304): truncate, or pad by repeating the last valid frame (SPEC section 1)."""
    x = x[:, :SEQ_LEN]
    return np.concatenate([x, np.repeat(x[:, -1:], SEQ_LEN - x.shape[1], axis=1)], axis=1)


@pytest.mark.parametrize("i, clip", list(enumerate("ABC")))
def test_model_features_match_the_official_loader(tmp_path, i, clip):
    ref = np.load(reference_file("data_reference.npz"), allow_pickle=False)
    fields = _clip_fields(ref, clip)
    path = tmp_path / f"clip{clip}.signspark.npz"
    np.savez(path, **fields)
    seq = registry.read(path)
    assert seq.n_frames == fields["segment"].shape[0]
    feats = sr.model_features(seq)
    t = seq.n_frames
    assert feats["hand"].shape == (2, 90, t) and feats["body"].shape == (60, t) and feats["face"].shape == (56, t)
    assert ref["hand_features"].shape[1:] == (180, SEQ_LEN)
    hands = _official_batch_item(feats["hand"].reshape(180, t))  # [left90 | right90]
    np.testing.assert_allclose(hands, ref["hand_features"][i], atol=1e-5, rtol=0)
    np.testing.assert_allclose(_official_batch_item(feats["body"]), ref["body_features"][i], atol=1e-5, rtol=0)
    np.testing.assert_allclose(_official_batch_item(feats["face"]), ref["face_features"][i], atol=1e-5, rtol=0)
    assert f"<{seq.language}> {seq.text}" == ref["hand_text"][i]
    keys = [k for k in sr.official_keyframes(seq.labels) if k < SEQ_LEN]
    padded = ref["hand_keyframes_padded"][i]
    assert keys == padded[padded >= 0].tolist()
    assert min(t, SEQ_LEN) == ref["hand_lengths"][i]


def test_flip_matches_the_official_flip():
    ref = np.load(reference_file("data_reference.npz"), allow_pickle=False)
    out = sr.flip_hand_features(ref["flip_in"])
    np.testing.assert_allclose(out, ref["flip_out"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(sr.flip_hand_features(out), ref["flip_in"], atol=1e-5, rtol=0)


def test_record_reads_raw_fields_as_is(tmp_path):
    """Stored 6D rows are the local SMPL-X matrices' first two rows, left hand unflipped."""
    ref = np.load(reference_file("data_reference.npz"), allow_pickle=False)
    fields = _clip_fields(ref, "A")
    np.savez(tmp_path / "a.signspark.npz", **fields)
    seq = sr.read(tmp_path / "a.signspark.npz")
    left = seq.rotations[:, LEFT_HAND]
    np.testing.assert_allclose(left[:, :, :2].reshape(-1, 90), fields["left_features"][:, :90], atol=1e-6)
    np.testing.assert_allclose(seq.rotations[:, 1:22, :2].reshape(-1, 126), fields["body_features"], atol=1e-6)
    np.testing.assert_array_equal(seq.extra_frames["left_hand_extra"], fields["left_features"][:, 90:])
    np.testing.assert_array_equal(seq.labels, fields["segment"])
    assert seq.fps == sr.DEFAULT_FPS and seq.meta["fps_assumed"] is True
    assert sr.read(tmp_path / "a.signspark.npz", default_fps=30).fps == 30.0


def test_record_project_record_keeps_every_field(tmp_path):
    ref = np.load(reference_file("data_reference.npz"), allow_pickle=False)
    fields = _clip_fields(ref, "B")
    src = tmp_path / "b.signspark.npz"
    np.savez(src, **fields, fps=np.array(30.0))
    registry.write(tmp_path / "b.signframe", registry.read(src))
    registry.write(tmp_path / "again.signspark.npz", project.read(tmp_path / "b.signframe"))
    back = np.load(tmp_path / "again.signspark.npz", allow_pickle=False)
    for key, a in fields.items():
        if a.dtype.kind == "f":
            np.testing.assert_allclose(back[key], a, atol=1e-6, rtol=0, err_msg=key)
        elif a.dtype.kind == "U":
            assert str(back[key].reshape(-1)[0]) == str(a.reshape(-1)[0]), key
        else:
            np.testing.assert_array_equal(back[key], a, err_msg=key)
    assert float(back["fps"]) == 30.0


def test_sequence_record_sequence_round_trip(tmp_path):
    seq = random_sequence(40, seed=4, fps=50.0)
    seq = seq.replace(meta=dict(seq.meta, gloss="HELLO WORLD"))
    path = tmp_path / "s.signspark.npz"
    sr.write(path, seq)
    back = sr.read(path)
    # the record holds joints 1..51 (no global orient, no translation)
    np.testing.assert_allclose(back.rotations[:, 1:], seq.rotations[:, 1:], atol=1e-6, rtol=0)
    np.testing.assert_array_equal(back.rotations[:, 0], np.broadcast_to(np.eye(3), (40, 3, 3)))
    np.testing.assert_allclose(back.extra_frames["jaw"], seq.extra_frames["jaw"], atol=1e-6, rtol=0)
    expr = back.extra_frames["expression"]
    assert expr.shape == (40, sr.N_EXPRESSION)  # padded to the official 50 with zeros
    np.testing.assert_array_equal(expr[:, :10], seq.extra_frames["expression"])
    assert not expr[:, 10:].any()
    np.testing.assert_array_equal(back.labels, seq.labels)
    assert (back.text, back.language, back.fps, back.meta["gloss"]) == ("hello world", "BSL", 50.0, "HELLO WORLD")
    d = np.load(path, allow_pickle=False)
    assert d["left_features"].shape == (40, 90) and d["body_features"].shape == (40, 126)
    assert d["face_features"].shape == (40, 56)


def test_model_features_flip_only_the_left_hand():
    seq = random_sequence(6, seed=8)
    feats = sr.model_features(seq)
    left = F @ seq.rotations[:, LEFT_HAND].astype(np.float64) @ F
    np.testing.assert_allclose(feats["hand"][0].T.reshape(6, 15, 6), left[:, :, :2].reshape(6, 15, 6), atol=1e-6)
    right = seq.rotations[:, RIGHT_HAND]
    np.testing.assert_allclose(feats["hand"][1].T.reshape(6, 15, 6), right[:, :, :2].reshape(6, 15, 6), atol=1e-6)
    neck_to_wrists = seq.rotations[:, 12:22, :2].reshape(6, 60)
    np.testing.assert_allclose(feats["body"].T, neck_to_wrists, atol=1e-6)
    assert all(v.dtype == np.float32 for v in feats.values())


def test_official_keyframes_merge_adjacent_signs():
    seg = np.zeros(45, int)
    seg[3:21] = 1
    seg[3] = 2
    seg[21:41] = 1
    seg[21] = 2
    assert sr.official_keyframes(seg) == [3, 21, 40]  # SPEC section 2 example
    assert sr.official_keyframes(np.array([2, 0, 1, 1])) == [0, 2, 3]


def test_labels_outside_bio_are_refused(tmp_path):
    seq = random_sequence(5, seed=2, labels=False)
    sr.write(tmp_path / "ok.signspark.npz", seq)
    d = dict(np.load(tmp_path / "ok.signspark.npz"))
    d["segment"] = np.array([0, 1, 2, 3, 0])
    np.savez(tmp_path / "bad.signspark.npz", **d)
    with pytest.raises(FormatError, match="bad.signspark.npz.*segment"):
        sr.read(tmp_path / "bad.signspark.npz")


def test_gloss_list_and_glosses_fallback(tmp_path):
    seq = random_sequence(20, seed=3, labels=False)
    d = sr.record_arrays(seq)
    d["gloss"] = np.array(["HELLO", "WORLD"])
    np.savez(tmp_path / "g.signspark.npz", **d)
    back = sr.read(tmp_path / "g.signspark.npz")
    assert back.meta["gloss"] == ["HELLO", "WORLD"]
    sr.write(tmp_path / "g2.signspark.npz", back)
    assert np.load(tmp_path / "g2.signspark.npz")["gloss"].tolist() == ["HELLO", "WORLD"]
    # a sequence with gloss annotations but no record gloss writes them space-separated
    annotated = seq.replace(glosses=(Segment(1, 4, "A"), Segment(6, 9, "B")))
    assert str(sr.record_arrays(annotated)["gloss"]) == "A B"

"""Shared builders for the file-format tests: random sequences and reference-fixture lookup."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from core.model.sequence import FrameState, Keyframe, KeyKind, Segment, Sequence, new_sequence
from core.model.skeleton import N_JOINTS
from tests.conftest import official_file

ROOT = Path(__file__).resolve().parents[2]
reference_file = official_file  # skips with a reason when shared/ is not beside the checkout


def random_rotations(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """(*shape, 3, 3) float32 uniformly random rotations."""
    n = int(np.prod(shape))
    return Rotation.random(n, random_state=rng).as_matrix().reshape(shape + (3, 3)).astype(np.float32)


def random_sequence(
    t: int = 40, seed: int = 0, *, fps: float = 30.0, extras: bool = True, labels: bool = True
) -> Sequence:
    """A source sequence of random rotations, translation, labels and (optionally) the SMPL-X
    extra channels jaw / eyes / expression and betas in meta."""
    rng = np.random.default_rng(seed)
    rot = random_rotations(rng, (t, N_JOINTS))
    trans = rng.normal(scale=0.3, size=(t, 3)).astype(np.float32)
    extra = {}
    meta = {}
    if extras:
        extra = {
            "jaw": random_rotations(rng, (t,)),
            "left_eye": random_rotations(rng, (t,)),
            "right_eye": random_rotations(rng, (t,)),
            "expression": rng.normal(size=(t, 10)).astype(np.float32),
        }
        meta = {"betas": rng.normal(size=10).round(4).tolist(), "gender": "female"}
    lab = None
    if labels and t >= 20:  # two signs: 3..11 and 15..t-3
        lab = np.zeros(t, np.uint8)
        lab[3:12] = 1
        lab[3] = 2
        lab[15 : t - 2] = 1
        lab[15] = 2
    return new_sequence(rot, fps, trans, labels=lab, extra_frames=extra, meta=meta, text="hello world", language="BSL")


def edited_sequence(t: int = 40, seed: int = 1) -> Sequence:
    """A document mid-edit: keys of every kind, glosses, generated frames differing from the
    source, an invalid span, extra channels and nested meta."""
    seq = random_sequence(t, seed)
    rng = np.random.default_rng(seed + 100)
    rot = seq.rotations.copy()
    rot[10:20] = random_rotations(rng, (10, N_JOINTS))
    tr = seq.translation.copy()
    tr[10:20] += 0.5
    base = seq.base_states.copy()
    base[10:20] = FrameState.GENERATED
    valid = seq.valid.copy()
    valid[25:30, 22:37] = False
    keys = (
        Keyframe(3, KeyKind.ONSET),
        Keyframe(7, KeyKind.MID),
        Keyframe(11, KeyKind.OFFSET),
        Keyframe(21, KeyKind.USER),
    )
    glosses = (Segment(3, 11, "HELLO"), Segment(15, t - 3, "WORLD"), Segment(30, 31, None))
    meta = dict(seq.meta, nested={"a": [1, 2.5, "x"], "b": None})
    return seq.replace(
        rotations=rot, translation=tr, base_states=base, valid=valid, keyframes=keys, glosses=glosses, meta=meta
    )


def assert_same_sequence(a: Sequence, b: Sequence, atol: float = 0.0) -> None:
    """Every field equal (floats within atol)."""
    assert a.n_frames == b.n_frames and a.fps == b.fps
    assert a.text == b.text and a.language == b.language
    assert a.keyframes == b.keyframes and a.glosses == b.glosses
    assert dict(a.meta) == dict(b.meta)
    assert a.skeleton.names == b.skeleton.names and a.skeleton.parents == b.skeleton.parents
    np.testing.assert_array_equal(a.skeleton.offsets, b.skeleton.offsets)
    np.testing.assert_array_equal(a.skeleton.tips, b.skeleton.tips)
    fa, fb = a.frame_arrays(), b.frame_arrays()
    assert set(fa) == set(fb)
    for k in fa:
        assert fa[k].dtype == fb[k].dtype, k
        np.testing.assert_allclose(fa[k], fb[k], atol=atol, rtol=0, err_msg=k)

"""SignSparK per-clip records (``.signspark.npz``): the official data layout, one clip per file.

Keys (docs/official-checkpoints.md; all rotations 6D = the first two ROWS
of the local SMPL-X rotation matrix, joint-major):

- ``left_features`` / ``right_features`` (T, >=90): 15 MANO joints x 6D in SMPL-X hand order.
  Dims past 90 are kept as the extra channels ``left_hand_extra`` / ``right_hand_extra``.
  The stored left hand is in SMPL-X (true-left) convention; the flip F R F into the right-hand
  model happens only in ``model_features``.
- ``body_features`` (T, 126): SMPL-X ``body_pose`` joints 1..21 x 6D (no global orient, no
  translation: the pelvis stays at rest).
- ``face_features`` (T, 6+E): jaw 6D then E (officially 50) expression coefficients, kept as the
  extra channels ``jaw`` (T, 3, 3) and ``expression`` (T, E), shared with SMPL-X files.
- ``segment`` (T,) int frame labels 0 / 1 / 2, kept raw as ``Sequence.labels``.
- ``translation`` (the sentence, ``Sequence.text``), ``language``: strings (0-d or one-element
  arrays); ``gloss`` (``meta["gloss"]``): a string, or an array of strings kept as a list.
- ``fps``: not in the official layout. Read when present, else ``default_fps`` (25); always written.

Any of the feature keys may be missing (those joints are then marked not valid), but not all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..model.rotations import flip_hand, matrix_to_6d, sixd_to_matrix
from ..model.sequence import Sequence, SequenceError, new_sequence
from ..model.skeleton import JOINT_NAMES, LEFT_HAND, N_BODY, N_HAND, N_JOINTS, RIGHT_HAND, SIGNSPARK_BODY_JOINTS
from .errors import FormatError
from .npzfile import NpzReader, open_npz, write_npz

DEFAULT_FPS = 25.0
HAND_DIMS = 6 * N_HAND  # 90
BODY_DIMS = 6 * (N_BODY - 1)  # 126: body_pose joints 1..21
N_EXPRESSION = 50
FEATURE_KEYS = ("left_features", "right_features", "body_features", "face_features")
TEXT_KEYS = ("translation", "language", "gloss")
KNOWN_KEYS = frozenset(FEATURE_KEYS + TEXT_KEYS + ("segment", "fps"))


def _features(r: NpzReader, key: str, min_width: int, exact: bool = False) -> np.ndarray:
    a = r.numeric(key)
    if a.ndim != 2 or (a.shape[1] != min_width if exact else a.shape[1] < min_width):
        want = f"(T, {min_width})" if exact else f"(T, >={min_width})"
        raise r.fail(f"key {key!r} has shape {a.shape}, expected {want}")
    if a.shape[0] == 0:
        raise r.fail(f"key {key!r} has no frames (T = 0)")
    return a


def _decode(r: NpzReader, key: str, d6: np.ndarray) -> np.ndarray:
    """(T, n*6) -> (T, n, 3, 3) by Gram-Schmidt over the rows (the official decoder)."""
    t = d6.shape[0]
    d6 = d6.reshape(t, -1, 6)
    a1, a2 = d6[..., :3], d6[..., 3:]
    n1 = np.linalg.norm(a1, axis=-1)
    n2 = np.linalg.norm(np.cross(a1, a2), axis=-1)
    if (n1 < 1e-6).any() or (n2 < 1e-6 * np.maximum(n1, 1e-6)).any():
        raise r.fail(f"key {key!r} holds degenerate 6D rotations (zero or parallel rows)")
    return sixd_to_matrix(d6)


def read(path: str | Path, *, default_fps: float = DEFAULT_FPS) -> Sequence:
    """Read a SignSparK record into a Sequence (rotations float32, our 52-joint skeleton)."""
    path = Path(path)
    with open_npz(path) as r:
        present = [k for k in FEATURE_KEYS[:3] if r.has(k)]
        if not present:
            raise r.fail("no SignSparK features (expected left_features, right_features, body_features)")
        feats = {
            k: _features(r, k, *w)
            for k, w in (
                ("left_features", (HAND_DIMS,)),
                ("right_features", (HAND_DIMS,)),
                ("body_features", (BODY_DIMS, True)),
                ("face_features", (6,)),
            )
            if r.has(k)
        }
        lengths = {k: v.shape[0] for k, v in feats.items()}
        t = lengths[present[0]]
        if len(set(lengths.values())) != 1:
            raise r.fail(f"features disagree on the number of frames: {lengths}")
        rot = np.broadcast_to(np.eye(3), (t, N_JOINTS, 3, 3)).copy()
        valid = np.ones((t, N_JOINTS), bool)
        extra: dict[str, np.ndarray] = {}
        for side, sl in (("left", LEFT_HAND), ("right", RIGHT_HAND)):
            key = f"{side}_features"
            if key in feats:
                rot[:, sl] = _decode(r, key, feats[key][:, :HAND_DIMS])
                if feats[key].shape[1] > HAND_DIMS:
                    extra[f"{side}_hand_extra"] = feats[key][:, HAND_DIMS:].astype(np.float32)
            else:
                valid[:, sl] = False
        if "body_features" in feats:
            rot[:, 1:N_BODY] = _decode(r, "body_features", feats["body_features"])
        else:
            valid[:, :N_BODY] = False
        if "face_features" in feats:
            extra["jaw"] = _decode(r, "face_features", feats["face_features"][:, :6])[:, 0].astype(np.float32)
            extra["expression"] = feats["face_features"][:, 6:].astype(np.float32)
        labels = np.zeros(t, np.uint8)
        if r.has("segment"):
            seg = r.array("segment")
            if seg.shape != (t,):
                raise r.fail(f"key 'segment' has shape {seg.shape}, expected ({t},)")
            if seg.dtype.kind not in "iub" and not (seg.dtype.kind == "f" and np.all(seg == np.round(seg))):
                raise r.fail(f"key 'segment' holds {seg.dtype} values, expected integer labels")
            if seg.size and (seg.min() < 0 or seg.max() > 2):
                raise r.fail("key 'segment' holds labels outside 0 (O), 1 (I), 2 (B)")
            labels = seg.astype(np.uint8)
        fps = DEFAULT_FPS if default_fps is None else float(default_fps)
        if r.has("fps"):
            fps = r.scalar("fps")
            if not fps > 0:
                raise r.fail(f"key 'fps' is {fps}, expected a positive frame rate")
        meta: dict[str, Any] = {"source_format": "signspark"}
        if not r.has("fps"):
            meta["fps_assumed"] = True
        if r.has("gloss"):
            g = r.array("gloss")
            if g.dtype.kind in "US" and g.size > 1:  # one gloss per sign: kept as a list
                meta["gloss"] = [
                    v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in g.reshape(-1).tolist()
                ]
            else:
                meta["gloss"] = r.text("gloss")
        others = sorted(r.keys - KNOWN_KEYS)
        if others:
            meta["skipped_keys"] = others
        try:
            return new_sequence(
                rot.astype(np.float32),
                fps,
                valid=valid,
                labels=labels,
                text=r.text("translation"),
                language=r.text("language"),
                extra_frames=extra,
                meta=meta,
            )
        except SequenceError as e:
            raise FormatError(path, str(e)) from None


def _hand_6d(seq: Sequence, side: str) -> np.ndarray:
    """(T, 90) 6D of one hand in SMPL-X convention, plus its extra dims if any."""
    sl = LEFT_HAND if side == "left" else RIGHT_HAND
    d6 = matrix_to_6d(seq.rotations[:, sl]).reshape(seq.n_frames, HAND_DIMS)
    ex = seq.extra_frames.get(f"{side}_hand_extra")
    if ex is not None and ex.ndim == 2:
        d6 = np.concatenate([d6, ex.astype(np.float32)], axis=1)
    return d6


def _face(seq: Sequence) -> np.ndarray:
    """(T, 6+E) jaw 6D + expression (E >= 50, zero-padded) from the extra channels."""
    t = seq.n_frames
    jaw = seq.extra_frames.get("jaw")
    jaw = np.broadcast_to(np.eye(3, dtype=np.float32), (t, 3, 3)) if jaw is None or jaw.shape != (t, 3, 3) else jaw
    expr = seq.extra_frames.get("expression")
    expr = np.zeros((t, 0), np.float32) if expr is None or expr.ndim != 2 else expr.astype(np.float32)
    if expr.shape[1] < N_EXPRESSION:
        expr = np.concatenate([expr, np.zeros((t, N_EXPRESSION - expr.shape[1]), np.float32)], axis=1)
    return np.concatenate([matrix_to_6d(jaw).astype(np.float32), expr], axis=1)


def record_arrays(seq: Sequence) -> dict[str, np.ndarray]:
    """The arrays ``write`` stores for ``seq`` (frame-first float32 features)."""
    t = seq.n_frames
    gloss = seq.meta.get("gloss")
    if gloss is None:
        gloss = " ".join(g.gloss for g in seq.glosses if g.gloss)
    return {
        "left_features": _hand_6d(seq, "left").astype(np.float32),
        "right_features": _hand_6d(seq, "right").astype(np.float32),
        "body_features": matrix_to_6d(seq.rotations[:, 1:N_BODY]).reshape(t, BODY_DIMS).astype(np.float32),
        "face_features": _face(seq),
        "segment": seq.labels.astype(np.int64),
        "translation": np.array(seq.text),
        "language": np.array(seq.language),
        "gloss": np.array([str(g) for g in gloss] if isinstance(gloss, (list, tuple)) else str(gloss)),
        "fps": np.array(seq.fps, dtype=np.float64),
    }


def write(path: str | Path, seq: Sequence) -> None:
    """Write ``seq`` as a SignSparK record. The root rotation and translation are not part of
    the official layout and are dropped."""
    path = Path(path)
    if seq.n_frames == 0:
        raise FormatError(path, "nothing to write: the sequence has no frames")
    if tuple(seq.skeleton.names) != JOINT_NAMES:
        raise FormatError(path, "SignSparK records need the SMPL-X joint set; this sequence has another skeleton")
    write_npz(path, record_arrays(seq))


def flip_hand_features(features: np.ndarray) -> np.ndarray:
    """(T, >=90) hand features -> the same with the first 90 dims flipped (F R F) the way the
    official ``flip_left_hand_features`` does it (Gram-Schmidt decode, flip, re-encode rows 0-1);
    later dims pass through. Its own inverse."""
    x = np.asarray(features, dtype=np.float32)
    t = x.shape[0]
    m = sixd_to_matrix(x[:, :HAND_DIMS].reshape(t, N_HAND, 6))
    out = x.copy()
    out[:, :HAND_DIMS] = matrix_to_6d(flip_hand(m)).reshape(t, HAND_DIMS)
    return out


def model_features(seq: Sequence) -> dict[str, np.ndarray]:
    """Channel-first float32 features as the official loader builds them from this clip:

    hand: (2, 90, T) = [left hand flipped into the right-hand convention, right hand];
    body: (60, T) = SMPL-X joints 12..21 (neck .. wrists) x 6D (``body_features[:, 66:126]``);
    face: (56, T) = jaw 6D + 50 expression coefficients (zeros where the sequence has none).
    No padding or truncation (the official batch pads to 304 by repeating the last frame).
    """
    t = seq.n_frames
    left = matrix_to_6d(flip_hand(seq.rotations[:, LEFT_HAND])).reshape(t, HAND_DIMS)
    right = matrix_to_6d(seq.rotations[:, RIGHT_HAND]).reshape(t, HAND_DIMS)
    body = matrix_to_6d(seq.rotations[:, list(SIGNSPARK_BODY_JOINTS)]).reshape(t, 6 * len(SIGNSPARK_BODY_JOINTS))
    return {
        "hand": np.ascontiguousarray(np.stack([left.T, right.T]), dtype=np.float32),
        "body": np.ascontiguousarray(body.T, dtype=np.float32),
        "face": np.ascontiguousarray(_face(seq)[:, : 6 + N_EXPRESSION].T, dtype=np.float32),
    }


def official_keyframes(segment: np.ndarray) -> list[int]:
    """Keyframe mode 3 of the official loader: for every maximal run of non-zero labels (1 and 2
    alike, so adjacent signs merge) its first, middle ``(start+end)//2`` and last frame, sorted."""
    nz = np.concatenate([[0], (np.asarray(segment) != 0).astype(np.int8), [0]])
    d = np.diff(nz)
    starts, ends = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0] - 1
    return sorted({int(f) for s, e in zip(starts, ends) for f in (s, (s + e) // 2, e)})

"""Per-stream model features in the official SignSparK layout (SPEC sections 1-2). numpy only.

A clip's raw fields (frame-first): ``left_features`` / ``right_features`` (T, >=90) = 15 MANO
joints x 6D (first two rotation-matrix rows), ``body_features`` (T, 126) = 21 SMPL-X body_pose
joints x 6D, ``face_features`` (T, 56) = jaw 6D + 50 expression coefficients.

Model tensors are channel-first (J, T) per clip, (B, J, T) batched; no normalisation anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

__all__ = [
    "STREAM_CHANNELS",
    "SEQ_LEN",
    "HAND_FLIP_SIGN",
    "flip_hand_6d",
    "stream_features",
    "pad_or_truncate",
    "length_mask",
    "keyframe_mask",
]

Stream = Literal["hand", "body", "face"]
STREAM_CHANNELS: dict[str, int] = {"hand": 90, "body": 60, "face": 56}
SEQ_LEN = 304  # official training/eval length; T must be a multiple of 8
BODY_SLICE = slice(66, 126)  # body_pose joints 11..20 = SMPL-X joints 12..21 (neck .. wrists)
# Conjugation by F = diag(1, -1, -1) on the first two rows of R: R' = F R F.
HAND_FLIP_SIGN = np.array([1, -1, -1, -1, 1, 1], dtype=np.float32)


def flip_hand_6d(x: np.ndarray) -> np.ndarray:
    """Left hand <-> right-hand model convention: (..., D>=90) -> same shape.

    Multiplies each joint's 6D by [1,-1,-1,-1,1,1] on the first 90 dims; later dims pass through.
    The official code re-orthonormalises first (Gram-Schmidt); for rotation inputs the two agree
    to ~1e-7. Its own inverse."""
    out = np.array(x, dtype=np.float32, copy=True)
    lead = out[..., :90]
    out[..., :90] = (lead.reshape(*lead.shape[:-1], 15, 6) * HAND_FLIP_SIGN).reshape(lead.shape)
    return out


def stream_features(
    clip: Mapping[str, np.ndarray], stream: Stream, hand: Literal["left", "right"] = "right"
) -> np.ndarray:
    """(T, J) features of one stream; a left hand is flipped into the right-hand convention."""
    if stream == "hand":
        raw = np.asarray(clip[f"{hand}_features"], dtype=np.float32)[:, :90]
        return flip_hand_6d(raw) if hand == "left" else raw.copy()
    if stream == "body":
        return np.asarray(clip["body_features"], dtype=np.float32)[:, BODY_SLICE].copy()
    if stream == "face":
        return np.asarray(clip["face_features"], dtype=np.float32)[:, :56].copy()
    raise ValueError(f"unknown stream {stream!r}; expected hand, body or face")


def pad_or_truncate(x: np.ndarray, seq_len: int = SEQ_LEN) -> tuple[np.ndarray, int]:
    """(T, J) -> ((seq_len, J), length). Shorter clips repeat their last valid frame (official:
    not zeros); longer ones are cut, and their length becomes seq_len."""
    t = x.shape[0]
    if t == 0:
        raise ValueError("empty clip")
    if t >= seq_len:
        return x[:seq_len].copy(), seq_len
    pad = np.repeat(x[-1:], seq_len - t, axis=0)
    return np.concatenate([x, pad], axis=0), t


def length_mask(lengths: Sequence[int] | np.ndarray, seq_len: int = SEQ_LEN) -> np.ndarray:
    """(B,) lengths -> (B, 1, seq_len) bool, True on valid frames."""
    lengths = np.asarray(lengths, dtype=np.int64)
    return (np.arange(seq_len)[None, :] < lengths[:, None])[:, None, :]


def keyframe_mask(keyframes: Sequence[Sequence[int]], channels: int, seq_len: int = SEQ_LEN) -> np.ndarray:
    """Keyframe indices per sample -> (B, J, seq_len) bool, True on all J channels at each key.
    Indices outside [0, seq_len) (including -1 padding) are ignored."""
    out = np.zeros((len(keyframes), channels, seq_len), dtype=bool)
    for b, keys in enumerate(keyframes):
        k = np.asarray(keys, dtype=np.int64).reshape(-1)
        k = k[(k >= 0) & (k < seq_len)]
        out[b, :, k] = True
    return out

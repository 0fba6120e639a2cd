"""FAST input features from a Sequence: one stream per hand. numpy only.

Per hand and frame (``HAND_DIM`` = 107 values), left hands conjugated into the right-hand
convention by F = diag(1, -1, -1) (docs/representation.md; for world orientations and velocities the
same conjugation is a mirror across the body's midplane, so a left-handed sign looks like the
right-handed one):
- 0:6    wrist orientation in the world (6D, first two rows) - what WiLoR's global_orient gives
- 6:12   wrist local rotation (relative to the forearm), 6D
- 12:102 the 15 MANO joints' local rotations, 6D, SMPL-X hand order
- 102:105 wrist velocity (central difference, metres/frame) / the sequence's speed scale
- 105    wrist speed / the sequence's speed scale
- 106    finger articulation speed (mean joint angle change per frame) / its sequence scale

The scale of a sequence is the root mean square over both hands and all valid frames, so the
kinematic features are free of units, frame rate, body size and camera distance (the features
that transferred best from fingerspelling chains to real sentences). A hand that is not observed
(``valid`` False at its wrist) has all-zero features on that frame: training drops whole hand
streams at random, so a missing hand is not a cue.
"""

from __future__ import annotations

import numpy as np

from ...model.rotations import FLIP_SIGNS
from ...model.sequence import Sequence
from ...model.skeleton import LEFT_HAND, RIGHT_HAND, Skeleton

HAND_DIM = 107
ROT_DIMS = slice(0, 102)
KIN_DIMS = slice(102, 107)
SIDES = ("left", "right")


def _chain_world(
    skeleton: Skeleton, rotations: np.ndarray, translation: np.ndarray, joints: tuple[int, ...]
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """World rotations and positions of ``joints`` and their ancestors only (cheaper than full FK)."""
    need: set[int] = set()
    for j in joints:
        while j >= 0 and j not in need:
            need.add(j)
            j = skeleton.parents[j]
    wr: dict[int, np.ndarray] = {}
    wp: dict[int, np.ndarray] = {}
    for i in sorted(need):
        p = skeleton.parents[i]
        r = rotations[:, i].astype(np.float32)
        if p < 0:
            wr[i] = r
            wp[i] = np.broadcast_to(skeleton.offsets[i].astype(np.float32), translation.shape) + translation
        else:
            wr[i] = wr[p] @ r
            wp[i] = wp[p] + np.einsum("tab,b->ta", wr[p], skeleton.offsets[i].astype(np.float32))
    return wr, wp


def _six(m: np.ndarray) -> np.ndarray:
    return m[..., :2, :].reshape(m.shape[:-2] + (6,))


def _robust_scale(x: np.ndarray, mask: np.ndarray) -> float:
    v = x[mask]
    if v.size == 0:
        return 1.0
    s = float(np.sqrt(np.mean(v.astype(np.float64) ** 2)))
    return s if s > 1e-8 else 1.0


def _central_diff(x: np.ndarray) -> np.ndarray:
    """(T, ...) -> (T, ...): central differences, one-sided at the ends, zero for T == 1."""
    if x.shape[0] < 2:
        return np.zeros_like(x)
    d = np.empty_like(x)
    d[1:-1] = (x[2:] - x[:-2]) * 0.5
    d[0] = x[1] - x[0]
    d[-1] = x[-1] - x[-2]
    return d


def hand_features(seq: Sequence) -> np.ndarray:
    """(T, 2, HAND_DIM) float32 features, hands in the order left, right."""
    return features_from_arrays(seq.rotations, seq.translation, seq.valid, seq.skeleton)


def features_from_arrays(
    rotations: np.ndarray, translation: np.ndarray | None, valid: np.ndarray | None, skeleton: Skeleton
) -> np.ndarray:
    """The same from raw arrays: rotations (T, J, 3, 3) local; translation (T, 3); valid (T, J)."""
    rotations = np.asarray(rotations, dtype=np.float32)
    t = rotations.shape[0]
    translation = np.zeros((t, 3), np.float32) if translation is None else np.asarray(translation, np.float32)
    valid = np.ones(rotations.shape[:2], bool) if valid is None else np.asarray(valid, bool)
    wrists = (skeleton.index("left_wrist"), skeleton.index("right_wrist"))
    wr, wp = _chain_world(skeleton, rotations, translation, wrists)
    flip = FLIP_SIGNS.astype(np.float32)
    out = np.zeros((t, 2, HAND_DIM), np.float32)
    vel, ang, present = [], [], []
    for h, (wrist, fingers) in enumerate(zip(wrists, (LEFT_HAND, RIGHT_HAND))):
        left = h == 0
        g = wr[wrist] * flip if left else wr[wrist]
        loc = rotations[:, wrist] * flip if left else rotations[:, wrist]
        fin = rotations[:, fingers] * flip if left else rotations[:, fingers]
        out[:, h, 0:6] = _six(g)
        out[:, h, 6:12] = _six(loc)
        out[:, h, 12:102] = _six(fin).reshape(t, 90)
        v = _central_diff(wp[wrist])
        if left:  # the mirror M = diag(-1, 1, 1) that matches F R F = M R M on vectors
            v = v * np.array([-1.0, 1.0, 1.0], np.float32)
        vel.append(v)
        # finger articulation speed: mean Frobenius change of the 15 joint matrices per frame
        ang.append(np.linalg.norm(_central_diff(fin).reshape(t, -1), axis=1) / np.sqrt(15.0))
        present.append(valid[:, wrist] & valid[:, fingers].all(axis=1))
    mask = np.stack(present, 1)  # (T, 2)
    vel = np.stack(vel, 1)  # (T, 2, 3)
    speed = np.linalg.norm(vel, axis=-1)  # (T, 2)
    ang = np.stack(ang, 1)  # (T, 2)
    s_scale, a_scale = _robust_scale(speed, mask), _robust_scale(ang, mask)
    out[..., 102:105] = np.clip(vel / s_scale, -10, 10)
    out[..., 105] = np.clip(speed / s_scale, 0, 10)
    out[..., 106] = np.clip(ang / a_scale, 0, 10)
    out[~mask] = 0.0
    return out


def motion_energy(features: np.ndarray) -> np.ndarray:
    """(T,) scale-free hand speed for the kinematic baseline: both hands' wrist speed plus finger
    articulation speed, from ``features`` (T, 2, HAND_DIM)."""
    return features[..., 105].sum(axis=1) + 0.5 * features[..., 106].sum(axis=1)

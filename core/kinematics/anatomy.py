"""Anatomical joint parameters and limits: flexion / abduction / twist instead of raw Euler angles.

Every parameterised joint has a frame in its parent's rest frame, built for its LEFT twin
(a right joint is mirrored into it with the hand flip F R F, F = diag(1, -1, -1), which is also
the body's left-right mirror up to sign): x' the bone (the twist axis), z' the flexion axis,
y' = z' x x' the abduction axis. R = Rz'(flexion) Ry'(abduction) Rx'(twist); the middle angle
stays far from +-90 degrees for every joint listed here, so the readout has no gimbal lock.

- fingers: x' along the bone, z' = bone x palm normal (positive flexion curls toward the palm,
  positive abduction turns toward the thumb);
- wrist: x' along the forearm, same palm rule (positive = palmar flexion);
- elbow: z' the elbow hinge (positive flexion brings the forearm forward);
- spine, neck, head (midline joints): x' up (twist), z' the left-right axis (positive flexion
  bends forward), y' forward (lateral bend).
Shoulders and collars move far beyond any single Euler chart: they keep their three angles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..model.rotations import flip_hand
from ..model.skeleton import N_BODY, N_HAND, Skeleton

# degrees per finger level 1..3: (flex min, flex max, abduction min, abduction max)
FINGER_LIMITS: dict[str, tuple[tuple[float, float, float, float], ...]] = {
    "index": ((-20, 90, -20, 20), (0, 110, -5, 5), (-5, 80, -5, 5)),
    "middle": ((-20, 90, -15, 15), (0, 110, -5, 5), (-5, 80, -5, 5)),
    "ring": ((-20, 90, -15, 15), (0, 110, -5, 5), (-5, 80, -5, 5)),
    "pinky": ((-20, 90, -25, 20), (0, 110, -5, 5), (-5, 80, -5, 5)),
    "thumb": ((-20, 50, -30, 50), (-10, 60, -10, 10), (-15, 80, -5, 5)),
}
# degrees: (flex min, flex max, abduction min, abduction max, twist min, twist max)
BODY_LIMITS: dict[str, tuple[float, float, float, float, float, float]] = {
    "elbow": (0, 150, -15, 15, -90, 90),
    "wrist": (-75, 80, -35, 30, -95, 95),
}
PARAM_NAMES = ("flexion", "abduction", "twist")
_MIDLINE = ("spine1", "spine2", "spine3", "neck", "head")


@dataclass(frozen=True)
class JointParams:
    """How one joint is read out: its frame (3, 3) (columns x', y', z' in the parent's rest frame
    of the LEFT twin), whether it is a right-side joint (mirrored), and its limits in degrees
    ((flex lo, hi), (abduction lo, hi), (twist lo, hi)) or None where the joint has none."""

    joint: int
    frame: np.ndarray
    mirrored: bool
    limits: tuple[tuple[float, float], tuple[float, float], tuple[float, float]] | None


def _frame(x: np.ndarray, z_hint: np.ndarray) -> np.ndarray:
    x = x / np.linalg.norm(x)
    z = z_hint - np.dot(z_hint, x) * x
    z = z / np.linalg.norm(z)
    return np.stack([x, np.cross(z, x), z], 1)


def _bone(skeleton: Skeleton, joint: int) -> np.ndarray:
    children = skeleton.children(joint)
    return skeleton.offsets[children[0]] if children else skeleton.tips[joint]


def joint_params(skeleton: Skeleton, joint: int) -> JointParams | None:
    """The anatomical frame and limits of ``joint``, or None where it has none (shoulders, collars,
    pelvis, legs)."""
    if joint < 0 or joint >= skeleton.n_joints:
        return None
    name = skeleton.names[joint]
    palm = np.array([0.0, -1.0, 0.0])  # the left palm faces down in the T pose
    if name in _MIDLINE:
        f = np.stack([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], 1)
        return JointParams(joint, f, False, None)
    side, _, rest = name.partition("_")
    if side not in ("left", "right"):
        return None
    left = skeleton.index("left_" + rest)
    bone = _bone(skeleton, left)
    if N_BODY <= joint < N_BODY + 2 * N_HAND:
        finger, level = rest[:-1], int(rest[-1])
        fmin, fmax, amin, amax = FINGER_LIMITS[finger][level - 1]
        lim = ((fmin, fmax), (amin, amax), (-180.0, 180.0))
        return JointParams(joint, _frame(bone, np.cross(bone, palm)), side == "right", lim)
    if rest == "wrist":
        fore = skeleton.offsets[left]  # elbow -> wrist: the forearm
        b = BODY_LIMITS["wrist"]
        return JointParams(joint, _frame(fore, np.cross(fore, palm)), side == "right", _pairs(b))
    if rest == "elbow":
        b = BODY_LIMITS["elbow"]
        return JointParams(joint, _frame(bone, np.array([0.0, -1.0, 0.0])), side == "right", _pairs(b))
    return None


def _pairs(b: tuple[float, ...]) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    return (b[0], b[1]), (b[2], b[3]), (b[4], b[5])


def to_params(jp: JointParams, r: np.ndarray) -> np.ndarray:
    """(..., 3) degrees (flexion, abduction, twist) of local rotations ``r`` (..., 3, 3)."""
    r = np.asarray(r, np.float64)
    if jp.mirrored:
        r = flip_hand(r)
    rl = jp.frame.T @ r @ jp.frame
    lead = rl.shape[:-2]
    zyx = Rotation.from_matrix(rl.reshape(-1, 3, 3)).as_euler("ZYX", degrees=True)
    return zyx.reshape(lead + (3,))


def from_params(jp: JointParams, params: np.ndarray) -> np.ndarray:
    """Local rotations (..., 3, 3) float64 for (..., 3) degrees (flexion, abduction, twist)."""
    p = np.asarray(params, np.float64)
    rl = Rotation.from_euler("ZYX", p.reshape(-1, 3), degrees=True).as_matrix().reshape(p.shape[:-1] + (3, 3))
    r = jp.frame @ rl @ jp.frame.T
    return flip_hand(r) if jp.mirrored else r


def clamp_params(jp: JointParams, params: np.ndarray) -> np.ndarray:
    """(..., 3) degrees clipped to the joint's limits (unchanged where it has none)."""
    p = np.array(params, np.float64)
    if jp.limits is not None:
        for i, (lo, hi) in enumerate(jp.limits):
            p[..., i] = np.clip(p[..., i], lo, hi)
    return p


def clamp_rotation(jp: JointParams, r: np.ndarray) -> np.ndarray:
    """The nearest rotation within the limits, in parameter space (float64 (..., 3, 3))."""
    return from_params(jp, clamp_params(jp, to_params(jp, r)))


def limit_violations(skeleton: Skeleton, rotations: np.ndarray, joints=None, tol_deg: float = 0.5) -> list[str]:
    """One line per joint of ``rotations`` (J, 3, 3) outside its limits by more than ``tol_deg``."""
    out = []
    for j in range(skeleton.n_joints) if joints is None else joints:
        jp = joint_params(skeleton, int(j))
        if jp is None or jp.limits is None:
            continue
        p = to_params(jp, rotations[j])
        for name, v, (lo, hi) in zip(PARAM_NAMES, p, jp.limits):
            if v < lo - tol_deg or v > hi + tol_deg:
                out.append(f"{skeleton.names[j]} {name} {v:.1f} deg outside {lo:g}..{hi:g}")
    return out

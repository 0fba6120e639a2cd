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
- shoulders (glenohumeral): swing-twist, see ``SHOULDER_CONE``. The swing is read from the
  anatomical reference (arm hanging at the side, forearm forward), not from SMPL-X's T pose:
  flexion and abduction are the components of the swing vector (exponential map) that takes the
  hanging arm to the humerus direction (flexion forward, negative = extension; abduction
  sideways, negative = adduction across the body), twist is the humeral rotation about the bone
  after that swing (positive = internal). Limits: the humerus direction within a cone whose
  elevation bound depends on the plane of elevation, the twist within its range.
Collars keep their three angles.
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
# Shoulder range of motion, degrees. Published norms (AAOS, Greene & Heckman, "The Clinical
# Measurement of Joint Motion", 1994; Norkin & White, "Measurement of Joint Motion", 5th ed.):
# flexion 180, extension 60, abduction 180, adduction 30-50 from the side, horizontal adduction
# (arm forward, across the chest) ~130 from the lateral, internal / external rotation 70 / 90.
# The cone: maximum elevation (angle of the humerus from hanging) per plane of elevation
# (0 forward, 90 lateral, 180 / -180 backward, -90 medial), linear in between; the forward-medial
# bound is the horizontal adduction (the arm can cross the chest at and above shoulder height).
SHOULDER_CONE: tuple[tuple[float, float], ...] = (
    (-180.0, 60.0),  # extension
    (-135.0, 50.0),  # back and across (behind the back)
    (-90.0, 50.0),  # adduction across the front of the body
    (-45.0, 180.0),  # horizontal adduction: forward and across the chest
    (0.0, 180.0),  # flexion
    (90.0, 180.0),  # abduction
    (135.0, 110.0),  # back and out (horizontal abduction ~40 behind the frontal plane)
    (180.0, 60.0),
)
# external .. internal rotation. The norm's internal 70 is measured at 90 degrees of abduction;
# real signing (SignSuisse, PHOENIX) holds the arm at the side with the forearm across the body
# at up to ~105 degrees of internal twist (14 % of frames beyond 70), so the bound is widened.
SHOULDER_TWIST = (-90.0, 110.0)
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
    swing_twist: bool = False  # shoulders: flexion / abduction are a swing vector, see SHOULDER_CONE


def _frame(x: np.ndarray, z_hint: np.ndarray) -> np.ndarray:
    x = x / np.linalg.norm(x)
    z = z_hint - np.dot(z_hint, x) * x
    z = z / np.linalg.norm(z)
    return np.stack([x, np.cross(z, x), z], 1)


def _bone(skeleton: Skeleton, joint: int) -> np.ndarray:
    children = skeleton.children(joint)
    return skeleton.offsets[children[0]] if children else skeleton.tips[joint]


def joint_params(skeleton: Skeleton, joint: int) -> JointParams | None:
    """The anatomical frame and limits of ``joint``, or None where it has none (collars, pelvis,
    legs)."""
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
    if rest == "shoulder":
        # columns: lateral (the T-pose humerus), forward, down (the hanging arm)
        lat = bone / np.linalg.norm(bone)
        fwd = np.array([0.0, 0.0, 1.0]) - lat[2] * lat
        fwd = fwd / np.linalg.norm(fwd)
        f = np.stack([lat, fwd, np.cross(lat, fwd)], 1)
        lim = ((-60.0, 180.0), (-50.0, 180.0), SHOULDER_TWIST)
        return JointParams(joint, f, side == "right", lim, swing_twist=True)
    if rest == "elbow":
        b = BODY_LIMITS["elbow"]
        return JointParams(joint, _frame(bone, np.array([0.0, -1.0, 0.0])), side == "right", _pairs(b))
    return None


def _pairs(b: tuple[float, ...]) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    return (b[0], b[1]), (b[2], b[3]), (b[4], b[5])


# the T pose -> the anatomical reference (hanging arm) in the shoulder frame: a quarter turn
# taking lateral (x') onto down (z') about -y'
_HANG = Rotation.from_rotvec([0.0, -np.pi / 2, 0.0]).as_matrix()


def _shoulder_to_params(rl: np.ndarray) -> np.ndarray:
    """(n, 3) degrees (flexion, abduction, twist) of (n, 3, 3) rotations in the shoulder frame."""
    d = rl[:, :, 0]  # the humerus direction (lateral in the T pose)
    elev = np.arccos(np.clip(d[:, 2], -1.0, 1.0))
    rho = np.hypot(d[:, 0], d[:, 1])
    safe = np.where(rho > 1e-12, rho, 1.0)
    flex = np.where(rho > 1e-12, elev * d[:, 1] / safe, 0.0)
    abd = np.where(rho > 1e-12, elev * d[:, 0] / safe, 0.0)
    swing = _swing_matrix(np.degrees(flex), np.degrees(abd))
    tw = np.swapaxes(swing, 1, 2) @ rl @ _HANG.T  # a turn about down (z')
    twist = np.arctan2(tw[:, 1, 0] - tw[:, 0, 1], tw[:, 0, 0] + tw[:, 1, 1])
    return np.degrees(np.stack([flex, abd, twist], 1))


def _swing_matrix(flex: np.ndarray, abd: np.ndarray) -> np.ndarray:
    """(n, 3, 3): the swing taking down (z') toward forward (y') by ``flex`` and toward lateral
    (x') by ``abd`` degrees (one rotation, its vector flex * (z' x y') + abd * (z' x x'))."""
    vec = np.stack([-np.asarray(flex), np.asarray(abd), np.zeros_like(flex)], -1)
    return Rotation.from_rotvec(np.radians(vec).reshape(-1, 3)).as_matrix()


def shoulder_cone(plane_deg: np.ndarray) -> np.ndarray:
    """Maximum elevation (degrees) of the humerus for planes of elevation (degrees, any shape)."""
    a, b = np.array(SHOULDER_CONE).T
    return np.interp((np.asarray(plane_deg) + 180.0) % 360.0 - 180.0, a, b)


def _clamp_shoulder(p: np.ndarray) -> np.ndarray:
    """(..., 3) shoulder params with the swing pulled back into the cone along its own plane."""
    p = np.array(p, np.float64)
    elev = np.hypot(p[..., 0], p[..., 1])
    top = shoulder_cone(np.degrees(np.arctan2(p[..., 1], p[..., 0])))
    k = np.where(elev > top, top / np.maximum(elev, 1e-12), 1.0)
    p[..., 0] *= k
    p[..., 1] *= k
    p[..., 2] = np.clip(p[..., 2], *SHOULDER_TWIST)
    return p


def shoulder_excess(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Degrees by which shoulder params (..., 3) leave the cone (elevation) and the twist range
    (0 inside): two arrays of the leading shape."""
    p = np.asarray(params, np.float64)
    elev = np.hypot(p[..., 0], p[..., 1])
    top = shoulder_cone(np.degrees(np.arctan2(p[..., 1], p[..., 0])))
    lo, hi = SHOULDER_TWIST
    return np.maximum(elev - top, 0.0), np.maximum(np.maximum(lo - p[..., 2], p[..., 2] - hi), 0.0)


def to_params(jp: JointParams, r: np.ndarray) -> np.ndarray:
    """(..., 3) degrees (flexion, abduction, twist) of local rotations ``r`` (..., 3, 3)."""
    r = np.asarray(r, np.float64)
    if jp.mirrored:
        r = flip_hand(r)
    if jp.swing_twist:
        rl = jp.frame.T @ r @ jp.frame
        return _shoulder_to_params(rl.reshape(-1, 3, 3)).reshape(rl.shape[:-2] + (3,))
    rl = jp.frame.T @ r @ jp.frame
    lead = rl.shape[:-2]
    zyx = Rotation.from_matrix(rl.reshape(-1, 3, 3)).as_euler("ZYX", degrees=True)
    return zyx.reshape(lead + (3,))


def from_params(jp: JointParams, params: np.ndarray) -> np.ndarray:
    """Local rotations (..., 3, 3) float64 for (..., 3) degrees (flexion, abduction, twist)."""
    p = np.asarray(params, np.float64)
    if jp.swing_twist:
        q = p.reshape(-1, 3)
        twist = Rotation.from_rotvec(np.radians(q[:, 2:3]) * [0.0, 0.0, 1.0]).as_matrix()
        rl = (_swing_matrix(q[:, 0], q[:, 1]) @ twist @ _HANG).reshape(p.shape[:-1] + (3, 3))
    else:
        rl = Rotation.from_euler("ZYX", p.reshape(-1, 3), degrees=True).as_matrix().reshape(p.shape[:-1] + (3, 3))
    r = jp.frame @ rl @ jp.frame.T
    return flip_hand(r) if jp.mirrored else r


def clamp_params(jp: JointParams, params: np.ndarray) -> np.ndarray:
    """(..., 3) degrees clipped to the joint's limits (unchanged where it has none)."""
    p = np.array(params, np.float64)
    if jp.swing_twist:
        return _clamp_shoulder(p)
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
        if jp.swing_twist:
            over, twist_over = shoulder_excess(p)
            if over > tol_deg:
                el, plane = np.hypot(p[0], p[1]), np.degrees(np.arctan2(p[1], p[0]))
                out.append(
                    f"{skeleton.names[j]} elevation {el:.1f} deg outside 0..{float(shoulder_cone(plane)):g}"
                    f" (flexion {p[0]:.1f}, abduction {p[1]:.1f})"
                )
            if twist_over > tol_deg:
                lo, hi = SHOULDER_TWIST
                out.append(f"{skeleton.names[j]} twist {p[2]:.1f} deg outside {lo:g}..{hi:g}")
            continue
        for name, v, (lo, hi) in zip(PARAM_NAMES, p, jp.limits):
            if v < lo - tol_deg or v > hi + tol_deg:
                out.append(f"{skeleton.names[j]} {name} {v:.1f} deg outside {lo:g}..{hi:g}")
    return out

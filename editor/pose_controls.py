"""Pose parameters the inspector edits: finger flexion / spread within anatomical limits, and
three angles for every other joint. Pure numpy (scipy's ``Rotation`` does the Euler maths).

Finger joints are parameterised in the LEFT hand's rest frame (the hand model's convention
is the other side, but any one side works): x' along the bone, z' the flexion axis
(bone x palm normal, so positive flexion curls towards the palm), y' = z' x x' (positive spread
turns towards the thumb). A right-hand rotation is mirrored into that frame with the hand flip
(``core.model.rotations.flip_hand``) and back, so the same slider value means the same
handshape on both hands. R = Rz'(flex) Ry'(spread) Rx'(twist) (spread, the middle angle, stays
far from the +-90 degree gimbal lock); the twist is kept as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from core.kinematics import anatomy
from core.model.rotations import flip_hand
from core.model.skeleton import N_BODY, N_HAND, Skeleton

# degrees: (flex min, flex max, spread min, spread max) per finger joint 1..3 (core's limits)
FINGER_LIMITS = anatomy.FINGER_LIMITS
ANGLE_RANGE = (-180.0, 180.0)
EULER = "XYZ"  # intrinsic order of the three angles of body joints


@dataclass(frozen=True)
class FingerJoint:
    side: str  # "left" / "right"
    finger: str  # index, middle, pinky, ring, thumb
    level: int  # 1..3
    limits: tuple[float, float, float, float]


def finger_joint(skeleton: Skeleton, joint: int) -> FingerJoint | None:
    """Which finger joint ``joint`` is, or None for a body joint."""
    if not N_BODY <= joint < N_BODY + 2 * N_HAND:
        return None
    name = skeleton.names[joint]
    side, rest = name.split("_", 1)
    finger, level = rest[:-1], int(rest[-1])
    return FingerJoint(side, finger, level, FINGER_LIMITS[finger][level - 1])


def finger_frame(skeleton: Skeleton, joint: int) -> np.ndarray:
    """(3, 3) columns x' (bone), y' (spread axis), z' (flexion axis) of the LEFT-hand twin of
    ``joint`` in its parent's rest frame."""
    name = skeleton.names[joint]
    left = skeleton.index("left_" + name.split("_", 1)[1])
    children = skeleton.children(left)
    bone = skeleton.offsets[children[0]] if children else skeleton.tips[left]
    x = bone / np.linalg.norm(bone)
    palm = np.array([0.0, -1.0, 0.0])  # left palm faces down in the T pose
    z = np.cross(x, palm)
    z /= np.linalg.norm(z)
    y = np.cross(z, x)
    return np.stack([x, y, z], 1)


def _to_left(skeleton: Skeleton, joint: int, r: np.ndarray) -> np.ndarray:
    return flip_hand(r) if skeleton.names[joint].startswith("right_") else r


def finger_params(skeleton: Skeleton, joint: int, r: np.ndarray) -> tuple[float, float, float]:
    """(flex, spread, twist) degrees of local rotation ``r`` (3, 3) of a finger joint."""
    b = finger_frame(skeleton, joint)
    rl = b.T @ _to_left(skeleton, joint, np.asarray(r, float)) @ b
    flex, spread, twist = Rotation.from_matrix(rl).as_euler("ZYX", degrees=True)
    return float(flex), float(spread), float(twist)


def finger_rotation(skeleton: Skeleton, joint: int, flex: float, spread: float, twist: float = 0.0) -> np.ndarray:
    """The local rotation (3, 3) float32 for finger parameters (degrees)."""
    b = finger_frame(skeleton, joint)
    rl = Rotation.from_euler("ZYX", [flex, spread, twist], degrees=True).as_matrix()
    r = b @ rl @ b.T
    return _to_left(skeleton, joint, r).astype(np.float32)


def clamp_finger(fj: FingerJoint, flex: float, spread: float) -> tuple[float, float]:
    fmin, fmax, smin, smax = fj.limits
    return float(np.clip(flex, fmin, fmax)), float(np.clip(spread, smin, smax))


def body_angles(r: np.ndarray) -> np.ndarray:
    """(3,) degrees, intrinsic XYZ."""
    return Rotation.from_matrix(np.asarray(r, float)).as_euler(EULER, degrees=True)


def body_rotation(angles) -> np.ndarray:
    return Rotation.from_euler(EULER, np.asarray(angles, float), degrees=True).as_matrix().astype(np.float32)


def hand_joints(side: str) -> list[int]:
    start = N_BODY if side == "left" else N_BODY + N_HAND
    return list(range(start, start + N_HAND))


def mirrored_hand(rotations: np.ndarray, source: str) -> tuple[list[int], np.ndarray]:
    """The other hand's joints and rotations (15, 3, 3) mirroring ``source``'s handshape."""
    target = "right" if source == "left" else "left"
    return hand_joints(target), flip_hand(rotations[hand_joints(source)]).astype(np.float32)


def body_readout(skeleton: Skeleton, joint: int, r: np.ndarray) -> tuple[tuple[str, ...], np.ndarray, list]:
    """What the three sliders of a body joint show: anatomical (flexion, abduction, twist,
    bounded by the joint's limits) where the joint has them, else the XYZ angles. Returns
    (names, degrees (3,), [(lo, hi)] * 3)."""
    jp = anatomy.joint_params(skeleton, joint)
    if jp is None:
        return tuple(f"{a} angle" for a in "XYZ"), body_angles(r), [ANGLE_RANGE] * 3
    names = ("Flexion", "Abduction", "Twist")
    if skeleton.names[joint] in ("spine1", "spine2", "spine3", "neck", "head"):
        names = ("Flexion", "Side bend", "Twist")
    ranges = list(jp.limits) if jp.limits is not None else [ANGLE_RANGE] * 3
    return names, anatomy.to_params(jp, r), ranges


def body_from_readout(skeleton: Skeleton, joint: int, values) -> np.ndarray:
    """The local rotation (3, 3) float32 for the three slider values of ``body_readout``."""
    jp = anatomy.joint_params(skeleton, joint)
    if jp is None:
        return body_rotation(values)
    return anatomy.from_params(jp, anatomy.clamp_params(jp, np.asarray(values, float))).astype(np.float32)

"""The forward model of the landmark IK: joint rotations -> MediaPipe-like landmarks in image space.

Used to check the IK by round trips (known rotations -> landmarks -> IK -> rotations) and to
write test ``.pose`` files. Face points sit at fixed offsets in the head frame, chosen so that
an upright head gives the face frame ``ik_body`` expects; hand z is relative to the wrist and
face z to the nose, as MediaPipe writes them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..model.skeleton import JOINT_INDEX, Skeleton
from ..model.template import TEMPLATE
from .fk import forward_kinematics
from .ik import fk_hand_points
from .ik_body import FACE_TILT
from .ik_geometry import apply
from .landmarks import BODY_POINTS, FACE_POINTS, LandmarkSet

_UP = np.array([0.0, np.cos(FACE_TILT), -np.sin(FACE_TILT)])  # chin -> forehead at rest
_FWD = np.array([0.0, np.sin(FACE_TILT), np.cos(FACE_TILT)])
# Offsets from the head joint in its rest frame, metres.
_HEAD_POINTS = {
    "nose": 0.10 * _FWD + 0.02 * _UP,
    "left_eye": np.array([0.032, 0.0, 0.0]) + 0.08 * _FWD + 0.05 * _UP,
    "right_eye": np.array([-0.032, 0.0, 0.0]) + 0.08 * _FWD + 0.05 * _UP,
    "left_ear": np.array([0.075, 0.0, 0.0]) + 0.03 * _UP,
    "right_ear": np.array([-0.075, 0.0, 0.0]) + 0.03 * _UP,
    "mouth_left": np.array([0.025, 0.0, 0.0]) + 0.08 * _FWD - 0.02 * _UP,
    "mouth_right": np.array([-0.025, 0.0, 0.0]) + 0.08 * _FWD - 0.02 * _UP,
}
_FACE_MESH = {
    "forehead": 0.09 * _FWD + 0.12 * _UP,
    "chin": 0.09 * _FWD - 0.07 * _UP,
    "face_right": np.array([-0.07, 0.0, 0.0]) + 0.04 * _FWD,
    "face_left": np.array([0.07, 0.0, 0.0]) + 0.04 * _FWD,
    "nose_tip": 0.12 * _FWD + 0.02 * _UP,
}
_JOINT_POINTS = {
    "left_shoulder": "left_shoulder",
    "right_shoulder": "right_shoulder",
    "left_elbow": "left_elbow",
    "right_elbow": "right_elbow",
    "left_wrist": "left_wrist",
    "right_wrist": "right_wrist",
    "left_hip": "left_hip",
    "right_hip": "right_hip",
}
DEFAULT_DEPTH = {"body": 120.0, "hands": 700.0, "face": 300.0}


def synthesize(
    rotations: np.ndarray,
    translation: np.ndarray | None = None,
    fps: float = 25.0,
    *,
    metres_per_pixel: float = 0.0015,
    depth: Mapping[str, float] = DEFAULT_DEPTH,
    width: float = 500.0,
    height: float = 500.0,
    skeleton: Skeleton = TEMPLATE,
) -> LandmarkSet:
    """(T, 52, 3, 3) local rotations on ``skeleton`` -> a LandmarkSet with every point observed.

    Image x = X / mpp + width/2, y = -Y / mpp + a little below the top, z = -Z / (mpp * depth)
    (body z around the mid-hip, hand z around the wrist, face z around the nose tip).
    """
    rotations = np.asarray(rotations, float)
    t = rotations.shape[0]
    wr, wp = forward_kinematics(skeleton, rotations, translation)
    head_r, head_p = wr[:, JOINT_INDEX["head"]], wp[:, JOINT_INDEX["head"]]
    body = np.zeros((t, len(BODY_POINTS), 3))
    for i, name in enumerate(BODY_POINTS):
        if name in _JOINT_POINTS:
            body[:, i] = wp[:, JOINT_INDEX[_JOINT_POINTS[name]]]
        else:
            body[:, i] = head_p + apply(head_r, np.broadcast_to(_HEAD_POINTS[name], (t, 3)))
    face = np.stack([head_p + apply(head_r, np.broadcast_to(_FACE_MESH[n], (t, 3))) for n in FACE_POINTS], 1)
    hands = fk_hand_points(rotations, translation, skeleton)

    origin = np.array([width / 2.0, height * 0.1, 0.0])

    def image(p: np.ndarray, scale: float, z_ref: np.ndarray) -> np.ndarray:
        out = np.empty_like(p)
        out[..., 0] = p[..., 0] / metres_per_pixel + origin[0]
        out[..., 1] = -(p[..., 1] - 0.6) / metres_per_pixel + origin[1]
        out[..., 2] = -(p[..., 2] - z_ref) / (metres_per_pixel * scale)
        return out

    hip_mid = 0.5 * (wp[:, JOINT_INDEX["left_hip"]] + wp[:, JOINT_INDEX["right_hip"]])
    body_i = image(body, depth["body"], hip_mid[:, None, 2])
    hands_i = image(hands, depth["hands"], hands[:, :, :1, 2])
    face_i = image(face, depth["face"], face[:, 4:5, 2])
    return LandmarkSet(
        body_i,
        np.ones(body_i.shape[:2], bool),
        hands_i,
        np.ones(hands_i.shape[:3], bool),
        face_i,
        np.ones(face_i.shape[:2], bool),
        fps,
        width,
        height,
    )

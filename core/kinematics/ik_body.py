"""Body IK: shoulders, elbows, wrists, hips and face points -> local rotations of the upper body.

- Torso frame: x along the shoulder line (right -> left shoulder), up from the mid-hip to the
  mid-shoulder (the world's up when the hips are not seen). The pelvis takes the heading (a turn
  about the vertical, so the legs stay upright) and spine1-3 share the remaining lean equally.
- Arms: the shoulder swings the upper arm onto the observed elbow and twists so that the elbow's
  hinge plane contains the observed wrist; the elbow is a hinge (flexion >= 0); the wrist is what
  is left between the forearm and the hand frame from the hand IK.
- Head: a face frame (left-right across the face, chin -> forehead) from the face mesh, or from
  the body's ears, eyes and mouth when there is no mesh; neck and head share its rotation
  relative to the chest equally.
Collars stay at rest (no landmark sees the clavicle). All arrays are frame-first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from ..model.skeleton import JOINT_INDEX, N_JOINTS, Skeleton
from ..model.template import TEMPLATE
from .ik_geometry import apply, axis_angle, hinge_chain, normalize
from .landmarks import B

J = JOINT_INDEX


def arm_rest_dirs(skeleton: Skeleton) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Rest directions of the upper arms and the forearms, by side (not quite collinear on the
    template; a fitted skeleton keeps the template's)."""
    rest = skeleton.rest_positions()
    d = lambda a, b: normalize(rest[skeleton.index(b)] - rest[skeleton.index(a)])  # noqa: E731
    return (
        {s: d(f"{s}_shoulder", f"{s}_elbow") for s in ("left", "right")},
        {s: d(f"{s}_elbow", f"{s}_wrist") for s in ("left", "right")},
    )


UPPER_ARM_DIR, FOREARM_DIR = arm_rest_dirs(TEMPLATE)
# Positive elbow flexion brings the forearm forward (+Z) from the palms-down T-pose.
ELBOW_HINGE = {"left": np.array([0.0, -1.0, 0.0]), "right": np.array([0.0, 1.0, 0.0])}
# Chin -> forehead leans back by about this much in an upright head.
FACE_TILT = np.radians(10.0)


def _frame(x: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation whose columns are x, up, forward = x cross up, orthonormalised
    (x is kept, up is made perpendicular to it); identity where x and up do not span a plane."""
    x = normalize(x)
    zc = np.cross(x, up)
    ok = np.linalg.norm(zc, axis=-1) > 1e-9
    z = normalize(zc)
    y = np.cross(z, x)
    return np.where(ok[..., None, None], np.stack([x, y, z], axis=-1), np.eye(3))


def _split(rot: np.ndarray, parts: int) -> np.ndarray:
    """(T, 3, 3) -> (T, 3, 3) R^(1/parts) (same axis, angle / parts)."""
    return axis_angle_to_matrix(matrix_to_axis_angle(rot) / parts)


def _heading(rot: np.ndarray) -> np.ndarray:
    """(T, 3, 3) -> (T, 3, 3) the rotation about +Y that turns +Z to rot's horizontal forward."""
    fwd = rot[..., :, 2]
    yaw = np.arctan2(fwd[..., 0], fwd[..., 2])
    return axis_angle(np.broadcast_to([0.0, 1.0, 0.0], fwd.shape), yaw)


_R_FACE_REST = axis_angle(np.array([1.0, 0.0, 0.0]), -FACE_TILT)


@dataclass(frozen=True, eq=False)
class BodySolution:
    """rotations: (T, 52, 3, 3) local rotations, body joints solved (identity elsewhere);
    valid: (T, 52) bool, body joints only (hand joints False); chest: (T, 3, 3) spine3 world."""

    rotations: np.ndarray
    valid: np.ndarray
    chest: np.ndarray


def solve_body(
    body: np.ndarray,
    body_ok: np.ndarray,
    face: np.ndarray,
    face_ok: np.ndarray,
    hand_wrist: np.ndarray,
    hand_ok: np.ndarray,
    skeleton: Skeleton = TEMPLATE,
) -> BodySolution:
    """body: (T, 15, 3) world positions (BODY_POINTS order); face: (T, 5, 3) world (FACE_POINTS);
    hand_wrist: (T, 2, 3, 3) world rotations of the left / right wrist from the hand IK, used
    where hand_ok (T, 2) is True. Any length unit: only directions are used (the skeleton gives the
    arms' rest directions)."""
    t = body.shape[0]
    upper_dir, fore_dir = (UPPER_ARM_DIR, FOREARM_DIR) if skeleton is TEMPLATE else arm_rest_dirs(skeleton)
    rot = np.tile(np.eye(3), (t, N_JOINTS, 1, 1))
    valid = np.zeros((t, N_JOINTS), bool)
    ls, rs = body[:, B["left_shoulder"]], body[:, B["right_shoulder"]]
    lh, rh = body[:, B["left_hip"]], body[:, B["right_hip"]]
    torso_ok = body_ok[:, B["left_shoulder"]] & body_ok[:, B["right_shoulder"]]
    hips_ok = body_ok[:, B["left_hip"]] & body_ok[:, B["right_hip"]]
    up = np.where(hips_ok[:, None], normalize(0.5 * (ls + rs) - 0.5 * (lh + rh)), [0.0, 1.0, 0.0])
    x = np.where(torso_ok[:, None], ls - rs, [1.0, 0.0, 0.0])
    torso = _frame(x, up)
    heading = _heading(torso)
    lean = _split(np.swapaxes(heading, -1, -2) @ torso, 3)
    rot[:, J["pelvis"]] = heading
    for name in ("spine1", "spine2", "spine3"):
        rot[:, J[name]] = lean
    chest = heading @ lean @ lean @ lean
    for name in ("pelvis", "spine1", "spine2", "spine3", "left_collar", "right_collar"):
        valid[:, J[name]] = torso_ok
    chest_t = np.swapaxes(chest, -1, -2)

    for k, side in enumerate(("left", "right")):
        s, e, w = (body[:, B[f"{side}_{p}"]] for p in ("shoulder", "elbow", "wrist"))
        s_ok, e_ok, w_ok = (body_ok[:, B[f"{side}_{p}"]] for p in ("shoulder", "elbow", "wrist"))
        upper = apply(chest_t, normalize(e - s))
        fore = apply(chest_t, normalize(w - e))
        rest = [upper_dir[side], fore_dir[side]]
        base, angle = hinge_chain([upper, fore], rest[0], ELBOW_HINGE[side], mode="positive", rest_dirs=rest)
        arm_ok = torso_ok & s_ok & e_ok
        elbow_ok = arm_ok & w_ok
        # an arm seen without its wrist: swing only (no plane to twist into)
        swing_only, _ = hinge_chain([upper, upper], rest[0], ELBOW_HINGE[side], mode="positive")
        rot[:, J[f"{side}_shoulder"]] = np.where(elbow_ok[:, None, None], base, swing_only)
        rot[:, J[f"{side}_elbow"]] = axis_angle(ELBOW_HINGE[side], angle[:, 0])
        valid[:, J[f"{side}_shoulder"]] = arm_ok
        valid[:, J[f"{side}_elbow"]] = elbow_ok
        elbow_world = chest @ rot[:, J[f"{side}_shoulder"]] @ rot[:, J[f"{side}_elbow"]]
        rot[:, J[f"{side}_wrist"]] = np.swapaxes(elbow_world, -1, -2) @ hand_wrist[:, k]
        valid[:, J[f"{side}_wrist"]] = elbow_ok & hand_ok[:, k]

    head_world, head_ok = _head_frame(body, body_ok, face, face_ok)
    head_ok &= torso_ok
    half = _split(chest_t @ head_world, 2)
    rot[:, J["neck"]] = half
    rot[:, J["head"]] = half
    valid[:, J["neck"]] = head_ok
    valid[:, J["head"]] = head_ok
    return BodySolution(rot, valid, chest)


def _head_frame(body, body_ok, face, face_ok) -> tuple[np.ndarray, np.ndarray]:
    """World rotation of the head (T, 3, 3) and where it was seen (T,)."""
    mesh_ok = face_ok[:, :4].all(axis=1)
    mesh = _frame(face[:, 3] - face[:, 2], face[:, 0] - face[:, 1])
    names = ("left_ear", "right_ear", "left_eye", "right_eye", "mouth_left", "mouth_right")
    pose_ok = np.all([body_ok[:, B[n]] for n in names], axis=0)
    eyes = 0.5 * (body[:, B["left_eye"]] + body[:, B["right_eye"]])
    mouth = 0.5 * (body[:, B["mouth_left"]] + body[:, B["mouth_right"]])
    pose = _frame(body[:, B["left_ear"]] - body[:, B["right_ear"]], eyes - mouth)
    seen = mesh_ok | pose_ok
    frame = np.where(mesh_ok[:, None, None], mesh, pose) @ _R_FACE_REST.T
    return np.where(seen[:, None, None], frame, np.eye(3)), seen

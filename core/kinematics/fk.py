"""Forward kinematics: local rotations -> world joint transforms, batched over frames (numpy)."""

from __future__ import annotations

import numpy as np

from ..model.skeleton import Skeleton


def forward_kinematics(
    skeleton: Skeleton, rotations: np.ndarray, translation: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """World rotations and positions of every joint.

    rotations: (T, J, 3, 3) local; translation: (T, 3) added to the root (SMPL-X ``transl``).
    Returns (T, J, 3, 3) world rotations and (T, J, 3) world positions, float64, metres.
    World position of joint j = world position of its parent + parent's world rotation @ offset.
    """
    rotations = np.asarray(rotations, dtype=np.float64)
    t, j = rotations.shape[:2]
    offsets = skeleton.offsets
    world_r = np.empty((t, j, 3, 3))
    world_p = np.empty((t, j, 3))
    for i, p in enumerate(skeleton.parents):
        if p < 0:
            world_r[:, i] = rotations[:, i]
            world_p[:, i] = offsets[i]
            if translation is not None:
                world_p[:, i] += np.asarray(translation, dtype=np.float64)
        else:
            world_r[:, i] = world_r[:, p] @ rotations[:, i]
            world_p[:, i] = world_p[:, p] + world_r[:, p] @ offsets[i]
    return world_r, world_p


def joint_positions(skeleton: Skeleton, rotations: np.ndarray, translation: np.ndarray | None = None) -> np.ndarray:
    """(T, J, 3) world joint positions, metres."""
    return forward_kinematics(skeleton, rotations, translation)[1]


def tip_positions(skeleton: Skeleton, world_r: np.ndarray, world_p: np.ndarray) -> np.ndarray:
    """(T, J, 3) world positions of each joint's end site (equal to the joint where it has none)."""
    return world_p + np.einsum("tjab,jb->tja", world_r, skeleton.tips)

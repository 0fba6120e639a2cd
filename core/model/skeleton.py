"""The SMPL-X joint set Signframe works on, and its parent tree.

Our skeleton is SMPL-X without jaw and eyes: the 22 body joints (pelvis, legs, spine, neck,
collars, head, arms) followed by the 15 MANO joints of the left hand and then of the right hand,
each hand in SMPL-X hand-pose order (index1-3, middle1-3, pinky1-3, ring1-3, thumb1-3).
Index ``i`` here is SMPL-X joint ``SMPLX_INDEX[i]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BODY_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
)
BODY_PARENTS: tuple[int, ...] = (
    -1,
    0,
    0,
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    9,
    9,
    12,
    13,
    14,
    16,
    17,
    18,
    19,
)
FINGERS: tuple[str, ...] = ("index", "middle", "pinky", "ring", "thumb")
HAND_JOINT_NAMES: tuple[str, ...] = tuple(f"{f}{i}" for f in FINGERS for i in (1, 2, 3))

N_BODY = 22
N_HAND = 15
LEFT_HAND = slice(N_BODY, N_BODY + N_HAND)
RIGHT_HAND = slice(N_BODY + N_HAND, N_BODY + 2 * N_HAND)


def _hand_parents(wrist: int, first: int) -> tuple[int, ...]:
    parents = []
    for f in range(5):
        base = first + 3 * f
        parents += [wrist, base, base + 1]
    return tuple(parents)


JOINT_NAMES: tuple[str, ...] = (
    BODY_NAMES + tuple(f"left_{n}" for n in HAND_JOINT_NAMES) + tuple(f"right_{n}" for n in HAND_JOINT_NAMES)
)
PARENTS: tuple[int, ...] = (
    BODY_PARENTS
    + _hand_parents(BODY_NAMES.index("left_wrist"), LEFT_HAND.start)
    + _hand_parents(BODY_NAMES.index("right_wrist"), RIGHT_HAND.start)
)
N_JOINTS = len(JOINT_NAMES)  # 52

# SMPL-X has 55 joints: ours plus jaw (22) and the two eyes (23, 24), which sit before the hands.
SMPLX_NAMES: tuple[str, ...] = BODY_NAMES + ("jaw", "left_eye_smplhf", "right_eye_smplhf") + JOINT_NAMES[N_BODY:]
SMPLX_INDEX: np.ndarray = np.array(
    list(range(N_BODY)) + list(range(N_BODY + 3, N_BODY + 3 + 2 * N_HAND)), dtype=np.int64
)
# Joints the official SignSparK body stream models: SMPL-X joints 12..21.
SIGNSPARK_BODY_JOINTS: tuple[int, ...] = tuple(range(12, 22))

JOINT_INDEX: dict[str, int] = {n: i for i, n in enumerate(JOINT_NAMES)}


@dataclass(frozen=True, eq=False)
class Skeleton:
    """Joint names, parent tree and rest pose.

    offsets: (J, 3) float64, metres: each joint's rest position relative to its parent (the root's
        entry is its rest position in the world). Rest pose = all local rotations identity.
    tips: (J, 3) float64, metres: end-site offset for leaf joints (finger tips, head top, feet),
        zeros elsewhere. Used for BVH end sites, IK and drawing.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    tips: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        j = len(self.names)
        if len(self.parents) != j or self.offsets.shape != (j, 3):
            raise ValueError(f"skeleton: {j} names, {len(self.parents)} parents, offsets {self.offsets.shape}")
        for i, p in enumerate(self.parents):
            if not (p < i):  # topological order: FK runs in one forward pass
                raise ValueError(f"skeleton: parent of joint {i} ({self.names[i]}) is {p}, not before it")
        if self.tips is None:
            object.__setattr__(self, "tips", np.zeros((j, 3)))
        for a in (self.offsets, self.tips):
            a.setflags(write=False)

    @property
    def n_joints(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        return self.names.index(name)

    def rest_positions(self) -> np.ndarray:
        """(J, 3) world rest positions, metres."""
        pos = np.zeros((self.n_joints, 3))
        for i, p in enumerate(self.parents):
            pos[i] = self.offsets[i] + (pos[p] if p >= 0 else 0.0)
        return pos

    @classmethod
    def from_rest_positions(cls, names, parents, positions: np.ndarray, tips=None) -> Skeleton:
        positions = np.asarray(positions, dtype=np.float64)
        offsets = positions.copy()
        for i, p in enumerate(parents):
            if p >= 0:
                offsets[i] = positions[i] - positions[p]
        return cls(tuple(names), tuple(parents), offsets, None if tips is None else np.asarray(tips, float))

    def children(self, i: int) -> list[int]:
        return [c for c, p in enumerate(self.parents) if p == i]

"""World joint positions (``.joints.npz``, write only): what researchers evaluate against.

Keys: ``positions`` (T, J, 3) float32 metres in our world frame (Y up, facing +Z) from forward
kinematics of the sequence's skeleton; ``joint_names`` (J,) unicode SMPL-X names (``pelvis``,
``neck``, ``left_wrist``, ``right_index1``, ...); ``parents`` (J,) int64 (-1 for the root);
``fps`` 0-d float64. No pickle is needed to read it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..kinematics.fk import joint_positions
from ..model.sequence import Sequence
from .errors import FormatError
from .npzfile import write_npz


def joints_arrays(seq: Sequence) -> dict[str, np.ndarray]:
    return {
        "positions": joint_positions(seq.skeleton, seq.rotations, seq.translation).astype(np.float32),
        "joint_names": np.array(seq.skeleton.names, dtype=str),
        "parents": np.array(seq.skeleton.parents, dtype=np.int64),
        "fps": np.array(seq.fps, dtype=np.float64),
    }


def write(path: str | Path, seq: Sequence) -> None:
    path = Path(path)
    if seq.n_frames == 0:
        raise FormatError(path, "nothing to write: the sequence has no frames")
    write_npz(path, joints_arrays(seq))

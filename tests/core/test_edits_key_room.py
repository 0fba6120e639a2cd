"""The no-passing rule of key moves has one home (``edits.key_room``): what a drag is clamped to
(``shift_limits``) is exactly what ``retime_keys`` accepts."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from core.model import Keyframe, new_sequence
from core.model.edits import EditError, retime_keys, shift_limits


def test_shift_limits_are_the_moves_retime_accepts():
    rng = np.random.default_rng(3)
    t = 24
    rot = Rotation.random(t * 52, random_state=3).as_matrix().reshape(t, 52, 3, 3)
    for _ in range(8):
        keys = np.unique(rng.choice(t, int(rng.integers(2, 7)), replace=False))
        seq = new_sequence(rot, 25.0, np.zeros((t, 3)), keyframes=[Keyframe(int(k)) for k in keys])
        moving = sorted(rng.choice(keys, int(rng.integers(1, min(3, len(keys)) + 1)), replace=False).tolist())
        lo, hi = shift_limits(seq.key_frames, moving, t)
        assert lo <= 0 <= hi
        for delta in range(-t, t):
            try:
                retime_keys(seq, {f: f + delta for f in moving})
                ok = True
            except EditError:
                ok = False
            assert ok == (lo <= delta <= hi), (keys, moving, delta, lo, hi)

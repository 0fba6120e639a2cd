"""Warm the edit path in the background after a document opens, so the first edit costs what
later ones do.

The first edits after opening a file were 2-5x slower than later ones: the first version of each
channel of a large document lands on fresh memory (touched page by page), and the first pose
edit, IK drag or handshape imports and builds what it uses (scipy's rotation code, the IK and
anatomy modules, the skinning's sparse product). Here a pure, discarded edit of each kind runs
on a daemon thread right after the document is shown: the sequence is immutable, the results
are dropped, nothing reaches the document or the undo stack.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

log = logging.getLogger(__name__)


def warm_edit_path(seq) -> int:
    """Run (and drop) one edit of each common kind on ``seq``; returns how many ran."""
    from core.kinematics.anatomy import joint_params, to_params
    from core.kinematics.pose_ik import arm_ik, finger_ik
    from core.model import edits

    ran = 0
    keys = seq.key_frames
    if keys.size == 0:
        return ran
    k = int(keys[len(keys) // 2])
    rot = seq.rotations[k].astype(np.float64)
    tr = seq.translation[k].astype(np.float64)
    sk = seq.skeleton
    try:
        w = sk.index("right_wrist")
        change = arm_ik(sk, rot, tr, "right", np.zeros(3) + 0.0 * rot[w, 0])
        edits.set_joint_rotations(seq, k, list(change.joints), change.rotations)
        ran += 1
        ch = finger_ik(sk, rot, tr, "right", "index", np.zeros(3))
        edits.set_joint_rotations(seq, k, list(ch.joints), ch.rotations)
        ran += 1
        jp = joint_params(sk, w)
        if jp is not None:
            to_params(jp, rot[w])
        if keys.size > 2:
            edits.retime_keys(seq, {k: k + 1} if k + 1 < int(keys[len(keys) // 2 + 1]) else {k: k})
            ran += 1
    except Exception as e:  # a warm-up never matters enough to report
        log.debug("warm-up skipped: %s", e)
    return ran


def warm_up_in_background(seq) -> threading.Thread:
    t = threading.Thread(target=warm_edit_path, args=(seq,), name="signframe-warmup", daemon=True)
    t.start()
    return t

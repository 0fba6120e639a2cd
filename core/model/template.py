"""Signframe's own skeleton template: rest joint positions of a neutral adult, hands included.

No licensed SMPL-X file is needed. Rest pose is the SMPL-X one: T-pose, Y up, facing +Z, the
subject's left on +X, palms down, fingers straight along the arm, thumbs forward and out.

Where the numbers come from (all for a stature H = 1.70 m, rounded to the millimetre):
- Body segment lengths from the Drillis & Contini proportions tabulated in D. A. Winter,
  *Biomechanics and Motor Control of Human Movement* (4th ed., 2009, fig. 4.1): upper arm 0.186 H
  (0.316 m), forearm 0.146 H (0.248 m), hand 0.108 H (0.184 m), thigh 0.245 H, shank 0.246 H,
  shoulder width 0.259 H (acromion to acromion; joint centres sit ~4 cm inside).
  The arm joints are placed at the centres of rotation, a little shorter than the surface
  landmarks (upper arm 0.29 m, forearm 0.25 m).
- Hand: metacarpal and phalanx lengths from the proportions reported by Buryanov & Kotiuk,
  "Proportions of hand segments", Int. J. Morphol. 28(3), 2010, scaled so that wrist to middle
  fingertip is 0.184 m; MCP spread across the palm ~6 cm (index to little finger).
- Spine and neck heights follow the same table (shoulder 0.818 H, hip joint 0.530 H above the
  floor): the pelvis joint is the origin and the shoulders sit 0.45 m above it.
"""

from __future__ import annotations

import numpy as np

from .skeleton import BODY_NAMES, JOINT_NAMES, PARENTS, Skeleton

# Left side and midline, metres, world rest positions (pelvis at the origin).
_BODY_LEFT = {
    "pelvis": (0.0, 0.0, 0.0),
    "left_hip": (0.065, -0.090, -0.010),
    "spine1": (0.0, 0.110, -0.020),
    "left_knee": (0.075, -0.500, 0.000),
    "spine2": (0.0, 0.240, 0.000),
    "left_ankle": (0.080, -0.920, -0.040),
    "spine3": (0.0, 0.300, 0.010),
    "left_foot": (0.090, -0.970, 0.090),
    "neck": (0.0, 0.500, -0.010),
    "left_collar": (0.075, 0.420, -0.005),
    "head": (0.0, 0.600, 0.030),
    "left_shoulder": (0.180, 0.450, -0.010),
    "left_elbow": (0.470, 0.450, -0.030),
    "left_wrist": (0.720, 0.450, -0.030),
}

# Left hand relative to its wrist (fingers along +X, thumb side +Z, palm facing -Y):
# (MCP offset from wrist, proximal, middle, distal phalanx lengths).
_FINGERS_LEFT = {
    "index": ((0.088, 0.004, 0.026), 0.040, 0.023, 0.018),
    "middle": ((0.093, 0.004, 0.005), 0.045, 0.027, 0.019),
    "pinky": ((0.078, -0.004, -0.032), 0.033, 0.018, 0.017),
    "ring": ((0.088, 0.000, -0.014), 0.042, 0.026, 0.019),
}
# Thumb: CMC offset, then metacarpal, proximal and distal lengths along one direction.
_THUMB_CMC = (0.024, -0.012, 0.022)
_THUMB_DIR = np.array([0.70, -0.10, 0.70]) / np.linalg.norm([0.70, -0.10, 0.70])
_THUMB_LENGTHS = (0.046, 0.032, 0.025)
_HEAD_TIP = (0.0, 0.180, 0.0)
_FOOT_TIP = (0.0, -0.02, 0.080)


def _mirror(v) -> np.ndarray:
    return np.array([-v[0], v[1], v[2]], dtype=np.float64)


def _hand(side: str, wrist: np.ndarray, pos: dict, tips: dict) -> None:
    m = (lambda v: np.asarray(v, float)) if side == "left" else _mirror
    x = np.array([1.0, 0.0, 0.0])
    for finger, (mcp, l1, l2, l3) in _FINGERS_LEFT.items():
        p1 = wrist + m(mcp)
        pos[f"{side}_{finger}1"] = p1
        pos[f"{side}_{finger}2"] = p1 + m(x * l1)
        pos[f"{side}_{finger}3"] = p1 + m(x * (l1 + l2))
        tips[f"{side}_{finger}3"] = m(x * l3)
    c = wrist + m(_THUMB_CMC)
    a, b, d = _THUMB_LENGTHS
    pos[f"{side}_thumb1"] = c
    pos[f"{side}_thumb2"] = c + m(_THUMB_DIR * a)
    pos[f"{side}_thumb3"] = c + m(_THUMB_DIR * (a + b))
    tips[f"{side}_thumb3"] = m(_THUMB_DIR * d)


def template_rest_positions() -> tuple[np.ndarray, np.ndarray]:
    """(J, 3) rest positions and (J, 3) leaf tip offsets, metres, in JOINT_NAMES order."""
    pos: dict[str, np.ndarray] = {}
    tips: dict[str, np.ndarray] = {}
    for name, v in _BODY_LEFT.items():
        pos[name] = np.asarray(v, float)
        if name.startswith("left_"):
            pos["right_" + name[5:]] = _mirror(v)
    tips["head"] = np.asarray(_HEAD_TIP, float)
    tips["left_foot"] = np.asarray(_FOOT_TIP, float)
    tips["right_foot"] = np.asarray(_FOOT_TIP, float)
    for side in ("left", "right"):
        _hand(side, pos[f"{side}_wrist"], pos, tips)
    assert set(pos) == set(JOINT_NAMES) and len(BODY_NAMES) == 22
    positions = np.stack([pos[n] for n in JOINT_NAMES])
    tip_arr = np.stack([tips.get(n, np.zeros(3)) for n in JOINT_NAMES])
    return positions, tip_arr


def template_skeleton() -> Skeleton:
    """The default neutral-adult skeleton (52 joints)."""
    positions, tips = template_rest_positions()
    return Skeleton.from_rest_positions(JOINT_NAMES, PARENTS, positions, tips)


TEMPLATE = template_skeleton()

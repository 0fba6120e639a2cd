"""Hand IK: 21 hand landmarks -> the wrist's world rotation and 15 local finger rotations.

The solver is written for a RIGHT hand (rest: fingers along -X, palm down -Y, thumb side +Z), on
the hand layout of the sequence's skeleton (``hand_points``: the template's, or one fitted to
the clip by ``skeleton_fit``). A left hand is mirrored (x -> -x), solved as a right hand on its
own mirrored layout and its rotations conjugated back by F = diag(1, -1, -1) (the mirror
conjugation), the convention of the hand model (docs/representation.md).

- Wrist frame: the rotation that best maps the skeleton's palm (wrist + four MCPs) onto the
  observed one (weighted Kabsch), i.e. the palm plane and its in-plane direction.
- Fingers: the MCP swings the proximal phalanx onto its observed direction (flexion, then
  abduction); its twist turns the hinge plane onto the best plane through the three phalanges;
  PIP and DIP are hinges in that plane. The thumb is solved the same way (twist always free).

Finger twist: free by default. ``twist_limit`` bounds the MCP twist of the four fingers around a
neutral twist per finger (``FINGER_TWIST_CENTER``), e.g. ``FINGER_TWIST_LIMIT`` (+-30 degrees, an
anatomical range). Measured on the 576 usable clips of the spoken-to-signed lexicon (fitted
skeleton, smoothing off; ``scripts/eval_ik.py``): the mean finger bone direction error is 2.13
degrees with the twist free, 3.41 with +-30 degrees and 2.34 with +-60. The limit costs because
MediaPipe's bent fingers lie in planes far from any single neutral: among frames where a finger
bends more than 30 degrees at the PIP, the plane's twist has a standard deviation of 26-37
degrees, and 17-33 % of those frames lie more than 30 degrees from its median. No better neutral
closes the gap (on every other clip, +-30 degrees): a neutral per clip (the median of the clip's
own bent frames) gives 2.9 degrees against 3.4 (and would not carry over to continuous signing,
where handshapes change); a neutral depending on the MCP's flexion and abduction explains under a
tenth of the spread; the twist does not follow the tilt of the fitted knuckle line (correlation below
0.15); a twist measured from the smallest swing instead of flexion-then-abduction gives 4.1;
spreading the clamped plane's error over all three phalanges (least squares) gives 3.5.
So the limit is an option for anatomical plausibility, not the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.rotations import flip_hand
from ..model.skeleton import Skeleton
from ..model.template import TEMPLATE
from .ik_geometry import apply, axis_angle, hinge_chain, normalize
from .landmarks import FINGER_CHAINS, PALM_POINTS

FINGER_TWIST_LIMIT = np.radians(30.0)  # the anatomical option (see above)
DEFAULT_TWIST_LIMIT: float | None = None  # what the importer uses: free (see above)
# Neutral MCP twist per finger (index, middle, pinky, ring), radians: the ulnar fingers turn
# toward the thumb as they flex. Medians over the frames of the spoken-to-signed
# fingerspelling lexicon where all four fingers bend more than 60 degrees.
FINGER_TWIST_CENTER = np.radians([2.0, -9.0, 32.0, 13.0])
_FINGERS = ("index", "middle", "pinky", "ring", "thumb")


def hand_points(skeleton: Skeleton, side: str) -> np.ndarray:
    """(21, 3) rest positions of ``side``'s hand landmarks (MediaPipe order: wrist, thumb CMC..tip,
    index MCP..tip, ...) relative to the wrist joint, world axes, metres."""
    rest = skeleton.rest_positions()
    wrist = rest[skeleton.index(f"{side}_wrist")]
    pts = np.zeros((21, 3))
    for f, chain in zip(_FINGERS, FINGER_CHAINS):
        for k in range(3):
            pts[chain[k]] = rest[skeleton.index(f"{side}_{f}{k + 1}")] - wrist
        pts[chain[3]] = pts[chain[2]] + skeleton.tips[skeleton.index(f"{side}_{f}3")]
    return pts


TEMPLATE_RIGHT_HAND = hand_points(TEMPLATE, "right")
FINGER_DIR = normalize(TEMPLATE_RIGHT_HAND[6] - TEMPLATE_RIGHT_HAND[5])  # (-1, 0, 0)
THUMB_DIR = normalize(TEMPLATE_RIGHT_HAND[2] - TEMPLATE_RIGHT_HAND[1])
FINGER_HINGE = np.array([0.0, 0.0, 1.0])  # bends -X toward the palm (-Y)
# The thumb flexes toward the palm and across it, toward the little finger (-Y, -Z).
_thumb_flex = np.array([0.0, -1.0, -1.0])
_thumb_flex = normalize(_thumb_flex - np.dot(_thumb_flex, THUMB_DIR) * THUMB_DIR)
THUMB_HINGE = normalize(np.cross(THUMB_DIR, _thumb_flex))


@dataclass(frozen=True, eq=False)
class HandSolution:
    """wrist: (T, 3, 3) world rotation of the wrist joint; fingers: (T, 15, 3, 3) local rotations
    in our hand order (index1-3, middle1-3, pinky1-3, ring1-3, thumb1-3)."""

    wrist: np.ndarray
    fingers: np.ndarray


def kabsch(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Rotations (T, 3, 3) best mapping the point set src (P, 3) onto dst (T, P, 3)."""
    w = np.ones(src.shape[0]) if weights is None else np.asarray(weights, float)
    w = w / w.sum()
    a = src - (w[:, None] * src).sum(0)
    b = dst - np.einsum("p,tpc->tc", w, dst)[:, None]
    cov = np.einsum("p,pi,tpj->tij", w, a, b)  # sum w a b^T
    u, _, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
    d = np.where(d == 0, 1.0, d)
    fix = np.ones(cov.shape[:-2] + (3,))
    fix[..., 2] = d
    return np.swapaxes(vt, -1, -2) @ (fix[..., :, None] * np.swapaxes(u, -1, -2))


PALM_WEIGHTS = np.array([2.0, 1.0, 1.0, 1.0, 1.0])


def solve_right_hand(
    points: np.ndarray, twist_limit: float | None = DEFAULT_TWIST_LIMIT, layout: np.ndarray = TEMPLATE_RIGHT_HAND
) -> HandSolution:
    """points: (T, 21, 3) world positions of a right hand's landmarks (any unit).
    twist_limit: the fingers' MCP twist limit around their neutral twist, radians (None: free).
    layout: (21, 3) the skeleton's right-hand rest landmarks relative to the wrist
    (``hand_points``); its palm (wrist + MCPs) defines the wrist frame."""
    points = np.asarray(points, float)
    r_wrist = kabsch(layout[list(PALM_POINTS)], points[:, list(PALM_POINTS)], PALM_WEIGHTS)
    local_pts = np.einsum("tji,tpj->tpi", r_wrist, points)  # R^T p: into the wrist frame
    t = points.shape[0]
    fingers = np.empty((t, 15, 3, 3))
    for f, chain in enumerate(FINGER_CHAINS):
        bones = [normalize(local_pts[:, chain[k + 1]] - local_pts[:, chain[k]]) for k in range(3)]
        thumb = f == 4
        e, h = (THUMB_DIR, THUMB_HINGE) if thumb else (FINGER_DIR, FINGER_HINGE)
        base, angles = hinge_chain(
            bones,
            e,
            h,
            mode="plane",
            twist_limit=None if thumb else twist_limit,
            reference="swing" if thumb else "gimbal",
            twist_center=0.0 if thumb else float(FINGER_TWIST_CENTER[f]),
        )
        fingers[:, 3 * f] = base
        fingers[:, 3 * f + 1] = axis_angle(h, angles[:, 0])
        fingers[:, 3 * f + 2] = axis_angle(h, angles[:, 1])
    return HandSolution(r_wrist, fingers)


MIRROR_X = np.array([-1.0, 1.0, 1.0])


def solve_hand(
    points: np.ndarray, side: str, twist_limit: float | None = DEFAULT_TWIST_LIMIT, layout: np.ndarray | None = None
) -> HandSolution:
    """points: (T, 21, 3) world landmark positions of the signer's ``side`` ("left"/"right") hand;
    layout: (21, 3) that hand's rest landmarks on the skeleton (``hand_points(skeleton, side)``;
    None: the template's)."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    if layout is None:
        layout = TEMPLATE_RIGHT_HAND * (MIRROR_X if side == "left" else 1.0)
    if side == "right":
        return solve_right_hand(points, twist_limit, layout)
    sol = solve_right_hand(np.asarray(points, float) * MIRROR_X, twist_limit, np.asarray(layout) * MIRROR_X)
    return HandSolution(flip_hand(sol.wrist), flip_hand(sol.fingers))


def hand_landmarks_from_pose(
    wrist: np.ndarray, fingers: np.ndarray, side: str, layout: np.ndarray | None = None
) -> np.ndarray:
    """Forward model of the solver: (T, 21, 3) landmark positions relative to the wrist, metres,
    for wrist world rotations (T, 3, 3) and local finger rotations (T, 15, 3, 3); ``layout`` as
    for ``solve_hand``."""
    tmpl = TEMPLATE_RIGHT_HAND * (MIRROR_X if side == "left" else 1.0) if layout is None else np.asarray(layout)
    t = wrist.shape[0]
    out = np.zeros((t, 21, 3))
    for f, chain in enumerate(FINGER_CHAINS):
        r = wrist
        p = apply(wrist, np.broadcast_to(tmpl[chain[0]], (t, 3)))
        out[:, chain[0]] = p
        for k in range(3):
            r = r @ fingers[:, 3 * f + k]
            p = p + apply(r, np.broadcast_to(tmpl[chain[k + 1]] - tmpl[chain[k]], (t, 3)))
            out[:, chain[k + 1]] = p
    return out


def relaxed_right_hand() -> np.ndarray:
    """(15, 3, 3) a resting hand's local finger rotations: fingers gently curled, thumb straight."""
    out = np.tile(np.eye(3), (15, 1, 1))
    for f in range(4):
        for k, deg in enumerate((12.0, 18.0, 10.0)):
            out[3 * f + k] = axis_angle(FINGER_HINGE, np.radians(deg + 4.0 * f * (k == 0)))
    return out


def relaxed_hand(side: str) -> np.ndarray:
    r = relaxed_right_hand()
    return flip_hand(r) if side == "left" else r

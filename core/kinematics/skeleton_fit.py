"""A per-sequence skeleton fitted to landmark tracks: the signer's proportions, our rest conventions.

The IK drives a skeleton; when that is the fixed template, every difference between the
signer's proportions and the template's shows up as position error (forearms 33 cm in the data
against 25 cm on the template, a rigid template palm against MediaPipe's). ``fit_skeleton``
measures the proportions instead, robustly (medians over the frames where both ends of a bone
are seen), in metres of the body's metric scale:

- shoulder width, and upper arm and forearm per side (``symmetric=True``: one length per segment
  for both arms). Per side by default because that is what the landmarks say: MediaPipe's body
  depth makes the signing forearm, which points at the camera, 35-40 cm long where the resting
  one (in the image plane) is 20-25 cm, while their image-plane lengths agree; on the lexicon
  symmetric arms leave 7.0 cm of mean wrist error, per-side arms 2.7 (smoothing on);
- per hand: the palm layout (wrist, the four MCPs and the thumb CMC in the palm frame, from a
  generalised Procrustes median of the palm points) and the 15 phalanx / thumb bone lengths.

The result has the template's topology and REST DIRECTIONS (SMPL-X rest pose: T-pose, palms
down, fingers straight along the arm, thumb forward and out): only lengths change, plus the
positions of the MCPs and the thumb CMC in the palm, which follow the data. The fitted palm is
turned so that it is best aligned with the template's palm (the rotation taking one onto the
other is the identity), so "palm down" means what it means on the template. Torso, legs and head
are the template's, scaled by the ratio of the fitted arm-and-shoulder span to the template's.
Parts seen too little keep the template (a hand seen too little takes the other hand's mirror
image when that one was fitted); a length beyond 0.6-1.6 times the (scaled) template's, or a
hand outside 0.7-1.4 times its size, is a tracking failure and is clamped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model.skeleton import FINGERS, JOINT_NAMES, PARENTS, Skeleton
from ..model.template import TEMPLATE
from .ik_geometry import normalize
from .ik_hand import FINGER_DIR, MIRROR_X, PALM_WEIGHTS, THUMB_DIR, hand_points, kabsch
from .landmarks import FINGER_CHAINS, PALM_POINTS, B

MIN_FRAMES = 5
# A fitted length outside this ratio of the (scaled) template's is a tracking failure: clamp.
LENGTH_RATIO = (0.6, 1.6)
HAND_RATIO = (0.7, 1.4)  # hand size against the template's
_PALM = list(PALM_POINTS)
_HAND_CHAIN = (0, 9, 10, 11, 12)  # wrist -> middle MCP -> ... -> tip: the hand's size


def hand_size(points: np.ndarray) -> np.ndarray:
    """(..., 21, 3) -> (...) path length wrist -> middle MCP -> PIP -> DIP -> tip."""
    return sum(
        np.linalg.norm(points[..., b, :] - points[..., a, :], axis=-1) for a, b in zip(_HAND_CHAIN, _HAND_CHAIN[1:])
    )


def _median_length(p: np.ndarray, ok: np.ndarray, pairs, min_frames: int) -> float | None:
    """Median over frames (and the given pairs, pooled) of |p[b] - p[a]|; None if seen too little."""
    parts = [np.linalg.norm(p[ok[:, a] & ok[:, b], b] - p[ok[:, a] & ok[:, b], a], axis=-1) for a, b in pairs]
    vals = np.concatenate(parts) if parts else np.zeros(0)
    vals = vals[np.isfinite(vals) & (vals > 0)]
    return float(np.median(vals)) if len(vals) >= min_frames else None


def fit_hand_layout(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """A right hand's rest landmarks from its observed frames.

    points: (T, 21, 3) a RIGHT hand's landmarks (a left hand mirrored), world axes, metres, all
    observed; reference: (21, 3) the template right hand relative to its wrist (its palm fixes
    the orientation: fingers along -X, palm facing -Y). Returns (21, 3) relative to the wrist:
    the median palm (wrist, MCPs, thumb CMC) and, from each base joint, the median bone lengths
    laid along the template's rest directions.
    """
    p = np.asarray(points, float)
    p = p - p[:, :1]
    size = float(np.median(np.linalg.norm(p[:, _PALM[1:]], axis=-1)))
    ref_size = float(np.mean(np.linalg.norm(reference[_PALM[1:]], axis=-1)))
    palm = reference[_PALM] * (size / ref_size)
    for _ in range(3):  # generalised Procrustes: align every frame to the current median palm
        r = kabsch(palm, p[:, _PALM], PALM_WEIGHTS)
        local = np.einsum("tji,tpj->tpi", r, p)  # R^T p
        med = np.median(local, axis=0)
        palm = med[_PALM]
    # the template's convention: the template palm maps onto the fitted one without rotation
    r0 = kabsch(reference[_PALM], med[None, _PALM], PALM_WEIGHTS)[0]
    med = med @ r0
    out = np.zeros((21, 3))
    for f, chain in enumerate(FINGER_CHAINS):
        d = THUMB_DIR if FINGERS[f] == "thumb" else FINGER_DIR
        out[chain[0]] = med[chain[0]]
        for k in range(3):
            length = float(np.median(np.linalg.norm(p[:, chain[k + 1]] - p[:, chain[k]], axis=-1)))
            out[chain[k + 1]] = out[chain[k]] + d * length
    return out


def _hand_from_layout(layout: np.ndarray, wrist: np.ndarray, side: str, pos: np.ndarray, tips: np.ndarray) -> None:
    """Write a hand (layout relative to the wrist, world axes, this side) into rest positions and
    tips (J, 3), in place."""
    for f, chain in zip(FINGERS, FINGER_CHAINS):
        for k in range(3):
            pos[JOINT_NAMES.index(f"{side}_{f}{k + 1}")] = wrist + layout[chain[k]]
        tips[JOINT_NAMES.index(f"{side}_{f}3")] = layout[chain[3]] - layout[chain[2]]


def fit_skeleton(
    body: np.ndarray,
    body_ok: np.ndarray,
    hands: np.ndarray,
    hands_ok: np.ndarray,
    *,
    metric: bool = True,
    symmetric: bool = False,
    min_frames: int = MIN_FRAMES,
    template: Skeleton = TEMPLATE,
) -> tuple[Skeleton, dict[str, Any]]:
    """The skeleton of one sequence, from its landmarks in world axes.

    body: (T, 15, 3) metres (BODY_POINTS order), body_ok: (T, 15); hands: (T, 2, 21, 3) (left,
    right) in the same metres, hands_ok: (T, 2) frames where a whole hand was seen. ``metric``
    False: the lengths are not in metres (no body scale), so the body stays the template's and
    hands keep their fitted shape at the template's size. ``symmetric``: one upper arm and one
    forearm length for both sides (pooled medians) instead of one per side.
    Returns the skeleton and a JSON-able report of what was fitted (lengths in metres).
    """
    rest, tips = template.rest_positions().copy(), template.tips.copy()
    J = {n: i for i, n in enumerate(JOINT_NAMES)}
    tr = template.rest_positions()
    tl = {
        "shoulders": float(np.linalg.norm(tr[J["left_shoulder"]] - tr[J["right_shoulder"]])),
        "upper_arm": float(np.linalg.norm(tr[J["left_elbow"]] - tr[J["left_shoulder"]])),
        "forearm": float(np.linalg.norm(tr[J["left_wrist"]] - tr[J["left_elbow"]])),
    }
    sides = ("left", "right")
    fitted: dict[str, float] = {}
    if metric:
        pairs = {"shoulders": [(B["left_shoulder"], B["right_shoulder"])]}
        for seg, (a, b) in (("upper_arm", ("shoulder", "elbow")), ("forearm", ("elbow", "wrist"))):
            per_side = [(B[f"{s}_{a}"], B[f"{s}_{b}"]) for s in sides]
            if symmetric:
                pairs.update({f"{s}_{seg}": per_side for s in sides})
            else:
                pairs.update({f"{s}_{seg}": [ps] for s, ps in zip(sides, per_side)})
        for k, pr in pairs.items():
            v = _median_length(body, body_ok, pr, min_frames)
            if v is not None:
                fitted[k] = v
        for seg in ("upper_arm", "forearm"):  # an arm seen too little takes the other's length
            for s, o in zip(sides, sides[::-1]):
                if f"{s}_{seg}" not in fitted and f"{o}_{seg}" in fitted:
                    fitted[f"{s}_{seg}"] = fitted[f"{o}_{seg}"]
    base = {
        k: tl[k.split("_", 1)[1] if k.startswith(sides) else k]
        for k in ("shoulders", "left_upper_arm", "right_upper_arm", "left_forearm", "right_forearm")
    }
    span = sum(base[k] for k in fitted)
    scale = sum(fitted.values()) / span if fitted else 1.0
    scale = float(np.clip(scale, *LENGTH_RATIO))
    lengths = {
        k: float(np.clip(fitted.get(k, scale * v), LENGTH_RATIO[0] * scale * v, LENGTH_RATIO[1] * scale * v))
        for k, v in base.items()
    }
    rest = rest * scale
    tips = tips * scale
    report: dict[str, Any] = {"body_scale": scale, "fitted": sorted(fitted), **lengths}

    for side, sgn in (("left", 1.0), ("right", -1.0)):
        sh, col = J[f"{side}_shoulder"], J[f"{side}_collar"]
        half = 0.5 * lengths["shoulders"]
        rest[col, 0] = tr[col, 0] * half / (0.5 * tl["shoulders"])
        rest[sh, 0] = sgn * half
        up = normalize(tr[J[f"{side}_elbow"]] - tr[sh])
        fore = normalize(tr[J[f"{side}_wrist"]] - tr[J[f"{side}_elbow"]])
        rest[J[f"{side}_elbow"]] = rest[sh] + up * lengths[f"{side}_upper_arm"]
        rest[J[f"{side}_wrist"]] = rest[J[f"{side}_elbow"]] + fore * lengths[f"{side}_forearm"]

    # hands: fitted in the right-hand frame (a left hand mirrored), then placed at the wrists
    ref = hand_points(template, "right")
    ref_size = float(hand_size(ref))
    layouts: dict[str, np.ndarray | None] = {}
    for hand, side in enumerate(("left", "right")):
        ok = np.asarray(hands_ok[:, hand], bool)
        pts = hands[ok, hand] * (MIRROR_X if side == "left" else 1.0)
        pts = pts[np.isfinite(pts).all(axis=(1, 2))]
        if len(pts) < min_frames:
            layouts[side] = None
            continue
        lay = fit_hand_layout(pts, ref)
        size = float(hand_size(lay))
        if not np.isfinite(lay).all() or size <= 0:
            layouts[side] = None
            continue
        target = size if metric else ref_size
        target = float(np.clip(target, HAND_RATIO[0] * ref_size, HAND_RATIO[1] * ref_size))
        layouts[side] = lay * (target / size)
    hands_report = {}
    for side in ("left", "right"):
        other = "right" if side == "left" else "left"
        chosen, how = layouts[side], "fitted"
        if chosen is None and layouts[other] is not None:
            chosen, how = layouts[other], "mirrored"
        if chosen is None:
            hands_report[side] = "template"
            continue  # the template's hand, scaled with the body
        world = chosen * (MIRROR_X if side == "left" else 1.0)
        _hand_from_layout(world, rest[J[f"{side}_wrist"]], side, rest, tips)
        hands_report[side] = how
        report[f"{side}_hand_size"] = float(hand_size(lay))
    for side in ("left", "right"):
        if hands_report[side] == "template":  # scaled with the body, placed at the new wrist
            _hand_from_layout(hand_points(template, side) * scale, rest[J[f"{side}_wrist"]], side, rest, tips)
    report["hands"] = hands_report
    return Skeleton.from_rest_positions(JOINT_NAMES, PARENTS, rest, tips), report

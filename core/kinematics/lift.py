"""Depth for landmarks that have none: flat or 2-D components lifted to plausible 3-D.

Orthographic camera: each bone keeps its image-plane vector and gets the depth its length
allows, |dz| = sqrt(L^2 - |dxy|^2); what the image cannot say is the SIGN of each dz (towards
or away from the camera). Lengths come from the clip itself: a bone's length is at least every
projection of it, so a high percentile of its image length (the arms and fingers pass through
the image plane often) against a floor from the template's proportions.

- Arms (per side): four sign choices per frame (elbow in front of / behind the shoulder, wrist
  in front of / behind the elbow), chosen for the whole clip at once by dynamic programming:
  a signing-space prior (hands work in front of the torso, elbows do not go far behind it) and
  temporal continuity (the depth of elbow and wrist moves little from frame to frame; a sign
  flips freely where the bone passes through the image plane, |dz| ~ 0). A wrist whose image
  lies over the torso is then kept in front of the chest's surface: never a hand inside the body.
- Torso, hips and face stay in one plane (depth 0): the image shows their rotation in the plane,
  which is what the body IK reads from them.
- Hands (per side): the palm is nearly rigid and planar; its 3-D orientation follows from the
  image of the skeleton's palm layout up to the mirror ambiguity of a plane seen orthographically
  (tilted towards or away from the camera), chosen by the same dynamic programming: the thumb's
  base and the knuckle arc are not in the palm's plane, so the true solution re-projects them
  better; the palm continues the lifted forearm; its normal turns little between frames. The
  fingers stay at the depth of their base joint. Lifting each phalanx as well (|dz| from its
  length, the sign that flexes it towards the palm) was measured worse against real 3-D hands
  (PHOENIX skeletons 2.33 cm against 1.94 cm, MediaPipe 1.82 against 1.52 cm, 18 cm hands,
  ``eval import``): short, noisy phalanx projections turn into spurious depth.

Output: the same landmarks with z replaced (image convention: larger z = farther), on the x / y
scale, so the IK reads them with depth scale 1. Frame-first arrays throughout.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..model.skeleton import Skeleton
from ..model.template import TEMPLATE
from .depth import DepthCheck
from .ik_hand import hand_points
from .landmarks import FINGER_CHAINS, B, LandmarkSet

# 80th percentile: on PHOENIX skeletons (true 3-D) within 2-4 % of the median 3-D length; higher
# percentiles pick up noise and perspective and push the hands forward (``eval import``)
LENGTH_PERCENTILE = 80.0
ARM_FLOOR = 0.9  # arm lengths at least this share of the template's proportions to the shoulders
# signing-space prior, in shoulder widths (W ~ 36 cm): where the chest's front surface lies in
# front of the shoulder line, and how far a wrist / elbow may sit behind it before it costs
CHEST_FRONT = 0.3
WRIST_MARGIN = 0.1
ELBOW_BEHIND = 0.2
# weights: wrist behind its margin, elbow too far back, depth change per frame (all per W)
W_WRIST, W_ELBOW, W_SMOOTH = 1.0, 0.5, 1.5
W_ELBOW_FRONT = 0.2
W_PALM_FOREARM, W_PALM_SMOOTH, W_PALM_FIT = 0.5, 1.0, 10.0


def _template_arm_ratios(skeleton: Skeleton = TEMPLATE) -> tuple[float, float]:
    """(upper arm, forearm) lengths per shoulder width of the template."""
    rest = skeleton.rest_positions()
    d = lambda a, b: float(np.linalg.norm(rest[skeleton.index(a)] - rest[skeleton.index(b)]))  # noqa: E731
    w = d("left_shoulder", "right_shoulder")
    return d("left_shoulder", "left_elbow") / w, d("left_elbow", "left_wrist") / w


def _length(d_xy: np.ndarray, ok: np.ndarray, floor: float) -> float:
    """A bone's length from its image lengths (T,) where ok: a high percentile, at least floor."""
    seen = d_xy[ok]
    return max(float(np.percentile(seen, LENGTH_PERCENTILE)) if len(seen) else 0.0, floor)


def _viterbi(unary: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """Minimum-cost state path. unary (T, S); pair (T-1, S, S) cost of state i at t -> j at t+1.
    Returns (T,) int."""
    t, s = unary.shape
    cost = unary[0].copy()
    back = np.zeros((t, s), int)
    for i in range(1, t):
        total = cost[:, None] + pair[i - 1]
        back[i] = np.argmin(total, axis=0)
        cost = total[back[i], np.arange(s)] + unary[i]
    path = np.zeros(t, int)
    path[-1] = int(np.argmin(cost))
    for i in range(t - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def _shoulder_width(body: np.ndarray, ok: np.ndarray) -> float:
    both = ok[:, B["left_shoulder"]] & ok[:, B["right_shoulder"]]
    if not both.any():
        return 0.0
    d = body[both, B["left_shoulder"], :2] - body[both, B["right_shoulder"], :2]
    return float(np.median(np.linalg.norm(d, axis=-1)))


def lift_body(body: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Image-plane body points -> their forward depth (towards the camera), same units.

    body: (T, 15, 3) image coordinates (x, y used); ok: (T, 15). Returns (T, 15) forward depth
    relative to the shoulder line (0 for torso, hips and face). Raises ValueError when the
    shoulders are never seen (nothing to measure the arms against).
    """
    t = body.shape[0]
    fwd = np.zeros((t, body.shape[1]))
    width = _shoulder_width(body, ok)
    if width <= 0:
        raise ValueError("body: the shoulders are never seen, so its depth cannot be lifted")
    r_upper, r_fore = _template_arm_ratios()
    xy = body[..., :2]
    mid_x = 0.5 * (xy[:, B["left_shoulder"], 0] + xy[:, B["right_shoulder"], 0])
    sh_y = 0.5 * (xy[:, B["left_shoulder"], 1] + xy[:, B["right_shoulder"], 1])
    hips_ok = ok[:, B["left_hip"]] & ok[:, B["right_hip"]]
    hip_y = np.where(hips_ok, 0.5 * (xy[:, B["left_hip"], 1] + xy[:, B["right_hip"], 1]), sh_y + 1.4 * width)
    for side in ("left", "right"):
        s, e, w = (B[f"{side}_{p}"] for p in ("shoulder", "elbow", "wrist"))
        d1 = np.linalg.norm(xy[:, e] - xy[:, s], axis=-1)
        d2 = np.linalg.norm(xy[:, w] - xy[:, e], axis=-1)
        ok1, ok2 = ok[:, s] & ok[:, e], ok[:, e] & ok[:, w]
        l1 = _length(d1, ok1, r_upper * width * ARM_FLOOR)
        l2 = _length(d2, ok2, r_fore * width * ARM_FLOOR)
        dz1 = np.where(ok1, np.sqrt(np.maximum(l1**2 - d1**2, 0.0)), 0.0)
        dz2 = np.where(ok2, np.sqrt(np.maximum(l2**2 - d2**2, 0.0)), 0.0)
        signs = np.array([(1, 1), (1, -1), (-1, 1), (-1, -1)], float)  # (elbow, wrist) per state
        f_e = dz1[:, None] * signs[None, :, 0]  # (T, 4)
        f_w = f_e + dz2[:, None] * signs[None, :, 1]
        over_torso = (
            (np.abs(xy[:, w, 0] - mid_x) < 0.5 * width) & (xy[:, w, 1] > sh_y - 0.1 * width) & (xy[:, w, 1] < hip_y)
        )
        margin = np.where(over_torso, CHEST_FRONT, WRIST_MARGIN)[:, None] * width
        unary = (
            W_WRIST * np.maximum(margin - f_w, 0.0)
            + W_ELBOW * np.maximum(-ELBOW_BEHIND * width - f_e, 0.0)
            + W_ELBOW_FRONT * np.maximum(-f_e, 0.0)
        ) / width
        pair = (
            W_SMOOTH
            * (np.abs(f_e[1:, None, :] - f_e[:-1, :, None]) + np.abs(f_w[1:, None, :] - f_w[:-1, :, None]))
            / width
        )
        path = _viterbi(unary, pair)
        idx = np.arange(t)
        fe, fw = f_e[idx, path], f_w[idx, path]
        # never a hand inside the torso: over it, the wrist is at least at the chest's surface
        fw = np.where(over_torso & ok[:, w], np.maximum(fw, CHEST_FRONT * width), fw)
        fwd[:, e], fwd[:, w] = fe, fw
    return fwd


def _palm_model(skeleton: Skeleton, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The skeleton's hand landmarks relative to the wrist (21, 3), the palm plane's in-plane
    basis (2, 3) and its normal (3,), world axes, metres."""
    pts = hand_points(skeleton, side)
    palm = pts[[0, 5, 9, 13, 17]]
    c = palm.mean(axis=0)
    _, _, vt = np.linalg.svd(palm - c)
    e1, e2 = vt[0], vt[1]
    n = np.cross(e1, e2)
    return pts, np.stack([e1, e2]), n


def _palm_poses(obs: np.ndarray, model: np.ndarray, basis: np.ndarray, normal: np.ndarray):
    """Scaled-orthographic poses of a planar palm. obs: (T, 5, 2) world x, y of wrist and MCPs;
    model: (5, 3) the same points of the skeleton. Returns rotations (T, 2, 3, 3) (the two mirror
    solutions), scales (T,) and a validity mask (T,)."""
    u = (model - model.mean(0)) @ basis.T  # (5, 2) plane coordinates
    x = obs - obs.mean(axis=1, keepdims=True)  # (T, 5, 2)
    pinv = np.linalg.pinv(u)  # (2, 5)
    a = np.einsum("ij,tjk->tki", pinv, x)  # (T, 2, 2): x ~ u @ a^T
    gram = np.einsum("tki,tkj->tij", a, a)  # A^T A = s^2 (I - z z^T)
    lam, vec = np.linalg.eigh(gram)  # ascending
    s2 = lam[:, 1]
    good = s2 > 1e-12
    s = np.sqrt(np.maximum(s2, 1e-24))
    zmag = np.sqrt(np.clip(1.0 - lam[:, 0] / np.maximum(s2, 1e-24), 0.0, 1.0))
    rots = np.zeros(obs.shape[:1] + (2, 3, 3))
    for k, sign in enumerate((1.0, -1.0)):
        z = sign * zmag[:, None] * vec[:, :, 0]  # (T, 2)
        c1 = np.concatenate([a[:, :, 0] / s[:, None], z[:, :1]], axis=-1)
        c2 = np.concatenate([a[:, :, 1] / s[:, None], z[:, 1:]], axis=-1)
        c3 = np.cross(c1, c2)
        img = np.stack([c1, c2, c3], axis=-1)  # columns: images of e1, e2, n
        src = np.stack([basis[0], basis[1], normal], axis=-1)
        rots[:, k] = img @ src.T
    return rots, s, good


def lift_hands(
    hands: np.ndarray, ok: np.ndarray, forearm: np.ndarray | None = None, skeleton: Skeleton = TEMPLATE
) -> np.ndarray:
    """Image-plane hand points -> forward depth relative to each wrist, same units.

    hands: (T, 2, 21, 3) image coordinates (left, right; x, y used); ok: (T, 2, 21); forearm:
    (T, 2, 3) world direction of each lifted forearm (elbow -> wrist; zeros where unknown).
    Returns (T, 2, 21) forward depth (0 where the palm is not seen).
    """
    t = hands.shape[0]
    fwd = np.zeros(hands.shape[:3])
    world = np.stack([hands[..., 0], -hands[..., 1]], axis=-1)  # (T, 2, 21, 2) world x, y
    for k, side in enumerate(("left", "right")):
        pts, basis, normal = _palm_model(skeleton, side)
        palm_idx = [0, 5, 9, 13, 17]
        seen = ok[:, k][:, palm_idx].all(axis=-1)
        if seen.sum() == 0:
            continue
        rots, scale, good = _palm_poses(world[:, k][:, palm_idx], pts[palm_idx], basis, normal)
        use = seen & good
        # the two mirror solutions: continuity of the palm normal, and the palm continuing the forearm
        n_w = np.einsum("tsij,j->tsi", rots, normal)
        d_w = np.einsum("tsij,j->tsi", rots, pts[9] / max(np.linalg.norm(pts[9]), 1e-12))
        # the palm and the thumb's base are not quite planar: the true solution re-projects them better
        fit_idx = [0, 1, 5, 9, 13, 17]
        model = pts[fit_idx] - pts[palm_idx].mean(0)
        pred = np.einsum("tsij,pj->tspi", rots, model)[..., :2] * scale[:, None, None, None]
        obs = world[:, k][:, fit_idx] - world[:, k][:, palm_idx].mean(1, keepdims=True)
        fit_ok = ok[:, k][:, fit_idx]
        resid = (np.linalg.norm(pred - obs[:, None], axis=-1) * fit_ok[:, None]).sum(-1) / np.maximum(
            fit_ok.sum(-1), 1
        )[:, None]
        size = scale * float(np.linalg.norm(pts[9]))
        unary = W_PALM_FIT * resid / np.maximum(size, 1e-9)[:, None]
        if forearm is not None:
            fa = forearm[:, k] / np.maximum(np.linalg.norm(forearm[:, k], axis=-1, keepdims=True), 1e-12)
            unary += W_PALM_FOREARM * (1.0 - np.einsum("tsi,ti->ts", d_w, fa)) * (np.abs(fa).sum(-1) > 0)[:, None]
        unary[~use] = 0.0
        pair = W_PALM_SMOOTH * (1.0 - np.einsum("tsi,tri->tsr", n_w[:-1], n_w[1:]))
        pair[~(use[:-1] & use[1:])] = 0.0
        path = _viterbi(unary, pair)
        rot = rots[np.arange(t), path]  # (T, 3, 3) model -> world
        # palm points and the thumb's base from the rigid palm; depth is the world z (forward)
        rel = np.einsum("tij,pj->tpi", rot, pts) * scale[:, None, None]  # (T, 21, 3)
        depth = rel[..., 2] - rel[:, :1, 2]
        f = np.zeros((t, 21))
        for p in (0, 1, 5, 9, 13, 17):
            f[:, p] = depth[:, p]
        for chain in FINGER_CHAINS:  # each finger at the depth of its base (see the module docstring)
            f[:, list(chain[1:])] = f[:, chain[:1]]
        fwd[:, k] = np.where(use[:, None], f, 0.0)
    return fwd


def lift(
    lm: LandmarkSet, checks: Mapping[str, DepthCheck], skeleton: Skeleton = TEMPLATE
) -> tuple[LandmarkSet, list[str], list[str]]:
    """Replace the z of every flat / 2-D component by lifted depth (see the module docstring).

    Returns the new landmarks (lifted components on the x / y scale, image convention), the
    names of the components lifted and one line per component that could not be (named, with
    why: it keeps its z). Components with depth are returned untouched.
    """
    flat = [name for name in ("body", "hands", "face") if name in checks and checks[name].kind in ("flat", "2d")]
    if not flat:
        return lm, [], []
    body, hands, face = lm.body.copy(), lm.hands.copy(), lm.face.copy()
    lifted: list[str] = []
    warnings: list[str] = []
    forearm = None
    if "body" in flat:
        try:
            body[..., 2] = -lift_body(lm.body, lm.body_ok)
            lifted.append("body")
        except ValueError as e:
            warnings.append(f"{e}; left as it is")
            flat.remove("body")
    if "hands" in flat:
        if checks["body"].has_depth or "body" in flat:
            # forearm directions in world axes (x, -y, forward) for the palm's mirror choice
            bw = np.stack(
                [body[..., 0], -body[..., 1], -body[..., 2] * (checks["body"].scale if "body" not in flat else 1.0)], -1
            )
            forearm = np.zeros((lm.n_frames, 2, 3))
            for k, side in enumerate(("left", "right")):
                elbow, wrist = B[f"{side}_elbow"], B[f"{side}_wrist"]
                known = lm.body_ok[:, elbow] & lm.body_ok[:, wrist]
                forearm[:, k] = np.where(known[:, None], bw[:, wrist] - bw[:, elbow], 0.0)
        fh = lift_hands(lm.hands, lm.hands_ok, forearm, skeleton)
        hands[..., 2] = -fh
        lifted.append("hands")
        for k, side in enumerate(("left", "right")):
            seen = lm.hands_ok[:, k].any(axis=0).sum()
            if seen and not lm.hands_ok[:, k][:, [0, 5, 9, 13, 17]].all(axis=-1).any():
                warnings.append(f"{side} hand: its palm is never seen whole, so its depth cannot be lifted")
    if "face" in flat:
        face[..., 2] = 0.0  # one plane, facing the camera
        lifted.append("face")
    return (
        LandmarkSet(body, lm.body_ok, hands, lm.hands_ok, face, lm.face_ok, lm.fps, lm.width, lm.height, lm.meta),
        lifted,
        warnings,
    )

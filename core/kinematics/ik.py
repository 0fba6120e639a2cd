"""Inverse kinematics from landmark tracks to a ``Sequence`` on our skeleton, and its error report.

Pipeline (vectorised over frames, numpy only):
1. smooth each landmark track in time (zero-phase One-Euro inside observed runs, speeds measured
   in hand sizes / shoulder widths per second; ``smooth=False`` turns it off);
2. check what each component's z is worth (``depth.check_depth``: true 3-D, z on its own scale,
   flat, or absent) and lift flat / 2-D components to plausible 3-D (``lift``); estimate a depth
   scale per component with depth from the data: the factor on z that keeps bone lengths most
   constant (``landmarks.estimate_depth_scale``);
3. map image coordinates into our world axes (``landmarks.to_world``) and the body into metres,
   with the scale that best fits the template's shoulder width and arm lengths (hands share
   the body's metres per pixel);
4. fit the sequence's own skeleton (``skeleton_fit``: shoulder width, arm segments, palm layout
   and finger bones from medians over the clip; the template's rest directions), so the joint
   positions FK gives match the landmarks, not just their directions (``fit=False``: template);
5. hands (``ik_hand``, finger twist free by default: see there), then the body (``ik_body``)
   with the wrists from the hand frames;
6. joints never solved in a frame are marked invalid, and filled for display by SLERP between
   the nearest solved frames (a rest or relaxed pose where never seen); frames where nothing was
   seen become GENERATED;
7. the root translation follows the shoulders' sway around their median position.

Accuracy on the spoken-to-signed lexicon, and how to measure it: ``scripts/eval_ik.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model.sequence import FrameState, Sequence, new_sequence
from ..model.skeleton import JOINT_INDEX, LEFT_HAND, N_JOINTS, RIGHT_HAND, Skeleton
from ..model.template import TEMPLATE
from .depth import DepthCheck, check_depth
from .filters import one_euro_tracks
from .fk import forward_kinematics
from .ik_body import solve_body
from .ik_hand import DEFAULT_TWIST_LIMIT, hand_points, relaxed_hand, solve_hand
from .landmarks import (
    BODY_BONES,
    FACE_BONES,
    FINGER_CHAINS,
    HAND_BONES,
    PALM_POINTS,
    B,
    LandmarkSet,
    estimate_depth_scale,
    to_world,
)
from .lift import lift
from .skeleton_fit import fit_skeleton, hand_size
from .slerp import slerp_fill

HAND_SIZE = 0.18  # metres, wrist to middle fingertip, for reporting hand errors
_HAND_SLICES = (LEFT_HAND, RIGHT_HAND)


@dataclass(frozen=True, eq=False)
class IKResult:
    """rotations (T, 52, 3, 3) local, on ``skeleton`` (fitted to the clip, or the template);
    translation (T, 3) metres, valid (T, 52), frame_seen (T,); world_body (T, 15, 3) metres and
    world_hands (T, 2, 21, 3) (hand units: pixels) are the landmarks the solver fitted, in our
    world axes (smoothed when smoothing is on)."""

    rotations: np.ndarray
    translation: np.ndarray
    valid: np.ndarray
    frame_seen: np.ndarray
    depth_scales: Mapping[str, float]
    metres_per_pixel: float
    world_body: np.ndarray
    world_hands: np.ndarray
    skeleton: Skeleton = TEMPLATE
    info: Mapping[str, Any] = field(default_factory=dict)


def _hand_ok(lm: LandmarkSet) -> tuple[np.ndarray, np.ndarray]:
    """(T, 2) palm seen; (T, 2, 5) each finger chain seen (with its palm)."""
    palm = np.asarray(lm.hands_ok[:, :, list(PALM_POINTS)].all(axis=-1))
    fingers = np.stack([lm.hands_ok[:, :, list(c)].all(axis=-1) for c in FINGER_CHAINS], axis=-1)
    return palm, fingers & palm[..., None]


def depth_scales(lm: LandmarkSet) -> dict[str, float]:
    """Per-component depth factors estimated from the data (see ``estimate_depth_scale``)."""
    hands = lm.hands.reshape(lm.n_frames, 42, 3)
    hands_ok = lm.hands_ok.reshape(lm.n_frames, 42)
    hand_bones = tuple(HAND_BONES) + tuple((a + 21, b + 21) for a, b in HAND_BONES)
    return {
        "body": estimate_depth_scale(lm.body, lm.body_ok, BODY_BONES),
        "hands": estimate_depth_scale(hands, hands_ok, hand_bones),
        "face": estimate_depth_scale(lm.face, lm.face_ok, FACE_BONES),
    }


def _template_lengths() -> dict[str, float]:
    rest = TEMPLATE.rest_positions()
    d = lambda a, b: float(np.linalg.norm(rest[JOINT_INDEX[a]] - rest[JOINT_INDEX[b]]))  # noqa: E731
    return {
        "shoulders": d("left_shoulder", "right_shoulder"),
        "upper_arm": d("left_shoulder", "left_elbow"),
        "forearm": d("left_elbow", "left_wrist"),
    }


def metric_scale(body_w: np.ndarray, body_ok: np.ndarray) -> float:
    """Metres per pixel for the body: least squares fit of the clip's median shoulder width and
    arm lengths (3-D, after the depth scale) to the template's. 0 when nothing fits."""
    tl = _template_lengths()
    pairs = [("left_shoulder", "right_shoulder", tl["shoulders"])]
    for side in ("left", "right"):
        pairs += [
            (f"{side}_shoulder", f"{side}_elbow", tl["upper_arm"]),
            (f"{side}_elbow", f"{side}_wrist", tl["forearm"]),
        ]
    num = den = 0.0
    for a, b, target in pairs:
        ok = body_ok[:, B[a]] & body_ok[:, B[b]]
        if ok.sum() == 0:
            continue
        length = float(np.median(np.linalg.norm(body_w[ok, B[a]] - body_w[ok, B[b]], axis=-1)))
        if length > 0:
            num += target * length
            den += length * length
    return num / den if den > 0 else 0.0


def _median_distance(p: np.ndarray, ok: np.ndarray, a: int, b: int) -> float:
    both = ok[:, a] & ok[:, b]
    if not both.any():
        return 0.0
    return float(np.median(np.linalg.norm(p[both, a, :2] - p[both, b, :2], axis=-1)))


# One-Euro settings for the hands. The speed estimate's own cutoff is high (8 Hz, not 2) so the
# filter opens as soon as a fast fingerspelling move starts: on every 12th lexicon clip this is
# better on both counts than 2 Hz (finger error against the raw landmarks 2.76 vs 2.86 degrees,
# hold jitter 1.95 vs 2.06 degrees per frame; 2.87 unsmoothed). Any smoothing moves the joints
# off the raw landmarks by about the jitter it removes (see filters.py); ``smooth=False`` when
# the raw landmarks themselves are wanted.
HAND_SMOOTHING = {"min_cutoff": 2.0, "beta": 4.0, "d_cutoff": 8.0}


def smooth_landmarks(lm: LandmarkSet) -> LandmarkSet:
    """Zero-phase One-Euro smoothing of every track; speeds in component sizes per second (the
    image-plane wrist -> middle MCP distance, shoulder width, face width)."""
    t = lm.n_frames
    hand_size = np.array([[_median_distance(lm.hands[:, k], lm.hands_ok[:, k], 0, 9)] * 21 for k in range(2)])
    hands = one_euro_tracks(
        lm.hands.reshape(t, 42, 3), lm.hands_ok.reshape(t, 42), lm.fps, scale=hand_size.reshape(42), **HAND_SMOOTHING
    ).reshape(t, 2, 21, 3)
    body = one_euro_tracks(
        lm.body,
        lm.body_ok,
        lm.fps,
        scale=_median_distance(lm.body, lm.body_ok, B["left_shoulder"], B["right_shoulder"]),
    )
    face = one_euro_tracks(lm.face, lm.face_ok, lm.fps, scale=_median_distance(lm.face, lm.face_ok, 2, 3))
    return LandmarkSet(body, lm.body_ok, hands, lm.hands_ok, face, lm.face_ok, lm.fps, lm.width, lm.height, lm.meta)


def solve(
    lm: LandmarkSet,
    *,
    smooth: bool = True,
    scales: Mapping[str, float] | None = None,
    finger_twist_limit: float | None = DEFAULT_TWIST_LIMIT,
    fit: bool = True,
    symmetric_arms: bool = False,
    depth: Mapping[str, DepthCheck] | None = None,
    lift_depth: bool = True,
) -> IKResult:
    """Landmarks -> local rotations on a skeleton fitted to them (``fit=False``: on TEMPLATE;
    ``symmetric_arms``: one length per arm segment for both sides, see ``fit_skeleton``).
    ``scales`` overrides the estimated depth scales; ``finger_twist_limit`` (radians, None =
    free) bounds the fingers' MCP twist. ``depth``: the components' depth check (default: made
    here); ``lift_depth=False`` reads flat / 2-D components as they are (the old behaviour)."""
    t = lm.n_frames
    checks = dict(depth) if depth is not None else check_depth(lm, has_z=bool(lm.meta.get("has_z", True)))
    lifted: list[str] = []
    warnings: list[str] = []
    if lift_depth:
        lm, lifted, warnings = lift(lm, checks)
    smoothed = smooth_landmarks(lm) if smooth else lm
    body, hands, face = smoothed.body, smoothed.hands, smoothed.face
    ds = dict(depth_scales(smoothed))
    ds.update({name: 1.0 for name in lifted})  # lifted depth is on the x / y scale
    if scales:
        ds.update({k: float(v) for k, v in scales.items()})
    body_w = to_world(body, ds["body"])
    mpp = metric_scale(body_w, lm.body_ok)
    body_m = body_w * (mpp if mpp > 0 else 1.0)
    hands_w = to_world(hands, ds["hands"])
    face_w = to_world(face, ds["face"])

    palm_ok, finger_ok = _hand_ok(lm)
    info: dict[str, Any] = {
        "smoothed": bool(smooth),
        "depth": {k: c.as_dict() for k, c in checks.items()},
        "lifted": lifted,
        **({"warnings": warnings} if warnings else {}),
    }
    skeleton = TEMPLATE
    if fit:
        skeleton, info["skeleton"] = fit_skeleton(
            body_m,
            lm.body_ok,
            hands_w * (mpp if mpp > 0 else 1.0),
            np.asarray(finger_ok.all(axis=-1)),
            metric=mpp > 0,
            symmetric=symmetric_arms,
        )
    hand_wrist = np.tile(np.eye(3), (t, 2, 1, 1))
    rot_hands = np.zeros((t, 2, 15, 3, 3))
    rot_hands[:] = np.eye(3)
    for k, side in enumerate(("left", "right")):
        sel = palm_ok[:, k]
        if sel.any():  # only frames with a palm: degenerate input never reaches the solver
            sol = solve_hand(hands_w[sel, k], side, finger_twist_limit, hand_points(skeleton, side))
            hand_wrist[sel, k] = sol.wrist
            rot_hands[sel, k] = sol.fingers

    bs = solve_body(body_m, lm.body_ok, face_w, lm.face_ok, hand_wrist, palm_ok, skeleton)
    rot = bs.rotations.copy()
    valid = bs.valid.copy()
    for k, sl in enumerate(_HAND_SLICES):
        rot[:, sl] = rot_hands[:, k]
        valid[:, sl] = np.repeat(finger_ok[:, k], 3, axis=-1)

    rot = _fill(rot, valid)
    seen = np.asarray(valid.any(axis=1))
    translation = _sway(rot, body_m, lm.body_ok, skeleton)
    return IKResult(rot, translation, valid, seen, ds, mpp, body_m, hands_w, skeleton, info)


def _fill(rot: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Unsolved entries -> SLERP between solved frames; never-solved joints -> rest (relaxed
    fingers). Non-finite values never survive."""
    rot = np.where(np.isfinite(rot).all(axis=(-1, -2), keepdims=True), rot, np.eye(3))
    never = ~np.asarray(valid.any(axis=0))
    for sl, side in zip(_HAND_SLICES, ("left", "right")):
        relaxed = relaxed_hand(side)
        idx = np.arange(sl.start, sl.stop)
        rot[:, idx[never[idx]]] = relaxed[never[idx]]
    rot[:, never[:] & (np.arange(N_JOINTS) < LEFT_HAND.start)] = np.eye(3)
    return slerp_fill(rot, valid).astype(np.float64)


def _sway(rot: np.ndarray, body_m: np.ndarray, body_ok: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(T, 3) root translation: the observed mid-shoulder's motion around its median, minus the
    motion the rotations already produce, so the avatar's shoulders follow the signer's."""
    t = rot.shape[0]
    ok = body_ok[:, B["left_shoulder"]] & body_ok[:, B["right_shoulder"]]
    if ok.sum() == 0:
        return np.zeros((t, 3))
    _, pos = forward_kinematics(skeleton, rot)
    fk_mid = 0.5 * (pos[:, JOINT_INDEX["left_shoulder"]] + pos[:, JOINT_INDEX["right_shoulder"]])
    obs_mid = 0.5 * (body_m[:, B["left_shoulder"]] + body_m[:, B["right_shoulder"]])
    delta = np.where(ok[:, None], obs_mid - fk_mid, np.nan)
    delta = delta - np.nanmedian(delta[ok], axis=0)
    idx = np.arange(t)
    out = np.stack([np.interp(idx, idx[ok], delta[ok, c]) for c in range(3)], axis=-1)
    return out


def landmarks_to_sequence(
    lm: LandmarkSet,
    *,
    smooth: bool = True,
    meta: Mapping[str, Any] | None = None,
    text: str = "",
    language: str = "",
    **options: Any,
) -> Sequence:
    """Solve and wrap as a Sequence on the solved skeleton: valid (T, 52) from the solver,
    GENERATED where a frame saw nothing at all. ``options`` go to ``solve``."""
    res = solve(lm, smooth=smooth, **options)
    m = dict(meta or {})
    m.update(
        {
            "depth": res.info["depth"],
            "lifted": res.info["lifted"],
            **({"warnings": res.info["warnings"]} if "warnings" in res.info else {}),
            "ik": {
                "depth_scales": dict(res.depth_scales),
                "metres_per_pixel": res.metres_per_pixel,
                "smoothed": bool(smooth),
                **({"skeleton": res.info["skeleton"]} if "skeleton" in res.info else {}),
            },
        }
    )
    seq = new_sequence(
        res.rotations.astype(np.float32),
        lm.fps,
        res.translation.astype(np.float32),
        skeleton=res.skeleton,
        valid=res.valid,
        meta=m,
        text=text,
        language=language,
    )
    if not res.frame_seen.all():
        states = np.where(res.frame_seen, FrameState.SOURCE, FrameState.GENERATED).astype(np.uint8)
        seq = seq.replace(base_states=states)
    return seq


# --- error report ----------------------------------------------------------------------------


def fk_hand_points(
    rotations: np.ndarray, translation: np.ndarray | None = None, skeleton: Skeleton = TEMPLATE
) -> np.ndarray:
    """(T, 52, 3, 3) -> (T, 2, 21, 3) world positions of our hands' landmark equivalents, metres."""
    wr, wp = forward_kinematics(skeleton, rotations, translation)
    tips = wp + np.einsum("tjab,jb->tja", wr, skeleton.tips)
    out = np.zeros(rotations.shape[:1] + (2, 21, 3))
    fingers = ("index", "middle", "pinky", "ring", "thumb")
    for k, side in enumerate(("left", "right")):
        out[:, k, 0] = wp[:, skeleton.index(f"{side}_wrist")]
        for f, chain in zip(fingers, FINGER_CHAINS):
            for n in range(3):
                out[:, k, chain[n]] = wp[:, skeleton.index(f"{side}_{f}{n + 1}")]
            out[:, k, chain[3]] = tips[:, skeleton.index(f"{side}_{f}3")]
    return out


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    c = np.sum(a * b, -1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)
    return np.degrees(np.arccos(np.clip(c, -1, 1)))


def ik_errors(
    lm: LandmarkSet,
    rotations: np.ndarray,
    *,
    scales: Mapping[str, float],
    skeleton: Skeleton = TEMPLATE,
    translation: np.ndarray | None = None,
) -> dict[str, float]:
    """How well a motion on ``skeleton`` reproduces the landmarks (raw, unsmoothed) it was solved
    from: the joint positions FK gives (what a ``.joints.npz`` holds) against the landmarks.

    scales: the depth scales (and ``metres_per_pixel``) the solver used.
    - finger_dir_deg: mean angle between each observed finger bone (15 per hand) and ours;
    - hand_pos_cm: mean distance of the 20 non-wrist hand points from ours, both hands scaled
      (every frame) to an 18 cm hand (wrist to middle fingertip) and placed at the wrist;
    - elbow_cm / wrist_cm: mean distance of our elbow / wrist from the observed ones, each arm
      placed at its shoulder, in metres of the fitted body scale (with the template skeleton this
      includes the difference between the signer's arm proportions and the template's);
    - shoulder_cm: our shoulders against the observed ones, placed at their midpoint;
    - upper_arm_deg / forearm_deg: mean angle between the observed and our arm segments.
    Only frames and points the source observed count. NaN where nothing was observed.
    """
    rotations = np.asarray(rotations, float)
    _, finger_ok = _hand_ok(lm)
    palm_ok = np.asarray(finger_ok.all(axis=-1))
    obs = to_world(lm.hands, scales["hands"])
    ours = fk_hand_points(rotations, translation, skeleton)
    dir_err, pos_err = [], []
    for k in range(2):
        sel = palm_ok[:, k]
        if not sel.any():
            continue
        o, m = obs[sel, k], ours[sel, k]
        for chain in FINGER_CHAINS:
            for n in range(3):
                a, b = chain[n], chain[n + 1]
                dir_err.append(_angle_deg(o[:, b] - o[:, a], m[:, b] - m[:, a]))
        so = HAND_SIZE / np.maximum(hand_size(o), 1e-12)
        sm = HAND_SIZE / np.maximum(hand_size(m), 1e-12)
        rel_o = (o - o[:, :1]) * so[:, None, None]
        rel_m = (m - m[:, :1]) * sm[:, None, None]
        pos_err.append(np.linalg.norm(rel_o[:, 1:] - rel_m[:, 1:], axis=-1).ravel())
    out = {
        "finger_dir_deg": float(np.mean(np.concatenate(dir_err))) if dir_err else float("nan"),
        "hand_pos_cm": 100 * float(np.mean(np.concatenate(pos_err))) if pos_err else float("nan"),
    }
    body = to_world(lm.body, scales["body"]) * scales["metres_per_pixel"]
    _, wp = forward_kinematics(skeleton, rotations, translation)
    J = lambda n: skeleton.index(n)  # noqa: E731
    both = lm.body_ok[:, B["left_shoulder"]] & lm.body_ok[:, B["right_shoulder"]]
    for seg, (near, far) in (("upper_arm", ("shoulder", "elbow")), ("forearm", ("elbow", "wrist"))):
        errs = []
        for side in ("left", "right"):
            ia, ib = B[f"{side}_{near}"], B[f"{side}_{far}"]
            ok = lm.body_ok[:, ia] & lm.body_ok[:, ib] & both
            if ok.any():
                errs.append(
                    _angle_deg(body[ok, ib] - body[ok, ia], wp[ok, J(f"{side}_{far}")] - wp[ok, J(f"{side}_{near}")])
                )
        out[f"{seg}_deg"] = float(np.mean(np.concatenate(errs))) if errs else float("nan")
    for joint in ("elbow", "wrist"):
        errs = []
        for side in ("left", "right"):
            s, j = B[f"{side}_shoulder"], B[f"{side}_{joint}"]
            ok = lm.body_ok[:, s] & lm.body_ok[:, j] & lm.body_ok[:, B[f"{side}_elbow"]] & both
            if ok.any():
                o = body[ok, j] - body[ok, s]
                m = wp[ok, J(f"{side}_{joint}")] - wp[ok, J(f"{side}_shoulder")]
                errs.append(np.linalg.norm(o - m, axis=-1))
        out[f"{joint}_cm"] = 100 * float(np.mean(np.concatenate(errs))) if errs else float("nan")
    if both.any():
        mid_o = 0.5 * (body[both, B["left_shoulder"]] + body[both, B["right_shoulder"]])
        mid_m = 0.5 * (wp[both, J("left_shoulder")] + wp[both, J("right_shoulder")])
        errs = [
            np.linalg.norm((body[both, B[f"{s}_shoulder"]] - mid_o) - (wp[both, J(f"{s}_shoulder")] - mid_m), axis=-1)
            for s in ("left", "right")
        ]
        out["shoulder_cm"] = 100 * float(np.mean(np.concatenate(errs)))
    else:
        out["shoulder_cm"] = float("nan")
    return out

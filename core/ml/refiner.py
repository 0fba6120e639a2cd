"""The bundled KF2P model: a flow-matching refiner over the eased-SLERP baseline.

(About 700 lines on purpose: the state definition -- baseline, phase offsets, residuals, masks --
the network that predicts it and the checkpoint that stores its spec must agree exactly at
training and at inference; split, a change to one side would silently desynchronise the other.)

Measured before this model existed: a small flow model predicting absolute
poses lost to SLERP on real signing it had not seen; predicting a *correction* over SLERP from a
zero-initialised output reached parity. So this network never sees absolute poses:

- state x (``RefinerSpec.timing``, the bundled kind): per joint a *phase offset* -- where along
  its own key-to-key geodesic the joint should be, relative to the eased phase -- then the
  rotation-vector residual of the target G over the path so retimed, divided by ``phase_scale`` /
  ``res_scale``: (batch, n + 3n, T) (``timing_targets``, ``refined``). Most of SLERP's error on
  real signing is *when* a joint travels its path, not where: an oracle that only retimes each
  joint along its geodesic scored 0.25-0.40 x SLERP's MPJPE on the validation languages at key
  spacings 8-16, where the residual-only model, correcting pose and timing in one, traded per-
  frame error for time-warped (DTW) error and jerk at long gaps. A residual-only model
  (``timing`` False) has just the residuals ``r = log(B^-1 G)`` over the eased baseline B: (batch, 3n, T);
- condition: the baseline path's *shape* -- its frame-to-frame angular velocities
  ``log(B_t^-1 B_t+1)``, a monotone-cubic (PCHIP) hint through the neighbouring observations
  (``hermite_hint``), the phase inside each gap and the gap length (``refiner_condition``) --
  added to the KF2P network input by a 1x1 conv (``RefinerNet.cond_in``) and read out directly by
  a zero-initialised linear path (``RefinerNet.cond_out``);
- observed frames (KEY, SOURCE) have residual 0 and are the keyframes of the flow; the sampler
  writes them back, so keys are hit exactly;
- the output layers start at zero (official init), so an untrained model returns the baseline;
- sampling starts from the mean, x0 = 0 (deterministic); ``variation`` > 0 adds seeded noise for
  rerolls; strengths scale the phase offsets and the residuals, chosen on validation data per gap
  length (``RefinerSpec.strength_by_gap`` / ``geometry_by_gap``, stored in the checkpoint).

Streams (docs/representation.md): ``body`` = our joints 12..21 (SMPL-X 12..21), ``hand`` = the 15
MANO joints of one hand in the right-hand convention (a left hand enters flipped, F R F).

Rotation helpers here are torch and batched; training and inference share them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import LoadError
from ..model.skeleton import LEFT_HAND, RIGHT_HAND, SIGNSPARK_BODY_JOINTS
from .unet import KF2PNet, UNetConfig, count_parameters

__all__ = [
    "STREAM_JOINTS",
    "VEL_SCALE",
    "RefinerSpec",
    "RefinerNet",
    "RefinerCheckpointError",
    "so3_exp",
    "so3_log",
    "geodesic_fill",
    "bracket_torch",
    "refiner_condition",
    "residual",
    "apply_residual",
    "joint_channels",
    "state_mask",
    "key_geodesics",
    "timing_projection",
    "timing_targets",
    "refined",
    "save_refiner",
    "load_refiner",
    "REFINER_PRESET",
]

# Our joint indices per stream (left hand: LEFT_HAND, flipped into the right-hand convention).
STREAM_JOINTS: dict[str, tuple[int, ...]] = {
    "body": tuple(SIGNSPARK_BODY_JOINTS),
    "hand": tuple(range(RIGHT_HAND.start, RIGHT_HAND.stop)),
    "left_hand": tuple(range(LEFT_HAND.start, LEFT_HAND.stop)),
}
VEL_SCALE = 10.0  # rad/frame -> O(1): fast signing turns a joint 0.05-0.2 rad per 25 fps frame
GAP_SCALE = 24.0  # the longest key spacing trained on
HINT_SCALE = 10.0  # radians of the cubic hint -> O(1)
N_PHASE = 2  # per-frame condition channels after the velocities: phase in gap, gap length
FORMAT = "signframe-kf2p-refiner"
# Classical methods a refiner can hand a gap to (``RefinerSpec.fallback_by_gap``); "" = the network.
FALLBACKS = ("", "eased", "pchip", "spline")
VERSION = 1

# Interactive on one CPU thread: ~4M parameters, ~6 ms per forward at T=64.
REFINER_PRESET = "small"


class RefinerCheckpointError(LoadError):
    """A refiner checkpoint cannot be used; the message names the file and the problem."""


# ---------------------------------------------------------------------------------------------
# SO(3) in torch


def _hat(v: Tensor) -> Tensor:
    x, y, z = v.unbind(-1)
    o = torch.zeros_like(x)
    return torch.stack([o, -z, y, z, o, -x, -y, x, o], dim=-1).reshape(v.shape[:-1] + (3, 3))


def so3_exp(v: Tensor) -> Tensor:
    """(..., 3) rotation vectors -> (..., 3, 3) matrices (Rodrigues; exact near zero)."""
    theta2 = (v * v).sum(-1, keepdim=True)[..., None]  # (..., 1, 1)
    theta = theta2.clamp_min(1e-12).sqrt()
    small = theta2 < 1e-8
    a = torch.where(small, 1 - theta2 / 6, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24, (1 - torch.cos(theta)) / theta2.clamp_min(1e-12))
    k = _hat(v)
    eye = torch.eye(3, dtype=v.dtype, device=v.device).expand(k.shape)
    return eye + a * k + b * (k @ k)


def so3_log(r: Tensor) -> Tensor:
    """(..., 3, 3) rotations -> (..., 3) rotation vectors, angle in [0, pi].

    Uses the quaternion route (stable at 0 and near pi), differentiable almost everywhere."""
    m00, m11, m22 = r[..., 0, 0], r[..., 1, 1], r[..., 2, 2]
    # Shepperd: pick the largest of 4w^2, 4x^2, 4y^2, 4z^2 for the square root.
    tr = m00 + m11 + m22
    cands = torch.stack([1 + tr, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1)
    best = cands.argmax(-1, keepdim=True)
    s = cands.gather(-1, best).clamp_min(1e-12).sqrt()  # 2 * |component|
    d21, d02, d10 = r[..., 2, 1] - r[..., 1, 2], r[..., 0, 2] - r[..., 2, 0], r[..., 1, 0] - r[..., 0, 1]
    s01, s02, s12 = r[..., 0, 1] + r[..., 1, 0], r[..., 0, 2] + r[..., 2, 0], r[..., 1, 2] + r[..., 2, 1]
    s = s[..., 0]
    q_w = torch.stack([s / 2, d21 / (2 * s), d02 / (2 * s), d10 / (2 * s)], -1)
    q_x = torch.stack([d21 / (2 * s), s / 2, s01 / (2 * s), s02 / (2 * s)], -1)
    q_y = torch.stack([d02 / (2 * s), s01 / (2 * s), s / 2, s12 / (2 * s)], -1)
    q_z = torch.stack([d10 / (2 * s), s02 / (2 * s), s12 / (2 * s), s / 2], -1)
    q = torch.stack([q_w, q_x, q_y, q_z], -2).gather(-2, best[..., None].expand(best.shape[:-1] + (1, 4)))[..., 0, :]
    q = q * torch.where(q[..., :1] < 0, -1.0, 1.0).to(q.dtype)  # w >= 0: angle in [0, pi]
    q = q / q.norm(dim=-1, keepdim=True)
    w, xyz = q[..., 0], q[..., 1:]
    sin_half = xyz.norm(dim=-1)
    angle = 2 * torch.atan2(sin_half, w)
    scale = torch.where(sin_half < 1e-7, 2.0 / w.clamp_min(1e-7), angle / sin_half.clamp_min(1e-12))
    return xyz * scale[..., None]


# ---------------------------------------------------------------------------------------------
# The baseline and the features (torch, batched)


def bracket_torch(obs: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Nearest observed frame before/at and after/at each frame, along dim 1.

    obs: (B, T, n) bool. Returns prev, next (B, T, n) int64 (clamped into 0..T-1, a missing side
    takes the other), u (B, T, n) fraction of the way in [0, 1] (0 where a side is missing or at
    observed frames) and gap (B, T, n) frames between the two (0 where a side is missing)."""
    b, t, n = obs.shape
    idx = torch.arange(t, device=obs.device).view(1, t, 1).expand(b, t, n)
    prev = torch.where(obs, idx, torch.full_like(idx, -1)).cummax(dim=1).values
    nxt = torch.where(obs, idx, torch.full_like(idx, t)).flip(1).cummin(dim=1).values.flip(1)
    both = (prev >= 0) & (nxt < t)
    gap = torch.where(both, nxt - prev, torch.zeros_like(idx))
    u = torch.where(both & (gap > 0), (idx - prev).float() / gap.clamp_min(1).float(), torch.zeros(()))
    prev_c = torch.where(prev < 0, nxt, prev).clamp(0, t - 1)
    nxt_c = torch.where(nxt >= t, prev_c, nxt).clamp(0, t - 1)
    return prev_c, nxt_c, u, gap


def _raw_bracket(obs: Tensor) -> tuple[Tensor, Tensor]:
    """prev / next observed frame (B, T, n) int64, -1 / T where there is none."""
    b, t, n = obs.shape
    idx = torch.arange(t, device=obs.device).view(1, t, 1).expand(b, t, n)
    prev = torch.where(obs, idx, torch.full_like(idx, -1)).cummax(dim=1).values
    nxt = torch.where(obs, idx, torch.full_like(idx, t)).flip(1).cummin(dim=1).values.flip(1)
    return prev, nxt


def in_record(obs: Tensor) -> Tensor:
    """(B, T, n) bool: unobserved frames whose gap lies inside a recording -- both bracketing
    observations have an observed neighbour outside the gap (a tracker's dropout between SOURCE
    frames), unlike a gap between sparse keys."""
    b, t, n = obs.shape
    prev, nxt = _raw_bracket(obs)
    ok = (prev >= 1) & (nxt <= t - 2) & ~obs
    before = obs.gather(1, (prev - 1).clamp(0, t - 1))
    after = obs.gather(1, (nxt + 1).clamp(0, t - 1))
    return ok & before & after


def _gather_t(x: Tensor, i: Tensor) -> Tensor:
    """x (B, T, n, ...) at frames i (B, T', n) -> (B, T', n, ...)."""
    extra = x.shape[3:]
    return x.gather(1, i.reshape(i.shape + (1,) * len(extra)).expand(i.shape + extra))


def hermite_hint(rot: Tensor, obs: Tensor) -> Tensor:
    """Where a monotone cubic (PCHIP, Fritsch-Carlson) through each joint's observations would
    put the joint: (B, T, n, 3, 3). A classical shape cue for the refiner's condition.

    Each gap [k0, k1] is interpolated in the tangent space at the pose K0 (rotation vectors of
    K1 and of the neighbouring observations k_-1, k_2 relative to K0) by a cubic Hermite curve
    whose end slopes come from the neighbouring secants (zero where the motion turns, one-sided
    at the ends). Observed frames and frames outside the first / last observation are returned
    as given."""
    b, t, n = obs.shape
    prev, nxt = _raw_bracket(obs)
    inside = (prev >= 0) & (nxt < t) & ~obs
    k0, k1 = prev.clamp(0, t - 1), nxt.clamp(0, t - 1)
    kp = prev.gather(1, (k0 - 1).clamp(0, t - 1))
    kn = nxt.gather(1, (k1 + 1).clamp(0, t - 1))
    has_p = (k0 > 0) & (kp >= 0) & (kp < k0)
    has_n = (k1 < t - 1) & (kn < t) & (kn > k1)
    kp, kn = torch.where(has_p, kp, k0).clamp(0, t - 1), torch.where(has_n, kn, k1).clamp(0, t - 1)
    r0, r1 = _gather_t(rot, k0), _gather_t(rot, k1)
    rp, rn = _gather_t(rot, kp), _gather_t(rot, kn)
    r0t = r0.transpose(-1, -2)
    a1, ap, an = so3_log(r0t @ r1), so3_log(r0t @ rp), so3_log(r0t @ rn)
    f = lambda x: x.to(rot.dtype)[..., None]  # noqa: E731
    h0 = f((k1 - k0).clamp_min(1))
    hp = f((k0 - kp).clamp_min(1))
    hn = f((kn - k1).clamp_min(1))
    s0 = a1 / h0
    sp = -ap / hp
    sn = (an - a1) / hn

    def slope(d_a: Tensor, d_b: Tensor, h_a: Tensor, h_b: Tensor, ok: Tensor) -> Tensor:
        # Fritsch-Carlson weighted harmonic mean at the knot between secants d_a (interval
        # h_a, before) and d_b (h_b, after); 0 where they disagree in sign.
        w1, w2 = 2 * h_b + h_a, h_b + 2 * h_a
        same = (d_a * d_b) > 0
        safe_a = torch.where(same, d_a, torch.ones_like(d_a))
        safe_b = torch.where(same, d_b, torch.ones_like(d_b))
        hm = (w1 + w2) / (w1 / safe_a + w2 / safe_b)
        return torch.where(ok[..., None], torch.where(same, hm, torch.zeros_like(hm)), s0)

    d0 = slope(sp, s0, hp, h0, has_p)
    d1 = slope(s0, sn, h0, hn, has_n)
    _, _, u, _ = bracket_torch(obs)
    u = f(u)
    u2, u3 = u * u, u * u * u
    p = (u3 - 2 * u2 + u) * h0 * d0 + (-2 * u3 + 3 * u2) * a1 + (u3 - u2) * h0 * d1
    herm = r0 @ so3_exp(p)
    return torch.where(inside[..., None, None], herm, rot)


def smoothstep_t(u: Tensor) -> Tensor:
    return u * u * (3.0 - 2.0 * u)


def geodesic_fill(rot: Tensor, obs: Tensor, eased: bool = True) -> Tensor:
    """SLERP (``eased``: with smoothstep timing) of each joint between its nearest observations.

    rot: (B, T, n, 3, 3); obs: (B, T, n) bool. Observed entries are returned as given; frames
    before the first / after the last observation hold it. Equals
    ``core.kinematics.slerp.slerp_fill`` (geodesic interpolation is SLERP). (B, T, n, 3, 3)."""
    prev, nxt, u, _ = bracket_torch(obs)
    if eased:
        u = smoothstep_t(u)
    gather = lambda i: rot.gather(1, i[..., None, None].expand(i.shape + (3, 3)))  # noqa: E731
    r0, r1 = gather(prev), gather(nxt)
    rel = so3_log(r0.transpose(-1, -2) @ r1)
    out = r0 @ so3_exp(u[..., None].to(rot.dtype) * rel)
    return torch.where(obs[..., None, None], rot, out)


def refiner_condition(base: Tensor, obs: Tensor) -> Tensor:
    """The baseline path's shape, the refiner's only view of the motion (no absolute pose).

    base: (B, T, n, 3, 3) baseline rotations (observed frames included); obs: (B, T, n) bool.
    Returns (B, 6n + 2, T):
    - angular velocity log(B_t^-1 B_t+1) per joint (x VEL_SCALE; 0 on the last frame);
    - the monotone-cubic hint log(B^-1 H) per joint (``hermite_hint``, x HINT_SCALE): how a
      smooth curve through the neighbouring observations would bend the path;
    - the mean phase u in the gap and the mean gap length / GAP_SCALE over the stream's joints
      (0 at observed frames)."""
    b, t, n = obs.shape
    vel = so3_log(base[:, :-1].transpose(-1, -2) @ base[:, 1:]) * VEL_SCALE  # (B, T-1, n, 3)
    vel = torch.cat([vel, torch.zeros_like(vel[:, :1])], dim=1)
    hint = so3_log(base.transpose(-1, -2) @ hermite_hint(base, obs)) * HINT_SCALE
    _, _, u, gap = bracket_torch(obs)
    inside = (~obs).float()
    phase = (u * inside).mean(-1)
    length = (gap.float() * inside).mean(-1) / GAP_SCALE
    feats = torch.cat(
        [vel.reshape(b, t, 3 * n), hint.reshape(b, t, 3 * n), phase[..., None], length[..., None]], dim=-1
    )
    return feats.transpose(1, 2).contiguous().to(base.dtype)


def joint_channels(x: Tensor, per_joint: int) -> Tensor:
    """(B, T, n) -> (B, n * per_joint, T): a per-joint value on each of its channels (joint-major)."""
    b, t, n = x.shape
    return x[..., None].expand(b, t, n, per_joint).reshape(b, t, n * per_joint).transpose(1, 2)


def state_mask(spec: RefinerSpec, obs: Tensor) -> Tensor:
    """Observed frames (B, T, n) bool -> the flow state's key mask (B, C, T)."""
    mask = joint_channels(obs, 3)
    return torch.cat([obs.transpose(1, 2), mask], dim=1) if spec.timing else mask


def key_geodesics(base: Tensor, obs: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Each joint's geodesic from its observation before to its observation after each frame.

    base: (B, T, n, 3, 3) with the observed frames exact; obs: (B, T, n) bool. Returns the
    start pose A (B, T, n, 3, 3), the rotation vector w from A to the end pose in A's frame
    (B, T, n, 3), the linear phase u and the gap length (B, T, n); w = 0 at observed frames and
    outside the first / last observation. The eased baseline is ``A exp(smoothstep(u) w)``."""
    prev, nxt, u, gap = bracket_torch(obs)
    a = _gather_t(base, prev)
    w = so3_log(a.transpose(-1, -2) @ _gather_t(base, nxt))
    return a, w, u, gap


# A joint turning less than this between its keys has no usable phase (its projection onto the
# geodesic is noise): its phase target is the eased one, the residual carries the motion.
MIN_PHASE_ANGLE = 0.02  # radians


def timing_projection(base: Tensor, obs: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Each joint of ``target`` (B, T, n, 3, 3) projected onto its key-to-key geodesic: the
    phase offset over the eased phase (B, T, n) and the baseline so retimed (B, T, n, 3, 3) --
    the best any timing-only correction can do (``core.ml.kf2p.eval`` reports it)."""
    a, w, u, _ = key_geodesics(base, obs)
    eased = smoothstep_t(u)
    den = (w * w).sum(-1)
    proj = (so3_log(a.transpose(-1, -2) @ target) * w).sum(-1) / den.clamp_min(1e-12)
    shift = torch.where((den > MIN_PHASE_ANGLE**2) & ~obs, proj.clamp(0.0, 1.0) - eased, torch.zeros_like(eased))
    return shift, _retimed(base, w, shift)


def timing_targets(base: Tensor, obs: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """What a timing refiner should output to reach ``target`` (B, T, n, 3, 3): the phase
    offsets of ``timing_projection`` (B, n, T) and the target's residual over the path so
    retimed (B, 3n, T)."""
    shift, path = timing_projection(base, obs, target)
    return shift.transpose(1, 2), residual(path, target)


def _retimed(base: Tensor, w: Tensor, shift: Tensor) -> Tensor:
    """The eased baseline moved by ``shift`` (B, T, n) of each joint's key-to-key rotation w
    along it: ``A exp((e + shift) w) = base exp(shift w)`` (one axis), exactly the baseline where
    the shift is 0 and at observed frames (w = 0)."""
    return base @ so3_exp(shift[..., None].to(base.dtype) * w)


def refined(
    base: Tensor, obs: Tensor, x: Tensor, spec: RefinerSpec, k: Tensor | float, k_geometry: Tensor | float | None = None
) -> Tensor:
    """The refiner's rotations (B, T, n, 3, 3) from its flow state x (B, C, T) (radians /
    phase in units of ``spec.res_scale`` / ``spec.phase_scale``) at strengths k (per frame and
    joint (B, T, n), or one number).

    Residual model: ``base exp(k r)``. Timing model: each joint moves along its key-to-key
    geodesic at the eased phase + k * offset (clamped to the gap), which keeps SLERP's path and
    changes only when the joint travels it; then ``exp(k_geometry r)`` bends it off the path."""

    def per_frame(v: Tensor | float) -> Tensor:
        return v if torch.is_tensor(v) else torch.full(obs.shape, float(v), dtype=x.dtype, device=x.device)

    k = per_frame(k)
    if not spec.timing:
        return apply_residual(base, x * joint_channels(k, 3) * spec.res_scale)
    n = spec.n_joints
    _, w, u, _ = key_geodesics(base, obs)
    eased = smoothstep_t(u)
    shift = (eased + k * x[:, :n].transpose(1, 2) * spec.phase_scale).clamp(0.0, 1.0) - eased
    kg = per_frame(k if k_geometry is None else k_geometry)
    return apply_residual(_retimed(base, w, shift), x[:, n:] * joint_channels(kg, 3) * spec.res_scale)


def residual(base: Tensor, target: Tensor) -> Tensor:
    """log(B^-1 G): (B, T, n, 3, 3) x2 -> (B, 3n, T) channel-first residual (radians)."""
    r = so3_log(base.transpose(-1, -2) @ target)
    b, t, n, _ = r.shape
    return r.reshape(b, t, 3 * n).transpose(1, 2)


def apply_residual(base: Tensor, res: Tensor) -> Tensor:
    """B exp(r): base (B, T, n, 3, 3), res (B, 3n, T) radians -> (B, T, n, 3, 3)."""
    b, t, n = base.shape[:3]
    r = res.transpose(1, 2).reshape(b, t, n, 3)
    return base @ so3_exp(r.to(base.dtype))


# ---------------------------------------------------------------------------------------------
# The network


@dataclass(frozen=True)
class RefinerSpec:
    """What a refiner checkpoint models and how its outputs are scaled.

    stream: "body" | "hand"; n_joints: joints of the stream (10 | 15);
    res_scale: residual radians per unit of the flow state (the training residuals' RMS);
    strength: default multiplier of the correction (chosen on validation data);
    strength_by_gap: ((gap frames, strength), ...) ascending; when given, a generated frame's
        correction is scaled by the strength interpolated at the length of its gap (chosen on
        validation data per key spacing), instead of ``strength``;
    fps: the frame rate it was trained at; window: training window (frames);
    timing: the state is [phase offsets (n) | residuals (3n)] (``refined``): each joint is first
        retimed along its own key-to-key geodesic, then corrected off it; False: residuals over
        the eased baseline only (3n);
    phase_scale: phase offset per unit of the flow state (the training offsets' RMS);
    geometry, geometry_by_gap: like ``strength`` / ``strength_by_gap``, for the off-geodesic
        residual of a timing model (``strength`` then scales the phase offsets);
    fallback_by_gap: ((gap frames, method), ...) ascending: frames in gaps whose nearest table
        entry names a classical method ("eased", "pchip", "spline"; ``core.ml.baselines``) get that
        method instead of the network (chosen on real signing: where the corrections did not beat
        the best classical method there, they are off); "" or no table: the network;
    record_fallback: the method for gaps in a recording (both bracketing observations have an
        observed neighbour outside the gap, e.g. a tracker's dropout), "" = as ``fallback_by_gap``.
    """

    stream: str
    n_joints: int
    res_scale: float = 0.1
    strength: float = 1.0
    fps: float = 25.0
    window: int = 96
    strength_by_gap: tuple[tuple[int, float], ...] = ()
    timing: bool = False
    phase_scale: float = 0.1
    geometry: float = 1.0
    geometry_by_gap: tuple[tuple[int, float], ...] = ()
    fallback_by_gap: tuple[tuple[int, str], ...] = ()
    record_fallback: str = ""

    def __post_init__(self) -> None:  # JSON gives lists
        for name in ("strength_by_gap", "geometry_by_gap"):
            object.__setattr__(self, name, tuple((int(g), float(k)) for g, k in getattr(self, name)))
        object.__setattr__(self, "fallback_by_gap", tuple((int(g), str(m)) for g, m in self.fallback_by_gap))
        for _, m in self.fallback_by_gap + ((0, self.record_fallback),):
            if m not in FALLBACKS:
                raise ValueError(f"unknown fallback method {m!r} (one of {', '.join(FALLBACKS)})")

    def fallback_at(self, gap: Tensor) -> Tensor:
        """Index into ``FALLBACKS`` (0 = the network) for frames in gaps of ``gap`` frames (any
        shape): the method of the nearest ``fallback_by_gap`` entry."""
        if not self.fallback_by_gap:
            return torch.zeros(gap.shape, dtype=torch.long, device=gap.device)
        g = torch.tensor([float(a) for a, _ in self.fallback_by_gap], dtype=torch.float32, device=gap.device)
        m = torch.tensor([FALLBACKS.index(b) for _, b in self.fallback_by_gap], device=gap.device)
        nearest = (gap.float()[..., None] - g).abs().argmin(-1)
        return m[nearest]

    def strength_at(self, gap: Tensor) -> Tensor:
        """Correction strength for frames in gaps of ``gap`` frames (any shape, float); a
        timing model's phase strength."""
        return _table_at(self.strength_by_gap, self.strength, gap)

    def geometry_at(self, gap: Tensor) -> Tensor:
        """A timing model's strength of the off-geodesic residual, like ``strength_at``."""
        return _table_at(self.geometry_by_gap, self.geometry, gap)

    @property
    def channels(self) -> int:
        return (4 if self.timing else 3) * self.n_joints

    @property
    def cond_channels(self) -> int:
        return 6 * self.n_joints + N_PHASE

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for name in ("strength_by_gap", "geometry_by_gap", "fallback_by_gap"):
            d[name] = [list(p) for p in getattr(self, name)]
        return d


def _table_at(table: tuple[tuple[int, float], ...], default: float, gap: Tensor) -> Tensor:
    """``table`` ((gap, value), ...) interpolated at ``gap`` (clamped to its ends); ``default``
    everywhere when the table is empty."""
    if not table:
        return torch.full_like(gap, default)
    g = torch.tensor([float(a) for a, _ in table], dtype=gap.dtype, device=gap.device)
    k = torch.tensor([b for _, b in table], dtype=gap.dtype, device=gap.device)
    if len(g) == 1:
        return torch.full_like(gap, float(k[0]))
    x = gap.clamp(float(g[0]), float(g[-1]))
    i = torch.searchsorted(g, x.contiguous()).clamp(1, len(g) - 1)
    g0, g1, k0, k1 = g[i - 1], g[i], k[i - 1], k[i]
    return k0 + (k1 - k0) * (x - g0) / (g1 - g0)


class RefinerNet(nn.Module):
    """KF2P network (``KF2PNet``) over residuals, with the baseline-shape condition added to its
    network input: ``unet(cat[x', mask, y_mask] + cond_in(cond), emb)``.

    Zero-initialised like the official network, so a fresh refiner predicts velocity 0 and the
    sampler returns x0 (= 0 by default): the baseline exactly."""

    def __init__(self, cfg: UNetConfig, spec: RefinerSpec, zero_init: bool = True) -> None:
        super().__init__()
        if cfg.channels != spec.channels:
            raise ValueError(f"config has {cfg.channels} channels, spec needs {spec.channels}")
        self.cfg, self.spec = cfg, spec
        self.net = KF2PNet(cfg, zero_init=zero_init)
        self.cond_in = nn.Conv1d(spec.cond_channels, 3 * cfg.channels, 1)
        # A direct linear path from the condition to the velocity (zero-initialised like the
        # network's output): the cubic hint is usable after a few hundred steps, where the deep
        # path alone needed thousands (measured); the U-Net learns the rest.
        self.cond_out = nn.Conv1d(spec.cond_channels, cfg.channels, 5, padding=2)
        if zero_init:
            nn.init.zeros_(self.cond_out.weight)
            nn.init.zeros_(self.cond_out.bias)

    def forward(
        self,
        x_t: Tensor,
        t: Tensor | float,
        obs_x0: Tensor,
        obs_mask: Tensor,
        y_mask: Tensor,
        cond: Tensor,
        text_emb: Tensor | None = None,
        uncond: bool = False,
    ) -> Tensor:
        """x_t, obs_x0: (B, C, T) (C = ``spec.channels``: 4n timing, 3n residual); obs_mask
        (B, C, T) bool; y_mask (B, 1, T) bool; cond (B, 6n+2, T); text_emb (B, 640) or None.
        Returns the velocity (B, C, T)."""
        b = x_t.shape[0]
        t = torch.as_tensor(t, dtype=torch.float32, device=x_t.device)
        if t.ndim == 0:
            t = t.expand(b)
        emb = self.net.condition(t, text_emb, uncond)
        h = KF2PNet.network_input(x_t, obs_x0, obs_mask, y_mask) + self.cond_in(cond)
        return self.net.unet(h, emb) + self.cond_out(cond)

    @classmethod
    def create(cls, stream: str, preset: str = REFINER_PRESET, **spec_kw: Any) -> RefinerNet:
        n = 10 if stream == "body" else 15
        spec = RefinerSpec(stream=stream, n_joints=n, **spec_kw)
        return cls(UNetConfig.preset(preset, spec.channels), spec)

    def n_parameters(self) -> int:
        return count_parameters(self)


# ---------------------------------------------------------------------------------------------
# Checkpoints (``torch.load(weights_only=True)``; config and meta as JSON strings)


def save_refiner(
    path: str | os.PathLike[str], model: RefinerNet, meta: Mapping[str, Any] | None = None, half: bool = False
) -> Path:
    """Write ``model`` atomically. ``half`` stores float16 tensors (loaded back as float32)."""
    path = Path(path)
    sd = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    if half:
        sd = {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": json.dumps(model.cfg.to_dict(), sort_keys=True),
        "spec": json.dumps(model.spec.to_dict(), sort_keys=True),
        "meta": json.dumps(dict(meta or {}), sort_keys=True),
        "state_dict": sd,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class LoadedRefiner:
    path: Path
    model: RefinerNet
    meta: dict[str, Any] = field(default_factory=dict)


def load_refiner(path: str | os.PathLike[str], map_location: Any = "cpu") -> LoadedRefiner:
    """Load a checkpoint written by ``save_refiner`` (eval mode). Raises RefinerCheckpointError."""
    from .checkpoint import read_envelope

    path = Path(path)
    obj = read_envelope(
        path, FORMAT, VERSION, "Signframe KF2P refiner", RefinerCheckpointError, map_location, version_what="refiner "
    )
    try:
        cfg = UNetConfig.from_dict(json.loads(obj["config"]))
        spec = RefinerSpec(**json.loads(obj["spec"]))
        meta = json.loads(obj.get("meta", "{}"))
        sd = {k: v.float() if v.is_floating_point() else v for k, v in obj["state_dict"].items()}
        model = RefinerNet(cfg, spec, zero_init=False)
        model.load_state_dict(sd, strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise RefinerCheckpointError(f"{path}: bad refiner checkpoint ({first[:200]})") from e
    device = map_location if isinstance(map_location, (str, torch.device)) else "cpu"
    return LoadedRefiner(path, model.to(device).eval(), meta)


def default_res_scale(res: np.ndarray) -> float:
    """RMS of training residuals (radians), floored so a near-SLERP corpus cannot blow it up."""
    return float(max(math.sqrt(float(np.mean(np.square(res)))), 1e-3))


# ---------------------------------------------------------------------------------------------
# Text without downloaded weights


class HashedTextEncoder:
    """``"<LANG> text"`` -> (B, 640): a fixed random projection of hashed character 1-3-grams.

    Needs no downloaded weights and no vocabulary: each n-gram's vector is drawn from a generator
    seeded by its CRC32, so the embedding is stable across machines and versions. The network's
    ``embed_text`` layer learns what to take from it. Empty text gives the null (zero) embedding.
    """

    dim = 640

    def __init__(self, ngrams: tuple[int, ...] = (1, 2, 3), scale: float = 4.0) -> None:
        self.ngrams, self.scale = ngrams, scale
        self._cache: dict[str, np.ndarray] = {}

    def _vec(self, gram: str) -> np.ndarray:
        v = self._cache.get(gram)
        if v is None:
            import zlib

            v = np.random.default_rng(zlib.crc32(gram.encode("utf-8"))).standard_normal(self.dim)
            if len(self._cache) < 100_000:
                self._cache[gram] = v
        return v

    def embed(self, text: str, language: str | None = None) -> np.ndarray:
        """(640,) float32; zeros for an empty prompt."""
        prompt = (f"<{language}> " if language else "") + (text or "")
        prompt = " ".join(prompt.lower().split())
        if not prompt:
            return np.zeros(self.dim, np.float32)
        padded = f"^{prompt}$"
        acc = np.zeros(self.dim)
        for n in self.ngrams:
            for i in range(max(0, len(padded) - n + 1)):
                acc += self._vec(padded[i : i + n])
        norm = np.linalg.norm(acc)
        return (acc / norm * self.scale).astype(np.float32) if norm > 0 else acc.astype(np.float32)

    def __call__(self, texts, languages=None, device: str | None = None) -> Tensor:
        langs = list(languages) if languages is not None else [None] * len(texts)
        out = torch.from_numpy(np.stack([self.embed(t, l) for t, l in zip(texts, langs, strict=True)]))
        return out if device is None else out.to(device)


# ---------------------------------------------------------------------------------------------
# Stream skeletons for joint-position losses and metrics


def stream_points(stream: str):
    """The skeleton a stream's joint-position terms are measured on, and its points.

    body: our joints 0..21 with the torso (0..11) held at identity; points = joints 12..21 plus a
        point on each hand (the wrist's end site at the middle knuckle, so the wrist rotation
        counts) -- the arm chain relative to the torso. Weights: hand points and wrists 4,
        elbows 2, the rest 1.
    hand: the right wrist as root (at the origin, identity) + its 15 joints; points = the 15
        joints + 5 fingertips -- the hand's own shape. Weights: tips 3, distal joints 2, rest 1.
    Returns a dict: ``skeleton``, ``points`` (P,) skeleton joint of each point, ``is_tip`` (P,)
    (the point is that joint's end site, ``tips`` (J, 3) holds the offsets), ``weights`` (P,),
    ``depends`` (P, n) bool: the stream joints whose rotations move the point, ``n_fixed``
    (skeleton joints before the stream's, held at identity)."""
    from ..model.skeleton import BODY_NAMES, BODY_PARENTS, JOINT_NAMES, PARENTS, Skeleton
    from ..model.template import TEMPLATE

    if stream == "body":
        tips = np.array(TEMPLATE.tips[:22])
        for w, knuckle in ((20, "left_middle1"), (21, "right_middle1")):
            tips[w] = TEMPLATE.offsets[JOINT_NAMES.index(knuckle)]
        sk = Skeleton(tuple(BODY_NAMES), tuple(BODY_PARENTS), np.array(TEMPLATE.offsets[:22]), tips)
        pts = np.concatenate([np.arange(12, 22), [20, 21]])
        is_tip = np.concatenate([np.zeros(10, bool), [True, True]])
        w = np.ones(12)
        w[[6, 7]] = 2.0  # elbows
        w[[8, 9, 10, 11]] = 4.0  # wrists, hands
        n_fixed = 12
    elif stream == "hand":
        hand = list(range(RIGHT_HAND.start, RIGHT_HAND.stop))
        wrist = JOINT_NAMES.index("right_wrist")
        names = (JOINT_NAMES[wrist],) + tuple(JOINT_NAMES[j] for j in hand)
        remap = {wrist: 0, **{j: i + 1 for i, j in enumerate(hand)}}
        parents = (-1,) + tuple(remap[PARENTS[j]] for j in hand)
        offsets = np.concatenate([np.zeros((1, 3)), np.array(TEMPLATE.offsets[hand])])
        tips = np.concatenate([np.zeros((1, 3)), np.array(TEMPLATE.tips[hand])])
        sk = Skeleton(names, parents, offsets, tips)
        distal = np.array([i + 1 for i in range(15) if i % 3 == 2])  # index3, middle3, ... thumb3
        pts = np.concatenate([np.arange(1, 16), distal])
        is_tip = np.concatenate([np.zeros(15, bool), np.ones(5, bool)])
        w = np.ones(20)
        w[distal - 1] = 2.0
        w[15:] = 3.0
        n_fixed = 1
    else:
        raise ValueError(f"unknown stream {stream!r}")
    n = sk.n_joints - n_fixed
    depends = np.zeros((len(pts), n), bool)
    for i, (j, tip) in enumerate(zip(pts, is_tip)):
        k = int(j) if tip else sk.parents[int(j)]
        while k >= n_fixed:
            depends[i, k - n_fixed] = True
            k = sk.parents[k]
    moving = depends.any(axis=1)  # points no stream joint moves (the neck, the knuckles) never err
    return {
        "skeleton": sk,
        "points": pts[moving],
        "is_tip": is_tip[moving],
        "weights": w[moving],
        "depends": depends[moving],
        "n_fixed": n_fixed,
    }

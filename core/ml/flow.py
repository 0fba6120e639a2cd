"""Rectified-flow path and KF2P training losses (official ``RFlow.training_losses_poses``).

Shapes: x1 (B, J, T) clean poses, x0 (B, J, T) noise, t (B,) in [0, 1], keyframe mask
(B, J, T) bool, y_mask (B, 1, T) bool (valid frames). Time runs from noise (t=0) to data (t=1).

Path: ``x_t = where(kf, x1, t x1 + (1 - t) x0)``; target ``v* = where(kf, 0, x1 - x0)``;
one-step estimate ``x1_hat = x_t + (1 - t) v``. Unlike the official function (which fails when
given ``x_0``), ``training_losses`` takes the noise explicitly, so runs are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "LossWeights",
    "VelocityModel",
    "sample_t",
    "interpolate",
    "target_velocity",
    "estimate_x1",
    "flow_losses",
    "training_losses",
    "drop_text",
    "drop_keyframes",
]

# v = model(x_t, t) with conditioning bound in (keys, text, masks).
VelocityModel = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class LossWeights:
    """Official lambda_flow / recon / vel / acc."""

    flow: float = 0.5
    recon: float = 1.0
    vel: float = 0.5
    acc: float = 0.1


def sample_t(
    batch: int, eps: float = 1e-3, generator: torch.Generator | None = None, device: torch.device | str | None = None
) -> Tensor:
    """Per-sample t ~ U(eps, 1) (official: U(0,1) * (1 - eps) + eps). (B,)"""
    return torch.rand(batch, generator=generator, device=device) * (1 - eps) + eps


def _bcast(t: Tensor, like: Tensor) -> Tensor:
    """(B,) -> (B, 1, 1) for (B, J, T) arithmetic."""
    return t.to(like.dtype).reshape(-1, *([1] * (like.ndim - 1)))


def interpolate(x1: Tensor, x0: Tensor, t: Tensor, keyframe_mask: Tensor | None = None) -> Tensor:
    """x_t = t x1 + (1 - t) x0, with the clean value kept at keyframes."""
    tt = _bcast(t, x1)
    xt = tt * x1 + (1 - tt) * x0
    return xt if keyframe_mask is None else torch.where(keyframe_mask, x1, xt)


def target_velocity(x1: Tensor, x0: Tensor, keyframe_mask: Tensor | None = None) -> Tensor:
    """v* = x1 - x0, zero at keyframes (they do not move)."""
    v = x1 - x0
    return v if keyframe_mask is None else torch.where(keyframe_mask, torch.zeros_like(v), v)


def estimate_x1(x_t: Tensor, v: Tensor, t: Tensor) -> Tensor:
    """One Euler step from t to 1: x1_hat = x_t + (1 - t) v."""
    return x_t + (1 - _bcast(t, x_t)) * v


def flow_losses(
    v: Tensor,
    x1: Tensor,
    x0: Tensor,
    t: Tensor,
    y_mask: Tensor,
    keyframe_mask: Tensor | None = None,
    weights: LossWeights = LossWeights(),
) -> dict[str, Tensor]:
    """Per-sample losses (each (B,)) for a predicted velocity ``v`` at ``x_t(x1, x0, t)``.

    Masked means over valid frames (``y_mask``) and all J channels; keyframe frames are included
    in every term (official). Keys: ``flow``, ``recon``, ``vel``, ``acc``, ``loss`` (weighted sum).
    Average ``loss`` over the batch for the training objective.
    """
    x_t = interpolate(x1, x0, t, keyframe_mask)
    target = target_velocity(x1, x0, keyframe_mask)
    x1_hat = estimate_x1(x_t, v, t)
    m = y_mask.to(x1.dtype)  # (B, 1, T)
    j = x1.shape[1]

    def masked_mean(err: Tensor, mask: Tensor) -> Tensor:
        return (err * mask).sum(dim=(1, 2)) / (j * mask.sum(dim=(1, 2)))

    d1 = x1[..., 1:] - x1[..., :-1]
    d1_hat = x1_hat[..., 1:] - x1_hat[..., :-1]
    d2 = d1[..., 1:] - d1[..., :-1]
    d2_hat = d1_hat[..., 1:] - d1_hat[..., :-1]
    out = {
        "flow": masked_mean((target - v) ** 2, m),
        "recon": masked_mean((x1 - x1_hat) ** 2, m),
        "vel": masked_mean((d1 - d1_hat) ** 2, m[..., 1:]),
        "acc": masked_mean((d2 - d2_hat) ** 2, m[..., 2:]),
    }
    out["loss"] = (
        weights.flow * out["flow"] + weights.recon * out["recon"] + weights.vel * out["vel"] + weights.acc * out["acc"]
    )
    return out


def training_losses(
    model: VelocityModel,
    x1: Tensor,
    t: Tensor,
    x0: Tensor,
    y_mask: Tensor,
    keyframe_mask: Tensor | None = None,
    weights: LossWeights = LossWeights(),
) -> dict[str, Tensor]:
    """Build x_t, query ``model(x_t, t)`` and return ``flow_losses`` (per sample, (B,) each).

    ``model`` must see the same keyframes (typically ``obs_x0 = x1``, ``obs_mask =
    keyframe_mask``) bound in, e.g. ``lambda x, t: net(x, t, x1, kf, y_mask, text)``.
    """
    x_t = interpolate(x1, x0, t, keyframe_mask)
    v = model(x_t, t)
    return flow_losses(v, x1, x0, t, y_mask, keyframe_mask, weights)


def _keep(batch: int, p: float, generator: torch.Generator | None, device: torch.device) -> Tensor:
    """(B,) bool, each True with probability 1 - p."""
    return torch.rand(batch, generator=generator, device=device) >= p


def drop_text(text_emb: Tensor, p: float = 0.1, generator: torch.Generator | None = None) -> Tensor:
    """Classifier-free dropout of the text: each sample's (640,) embedding zeroed with prob p
    (official ``mask_cond``: the null text is the zero embedding). (B, 640) -> (B, 640)."""
    keep = _keep(text_emb.shape[0], p, generator, text_emb.device)
    return text_emb * keep.to(text_emb.dtype)[:, None]


def drop_keyframes(keyframe_mask: Tensor, p: float = 0.1, generator: torch.Generator | None = None) -> Tensor:
    """Classifier-free dropout of the keys: each sample's whole mask cleared with prob p.
    (B, J, T) bool -> (B, J, T) bool."""
    keep = _keep(keyframe_mask.shape[0], p, generator, keyframe_mask.device)
    return keyframe_mask & keep.reshape(-1, *([1] * (keyframe_mask.ndim - 1)))

"""ODE samplers for KF2P over any velocity callable, classifier-free guidance, cancellation.

A velocity is ``v(x, t) -> (B, J, T)`` with x (B, J, T) and t a (B,) float32 tensor; bind the
keys, masks and text in the callable (``model_velocity`` / ``cfg_velocity``). Integration runs
from noise at t=0 to poses at t=1.

``euler_official`` and ``heun_official`` reproduce the official samplers bit-for-bit in
structure (docs/official-checkpoints.md): Euler imposes the keys only on the network input (the ODE
state is never overwritten, so keyframes drift by ``sum dt v_kf``), Heun overwrites the state
before each step. ``hit_keys=True`` (the editor variants ``euler`` and ``heun``) additionally
writes the keys into the result so they are hit exactly.

Every sampler calls ``cancel()`` before each network evaluation step and raises ``Cancelled``
when it returns True (``core.errors.Cancelled``); ``progress(done, total)`` is called after each step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from ..errors import Cancelled  # the one cancel error (core.errors), re-exported here

__all__ = [
    "Cancelled",
    "VelocityFn",
    "euler_grid",
    "heun_grid",
    "euler_official",
    "heun_official",
    "euler",
    "heun",
    "sample",
    "guided",
    "model_velocity",
    "cfg_velocity",
]

VelocityFn = Callable[[Tensor, Tensor], Tensor]
CancelFn = Callable[[], bool]
ProgressFn = Callable[[int, int], None]


def _check(cancel: CancelFn | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled()


def euler_grid(steps: int) -> Tensor:
    """torchdiffeq's fixed-step grid: float32(arange(N+1)) * float32(1/N), last point = 1.0
    (so 0.97999996, not 0.98, at N=50). (N+1,) float32."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    grid = torch.arange(steps + 1, dtype=torch.float32) * torch.tensor(1.0 / steps, dtype=torch.float32)
    grid[-1] = 1.0
    return grid


def heun_grid(steps: int) -> Tensor:
    """linspace(0, 1, N+1) in float32. (N+1,)"""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    return torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float32)


def _tvec(t: Tensor, x: Tensor) -> Tensor:
    return t.to(device=x.device).expand(x.shape[0])


@torch.no_grad()
def euler_official(
    velocity: VelocityFn,
    noise: Tensor,
    keyframe_mask: Tensor,
    x_embed: Tensor,
    steps: int,
    *,
    hit_keys: bool = False,
    cancel: CancelFn | None = None,
    progress: ProgressFn | None = None,
) -> Tensor:
    """Official Euler (torchdiffeq ``method="euler"``, step 1/N). NFE = N at t = 0, 1/N, ...

    noise, x_embed: (B, J, T); keyframe_mask: (B, J, T) bool. The start state is
    ``where(kf, x_embed, noise)``; the state is not re-masked between steps. Returns (B, J, T).
    """
    grid = euler_grid(steps).to(noise.device)
    x = torch.where(keyframe_mask, x_embed, noise)
    for i in range(steps):
        _check(cancel)
        v = velocity(x, _tvec(grid[i], x))
        x = x + (grid[i + 1] - grid[i]) * v
        if progress is not None:
            progress(i + 1, steps)
    return torch.where(keyframe_mask, x_embed, x) if hit_keys else x


@torch.no_grad()
def heun_official(
    velocity: VelocityFn,
    noise: Tensor,
    keyframe_mask: Tensor,
    x_embed: Tensor,
    steps: int,
    *,
    hit_keys: bool = False,
    cancel: CancelFn | None = None,
    progress: ProgressFn | None = None,
) -> Tensor:
    """Official Heun: N-1 Heun steps on linspace(0, 1, N+1), then one Euler step to 1.

    The state is set to the keys before every step (official); NFE = 2N - 1. Returns (B, J, T).
    """
    grid = heun_grid(steps).to(noise.device)
    x = torch.where(keyframe_mask, x_embed, noise)
    for i in range(steps - 1):
        _check(cancel)
        x = torch.where(keyframe_mask, x_embed, x)
        dt = grid[i + 1] - grid[i]
        v1 = velocity(x, _tvec(grid[i], x))
        x_pred = x + dt * v1
        _check(cancel)
        v2 = velocity(x_pred, _tvec(grid[i + 1], x))
        x = x + dt * (v1 + v2) / 2
        if progress is not None:
            progress(i + 1, steps)
    _check(cancel)
    x = torch.where(keyframe_mask, x_embed, x)
    x = x + (grid[steps] - grid[steps - 1]) * velocity(x, _tvec(grid[steps - 1], x))
    if progress is not None:
        progress(steps, steps)
    return torch.where(keyframe_mask, x_embed, x) if hit_keys else x


def euler(
    velocity: VelocityFn,
    noise: Tensor,
    keyframe_mask: Tensor,
    x_embed: Tensor,
    steps: int,
    *,
    cancel: CancelFn | None = None,
    progress: ProgressFn | None = None,
) -> Tensor:
    """Editor Euler: official Euler with the keys written into the result."""
    return euler_official(
        velocity, noise, keyframe_mask, x_embed, steps, hit_keys=True, cancel=cancel, progress=progress
    )


def heun(
    velocity: VelocityFn,
    noise: Tensor,
    keyframe_mask: Tensor,
    x_embed: Tensor,
    steps: int,
    *,
    cancel: CancelFn | None = None,
    progress: ProgressFn | None = None,
) -> Tensor:
    """Editor Heun: official Heun with the keys written into the result."""
    return heun_official(
        velocity, noise, keyframe_mask, x_embed, steps, hit_keys=True, cancel=cancel, progress=progress
    )


def sample(
    velocity: VelocityFn,
    noise: Tensor,
    keyframe_mask: Tensor,
    x_embed: Tensor,
    steps: int,
    method: Literal["euler", "heun"] = "euler",
    *,
    hit_keys: bool = True,
    cancel: CancelFn | None = None,
    progress: ProgressFn | None = None,
) -> Tensor:
    """Dispatch by name; the keys are hit exactly unless ``hit_keys=False``."""
    fn = {"euler": euler_official, "heun": heun_official}.get(method)
    if fn is None:
        raise ValueError(f"unknown sampler {method!r}; expected 'euler' or 'heun'")
    return fn(velocity, noise, keyframe_mask, x_embed, steps, hit_keys=hit_keys, cancel=cancel, progress=progress)


# ---------------------------------------------------------------------------------------------
# Guidance


def guided(v_cond: Tensor, v_uncond: Tensor, scale: float | Tensor) -> Tensor:
    """Classifier-free guidance: v_u + s (v_c - v_u). ``scale`` is a float or per-sample (B,)."""
    if isinstance(scale, Tensor) and scale.ndim == 1:
        scale = scale.to(v_cond.dtype).reshape(-1, *([1] * (v_cond.ndim - 1)))
    return v_uncond + scale * (v_cond - v_uncond)


def model_velocity(
    model: Callable[..., Tensor], obs_x0: Tensor, obs_mask: Tensor, y_mask: Tensor, text_emb: Tensor | None = None
) -> VelocityFn:
    """Bind a ``KF2PNet``'s conditioning: v(x, t) = model(x, t, obs_x0, obs_mask, y_mask, text)."""

    def v(x: Tensor, t: Tensor) -> Tensor:
        return model(x, t, obs_x0, obs_mask, y_mask, text_emb)

    return v


def cfg_velocity(
    model: Callable[..., Tensor],
    obs_x0: Tensor,
    obs_mask: Tensor,
    y_mask: Tensor,
    text_emb: Tensor | None,
    scale: float | Tensor,
    drop: Literal["text", "keys", "both"] = "text",
) -> VelocityFn:
    """A guided velocity: ``guided(v_cond, v_uncond, scale)``.

    ``drop`` says what the unconditional pass loses: ``"text"`` (official
    ``ClassifierFreeSampleModel``: null text, keys kept), ``"keys"`` (key guidance: empty
    keyframe mask, text kept) or ``"both"`` (the paper's f(t, null, null)). Two network
    evaluations per call; with scale == 1 the result is the conditional velocity.
    """
    if drop not in ("text", "keys", "both"):
        raise ValueError(f"drop must be 'text', 'keys' or 'both', got {drop!r}")
    no_keys = torch.zeros_like(obs_mask)
    u_mask = no_keys if drop in ("keys", "both") else obs_mask
    u_text_null = drop in ("text", "both")

    def v(x: Tensor, t: Tensor) -> Tensor:
        v_c = model(x, t, obs_x0, obs_mask, y_mask, text_emb)
        v_u = model(x, t, obs_x0, u_mask, y_mask, text_emb, uncond=u_text_null)
        return guided(v_c, v_u, scale)

    return v

"""KF2P network: the official SignSparK temporal U-Net, parameterised by size.

One module family serves three sizes (see ``PRESETS``): the released checkpoints
(``official-large``), the reference fixtures (``official-tiny``) and our CPU-sized ``small``
model. Module and parameter names equal the official ones (``KF2PNet.state_dict()`` keys are the
released keys minus ``text_enc_model.*``), so an official state dict loads with the identity map.

Shapes: ``B`` batch, ``J`` feature channels (hand 90, body 60, face 56), ``T`` frames (a multiple
of 8: three 2x down-samplings). Sequences are channel-first, ``(B, J, T)``.

Layout (docs/official-checkpoints.md)::

    c = unet.time_mlp(embed_timestep(t) + embed_text(text_emb))        (B, D)
    h = cat[where(mask, obs_x0, x_t), mask, y_mask]                     (B, 3J, T)
    downs: per level R ResBlocks, keep skip, Down (not on the last level)
    proj_in -> mid_blocks (transformer, RoPE self-attn, 1-token cross-attn, SwiGLU) -> proj_out
    ups: cat[h, skip] -> R ResBlocks -> Up
    final_conv: ConvBlock, 1x1 conv -> velocity (B, J, T)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "PRESETS",
    "UNetConfig",
    "KF2PNet",
    "TemporalUNet",
    "ResBlock",
    "BottleneckBlock",
    "zero_init_",
]

EPS = 1e-6


@dataclass(frozen=True)
class UNetConfig:
    """Sizes of a KF2P network. ``channels`` is J, the per-frame feature width of the stream."""

    channels: int
    latent_dim: int = 512  # time/text conditioning width (drives AdaLN and cross-attention)
    base_dim: int | None = None  # width of the first U-Net level; None = latent_dim (official)
    dim_mults: tuple[int, ...] = (1, 2, 4, 4)  # official: hard-coded (1, 2, 4, 4)
    bottleneck_dim: int = 1024
    n_mid_blocks: int = 8
    heads: int = 16
    head_dim: int = 64
    res_blocks: int = 3  # ResBlocks per level, both on the way down and up
    kernel_size: int = 5
    text_dim: int = 640  # M-CLIP embedding width
    time_mult: int = 4  # hidden width of the time MLPs = time_mult * latent_dim
    ff_mult: int = 4  # SwiGLU hidden width = ff_mult * bottleneck_dim
    rope_theta: float = 10000.0
    max_period: float = 10000.0  # time sinusoid

    def __post_init__(self) -> None:
        object.__setattr__(self, "dim_mults", tuple(int(m) for m in self.dim_mults))
        if self.channels <= 0 or self.latent_dim <= 0 or self.bottleneck_dim <= 0:
            raise ValueError(f"UNetConfig: sizes must be positive: {self}")
        if len(self.dim_mults) < 2:
            raise ValueError("UNetConfig: dim_mults needs at least two levels")
        if self.head_dim % 2:
            raise ValueError("UNetConfig: head_dim must be even (RoPE rotates pairs)")
        if self.latent_dim % 2:
            raise ValueError("UNetConfig: latent_dim must be even (sin/cos halves)")

    @property
    def width(self) -> int:
        return self.base_dim if self.base_dim is not None else self.latent_dim

    @property
    def level_dims(self) -> tuple[int, ...]:
        return tuple(self.width * m for m in self.dim_mults)

    @property
    def inner_dim(self) -> int:
        return self.heads * self.head_dim

    @property
    def time_multiple(self) -> int:
        """T must be a multiple of this (one 2x down-sampling per level but the last)."""
        return 2 ** (len(self.dim_mults) - 1)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["dim_mults"] = list(self.dim_mults)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UNetConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"UNetConfig: unknown fields {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def preset(cls, name: str, channels: int) -> UNetConfig:
        if name not in PRESETS:
            raise ValueError(f"unknown UNet preset {name!r}; known: {sorted(PRESETS)}")
        return cls(channels=channels, **PRESETS[name])


# Preset sizes; the stream width J is supplied separately: ``UNetConfig.preset(name, J)``.
PRESETS: dict[str, dict[str, Any]] = {
    # The released checkpoints: 834.8M parameters for the hand stream.
    "official-large": {},
    # The reference fixtures (*_tiny_random.pt).
    "official-tiny": dict(latent_dim=16, bottleneck_dim=32, n_mid_blocks=2, heads=2, head_dim=8),
    # Ours: interactive on a laptop CPU (4.0M parameters for J=90, ~13 ms per forward at
    # B=1, T=304 on 2 cores).
    "small": dict(
        latent_dim=64,
        dim_mults=(1, 2, 2, 2),
        bottleneck_dim=128,
        n_mid_blocks=2,
        heads=4,
        head_dim=32,
        res_blocks=2,
    ),
}


# ---------------------------------------------------------------------------------------------
# Building blocks


class RMSNorm(nn.Module):
    """``x / (||x||_2 * C^-1/2 + 1e-6) * scale`` over the last axis (eps outside the root)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        rms = x.norm(dim=-1, keepdim=True) * self.dim**-0.5
        return x / (rms + EPS) * self.scale


class ChannelRMSNorm(nn.Module):
    """RMSNorm over the channels of a (B, C, T) tensor. Wrapped so the official name
    ``<...>.norm.norm.scale`` is kept."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = RMSNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class ConvBlock(nn.Module):
    """Conv1d(k, same padding) -> RMSNorm over channels -> Mish. (B, ci, T) -> (B, co, T)."""

    def __init__(self, ci: int, co: int, kernel_size: int = 5) -> None:
        super().__init__()
        self.conv = nn.Conv1d(ci, co, kernel_size, padding=kernel_size // 2)
        self.norm = ChannelRMSNorm(co)

    def forward(self, x: Tensor) -> Tensor:
        return F.mish(self.norm(self.conv(x)))


class AdaLN(nn.Module):
    """Adaptive RMSNorm with a tanh gate: ``tanh(gate) * (norm(x) * (1 + scale) + shift)``.

    The caller adds the result to ``x``. ``proj`` is zero-initialised (official), so a fresh
    AdaLN outputs 0. ``x`` is (B, T, C) or, with ``channel_first``, (B, C, T); ``c`` is (B, D).
    """

    def __init__(self, dim: int, cond_dim: int) -> None:
        super().__init__()
        self.norm = RMSNorm(dim)
        self.proj = nn.Linear(cond_dim, 3 * dim)

    def forward(self, x: Tensor, c: Tensor, channel_first: bool = False) -> Tensor:
        shift, scale, gate = self.proj(c).unsqueeze(1).chunk(3, dim=-1)  # (B, 1, C) each
        if channel_first:
            x = x.transpose(1, 2)
        out = torch.tanh(gate) * (self.norm(x) * (1 + scale) + shift)
        return out.transpose(1, 2) if channel_first else out


class ResBlock(nn.Module):
    """Two ConvBlocks, each followed by a residual AdaLN; 1x1 projection of the skip if ci != co."""

    def __init__(self, ci: int, co: int, cond_dim: int, kernel_size: int = 5) -> None:
        super().__init__()
        self.conv1 = ConvBlock(ci, co, kernel_size)
        self.conv2 = ConvBlock(co, co, kernel_size)
        self.ada1 = AdaLN(co, cond_dim)
        self.ada2 = AdaLN(co, cond_dim)
        # Absent (not Identity) when ci == co, as in the released key list.
        self.residual_proj = nn.Conv1d(ci, co, 1) if ci != co else None

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        r = x if self.residual_proj is None else self.residual_proj(x)
        h = self.conv1(x)
        h = h + self.ada1(h, c, channel_first=True)
        h = self.conv2(h)
        h = h + self.ada2(h, c, channel_first=True)
        return h + r


class Down(nn.Module):
    """Strided conv, T -> T/2."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, 3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class Up(nn.Module):
    """Transposed conv, T -> 2T."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose1d(dim, dim, 4, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class ProjIn(nn.Module):
    """1x1 conv into the bottleneck width, then RMSNorm over channels."""

    def __init__(self, ci: int, co: int) -> None:
        super().__init__()
        self.proj = nn.Conv1d(ci, co, 1)
        self.norm = ChannelRMSNorm(co)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.proj(x))


def rope_cos_sin(n: int, head_dim: int, theta: float, device: torch.device) -> tuple[Tensor, Tensor]:
    """cos/sin of ``pos * theta^(-2i/head_dim)`` for positions 0..n-1, each (n, head_dim/2)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=device).float() / head_dim))
    ang = torch.outer(torch.arange(n, device=device, dtype=torch.float32), inv_freq)
    return ang.cos(), ang.sin()


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate interleaved pairs (x[2i], x[2i+1]) of x (..., T, d) by the angles in cos/sin."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
    return out.flatten(-2).to(x.dtype)


class BottleneckBlock(nn.Module):
    """Transformer block at the bottleneck, x (B, T, C), conditioning c (B, D).

    Self-attention with interleaved RoPE; cross-attention to the single token norm_ctx(c) (softmax
    over one key is 1, so it reduces to ``out_ca(v)`` and ``q_ca`` has no effect; it is kept so the
    official weights load); SwiGLU feed-forward. Each sub-layer is followed by ``x += AdaLN(x, c)``.
    """

    def __init__(self, dim: int, cond_dim: int, heads: int, head_dim: int, ff_mult: int = 4) -> None:
        super().__init__()
        inner = heads * head_dim
        self.heads, self.head_dim = heads, head_dim
        self.norm_sa = RMSNorm(dim)
        self.to_qkv = nn.Linear(dim, 3 * inner, bias=False)
        self.out_sa = nn.Linear(inner, dim, bias=False)
        self.norm_ca = RMSNorm(dim)
        self.norm_ctx = RMSNorm(cond_dim)
        self.q_ca = nn.Linear(dim, inner, bias=False)
        self.kv_ca = nn.Linear(cond_dim, 2 * inner, bias=False)
        self.out_ca = nn.Linear(inner, dim, bias=False)
        self.norm_ff = RMSNorm(dim)
        hidden = ff_mult * dim
        self.ff_gate = nn.Linear(dim, hidden, bias=False)
        self.ff_up = nn.Linear(dim, hidden, bias=False)
        self.ff_down = nn.Linear(hidden, dim, bias=False)
        self.ada_sa = AdaLN(dim, cond_dim)
        self.ada_ca = AdaLN(dim, cond_dim)
        self.ada_ff = AdaLN(dim, cond_dim)

    def forward(self, x: Tensor, c: Tensor, rope: tuple[Tensor, Tensor]) -> Tensor:
        b, t, _ = x.shape
        q, k, v = self.to_qkv(self.norm_sa(x)).chunk(3, dim=-1)
        # (b, t, h*d) -> (b, h, t, d): heads are head-major in the feature axis.
        q, k, v = (z.view(b, t, self.heads, self.head_dim).transpose(1, 2) for z in (q, k, v))
        q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        a = F.scaled_dot_product_attention(q, k, v)  # scale head_dim^-1/2, no mask
        x = x + self.out_sa(a.transpose(1, 2).reshape(b, t, -1))
        x = x + self.ada_sa(x, c)

        # One context token: attention weights are exactly 1, the output is v for every frame.
        _, v_ca = self.kv_ca(self.norm_ctx(c)).chunk(2, dim=-1)  # (b, inner)
        x = x + self.out_ca(v_ca).unsqueeze(1)
        x = x + self.ada_ca(x, c)

        n = self.norm_ff(x)
        x = x + self.ff_down(F.silu(self.ff_gate(n)) * self.ff_up(n))
        x = x + self.ada_ff(x, c)
        return x


# ---------------------------------------------------------------------------------------------
# Networks


class TemporalUNet(nn.Module):
    """The ``unet.*`` part: (B, 3J, T) input, (B, D) embedding -> (B, J, T) velocity."""

    def __init__(self, cfg: UNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, hid = cfg.latent_dim, cfg.time_mult * cfg.latent_dim
        self.time_mlp = nn.Sequential(nn.Linear(d, hid), nn.SiLU(), nn.Linear(hid, hid), nn.SiLU(), nn.Linear(hid, d))
        dims = (3 * cfg.channels,) + cfg.level_dims
        n_levels = len(cfg.level_dims)
        k = cfg.kernel_size

        # Each level: R ResBlocks, an empty attention slot (official attention=False), Down.
        # The empty Identity keeps the official index of the Down module (R + 1).
        self.downs = nn.ModuleList()
        for i in range(n_levels):
            ci, co = dims[i], dims[i + 1]
            level: list[nn.Module] = [ResBlock(ci if r == 0 else co, co, d, k) for r in range(cfg.res_blocks)]
            level.append(nn.Identity())
            level.append(Down(co) if i < n_levels - 1 else nn.Identity())
            self.downs.append(nn.ModuleList(level))

        top = cfg.level_dims[-1]
        # Registration order follows the released state dict (proj_out before mid_blocks).
        self.proj_in = ProjIn(top, cfg.bottleneck_dim)
        self.proj_out = nn.Conv1d(cfg.bottleneck_dim, top, 1)
        self.mid_blocks = nn.ModuleList(
            BottleneckBlock(cfg.bottleneck_dim, d, cfg.heads, cfg.head_dim, cfg.ff_mult)
            for _ in range(cfg.n_mid_blocks)
        )

        # Ups walk the levels back from the deepest; level i's output width is level i-1's.
        # The skip of level 0 is never used (official).
        self.ups = nn.ModuleList()
        for i in range(n_levels - 1, 0, -1):
            cur, skip, co = dims[i + 1], dims[i + 1], dims[i]
            level = [ResBlock(cur + skip if r == 0 else co, co, d, k) for r in range(cfg.res_blocks)]
            level.append(nn.Identity())
            level.append(Up(co))
            self.ups.append(nn.ModuleList(level))

        self.final_conv = nn.Sequential(ConvBlock(dims[1], dims[1], k), nn.Conv1d(dims[1], cfg.channels, 1))

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        """x (B, 3J, T), emb (B, D) -> (B, J, T)."""
        if x.shape[-1] % self.cfg.time_multiple:
            raise ValueError(f"T={x.shape[-1]} must be a multiple of {self.cfg.time_multiple}")
        c = self.time_mlp(emb)
        skips: list[Tensor] = []
        for level in self.downs:
            *blocks, _attn, down = level
            for block in blocks:
                x = block(x, c)
            skips.append(x)
            x = down(x)

        x = self.proj_in(x).transpose(1, 2)  # (B, T', C)
        rope = rope_cos_sin(x.shape[1], self.cfg.head_dim, self.cfg.rope_theta, x.device)
        for block in self.mid_blocks:
            x = block(x, c, rope)
        x = self.proj_out(x.transpose(1, 2))

        for level, skip in zip(self.ups, reversed(skips[1:]), strict=True):
            *blocks, _attn, up = level
            x = torch.cat([x, skip], dim=1)
            for block in blocks:
                x = block(x, c)
            x = up(x)
        return self.final_conv(x)


class TimestepEmbedder(nn.Module):
    """t in [0, 1] (not scaled by 1000) -> [cos(t f_i), sin(t f_i)] -> MLP. (B,) -> (B, D)."""

    def __init__(self, dim: int, mult: int = 4, max_period: float = 10000.0) -> None:
        super().__init__()
        self.dim, self.max_period = dim, max_period
        self.time_embed = nn.Sequential(nn.Linear(dim, mult * dim), nn.SiLU(), nn.Linear(mult * dim, dim))

    def sinusoid(self, t: Tensor) -> Tensor:
        half = self.dim // 2
        freqs = torch.exp(-math.log(self.max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
        args = t.float()[:, None] * freqs[None]
        return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)

    def forward(self, t: Tensor) -> Tensor:
        return self.time_embed(self.sinusoid(t))


class KF2PNet(nn.Module):
    """Keyframe-to-pose velocity network (official ``Wilor_UNET`` without its text encoder).

    ``forward`` takes the text embedding (B, 640) already computed (see ``core.ml.text``); the
    null condition is the zero embedding, so its effect is ``embed_text.bias``.
    """

    def __init__(self, cfg: UNetConfig, zero_init: bool = True) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed_timestep = TimestepEmbedder(cfg.latent_dim, cfg.time_mult, cfg.max_period)
        self.unet = TemporalUNet(cfg)
        self.embed_text = nn.Linear(cfg.text_dim, cfg.latent_dim)
        if zero_init:
            zero_init_(self)

    def condition(self, t: Tensor, text_emb: Tensor | None, uncond: bool = False) -> Tensor:
        """The (B, D) vector fed to ``unet.time_mlp``: time embedding + text embedding."""
        emb = self.embed_timestep(t)
        if text_emb is None or uncond:
            # Zero text (official mask_cond): the linear layer reduces to its bias.
            return emb + self.embed_text.bias.to(emb.dtype)
        return emb + self.embed_text(text_emb.to(emb.dtype))

    @staticmethod
    def network_input(x_t: Tensor, obs_x0: Tensor, obs_mask: Tensor, y_mask: Tensor) -> Tensor:
        """cat[where(obs_mask, obs_x0, x_t), obs_mask, y_mask expanded over J]: (B, 3J, T)."""
        x = torch.where(obs_mask, obs_x0, x_t)
        return torch.cat([x, obs_mask.to(x.dtype), y_mask.to(x.dtype).expand(-1, x.shape[1], -1)], dim=1)

    def forward(
        self,
        x_t: Tensor,
        t: Tensor | float,
        obs_x0: Tensor,
        obs_mask: Tensor,
        y_mask: Tensor,
        text_emb: Tensor | None = None,
        uncond: bool = False,
    ) -> Tensor:
        """Velocity at (x_t, t).

        x_t, obs_x0: (B, J, T) float; obs_mask: (B, J, T) bool (True = keyframe value given);
        y_mask: (B, 1, T) bool (True = valid frame); t: (B,) or scalar in [0, 1];
        text_emb: (B, 640) or None (= null text). Returns (B, J, T).
        """
        b = x_t.shape[0]
        t = torch.as_tensor(t, dtype=torch.float32, device=x_t.device)
        if t.ndim == 0:
            t = t.expand(b)
        emb = self.condition(t, text_emb, uncond)
        return self.unet(self.network_input(x_t, obs_x0, obs_mask, y_mask), emb)


def zero_init_(model: nn.Module) -> nn.Module:
    """Official init: AdaLN projections, every ResBlock's second conv and the final 1x1 conv
    start at zero, so a fresh network outputs exactly 0."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, AdaLN):
                nn.init.zeros_(m.proj.weight)
                nn.init.zeros_(m.proj.bias)
            elif isinstance(m, ResBlock):
                nn.init.zeros_(m.conv2.conv.weight)
                nn.init.zeros_(m.conv2.conv.bias)
            elif isinstance(m, TemporalUNet):
                last = m.final_conv[1]
                nn.init.zeros_(last.weight)
                nn.init.zeros_(last.bias)
    return model


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

"""FAST (paper section 3.1): a per-frame B/I/O tagger over both hands. nn.Modules only.

    left features (B,T,F) -> HandStream -+
                                         +- concat -> TwoStreamMixer -> TransformerEncoder
    right features (B,T,F) -> HandStream -+            (full temporal resolution, no downsampling)
                                         -> temporal Conv1d(k=3) -> dropout -> Linear(., 3) logits

A HandStream is spatio-temporal: a per-frame MLP over the hand's joints (spatial), then a
temporal convolution of kernel 3. The design follows the paper's ablation (Fig. 4a): two streams
over one, no 2x temporal downsampling, temporal convolutions; dropout is kept small (the paper saw
a small loss with more). Positions enter only through the convolutions (no absolute position
embedding), so the network runs on windows of any length.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from .features import HAND_DIM


@dataclass(frozen=True)
class FastConfig:
    in_dim: int = HAND_DIM
    width: int = 64  # per-stream and model width
    layers: int = 2  # transformer encoder layers
    heads: int = 4
    ff_mult: int = 2
    dropout: float = 0.1
    n_classes: int = 3

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FastConfig:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


class HandStream(nn.Module):
    """(B, T, F) -> (B, T, D): per-frame MLP over the hand, then a temporal conv (k=3)."""

    def __init__(self, in_dim: int, width: int) -> None:
        super().__init__()
        self.frame = nn.Sequential(nn.Linear(in_dim, width), nn.GELU(), nn.Linear(width, width), nn.GELU())
        self.temporal = nn.Conv1d(width, width, 3, padding=1)
        self.norm = nn.LayerNorm(width)

    def forward(self, x: Tensor, keep: Tensor | None = None) -> Tensor:
        """keep: (B, T, 1) 0 on padding frames, so the convolution sees zeros past the end."""
        h = self.frame(x)
        if keep is not None:
            h = h * keep
        h = h + torch.nn.functional.gelu(self.temporal(h.transpose(1, 2))).transpose(1, 2)
        return self.norm(h)


class TwoStreamMixer(nn.Module):
    """(B, T, 2D) concatenated streams -> (B, T, D), letting each hand's stream see the other's."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.proj = nn.Linear(2 * width, width)
        self.mlp = nn.Sequential(nn.GELU(), nn.Linear(width, width))
        self.norm = nn.LayerNorm(width)

    def forward(self, x: Tensor) -> Tensor:
        h = self.proj(x)
        return self.norm(h + self.mlp(h))


class FastNet(nn.Module):
    def __init__(self, config: FastConfig = FastConfig()) -> None:
        super().__init__()
        c = self.config = config
        self.left = HandStream(c.in_dim, c.width)
        self.right = HandStream(c.in_dim, c.width)
        self.mixer = TwoStreamMixer(c.width)
        layer = nn.TransformerEncoderLayer(
            c.width, c.heads, c.ff_mult * c.width, c.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, c.layers, enable_nested_tensor=False)
        self.temporal = nn.Conv1d(c.width, c.width, 3, padding=1)
        self.norm = nn.LayerNorm(c.width)
        self.dropout = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.width, c.n_classes)

    def forward(self, features: Tensor, pad_mask: Tensor | None = None) -> Tensor:
        """features: (B, T, 2, F) hands left/right; pad_mask: (B, T) True on padding frames.
        Returns (B, T, 3) logits for O, I, B."""
        keep = None if pad_mask is None else (~pad_mask).unsqueeze(-1).to(features.dtype)
        h = torch.cat([self.left(features[:, :, 0], keep), self.right(features[:, :, 1], keep)], dim=-1)
        h = self.mixer(h)
        h = self.encoder(h, src_key_padding_mask=pad_mask)
        if keep is not None:
            h = h * keep
        h = h + torch.nn.functional.gelu(self.temporal(h.transpose(1, 2))).transpose(1, 2)
        return self.head(self.dropout(self.norm(h)))


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

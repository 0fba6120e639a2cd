"""Differentiable forward kinematics in torch (for training losses through joint positions)."""

from __future__ import annotations

import numpy as np
import torch

from ..model.skeleton import Skeleton


class TorchFK(torch.nn.Module):
    """Batched FK over a fixed skeleton.

    forward(rotations (..., J, 3, 3), translation (..., 3) or None) -> positions (..., J, 3).
    Joints are processed level by level of the tree, so a 52-joint skeleton takes ~8 batched
    matmuls rather than 52.
    """

    offsets: torch.Tensor  # (J, 3) float64, a non-persistent buffer (moves with .to())

    def __init__(self, skeleton: Skeleton) -> None:
        super().__init__()
        self.register_buffer("offsets", torch.tensor(np.array(skeleton.offsets), dtype=torch.float64), persistent=False)
        parents = np.array(skeleton.parents)
        depth = np.zeros(len(parents), int)
        for i, p in enumerate(parents):
            depth[i] = 0 if p < 0 else depth[p] + 1
        self.levels = [np.nonzero(depth == d)[0] for d in range(depth.max() + 1)]
        self.parents = parents

    def forward(self, rotations: torch.Tensor, translation: torch.Tensor | None = None, return_rotations: bool = False):
        lead = rotations.shape[:-3]
        j = rotations.shape[-3]
        off = self.offsets.to(rotations.dtype)
        world_r: list[torch.Tensor] = [rotations[..., 0, :, :]] * j  # every entry is set, parents first
        world_p: list[torch.Tensor] = [off[0]] * j
        for level in self.levels:
            idx = torch.as_tensor(level)
            if self.parents[level[0]] < 0:
                for i in level:
                    world_r[i] = rotations[..., i, :, :]
                    p0 = off[i].expand(*lead, 3)
                    world_p[i] = p0 + translation if translation is not None else p0
                continue
            pr = torch.stack([world_r[self.parents[i]] for i in level], dim=-3)
            pp = torch.stack([world_p[self.parents[i]] for i in level], dim=-2)
            r = pr @ rotations[..., idx, :, :]
            p = pp + (pr @ off[idx].unsqueeze(-1)).squeeze(-1)
            for n, i in enumerate(level):
                world_r[i] = r[..., n, :, :]
                world_p[i] = p[..., n, :]
        pos = torch.stack(world_p, dim=-2)
        if return_rotations:
            return pos, torch.stack(world_r, dim=-3)
        return pos

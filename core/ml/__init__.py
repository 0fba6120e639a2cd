"""Machine-learning parts of Signframe: KF2P network, flow path and losses, solvers, checkpoints.

Nothing here imports torch at package import time (the editor opens before torch loads): import
the submodules on demand, e.g. ``from core.ml import unet`` or ``from core.ml.solver import euler``.

- ``unet``: ``KF2PNet`` / ``UNetConfig`` (official SignSparK temporal U-Net, any size)
- ``flow``: rectified-flow path, training losses, classifier-free dropout
- ``solver``: Euler / Heun samplers over any velocity callable, guidance, cancellation
- ``checkpoint``: official checkpoint loader, our own save/load
- ``text``: text encoders (null, M-CLIP)
"""
from __future__ import annotations

__all__ = ["checkpoint", "flow", "solver", "text", "unet"]

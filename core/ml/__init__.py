"""Machine-learning parts of Signframe: networks, flow path and losses, solvers, checkpoints.

Nothing here imports torch at package import time (the editor opens before torch loads): import
the submodules on demand, e.g. ``from core.ml import unet`` or ``from core.ml.solver import euler``.

KF2P (SignSparK keyframe-to-pose):
- ``unet``: ``KF2PNet`` / ``UNetConfig`` (official SignSparK temporal U-Net, any size)
- ``flow``: rectified-flow path, training losses, classifier-free dropout
- ``solver``: Euler / Heun samplers over any velocity callable, guidance, cancellation
- ``checkpoint``: official checkpoint loader, our own save / load
- ``text``: text encoders (null, M-CLIP)
- ``features``: per-stream feature layout (hand flip, padding, masks), numpy only
"""

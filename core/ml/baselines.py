"""Classical in-betweeners beyond SLERP / eased SLERP, for evaluation on real signing and as the
fallbacks the bundled model chooses between (``RefinerSpec.fallback_by_gap``).

- ``spline``: a C2 rotation spline (``scipy.spatial.transform.RotationSpline``) through every
  observation of each joint, the whole sequence at once (``SplineInbetweener``). The textbook
  smooth in-betweener; on real signing it is better than SLERP at short key spacings and worse at
  long ones (it overshoots between far keys).
- ``pchip``: a monotone cubic (Fritsch-Carlson) per gap in the tangent space of the gap's first
  observation, end slopes from the neighbouring observations (``refiner.hermite_hint``); it never
  overshoots a key pair. ``HintSampler`` runs it through the in-betweener's window path, so it can
  stand in for a model stream.

Both keep observations (KEY, SOURCE where valid) exact. Frames outside a joint's first / last
observation keep the eased baseline (held poses).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SplineInbetweener", "SplineSampler", "HintSampler", "spline_fill", "load_baseline", "BASELINES"]

BASELINES = ("slerp", "eased", "spline", "pchip")


def spline_fill(rot: np.ndarray, observed: np.ndarray, joints) -> np.ndarray:
    """C2 rotation spline per joint through its observed frames.

    rot: (T, J, 3, 3) with observed entries exact (others: any rotation, e.g. the eased
    baseline); observed: (T, J) bool; joints: the joints to fill. Returns a copy (T, J, 3, 3)
    float32 where each listed joint's unobserved frames between its first and last observation
    come from the spline; everything else is ``rot``."""
    from scipy.spatial.transform import Rotation, RotationSpline

    out = np.array(rot, np.float32, copy=True)
    t = np.arange(rot.shape[0], dtype=np.float64)
    for j in joints:
        obs = np.nonzero(observed[:, j])[0]
        if obs.size < 2:
            continue
        want = np.nonzero(~observed[obs[0] : obs[-1] + 1, j])[0] + obs[0]
        if want.size == 0:
            continue
        if obs.size == 2:  # a spline through two poses is the geodesic: SLERP
            from ..kinematics.slerp import slerp_matrices

            u = (want - obs[0]) / float(obs[1] - obs[0])
            out[want, j] = slerp_matrices(
                np.broadcast_to(rot[obs[0], j], (len(want), 3, 3)),
                np.broadcast_to(rot[obs[1], j], (len(want), 3, 3)),
                u,
            )
            continue
        spl = RotationSpline(t[obs], Rotation.from_matrix(np.asarray(rot[obs, j], np.float64)))
        out[want, j] = spl(t[want]).as_matrix().astype(np.float32)
    return out


@dataclass
class SplineInbetweener:
    """Eased SLERP for everything, then a C2 rotation spline for the joints of ``streams`` (body
    joints 12..21, both hands) at every GENERATED frame, through each joint's observations. The same
    ``fill_all_many`` interface as ``KF2PInbetweener`` (evaluation only: it is not windowed, so an
    edit's cost grows with the sequence)."""

    # the streams it fills ("body", "hand"); evaluation narrows this to the stream it scores
    streams: dict[str, Any] = field(default_factory=lambda: {"body": "spline", "hand": "spline"})
    name: str = "spline"

    def fill_all_many(self, seqs, cancel: Callable[[], bool] | None = None, seed: int = 0):
        from .kf2p.inbetween import BODY, LEFT, RIGHT, KF2PInbetweener, _local_observed

        base = KF2PInbetweener({}, eased=True).fill_all_many(seqs, cancel, seed)
        joints = (BODY if "body" in self.streams else ()) + ((LEFT + RIGHT) if "hand" in self.streams else ())
        out = []
        for seq, filled in zip(seqs, base):
            obs_j, _ = _local_observed(seq, 0, seq.n_frames)
            rot = spline_fill(filled.rotations, obs_j, joints)
            out.append(filled.replace(rotations=rot))
        return out

    def fill_all(self, seq, cancel=None, seed: int = 0):
        return self.fill_all_many([seq], cancel, seed)[0]


class HintSampler:
    """A ``StreamSampler`` that returns the monotone-cubic hint (``refiner.hermite_hint``) of the
    window: no network, deterministic, windowed like the models (so its cost per edit is flat)."""

    multiple = 8
    channels = 1

    def __init__(self, stream: str, max_window: int = 128) -> None:
        self.stream = stream
        self.max_window = int(max_window)
        self.label = f"pchip-{stream}"

    def sample(self, w, noise, steps, cancel, text_emb):
        import torch

        from .refiner import hermite_hint

        return hermite_hint(w.base.to(torch.float64), w.obs).to(w.base.dtype)


def load_baseline(name: str):
    """``slerp`` | ``eased`` | ``spline`` | ``pchip`` -> an in-betweener (evaluation)."""
    from .kf2p.inbetween import KF2PInbetweener, load_inbetweener

    if name in ("slerp", "eased"):
        return load_inbetweener(name)
    if name == "spline":
        return SplineInbetweener()
    if name == "pchip":
        return KF2PInbetweener({"body": HintSampler("body"), "hand": HintSampler("hand")}, eased=True, name="pchip")
    raise ValueError(f"unknown baseline {name!r} (one of {', '.join(BASELINES)})")


class SplineSampler:
    """``SplineInbetweener`` inside the in-betweener's windows: a C2 rotation spline per joint
    through the observations of the window (the gap's keys and ``context`` frames on each side),
    so it can stand in for a model stream where it is the best method (``fallback_by_gap``)."""

    multiple = 8
    channels = 1

    def __init__(self, stream: str, max_window: int = 128) -> None:
        self.stream = stream
        self.max_window = int(max_window)
        self.label = f"spline-{stream}"

    def sample(self, w, noise, steps, cancel, text_emb):
        import torch

        base = w.base.cpu().numpy()
        obs = w.obs.cpu().numpy() & w.y_mask[:, 0, :, None].cpu().numpy()
        out = np.stack([spline_fill(base[i], obs[i], range(base.shape[2])) for i in range(base.shape[0])])
        return torch.from_numpy(out).to(w.base.device)


_SAMPLERS: dict[tuple[str, str], Any] = {}


def fallback_sampler(name: str, stream: str):
    """The windowed sampler of a classical method ("pchip" | "spline") for ``stream``."""
    key = (name, stream)
    if key not in _SAMPLERS:
        if name == "pchip":
            _SAMPLERS[key] = HintSampler(stream)
        elif name == "spline":
            _SAMPLERS[key] = SplineSampler(stream)
        else:
            raise ValueError(f"no windowed sampler for {name!r}")
    return _SAMPLERS[key]

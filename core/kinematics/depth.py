"""What the z of each landmark component is worth: true 3-D, z on its own scale, flat, or absent.

Files differ: 3-D skeletons carry z on the x / y scale; MediaPipe writes z in its own normalised
units (a range of about one unit against hundreds of pixels in x and y); pose normalisation and
many published corpora leave z almost constant (under a pixel on a 512-pixel canvas) or zero;
OpenPose and ``XYC`` files have no z at all. A small range alone cannot tell the second kind from
the third, so the check asks what z is for: does adding it, at its best scale, make the bones of
the component more constant in length than the same z shuffled over the frames of each point
would? Real depth does (foreshortened frames get their missing length back); noise does not.
Where the component barely turns in depth (the body of a short isolated sign) that evidence is
weak either way; z that moves smoothly in time like a tracked coordinate (lag-1 autocorrelation
of each point's z) and makes bones no less rigid is then taken as depth too.

A component judged flat on its own takes the file's verdict when another component of the same
file shows depth: every format we read writes all of its z the same way (on 181 real MediaPipe
clips, 7 bodies that barely turn in depth would otherwise be lifted although their hands, from
the same export, carry real z).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .landmarks import BODY_BONES, FACE_BONES, HAND_BONES, LandmarkSet, bone_length_spread, estimate_depth_scale

KINDS = ("3d", "scaled_z", "flat", "2d", "unseen")
# rigidity gained by z beyond what shuffled z gains (fraction of the bone-length spread): on
# real files up to 0.92 (body of PHOENIX sentences), on flattened ones at most 0.10
EVIDENCE = 0.12
# ... or smooth z that does no harm: real tracks 0.8-0.97 (body), flattened-with-noise ones < 0.1
SMOOTH_Z, NO_HARM = 0.5, -0.05
MAX_FRAMES = 1500  # the check subsamples longer clips (evenly): its cost stays flat
_SHUFFLES = 5
HAND_PAIR_BONES = tuple(HAND_BONES) + tuple((a + 21, b + 21) for a, b in HAND_BONES)


@dataclass(frozen=True)
class DepthCheck:
    """One component's verdict. kind: one of ``KINDS``; scale: the factor on z that makes bones
    most rigid (0 for flat / 2d); evidence: rigidity gained by z beyond shuffled z (NaN when the
    component was not seen enough to judge); points: how many observed points the check used;
    smoothness: median lag-1 autocorrelation of the points' z over time."""

    kind: str
    scale: float
    evidence: float
    points: int
    smoothness: float = float("nan")

    @property
    def has_depth(self) -> bool:
        return self.kind in ("3d", "scaled_z")

    def as_dict(self) -> dict:
        r = lambda x: None if not np.isfinite(x) else round(float(x), 3)  # noqa: E731
        return {
            "kind": self.kind,
            "scale": round(float(self.scale), 6),
            "evidence": r(self.evidence),
            "smoothness": r(self.smoothness),
            "points": self.points,
        }


def components(lm: LandmarkSet) -> dict[str, tuple[np.ndarray, np.ndarray, tuple]]:
    """name -> (points (T, N, 3), ok (T, N), bones) for body, hands (both, 42 points) and face."""
    t = lm.n_frames
    return {
        "body": (lm.body, lm.body_ok, BODY_BONES),
        "hands": (lm.hands.reshape(t, 42, 3), lm.hands_ok.reshape(t, 42), HAND_PAIR_BONES),
        "face": (lm.face, lm.face_ok, FACE_BONES),
    }


def _gain(points: np.ndarray, ok: np.ndarray, bones) -> tuple[float, float]:
    """(best depth scale, fraction of the bone-length spread that z at that scale removes)."""
    s = estimate_depth_scale(points, ok, bones)
    if s <= 0:
        return 0.0, 0.0
    c0, c1 = bone_length_spread(points, ok, bones, np.array([0.0, s]))
    return s, float((c0 - c1) / c0) if c0 > 1e-12 else 0.0


def _smoothness(points: np.ndarray, ok: np.ndarray) -> float:
    """Median over points of the lag-1 autocorrelation of z between consecutive observed frames."""
    vals = []
    for j in range(points.shape[1]):
        both = ok[1:, j] & ok[:-1, j]
        if both.sum() < 5:
            continue
        a, b = points[1:, j, 2][both], points[:-1, j, 2][both]
        if a.std() > 1e-12 and b.std() > 1e-12:
            vals.append(float(np.corrcoef(a, b)[0, 1]))
    return float(np.median(vals)) if vals else float("nan")


def _own_check(points: np.ndarray, ok: np.ndarray, bones, has_z: bool, rng) -> DepthCheck:
    n = int(ok.sum())
    if n == 0:
        return DepthCheck("unseen", 0.0, float("nan"), 0)
    if not has_z:
        return DepthCheck("2d", 0.0, float("nan"), n)
    seen = points[ok]
    if n < 3:
        return DepthCheck("flat", 0.0, float("nan"), n)
    z_range = float(np.ptp(seen[:, 2]))
    xy_range = float(np.ptp(seen[:, :2], axis=0).max())
    if z_range <= 1e-9 * max(xy_range, 1.0):
        return DepthCheck("2d", 0.0, 0.0, n)  # a z channel that is one constant holds nothing
    t = points.shape[0]
    if t > MAX_FRAMES:
        keep = np.linspace(0, t - 1, MAX_FRAMES).round().astype(int)
        points, ok = points[keep], ok[keep]
    scale, gain = _gain(points, ok, bones)
    nulls = []
    for _ in range(_SHUFFLES):
        q = points.copy()
        for j in range(points.shape[1]):
            idx = np.flatnonzero(ok[:, j])
            q[idx, j, 2] = points[rng.permutation(idx), j, 2]
        nulls.append(_gain(q, ok, bones)[1])
    evidence = gain - float(np.mean(nulls))
    smooth = _smoothness(points, ok)
    depth = scale > 0 and (evidence >= EVIDENCE or (smooth >= SMOOTH_Z and evidence >= NO_HARM))
    kind = _depth_kind(scale) if depth else "flat"
    return DepthCheck(kind, scale if depth else 0.0, evidence, n, smooth)


def _depth_kind(scale: float) -> str:
    return "3d" if 1 / 3 <= scale <= 3 else "scaled_z"


def check_depth(lm: LandmarkSet, *, has_z: bool = True, seed: int = 0) -> dict[str, DepthCheck]:
    """Per component (body, hands, face) what its z is (see the module docstring).

    has_z: False for files whose points have no z (2-D formats). Deterministic per ``seed``.
    """
    rng = np.random.default_rng(seed)
    out = {name: _own_check(p, ok, bones, has_z, rng) for name, (p, ok, bones) in components(lm).items()}
    if any(c.has_depth for c in out.values()):
        for name, (p, ok, bones) in components(lm).items():
            c = out[name]
            if c.kind == "flat" and c.points >= 3:
                scale = estimate_depth_scale(p, ok, bones)
                if scale > 0:  # same export, same z: trust it at its own rigid scale
                    out[name] = DepthCheck(_depth_kind(scale), scale, c.evidence, c.points, c.smoothness)
    return out


def summary(checks: Mapping[str, DepthCheck]) -> str:
    """One line, e.g. ``body flat, hands flat, face 2d``."""
    return ", ".join(f"{k} {c.kind}" for k, c in checks.items() if c.kind != "unseen") or "nothing seen"

"""Synthetic movements between real signs, built so that they are NOT what SLERP would produce.

A transition from pose A (the last frame kept of one sign) to pose B (the first frame of the
next) is a piecewise quintic (minimum-jerk) curve in the tangent space at A, per joint:
- it leaves A and reaches B with the velocities the real clips have there (no stop, no kink);
- it passes through a via-point at a random phase, off the geodesic (an arc; hands open toward a
  relaxed shape on the way, as real handshape changes do), which makes the speed asymmetric;
- sometimes it overshoots B and settles back;
- real high-frequency jitter (residuals of real IK'd clips) is added on top, so a smoothness
  threshold cannot tell transition frames from real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.skeleton import LEFT_HAND, N_BODY, N_JOINTS, RIGHT_HAND
from .rotmath import exp_rel, log_rel

# Per-joint floor of the via-point offset, radians: fingers wander more than the spine.
_VIA_FLOOR = np.full(N_JOINTS, np.radians(2.0))
_VIA_FLOOR[LEFT_HAND] = _VIA_FLOOR[RIGHT_HAND] = np.radians(6.0)
_VIA_FLOOR[[16, 17, 18, 19, 20, 21]] = np.radians(4.0)  # shoulders, elbows, wrists
_MAX_SPEED = 0.35  # rad / frame at the ends of a transition (clips can end on a glitch)


def quintic(p0, v0, p1, v1, s, h):
    """Quintic Hermite with zero end accelerations on s in [0, 1] (segment length h frames):
    the minimum-jerk curve between two positions with given velocities (per frame)."""
    s = s[:, None, None]
    s3, s4, s5 = s**3, s**4, s**5
    h0 = 1 - 10 * s3 + 15 * s4 - 6 * s5
    h1 = s - 6 * s3 + 8 * s4 - 3 * s5
    h4 = -4 * s3 + 7 * s4 - 3 * s5
    h5 = 10 * s3 - 15 * s4 + 6 * s5
    return h0 * p0 + h1 * h * v0 + h4 * h * v1 + h5 * p1


def _curve(knots_t: list[float], knots_x: list[np.ndarray], knots_v: list[np.ndarray], t: np.ndarray) -> np.ndarray:
    """Piecewise quintic through knots (times ascending), evaluated at times t -> (n, J, 3)."""
    out = np.empty((len(t),) + knots_x[0].shape)
    for i in range(len(knots_t) - 1):
        a, b = knots_t[i], knots_t[i + 1]
        sel = (t >= a) & ((t < b) if i < len(knots_t) - 2 else (t <= b))
        if sel.any():
            h = b - a
            out[sel] = quintic(knots_x[i], knots_v[i], knots_x[i + 1], knots_v[i + 1], (t[sel] - a) / h, h)
    return out


def _clamp_speed(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v * np.minimum(1.0, _MAX_SPEED / np.maximum(n, 1e-12))


@dataclass(frozen=True, eq=False)
class JitterBank:
    """Real high-frequency residuals: ``residual`` (F, 52, 3) rotation vectors of real clip frames
    relative to a local average of their neighbours, with ``starts`` of each clip's run."""

    residual: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, 52, 3): a contiguous snippet of one clip's residuals (tiled if the clip is short)."""
        if n <= 0 or len(self.starts) == 0:
            return np.zeros((max(n, 0), N_JOINTS, 3))
        k = int(rng.integers(len(self.starts)))
        s, m = int(self.starts[k]), int(self.lengths[k])
        off = int(rng.integers(m))
        idx = s + (off + np.arange(n)) % m
        return self.residual[idx].astype(np.float64)


def jitter_residuals(rot: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(T, J, 3, 3), (T, J) -> (T - 4, J, 3): each frame's rotation relative to the mean of its
    +-2 neighbours (in its tangent space), zero where any of the five frames is not valid."""
    t = rot.shape[0]
    if t < 5:
        return np.zeros((0, rot.shape[1], 3))
    centre = rot[2 : t - 2]
    w = {-2: 0.1, -1: 0.25, 1: 0.25, 2: 0.1}  # the centre itself weighs 0.3 (log 0)
    acc = np.zeros(centre.shape[:2] + (3,))
    ok = valid[2 : t - 2].copy()
    for k, wk in w.items():
        acc += wk * log_rel(centre, rot[2 + k : t - 2 + k])
        ok &= valid[2 + k : t - 2 + k]
    res = -acc  # the centre relative to the weighted mean of the window
    return np.where(ok[..., None], res, 0.0)


def build_jitter_bank(clips: list[tuple[np.ndarray, np.ndarray]]) -> JitterBank:
    parts, starts, lengths, s = [], [], [], 0
    for rot, valid in clips:
        r = jitter_residuals(rot, valid)
        if len(r) == 0:
            continue
        parts.append(r.astype(np.float32))
        starts.append(s)
        lengths.append(len(r))
        s += len(r)
    res = np.concatenate(parts) if parts else np.zeros((0, N_JOINTS, 3), np.float32)
    return JitterBank(res, np.array(starts, int), np.array(lengths, int))


def transition(
    a: np.ndarray,
    a_prev: np.ndarray,
    b: np.ndarray,
    b_next: np.ndarray,
    n: int,
    rng: np.random.Generator,
    relaxed: np.ndarray,
    jitter: JitterBank | None = None,
    overshoot_p: float = 0.3,
) -> np.ndarray:
    """(n, J, 3, 3) frames strictly between pose a (J, 3, 3) and pose b.

    a_prev / b_next: the frames before a and after b (for the end velocities; pass a / b for a
    start or end at rest). relaxed: (J, 3, 3) a resting pose the hands drift toward at the
    via-point.
    """
    if n <= 0:
        return np.zeros((0,) + a.shape)
    d = float(n + 1)
    x_b = log_rel(a, b)
    v_a = _clamp_speed(-log_rel(a, a_prev))
    v_b = _clamp_speed(log_rel(a, b_next) - x_b)
    x_relax = log_rel(a, relaxed)

    # via-point: partly along the way, pushed off the geodesic, hands opening a little
    tau = float(rng.uniform(0.3, 0.7))
    along = float(np.clip(tau + rng.normal(0, 0.1), 0.1, 0.9))
    direction = rng.normal(size=x_b.shape)
    direction /= np.maximum(np.linalg.norm(direction, axis=-1, keepdims=True), 1e-12)
    mag = rng.uniform(0.15, 0.45) * np.linalg.norm(x_b, axis=-1) + _VIA_FLOOR * rng.uniform(0.5, 1.5)
    x_v = along * x_b + direction * mag[:, None]
    open_frac = np.zeros(N_JOINTS)
    open_frac[N_BODY:] = rng.uniform(0.0, 0.4)
    x_v = x_v + open_frac[:, None] * (x_relax - x_v)
    v_v = (x_b / d) * rng.uniform(0.8, 1.4)

    knots_t, knots_x, knots_v = [0.0, tau * d], [np.zeros_like(x_b), x_v], [v_a, v_v]
    if rng.random() < overshoot_p and n >= 4:
        t_o = float(rng.uniform(max(tau, 0.7), 0.9)) * d
        x_o = x_b + rng.uniform(0.05, 0.2) * (x_b - x_v)
        knots_t.append(t_o)
        knots_x.append(x_o)
        knots_v.append(np.zeros_like(x_b))
    knots_t.append(d)
    knots_x.append(x_b)
    knots_v.append(v_b)
    x = _curve(knots_t, knots_x, knots_v, np.arange(1, n + 1, dtype=float))
    out = exp_rel(np.broadcast_to(a, x.shape[:1] + a.shape), x)
    if jitter is not None:
        out = exp_rel(out, jitter.sample(n, rng))
    return out

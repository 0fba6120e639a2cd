"""Batched rotation geometry for the IK solvers: swings, axis-angle, hinge chains.

All functions work on frame-first arrays ``(..., 3)`` / ``(..., 3, 3)`` (numpy, float64).
"""

from __future__ import annotations

import numpy as np


def normalize(v: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, eps)


def axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rodrigues: unit axes (..., 3) and angles (...) -> (..., 3, 3)."""
    axis = np.asarray(axis, float)
    angle = np.asarray(angle, float)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    c, s = np.cos(angle), np.sin(angle)
    t = 1.0 - c
    return np.stack(
        [
            np.stack([t * x * x + c, t * x * y - s * z, t * x * z + s * y], -1),
            np.stack([t * x * y + s * z, t * y * y + c, t * y * z - s * x], -1),
            np.stack([t * x * z - s * y, t * y * z + s * x, t * z * z + c], -1),
        ],
        -2,
    )


def swing(e: np.ndarray, v: np.ndarray, fallback_axis: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit e to unit v, (..., 3, 3).

    e, v: (..., 3) (broadcast); fallback_axis: a unit axis perpendicular to e, used when v is
    opposite to e (the swing is then a half turn about it).
    """
    e, v = np.broadcast_arrays(np.asarray(e, float), np.asarray(v, float))
    k = np.cross(e, v)
    c = np.sum(e * v, axis=-1)
    sk = np.linalg.norm(k, axis=-1)
    angle = np.arctan2(sk, c)
    axis = np.where(
        (sk > 1e-9)[..., None], k / np.maximum(sk, 1e-12)[..., None], np.broadcast_to(fallback_axis, k.shape)
    )
    return axis_angle(axis, angle)


def signed_angle(a: np.ndarray, b: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Angle (...) from a to b about ``axis`` (right hand rule), from their components
    perpendicular to the axis."""
    return np.arctan2(np.sum(np.cross(a, b) * axis, axis=-1), np.sum(a * b, axis=-1))


def apply(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(..., 3, 3) @ (..., 3) -> (..., 3)."""
    return np.einsum("...ij,...j->...i", m, v)


def gimbal(e: np.ndarray, h: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The flexion-then-abduction rotation (..., 3, 3) taking unit e to unit v: a universal joint
    whose first axis h is fixed in the parent (flexion, bending e toward h x e) and whose second
    axis h x e is fixed in the child (abduction): R = R_h(flex) R_f(abd), f = h x e."""
    f = np.cross(h, e)
    abd = -np.arcsin(np.clip(np.sum(v * h, -1), -1.0, 1.0))
    flex = np.arctan2(np.sum(v * f, -1), np.sum(v * e, -1))
    return axis_angle(np.broadcast_to(h, v.shape), flex) @ axis_angle(np.broadcast_to(f, v.shape), abd)


def hinge_chain(
    bones: list[np.ndarray],
    e: np.ndarray,
    h: np.ndarray,
    *,
    mode: str,
    twist_limit: float | None = None,
    full_bend: float = np.sin(np.radians(20.0)),
    reference: str = "swing",
    twist_center: float = 0.0,
    rest_dirs: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A base joint with swing and twist, followed by hinges, fitted to observed bone directions.

    bones: [v1, v2, ...] unit bone directions (..., 3) in the base joint's parent frame.
    e: rest direction of every bone (the chain is straight at rest); h: rest hinge axis
    (perpendicular to e; positive rotation about h bends the chain toward ``h x e``).
    mode "plane": the hinge plane is the best plane through all bones, its orientation taken
    within +-90 degrees of the swing-carried rest plane (flexion may then be negative, as for a
    finger that hyperextends); "positive": the plane is oriented so that the first hinge bends
    positively (an elbow). The twist is blended toward zero as the chain straightens
    (``full_bend`` = sine of the bend with full trust), and clamped to +-``twist_limit`` radians.
    The twist is measured from ``reference``: "swing" (the smallest rotation e -> v1) or "gimbal"
    (flexion about h, then abduction: keeps the hinge axes of an abducted, flexed finger where
    an anatomical joint has them), turned by ``twist_center`` radians (a joint's neutral twist:
    the blend goes toward it and the limit is centred on it).
    rest_dirs: the bones' rest directions when the chain is not straight at rest (each
    perpendicular to h); e is then the first one.
    Returns base local rotation (..., 3, 3) and hinge angles (..., n-1), radians.
    """
    v1 = bones[0]
    s = gimbal(e, h, v1) if reference == "gimbal" else swing(e, v1, h)
    if twist_center:
        s = axis_angle(v1, np.full(v1.shape[:-1], twist_center)) @ s
    f_s = np.cross(apply(s, h), v1)  # flexion direction of the swung rest chain, unit, _|_ v1
    g = np.cross(v1, f_s)
    rest = bones[1:]
    if mode == "positive":
        d = rest[0]
        x, y = np.sum(d * f_s, -1), np.sum(d * g, -1)
        strength = np.hypot(x, y)
        w = np.clip(strength / full_bend, 0.0, 1.0)
        # blend the observed bend direction with the rest one when the chain is nearly straight
        xb = w * x / np.maximum(strength, 1e-12) + (1.0 - w)
        yb = w * y / np.maximum(strength, 1e-12)
        twist = np.arctan2(yb, xb)
    elif mode == "plane":
        m00 = sum(np.sum(d * f_s, -1) ** 2 for d in rest)
        m11 = sum(np.sum(d * g, -1) ** 2 for d in rest)
        m01 = sum(np.sum(d * f_s, -1) * np.sum(d * g, -1) for d in rest)
        alpha = 0.5 * np.arctan2(2.0 * m01, m00 - m11)  # principal direction, within +-90 deg
        lam = 0.5 * (m00 + m11) + np.sqrt(0.25 * (m00 - m11) ** 2 + m01**2)
        strength = np.sqrt(lam / len(rest))
        w = np.clip(strength / full_bend, 0.0, 1.0)
        twist = w * alpha
    else:
        raise ValueError(f"hinge_chain: unknown mode {mode!r}")
    if twist_limit is not None:
        twist = np.clip(twist, -twist_limit, twist_limit)
    base = axis_angle(v1, twist) @ s  # s already carries twist_center
    h1 = apply(base, h)
    angles = []
    prev = v1
    turn = base
    for i, d in enumerate(rest):
        if rest_dirs is not None:  # the next bone's direction with this hinge at zero
            prev = apply(turn, np.broadcast_to(rest_dirs[i + 1], d.shape))
        theta = signed_angle(prev, d, h1)
        angles.append(theta)
        turn = axis_angle(h1, theta) @ turn
        prev = apply(axis_angle(h1, theta), prev)
    return base, np.stack(angles, axis=-1) if angles else np.zeros(v1.shape[:-1] + (0,))

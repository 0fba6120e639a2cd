"""What the BVH and FBX writers share: input checks, the target axis/unit frame, Euler angles.

Axis frames: our world is Y up, facing +Z, metres. ``up="z"`` rotates the whole scene by +90
degrees about X, (x, y, z) -> (x, -z, y): Z up and the signer facing -Y, which is Blender's
native frame (front view looks at the signer's face). The rotation is applied to every offset
and conjugated into every local rotation, so each joint's rest frame stays aligned with the
target world axes and the rest pose stays "all rotations zero".

Euler orders are written intrinsic, in the order the angles are listed: ``"ZXY"`` means
R = Rz(a) @ Rx(b) @ Ry(c) (the BVH channel convention). Consecutive frames are kept
continuous: no 360-degree wraps and no flips to the equivalent triple, so curves interpolate
cleanly in animation tools.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence as Seq
from pathlib import Path

import numpy as np

from ..model.rotations import is_rotation
from ..model.sequence import Sequence
from ..model.skeleton import Skeleton
from .errors import FormatError

UNITS = {"m": 1.0, "cm": 100.0}
AXES = "XYZ"
ORDERS = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")

Progress = Callable[[float], None]


def check_exportable(path: str | Path, seq: Sequence) -> None:
    """Refuse what no reader could use, before anything is written. Raises FormatError."""
    if seq.n_frames == 0:
        raise FormatError(path, "the sequence has no frames; nothing to export")
    if not (np.isfinite(seq.fps) and seq.fps > 0):
        raise FormatError(path, f"frame rate must be positive, got {seq.fps}")
    for name, a in (
        ("rotations", seq.rotations),
        ("translation", seq.translation),
        ("skeleton offsets", seq.skeleton.offsets),
        ("skeleton tips", seq.skeleton.tips),
    ):
        if not np.isfinite(a).all():
            raise FormatError(path, f"{name} contain NaN or infinite values; nothing was written")
    bad = ~is_rotation(seq.rotations, atol=1e-3)
    if bad.any():
        t, j = np.argwhere(bad)[0]
        raise FormatError(path, f"frame {t}, joint {seq.skeleton.names[j]}: not a rotation matrix")


def check_option(path: str | Path, name: str, value: str, allowed: Seq[str]) -> str:
    if value not in allowed:
        raise FormatError(path, f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def axis_matrix(up: str) -> np.ndarray:
    """(3, 3) rotation from our Y-up world to the target world (``"y"`` or ``"z"`` up)."""
    if up == "y":
        return np.eye(3)
    if up == "z":
        return np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    raise ValueError(f"up must be 'y' or 'z', got {up!r}")


ORIGINS = ("floor", "pelvis")


def floor_lift(skeleton: Skeleton) -> np.ndarray:
    """(3,) metres that stand the rest pose on the floor: up by the depth of its lowest point
    (joints and end sites: the soles), so y = 0 is the ground the avatar stands on."""
    rest = skeleton.rest_positions()
    low = min(float(rest[:, 1].min()), float((rest + skeleton.tips)[:, 1].min()))
    return np.array([0.0, max(-low, 0.0), 0.0])


def to_target(
    seq: Sequence, up: str, unit: str, origin: str = "pelvis"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The motion in the target frame.

    Returns offsets (J, 3), tips (J, 3), root positions (T, 3) (rest offset + translation) in the
    target unit, and local rotations (T, J, 3, 3) float64 conjugated into the target axes.
    ``origin``: "floor" stands the avatar on the ground plane (``floor_lift``: what animation tools
    expect; the default of the command line and the editor's export), "pelvis" keeps our world
    origin at the pelvis' rest position (exact round trips).
    """
    c = axis_matrix(up)
    s = UNITS[unit]
    sk = seq.skeleton
    offsets = s * sk.offsets @ c.T
    tips = s * sk.tips @ c.T
    lift = floor_lift(sk) if origin == "floor" else np.zeros(3)
    root = s * (sk.offsets[0] + lift + seq.translation.astype(np.float64)) @ c.T
    rot = seq.rotations.astype(np.float64)
    if up != "y":
        rot = c @ rot @ c.T
    return offsets, tips, root, rot


# --- Euler angles ------------------------------------------------------------------------------


def axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """(...) radians -> (..., 3, 3) rotation about axis 0/1/2."""
    c, s = np.cos(angle), np.sin(angle)
    m = np.zeros(angle.shape + (3, 3))
    j, k = (axis + 1) % 3, (axis + 2) % 3
    m[..., axis, axis] = 1.0
    m[..., j, j] = c
    m[..., k, k] = c
    m[..., k, j] = s
    m[..., j, k] = -s
    return m


def euler_radians_exact(m: np.ndarray, order: str) -> np.ndarray:
    """(..., 3, 3) -> (..., 3) radians listed in ``order``: R = R_a @ R_b @ R_c, |b| <= pi/2.

    Not ``core.model.rotations.matrix_to_euler`` (degrees, scipy): exports need angles that
    rebuild the matrix exactly even at gimbal lock. The first angle comes from the
    best-conditioned entries (a fixed choice at gimbal lock) and the last is solved from what
    remains, so the three always rebuild ``m`` to input precision.
    """
    m = np.asarray(m, dtype=np.float64)
    i, j, k = (AXES.index(a) for a in order.upper())
    if len({i, j, k}) != 3:
        raise ValueError(f"rotation order must name X, Y and Z once each, got {order!r}")
    s = 1.0 if j == (i + 1) % 3 else -1.0
    b = np.arctan2(s * m[..., i, k], np.hypot(m[..., i, i], m[..., i, j]))
    locked = np.cos(b) < 1e-6
    a = np.where(locked, np.arctan2(s * m[..., k, j], m[..., j, j]), np.arctan2(-s * m[..., j, k], m[..., k, k]))
    rest = np.swapaxes(axis_rotation(i, a) @ axis_rotation(j, b), -1, -2) @ m
    k1, k2 = (k + 1) % 3, (k + 2) % 3
    c = np.arctan2(rest[..., k2, k1], rest[..., k1, k1])
    return np.stack([a, b, c], axis=-1)


def _wrap(x: np.ndarray) -> np.ndarray:
    return (x + np.pi) % (2 * np.pi) - np.pi


def continuous(angles: np.ndarray) -> np.ndarray:
    """(T, ..., 3) radians (a, b, c) per frame -> the same rotations with smooth curves over T.

    Every Tait-Bryan rotation has two triples, (a, b, c) and (a + pi, pi - b, c + pi). Each frame
    takes the one nearer the previous frame's choice (a distance-preserving involution, so the
    choice is a running parity of "the other one is nearer"), then 2*pi wraps are unwound.
    """
    if angles.shape[0] == 0:
        return angles
    other = angles + np.array([np.pi, 0.0, np.pi])
    other[..., 1] = np.pi - angles[..., 1]
    d_same = np.abs(_wrap(angles[1:] - angles[:-1])).sum(-1)
    d_other = np.abs(_wrap(other[1:] - angles[:-1])).sum(-1)
    toggle = np.concatenate([np.zeros((1,) + d_same.shape[1:], bool), d_other < d_same - 1e-9])
    flipped = (np.cumsum(toggle, axis=0) % 2).astype(bool)
    chosen = np.where(flipped[..., None], other, angles)
    chosen = _wrap(chosen)
    return np.unwrap(chosen, axis=0)


def auto_orders(rotations: np.ndarray) -> list[str]:
    """Per joint, the order whose middle angle stays furthest from +-90 degrees (gimbal lock).

    rotations: (T, J, 3, 3). The middle angle's sine is the entry R[first, last], so this is a
    max-abs over frames per order; ties keep "ZXY", the BVH convention.
    """
    rotations = np.asarray(rotations, dtype=np.float64)
    preference = ("ZXY",) + tuple(o for o in ORDERS if o != "ZXY")
    scores = []
    for order in preference:
        i, k = AXES.index(order[0]), AXES.index(order[2])
        scores.append(np.abs(rotations[..., i, k]).max(axis=0) if len(rotations) else np.zeros(rotations.shape[1]))
    best = np.argmin(np.stack(scores) - 1e-9 * (np.arange(6) == 0)[:, None], axis=0)
    return [preference[b] for b in best]


def resolve_orders(
    path: str | Path, order: str | Seq[str] | dict, names: Seq[str], rotations: np.ndarray, default: str = "ZXY"
) -> list[str]:
    """One order per joint from ``order``: one of ORDERS, ``"auto"``, a list per joint or a
    {joint name: order} dict (others ``default``)."""
    if isinstance(order, str):
        o = order.upper()
        if o == "AUTO":
            return auto_orders(rotations)
        check_option(path, "rotation order", o, ORDERS)
        return [o] * len(names)
    if isinstance(order, dict):
        out = []
        for n in names:
            o = str(order.get(n, default)).upper()
            out.append(check_option(path, f"rotation order of {n}", o, ORDERS))
        return out
    order = [str(o).upper() for o in order]
    if len(order) != len(names):
        raise FormatError(path, f"{len(order)} rotation orders for {len(names)} joints")
    for n, o in zip(names, order):
        check_option(path, f"rotation order of {n}", o, ORDERS)
    return order


def euler_degrees(rotations: np.ndarray, orders: Seq[str]) -> np.ndarray:
    """(T, J, 3, 3) local rotations -> (T, J, 3) continuous degrees, listed per joint's order."""
    out = np.empty(rotations.shape[:2] + (3,))
    for order in sorted(set(orders)):
        cols = [j for j, o in enumerate(orders) if o == order]
        out[:, cols] = continuous(euler_radians_exact(rotations[:, cols], order))
    return np.degrees(out)


def report(progress: Progress | None, fraction: float) -> None:
    if progress is not None:
        progress(min(1.0, max(0.0, float(fraction))))

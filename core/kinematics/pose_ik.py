"""Posing by dragging: two-bone arm IK and finger-chain IK within anatomical limits, one frame.

- ``arm_ik``: the wrist goes to a target. The elbow is a hinge (``anatomy`` limits its flexion),
  solved in closed form for the shoulder-wrist distance; the shoulder turns the whole arm onto
  the target with the smallest rotation, then by ``swivel`` about the shoulder-wrist axis (the
  elbow-swivel handle: the wrist stays put while the elbow circles). Where that breaks the
  shoulder's limits (``anatomy.SHOULDER_CONE``, twist), the nearest swivel that keeps them is
  taken; where none does (a target behind the back), the shoulder is clamped to its limits and
  the elbow bends to bring the wrist as close as it can: the wrist falls short, the arm is not
  contorted. The hand keeps its world
  orientation (``hold_wrist``, clamped to the wrist's limits) or follows the forearm.
- ``finger_ik``: a fingertip goes to a target. Flexion of the three joints and the base
  joint's abduction are fitted by bounded least squares within the finger's limits; twists are
  kept. The wrist does not move.
Poses are one frame: local rotations (J, 3, 3), root translation (3,).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.skeleton import FINGERS, N_BODY, N_HAND, Skeleton
from .anatomy import clamp_rotation, from_params, joint_params, shoulder_excess, to_params
from .fk import forward_kinematics
from .ik_geometry import axis_angle, normalize, swing


@dataclass(frozen=True)
class PoseChange:
    """Joints whose local rotations changed, and their new rotations (n, 3, 3) float32."""

    joints: tuple[int, ...]
    rotations: np.ndarray
    reached: float  # metres left between the effector and its target


def _world(skeleton: Skeleton, rot: np.ndarray, transl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    wr, wp = forward_kinematics(skeleton, rot[None], np.asarray(transl, float)[None])
    return wr[0], wp[0]


def _hinge_angle(c: np.ndarray, w: np.ndarray, h: np.ndarray, d: float, lo: float, hi: float) -> float:
    """Angle (radians, within [lo, hi]) about unit h with |c + R_h(angle) w| as close to d as
    the range allows. |c + R w|^2 = |c|^2 + |w|^2 + 2 (K cos + L sin + M) (Rodrigues)."""
    hc, hw = float(h @ c), float(h @ w)
    k = float(c @ w) - hc * hw
    l_ = float(c @ np.cross(h, w))
    m = hc * hw
    n = (d * d - c @ c - w @ w) / 2.0 - m
    amp = max(np.hypot(k, l_), 1e-12)
    phase = np.arctan2(l_, k)
    base = np.arccos(np.clip(n / amp, -1.0, 1.0))
    cands = [phase + base, phase - base]
    cands = [float((a + np.pi) % (2 * np.pi) - np.pi) for a in cands]
    inside = [a for a in cands if lo <= a <= hi]
    if inside:
        return min(inside)  # the other root, if also inside, is the same reach with more bend
    # unreachable within the limits: the end of the range that comes closest
    dist = lambda a: abs(np.linalg.norm(c + axis_angle(h, a) @ w) - d)  # noqa: E731
    return min((lo, hi), key=dist)


# the elbow's swivel is searched on this grid when the requested one breaks the shoulder's limits
_SWIVELS = np.radians(np.arange(1.0, 180.0, 1.0))


def _shoulder_within_limits(
    skeleton: Skeleton, sh: int, parent_inv: np.ndarray, world: np.ndarray, aim: np.ndarray, reach
) -> np.ndarray:
    """The shoulder's local rotation (3, 3) for the arm's world rotation ``world``: as it is when
    within the shoulder's limits, else turned about the shoulder -> target axis ``aim`` (the
    elbow swivels, the wrist stays on target) by the smallest angle that brings it within them,
    else (no swivel does: a target behind the back) the swivel whose clamped shoulder lets the
    wrist come closest (``reach``: local shoulder rotations (n, 3, 3) -> best distances (n,))."""
    jp = joint_params(skeleton, sh)
    local = parent_inv @ world
    if jp is None or jp.limits is None:
        return local
    if not any(shoulder_excess(to_params(jp, local))):
        return local
    # both directions at once, nearest first: +1, -1, +2, -2, ... degrees
    angles = np.concatenate([[0.0], np.stack([_SWIVELS, -_SWIVELS], 1).reshape(-1), [np.pi]])
    cands = parent_inv @ axis_angle(aim, angles) @ world
    over, twist_over = shoulder_excess(to_params(jp, cands))
    ok = np.flatnonzero((over <= 0.0) & (twist_over <= 0.0))
    if len(ok):
        return cands[ok[0]]
    clamped = clamp_rotation(jp, cands)
    return clamped[int(np.argmin(reach(clamped)))]


def _elbow_toward(
    c: np.ndarray, w: np.ndarray, h: np.ndarray, t: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """The elbow flexions (n,) radians within [lo, hi] bringing the wrist closest to targets
    ``t`` (n, 3) in the shoulder's frame (|c + R w - t|, a fine grid then a finer one), and those
    distances (n,)."""
    a = np.linspace(lo, hi, 151)
    pts = c + axis_angle(h, a) @ w  # (151, 3)
    best = a[np.argmin(np.linalg.norm(pts[None] - t[:, None], axis=-1), 1)]
    step = (hi - lo) / 150
    fine = np.clip(best[:, None] + np.linspace(-step, step, 21), lo, hi)  # (n, 21)
    pts = c + axis_angle(h, fine) @ w  # (n, 21, 3)
    dist = np.linalg.norm(pts - t[:, None], axis=-1)
    k = np.argmin(dist, 1)
    idx = np.arange(len(t))
    return fine[idx, k], dist[idx, k]


def arm_ik(
    skeleton: Skeleton,
    rotations: np.ndarray,
    translation: np.ndarray,
    side: str,
    target: np.ndarray,
    *,
    swivel: float = 0.0,
    hold_wrist: bool = True,
) -> PoseChange:
    """Move the ``side`` wrist to world point ``target`` (3,): new shoulder, elbow (and wrist when
    ``hold_wrist``) local rotations. ``swivel``: radians about the shoulder -> wrist axis."""
    rot = np.asarray(rotations, np.float64)
    sh, el, wr_ = (skeleton.index(f"{side}_{n}") for n in ("shoulder", "elbow", "wrist"))
    world_r, world_p = _world(skeleton, rot, translation)
    jp = joint_params(skeleton, el)
    assert jp is not None and jp.limits is not None
    # the elbow as a pure hinge about its flexion axis z' (mirrored for the right arm)
    hinge_local = jp.frame[:, 2] * (np.array([1.0, -1.0, -1.0]) if jp.mirrored else 1.0)
    lo, hi = np.radians(jp.limits[0])
    c = skeleton.offsets[el]  # shoulder -> elbow, shoulder frame
    w = skeleton.offsets[wr_]  # elbow -> wrist, elbow frame
    s_pos = world_p[sh]
    to_t = np.asarray(target, float) - s_pos
    d = float(np.linalg.norm(to_t))
    flex = _hinge_angle(c, w, hinge_local, d, float(lo), float(hi))
    elbow = axis_angle(hinge_local, np.asarray(flex))
    u = c + elbow @ w  # shoulder -> wrist in the shoulder's frame with the new elbow
    parent_r = world_r[skeleton.parents[sh]]
    cur = world_r[sh] @ normalize(u)  # where that wrist would be with the shoulder as it is
    aim = normalize(to_t)
    turn = swing(cur, aim, normalize(np.cross(cur, [0.0, 1.0, 0.0]) + 1e-9))
    arm = axis_angle(aim, np.asarray(swivel)) @ turn @ world_r[sh]
    reach = lambda locs: _elbow_toward(c, w, hinge_local, to_t @ parent_r @ locs, float(lo), float(hi))[1]  # noqa: E731
    shoulder = _shoulder_within_limits(skeleton, sh, parent_r.T, arm, aim, reach)
    shoulder_world = parent_r @ shoulder
    if not np.allclose(shoulder_world @ u, np.linalg.norm(u) * aim, atol=1e-6):
        # clamped: the elbow bends to bring the wrist as close as it can
        t_local = (shoulder_world.T @ to_t)[None]
        elbow = axis_angle(hinge_local, _elbow_toward(c, w, hinge_local, t_local, float(lo), float(hi))[0][0])
    out_j = [sh, el]
    out_r = [shoulder, elbow]
    if hold_wrist:
        wrist = (shoulder_world @ elbow).T @ world_r[wr_]
        wjp = joint_params(skeleton, wr_)
        if wjp is not None and wjp.limits is not None:
            # within the limits, widened to where the wrist already was: a recorded wrist past
            # a limit keeps the hand's orientation instead of snapping, and IK adds no violation
            was = to_params(wjp, rot[wr_])
            lo_ = np.minimum([a for a, _ in wjp.limits], was)
            hi_ = np.maximum([b for _, b in wjp.limits], was)
            wrist = from_params(wjp, np.clip(to_params(wjp, wrist), lo_, hi_))
        out_j.append(wr_)
        out_r.append(wrist)
    new = rot.copy()
    new[out_j] = out_r
    _, p = _world(skeleton, new, translation)
    return PoseChange(tuple(out_j), np.asarray(out_r, np.float32), float(np.linalg.norm(p[wr_] - target)))


def _rot(a: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues for one unit axis (3,) and one angle: (3, 3) (the batched ``axis_angle`` costs
    ~70 us a call; a finger solve makes hundreds)."""
    c, s = np.cos(angle), np.sin(angle)
    x, y, z = a
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return c * np.eye(3) + s * k + (1.0 - c) * np.outer(a, a)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def finger_joints(skeleton: Skeleton, side: str, finger: str) -> list[int]:
    """The three joints of one finger, base first."""
    start = N_BODY + (0 if side == "left" else N_HAND) + 3 * FINGERS.index(finger)
    return [start, start + 1, start + 2]


def finger_of(skeleton: Skeleton, joint: int) -> tuple[str, str] | None:
    """(side, finger) of a finger joint, else None."""
    if not N_BODY <= joint < N_BODY + 2 * N_HAND:
        return None
    side, rest = skeleton.names[joint].split("_", 1)
    return side, rest[:-1]


def fingertip(skeleton: Skeleton, world_r: np.ndarray, world_p: np.ndarray, last: int) -> np.ndarray:
    """(3,) world position of the end site of the finger's last joint."""
    return world_p[last] + world_r[last] @ skeleton.tips[last]


def finger_ik(
    skeleton: Skeleton,
    rotations: np.ndarray,
    translation: np.ndarray,
    side: str,
    finger: str,
    target: np.ndarray,
    *,
    iterations: int = 40,
    move_wrist: bool = False,
) -> PoseChange:
    """Move a fingertip to world point ``target`` (3,) within the limits: flexion of the finger's
    three joints and abduction of its base, twists and the other fingers kept. The wrist stays
    (its orientation held) unless ``move_wrist``: then its flexion and abduction join in, within
    the wrist's limits, for targets the finger alone cannot reach (the wrist is the costlier
    move: its angles count double in the damped steps). ``iterations``: at most this many
    Levenberg-Marquardt steps (a drag, started from its previous step, needs a few)."""
    rot = np.asarray(rotations, np.float64)
    joints = finger_joints(skeleton, side, finger)
    wrist = skeleton.parents[joints[0]]
    chain_joints = ([wrist] if move_wrist else []) + joints
    world_r, world_p = _world(skeleton, rot, translation)
    base_parent = skeleton.parents[chain_joints[0]]
    pr, pp = world_r[base_parent], world_p[base_parent]
    jps = [joint_params(skeleton, j) for j in chain_joints]
    assert all(jp is not None and jp.limits is not None for jp in jps)
    params = np.stack([to_params(jp, rot[j]) for jp, j in zip(jps, chain_joints)])  # type: ignore[arg-type]
    # the free parameters: (joint in the chain, 0 flexion / 1 abduction)
    n0 = 1 if move_wrist else 0  # where the finger starts in the chain
    free_p = ([(0, 0), (0, 1)] if move_wrist else []) + [(n0, 0), (n0, 1), (n0 + 1, 0), (n0 + 2, 0)]
    lims = [jp.limits for jp in jps]  # type: ignore[union-attr]
    lo = np.array([lims[i][k][0] for i, k in free_p])  # type: ignore[index]
    hi = np.array([lims[i][k][1] for i, k in free_p])  # type: ignore[index]
    weight = np.array([2.0 if (move_wrist and i == 0) else 1.0 for i, _ in free_p])
    x = np.clip(np.array([params[i, k] for i, k in free_p]), lo, hi)
    tgt = np.asarray(target, float)
    flip = np.array([1.0, -1.0, -1.0])
    axes = [(jp.frame * (flip[:, None] if jp.mirrored else 1.0)) for jp in jps]  # type: ignore[union-attr]

    def chain(x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Local rotations, the tip, and the world axes of the free parameters with their pivots."""
        p = params.copy()
        for v, (i, k) in zip(x, free_p):
            p[i, k] = v
        p = np.radians(p)
        r, pos = pr, pp
        locs, w_axes, pivots = [], [], []
        for i, j in enumerate(chain_joints):
            a = axes[i]
            rz = _rot(a[:, 2], p[i, 0])
            loc = rz @ _rot(a[:, 1], p[i, 1]) @ _rot(a[:, 0], p[i, 2])
            pos = pos + r @ skeleton.offsets[j]
            for ii, k in free_p:
                if ii == i:
                    w_axes.append(r @ a[:, 2] if k == 0 else r @ rz @ a[:, 1])
                    pivots.append(pos)
            r = r @ loc
            locs.append(loc)
        return locs, pos + r @ skeleton.tips[joints[-1]], w_axes, pivots

    # Levenberg-Marquardt with the analytic Jacobian (d tip / d angle about a world axis through
    # a pivot = axis x (tip - pivot)), clipped to the limits; a step is kept only if it helps
    _, tip, w_axes, pivots = chain(x)
    err = tip - tgt
    mu = 1e-2
    for _ in range(iterations):
        if np.linalg.norm(err) < 1e-5:
            break
        jac = np.stack([_cross(a, tip - q) for a, q in zip(w_axes, pivots)], 1) * (np.pi / 180.0)
        grad = jac.T @ err
        free = ~(((x <= lo) & (grad > 0)) | ((x >= hi) & (grad < 0)))
        if not free.any():
            break
        jf = jac[:, free] / weight[free]  # in weighted units: a costly angle takes smaller steps
        jtj = jf.T @ jf
        scale = np.trace(jtj) / len(jtj) + 1e-12
        step = np.zeros(len(x))
        step[free] = -np.linalg.solve(jtj + mu * scale * np.eye(len(jtj)), jf.T @ err) / weight[free]
        x_new = np.clip(x + np.clip(step, -20.0, 20.0), lo, hi)
        _, tip_n, axes_n, piv_n = chain(x_new)
        gain = np.linalg.norm(err) - np.linalg.norm(tip_n - tgt)
        if gain > 0:
            x, tip, w_axes, pivots, err = x_new, tip_n, axes_n, piv_n, tip_n - tgt
            mu = max(mu / 3.0, 1e-6)
            if gain < 1e-6:  # a micron a step: as close as the limits let it get
                break
        else:
            mu *= 4.0
            if mu > 1e6:
                break
    locs, tip, _, _ = chain(x)
    return PoseChange(tuple(chain_joints), np.asarray(locs, np.float32), float(np.linalg.norm(tip - tgt)))

"""A procedurally built low-poly signer, sized from the skeleton's rest pose.

Every body part is a closed tube of elliptical (or rounded-box) rings swept along its bones:
torso, neck, head (with nose and eyes, so the facing is readable), upper arms and forearms in
sleeves, palms, three segments per finger and thumb with rounded tips, legs and feet. Rings
take their skin weights from their distance along the bone chain: a bone moves with the joint
at its start, and within a short blend zone around each joint the two neighbouring joints
share the weight (half and half at the joint centre). A few regions get extra per-vertex
blending: the shoulder tops follow the collars, the knuckle end of the palm follows the nearest
fingers.

Radii are for the template's 1.70 m adult and scale with the skeleton's height (body) and hand
length (hands). Rest pose: T-pose, Y up, facing +Z, the subject's left on +X.
"""

from __future__ import annotations

import numpy as np

from ..model.skeleton import JOINT_INDEX, Skeleton
from ..model.template import TEMPLATE
from .mesh import Avatar

MATERIALS = (
    ("skin", (0.87, 0.69, 0.57)),
    ("shirt", (0.16, 0.24, 0.38)),
    ("trousers", (0.13, 0.13, 0.16)),
    ("eyes", (0.06, 0.06, 0.08)),
)
SKIN, SHIRT, TROUSERS, EYES = range(4)
MAX_INFLUENCES = 4


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _smoothstep(a: float, b: float, x) -> np.ndarray:
    t = np.clip((np.asarray(x, dtype=np.float64) - a) / (b - a), 0.0, 1.0)
    return t * t * (3 - 2 * t)


class _Builder:
    """Collects closed parts: vertices, faces, dense weights (V, J), face materials."""

    def __init__(self, n_joints: int) -> None:
        self.j = n_joints
        self.verts: list[np.ndarray] = []
        self.weights: list[np.ndarray] = []
        self.faces: list[np.ndarray] = []
        self.mats: list[np.ndarray] = []
        self.parts: list[tuple[str, int, int]] = []
        self.count = 0

    def tube(
        self,
        name: str,
        rings: list[np.ndarray],
        ring_weights: list[np.ndarray],
        start_cap: tuple[np.ndarray, np.ndarray],
        end_cap: tuple[np.ndarray, np.ndarray],
        material: int,
    ) -> None:
        """rings: R arrays (n, 3); ring_weights: R arrays (n, J); caps: (point (3,), weights (J,))."""
        n = rings[0].shape[0]
        r = len(rings)
        verts = np.concatenate(rings + [start_cap[0][None], end_cap[0][None]])
        weights = np.concatenate(ring_weights + [start_cap[1][None], end_cap[1][None]])
        k = np.arange(n)
        k1 = (k + 1) % n
        faces = []
        for i in range(r - 1):
            a, b = i * n + k, i * n + k1
            c, d = (i + 1) * n + k1, (i + 1) * n + k
            faces += [np.stack([a, b, c], 1), np.stack([a, c, d], 1)]
        s, e = r * n, r * n + 1
        faces.append(np.stack([np.full(n, s), k1, k], 1))
        faces.append(np.stack([np.full(n, e), (r - 1) * n + k, (r - 1) * n + k1], 1))
        faces = np.concatenate(faces)
        if _signed_volume(verts, faces) < 0:  # orientation depends on the ring frame's handedness
            faces = faces[:, ::-1]
        self._add(name, verts, weights, faces, material)

    def _add(self, name, verts, weights, faces, material) -> None:
        self.parts.append((name, self.count, self.count + len(verts)))
        self.verts.append(verts)
        self.weights.append(weights)
        self.faces.append(faces + self.count)
        self.mats.append(np.full(len(faces), material, np.int32))
        self.count += len(verts)

    def build(self, rest_joints: np.ndarray) -> Avatar:
        verts = np.concatenate(self.verts)
        dense = np.concatenate(self.weights)
        dense = np.where(dense > 1e-4, dense, 0.0)
        top = np.argsort(-dense, axis=1)[:, :MAX_INFLUENCES]
        w = np.take_along_axis(dense, top, axis=1)
        w = w / w.sum(axis=1, keepdims=True)
        order = np.argsort(-w, axis=1)
        top = np.take_along_axis(top, order, axis=1)
        w = np.take_along_axis(w, order, axis=1)
        top = np.where(w > 0, top, top[:, :1])  # unused slots point at the main joint, weight 0
        return Avatar(
            vertices=verts.astype(np.float32),
            faces=np.concatenate(self.faces).astype(np.int32),
            joints=top.astype(np.int32),
            weights=w.astype(np.float32),
            rest_joints=rest_joints.copy(),
            face_materials=np.concatenate(self.mats),
            materials=MATERIALS,
            parts=tuple(self.parts),
        )


def _signed_volume(v: np.ndarray, f: np.ndarray) -> float:
    return float(np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])).sum() / 6.0)


def _ring(center, t, ref, r1: float, r2: float, n: int, power: float = 2.0) -> np.ndarray:
    """(n, 3) points of a (super)ellipse around ``center`` in the plane normal to ``t``.

    r1 lies along ``ref`` made perpendicular to t, r2 along t x ref. ``power`` > 2 squares it off.
    """
    t = _unit(t)
    e1 = _unit(np.asarray(ref, float) - np.dot(ref, t) * t)
    e2 = np.cross(t, e1)
    th = np.linspace(0, 2 * np.pi, n, endpoint=False)
    c, s = np.cos(th), np.sin(th)
    c = np.sign(c) * np.abs(c) ** (2 / power)
    s = np.sign(s) * np.abs(s) ** (2 / power)
    return np.asarray(center, float) + np.outer(r1 * c, e1) + np.outer(r2 * s, e2)


class _Chain:
    """Skin weights by position along a chain of bones (see the module docstring).

    joints: the chain's joints in order; bone k runs from joint k to joint k+1 (the last one to
    ``end``) and moves with joint k. ``before`` drives anything before the first joint.
    """

    def __init__(
        self, n_joints: int, positions: np.ndarray, joints: list[int], end: np.ndarray, before: int | None, blend: float
    ) -> None:
        self.n = n_joints
        self.points = np.concatenate([positions[joints], np.asarray(end, float)[None]])
        self.drivers = list(joints)
        self.before = before if before is not None else joints[0]
        self.blend = blend
        seg = np.linalg.norm(np.diff(self.points, axis=0), axis=1)
        self.u = np.concatenate([[0.0], np.cumsum(seg)])

    def at(self, u: float) -> np.ndarray:
        """(J,) weights at arc length u (metres from the first joint; negative = before it)."""
        w = np.zeros(self.n)
        k = int(np.clip(np.searchsorted(self.u, u, side="right") - 1, 0, len(self.drivers) - 1))
        main = self.drivers[k]
        w[main] = 1.0
        h = self.blend
        d0 = u - self.u[k]
        if d0 < h:  # near the joint the bone starts at: share with the previous driver
            a = float(np.clip(0.5 * (1 - d0 / h), 0.0, 1.0))
            w[main] -= a
            w[self.drivers[k - 1] if k > 0 else self.before] += a
        if k + 1 < len(self.drivers) and self.u[k + 1] - u < h:  # near the next joint
            a = float(np.clip(0.5 * (1 - (self.u[k + 1] - u) / h), 0.0, 0.5))
            w[main] -= a
            w[self.drivers[k + 1]] += a
        w = np.clip(w, 0.0, None)
        return w / w.sum()

    def point(self, u: float) -> np.ndarray:
        """Position at arc length u (extrapolated past the ends along the end bones)."""
        k = int(np.clip(np.searchsorted(self.u, u, side="right") - 1, 0, len(self.u) - 2))
        d = self.points[k + 1] - self.points[k]
        length = np.linalg.norm(d)
        return self.points[k] + d * ((u - self.u[k]) / length if length > 0 else 0.0)

    def direction(self, u: float) -> np.ndarray:
        k = int(np.clip(np.searchsorted(self.u, u, side="right") - 1, 0, len(self.u) - 2))
        return _unit(self.points[k + 1] - self.points[k])

    @property
    def length(self) -> float:
        return float(self.u[-1])


def _sweep(
    b: _Builder,
    name: str,
    chain: _Chain,
    stations: list[tuple[float, float, float]],
    ref,
    n: int,
    material: int,
    power: float = 2.0,
    cap: tuple[float, float] = (0.5, 0.5),
    weight_fn=None,
) -> None:
    """A tube along ``chain``: stations (u, r1, r2) in metres; r1 along ``ref``.

    cap: how far each end's pole sticks out, as a fraction of that end's radius (1 = round).
    weight_fn(points (n, 3), ring weights (n, J)) -> adjusted weights, for per-vertex blending.
    """
    rings, weights = [], []
    for u, r1, r2 in stations:
        t = chain.direction(min(max(u, 0.0), chain.length - 1e-9))
        ring = _ring(chain.point(u), t, ref, r1, r2, n, power)
        w = np.repeat(chain.at(u)[None], n, axis=0)
        if weight_fn is not None:
            w = weight_fn(ring, w)
        rings.append(ring)
        weights.append(w)
    u0, r10, r20 = stations[0]
    u1, r11, r21 = stations[-1]
    p0 = chain.point(u0) - chain.direction(max(u0, 0.0)) * cap[0] * max(r10, r20)
    p1 = chain.point(u1) + chain.direction(min(u1, chain.length - 1e-9)) * cap[1] * max(r11, r21)
    w0 = weights[0].mean(axis=0)
    w1 = weights[-1].mean(axis=0)
    b.tube(name, rings, weights, (p0, w0), (p1, w1), material)


def _round_end(u_end: float, r1: float, r2: float, steps: int = 3) -> list[tuple[float, float, float]]:
    """Stations closing a tube end as a half ellipsoid (after the station at u_end)."""
    out = []
    r = max(r1, r2)
    for a in np.linspace(0, np.pi / 2, steps + 1)[1:-1]:
        out.append((u_end + r * np.sin(a), r1 * np.cos(a), r2 * np.cos(a)))
    return out


def _sphere(
    b: _Builder, name: str, center, radii, joint: int, n_joints: int, material: int, n: int = 16, rings: int = 10
) -> None:
    """An ellipsoid (rx, ry, rz) around ``center``, rigidly on ``joint``."""
    center = np.asarray(center, float)
    rx, ry, rz = radii
    w = np.zeros(n_joints)
    w[joint] = 1.0
    phis = np.linspace(-np.pi / 2, np.pi / 2, rings + 1)[1:-1]
    ring_pts = [
        _ring(center + [0, ry * np.sin(p), 0], [0, 1, 0], [1, 0, 0], rx * np.cos(p), rz * np.cos(p), n) for p in phis
    ]
    ww = [np.repeat(w[None], n, axis=0) for _ in phis]
    b.tube(name, ring_pts, ww, (center - [0, ry, 0], w), (center + [0, ry, 0], w), material)


def build_body(skeleton: Skeleton = TEMPLATE) -> Avatar:
    """The default signer for ``skeleton`` (our 52-joint layout)."""
    J = JOINT_INDEX
    nj = skeleton.n_joints
    if tuple(skeleton.names[: len(J)]) != tuple(J):
        raise ValueError("the avatar is built for Signframe's 52-joint skeleton")
    P = skeleton.rest_positions()
    tips = P + skeleton.tips
    tp = TEMPLATE.rest_positions()
    template_height = TEMPLATE.tips[J["head"]][1] + tp[J["head"]][1] - tp[J["left_ankle"]][1]
    height = (tips[J["head"]][1] - P[J["left_ankle"]][1]) / template_height
    hand_len = np.linalg.norm(tips[J["left_middle3"]] - P[J["left_wrist"]])
    hand = hand_len / np.linalg.norm((tp + TEMPLATE.tips)[J["left_middle3"]] - tp[J["left_wrist"]])
    S = float(height) if np.isfinite(height) and height > 0 else 1.0
    H = float(hand) if np.isfinite(hand) and hand > 0 else 1.0
    b = _Builder(nj)
    up, fwd = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])

    _torso(b, P, J, nj, S)
    # --- neck and head -----------------------------------------------------------------------
    neck = _Chain(nj, P, [J["spine3"], J["neck"], J["head"]], tips[J["head"]], None, 0.03 * S)
    u_neck = neck.u[1]
    _sweep(
        b,
        "neck",
        neck,
        [
            (u_neck - 0.03 * S, 0.052 * S, 0.05 * S),
            (u_neck, 0.05 * S, 0.048 * S),
            (neck.u[2], 0.047 * S, 0.045 * S),
            (neck.u[2] + 0.03 * S, 0.045 * S, 0.043 * S),
        ],
        fwd,
        12,
        SKIN,
    )
    head = P[J["head"]]
    head_top = tips[J["head"]][1]
    ry = 0.112 * S
    hc = np.array([head[0], head_top - ry, head[2] + 0.015 * S])
    _sphere(b, "head", hc, (0.078 * S, ry, 0.096 * S), J["head"], nj, SKIN, n=20, rings=12)
    _nose(b, hc, S, J["head"], nj)
    for side in (1, -1):
        eye = hc + np.array([side * 0.031, 0.018, 0.083]) * S
        _sphere(
            b,
            f"{'left' if side > 0 else 'right'}_eye",
            eye,
            (0.011 * S, 0.008 * S, 0.008 * S),
            J["head"],
            nj,
            EYES,
            n=10,
            rings=6,
        )

    for side in ("left", "right"):
        sx = 1.0 if side == "left" else -1.0
        # --- arm in a sleeve: shoulder -> elbow -> wrist --------------------------------------
        arm = _Chain(nj, P, [J[f"{side}_shoulder"], J[f"{side}_elbow"]], P[J[f"{side}_wrist"]], None, 0.05 * S)
        ue, uw = arm.u[1], arm.u[2]
        _sweep(
            b,
            f"{side}_arm",
            arm,
            [
                (0.0, 0.048 * S, 0.05 * S),
                (0.15 * ue, 0.048 * S, 0.05 * S),
                (0.5 * ue, 0.045 * S, 0.046 * S),
                (0.85 * ue, 0.04 * S, 0.041 * S),
                (ue, 0.038 * S, 0.04 * S),
                (ue + 0.15 * (uw - ue), 0.037 * S, 0.042 * S),
                (ue + 0.5 * (uw - ue), 0.032 * S, 0.038 * S),
                (ue + 0.85 * (uw - ue), 0.024 * S, 0.031 * S),
                (uw - 0.005 * S, 0.022 * S, 0.03 * S),
            ],
            up,
            12,
            SHIRT,
            cap=(0.4, 0.3),
        )
        _hand(b, side, sx, P, tips, J, nj, H)
        # --- leg and foot -------------------------------------------------------------------
        leg = _Chain(nj, P, [J[f"{side}_hip"], J[f"{side}_knee"]], P[J[f"{side}_ankle"]], J["pelvis"], 0.06 * S)
        uk, ua = leg.u[1], leg.u[2]
        _sweep(
            b,
            f"{side}_leg",
            leg,
            [
                (-0.03 * S, 0.072 * S, 0.075 * S),
                (0.0, 0.075 * S, 0.078 * S),
                (0.4 * uk, 0.066 * S, 0.066 * S),
                (0.85 * uk, 0.05 * S, 0.05 * S),
                (uk, 0.048 * S, 0.047 * S),
                (uk + 0.3 * (ua - uk), 0.05 * S, 0.048 * S),
                (uk + 0.75 * (ua - uk), 0.036 * S, 0.036 * S),
                (ua, 0.032 * S, 0.032 * S),
            ],
            fwd,
            12,
            TROUSERS,
            cap=(0.6, 0.5),
        )
        _foot(b, side, P, tips, J, nj, S)
    return b.build(P)


def _torso(b: _Builder, P: np.ndarray, J: dict, nj: int, S: float) -> None:
    """Torso: rings along the spine (height-based weights), shoulder tops on the collars."""
    y = lambda name: P[J[name]][1]  # noqa: E731
    spine = _Chain(nj, P, [J["pelvis"], J["spine1"], J["spine2"], J["spine3"], J["neck"]], P[J["head"]], None, 0.05 * S)
    sh_x = 0.5 * (P[J["left_shoulder"]][0] - P[J["right_shoulder"]][0])
    sh_y = 0.5 * (y("left_shoulder") + y("right_shoulder"))
    hip_y = 0.5 * (y("left_hip") + y("right_hip"))
    profile = [  # (height, half width, half depth)
        (hip_y - 0.045 * S, 0.150 * S, 0.092 * S),
        (y("pelvis"), 0.163 * S, 0.105 * S),
        (y("spine1"), 0.143 * S, 0.095 * S),
        (y("spine2"), 0.150 * S, 0.100 * S),
        (y("spine3"), 0.162 * S, 0.106 * S),
        (sh_y - 0.07 * S, sh_x - 0.005 * S, 0.100 * S),
        (sh_y - 0.005 * S, sh_x - 0.005 * S, 0.086 * S),
        (sh_y + 0.025 * S, sh_x - 0.03 * S, 0.070 * S),
        (sh_y + 0.045 * S, 0.085 * S, 0.060 * S),
        (max(y("neck"), sh_y + 0.045 * S) + 0.012 * S, 0.058 * S, 0.054 * S),
    ]
    profile.sort(key=lambda p: p[0])
    heights = np.array([p[0] for p in profile])
    spine_y = spine.points[:, 1]
    rings, weights = [], []
    for h, rx, rz in profile:
        # height -> arc length along the (nearly vertical) spine chain
        u = float(np.interp(h, spine_y, spine.u, left=h - spine_y[0], right=spine.u[-1]))
        c = spine.point(u)
        ring = _ring([c[0], h, c[2] + 0.005 * S], [0, 1, 0], [1, 0, 0], rx, rz, 24, power=2.6)
        w = np.repeat(spine.at(u)[None], len(ring), axis=0)
        ax = np.abs(ring[:, 0])
        left = ring[:, 0] > 0
        # shoulder tops go with the collars
        wc = 0.85 * _smoothstep(0.06 * S, 0.15 * S, ax) * _smoothstep(y("spine3") + 0.03 * S, sh_y - 0.02 * S, h)
        # hips: the lower outer torso follows the thighs a little
        wh = 0.35 * _smoothstep(0.03 * S, 0.11 * S, ax) * _smoothstep(y("pelvis") - 0.01 * S, hip_y - 0.04 * S, h)
        w *= (1 - wc - wh)[:, None]
        for side_mask, side in ((left, "left"), (~left, "right")):
            w[side_mask, J[f"{side}_collar"]] += wc[side_mask]
            w[side_mask, J[f"{side}_hip"]] += wh[side_mask]
        rings.append(ring)
        weights.append(w)
    lo, hi = heights[0], heights[-1]
    bottom = spine.point(float(np.interp(lo, spine_y, spine.u, left=lo - spine_y[0])))
    wb, wt = weights[0].mean(0), weights[-1].mean(0)
    b.tube(
        "torso",
        rings,
        weights,
        (np.array([bottom[0], lo - 0.03 * S, bottom[2]]), wb),
        (np.array([0.0, hi + 0.004 * S, P[J["neck"]][2]]), wt),
        SHIRT,
    )


def _nose(b: _Builder, hc: np.ndarray, S: float, joint: int, nj: int) -> None:
    w = np.zeros(nj)
    w[joint] = 1.0
    base = hc + np.array([0.0, -0.005, 0.080]) * S
    fwd = np.array([0.0, -0.25, 1.0])
    rings = [
        _ring(base, fwd, [0, 1, 0], 0.014 * S, 0.011 * S, 8),
        _ring(base + _unit(fwd) * 0.016 * S, fwd, [0, 1, 0], 0.011 * S, 0.009 * S, 8),
    ]
    tip = base + _unit(fwd) * 0.028 * S
    ww = [np.repeat(w[None], 8, axis=0)] * 2
    b.tube("nose", rings, ww, (base - _unit(fwd) * 0.004 * S, w), (tip, w), SKIN)


FINGER_RADII = {  # (proximal, middle, distal, tip) radius, metres, template hand
    "index": (0.0100, 0.0090, 0.0082, 0.0074),
    "middle": (0.0103, 0.0093, 0.0085, 0.0076),
    "ring": (0.0097, 0.0088, 0.0080, 0.0072),
    "pinky": (0.0086, 0.0078, 0.0072, 0.0066),
    "thumb": (0.0150, 0.0118, 0.0102, 0.0090),
}


def _hand(b: _Builder, side: str, sx: float, P: np.ndarray, tips: np.ndarray, J: dict, nj: int, H: float) -> None:
    wrist = P[J[f"{side}_wrist"]]
    palm_up = np.array([0.0, 1.0, 0.0])  # back of the hand in the rest pose (palms down)
    mcps = {f: P[J[f"{side}_{f}1"]] for f in ("index", "middle", "ring", "pinky")}
    fwd = _unit(mcps["middle"] - wrist)
    across = _unit(np.cross(fwd, palm_up))  # left hand: towards -Z... (sign irrelevant below)
    length = float(np.dot(mcps["middle"] - wrist, fwd))
    lat = {f: float(np.dot(m - wrist, across)) for f, m in mcps.items()}
    lat_mid = 0.5 * (max(lat.values()) + min(lat.values()))
    half_w = 0.5 * (max(lat.values()) - min(lat.values())) + 0.0105 * H
    palm = _Chain(nj, P, [J[f"{side}_wrist"]], wrist + fwd * (length + 0.02 * H), J[f"{side}_elbow"], 0.012 * H)
    finger_joint = {f: J[f"{side}_{f}1"] for f in mcps}

    def knuckles(ring: np.ndarray, w: np.ndarray) -> np.ndarray:
        s = (ring - wrist) @ fwd / length  # 0 at the wrist, 1 at the knuckle line
        share = 0.5 * _smoothstep(0.6, 1.08, s)
        l = (ring - wrist) @ across
        d = np.stack([np.abs(l - lat[f]) + 0.004 * H for f in mcps], 1)
        near = 1.0 / d**2
        near /= near.sum(1, keepdims=True)
        w = w * (1 - share)[:, None]
        for k, f in enumerate(mcps):
            w[:, finger_joint[f]] += share * near[:, k]
        return w

    stations = []
    for s, wid, thick in (
        (-0.02, 0.70, 0.95),
        (0.25, 0.82, 1.0),
        (0.55, 0.97, 0.92),
        (0.85, 1.0, 0.85),
        (1.0, 0.97, 0.8),
        (1.06, 0.9, 0.7),
    ):
        stations.append((s * length, thick * 0.0165 * H, wid * half_w))
    # offset the palm's rings sideways to the knuckle line's middle, and a bit below the bones
    rings, weights = [], []
    for u, r1, r2 in stations:
        frac = np.clip(u / length, 0, 1)
        c = wrist + fwd * u + across * (lat_mid * frac) - palm_up * 0.002 * H
        ring = _ring(c, fwd, palm_up, r1, r2, 16, power=3.0)
        rings.append(ring)
        weights.append(knuckles(ring, np.repeat(palm.at(u)[None], 16, axis=0)))
    start = wrist - fwd * 0.03 * length - palm_up * 0.002 * H
    end = wrist + fwd * (1.06 * length + 0.006 * H) + across * lat_mid
    b.tube(f"{side}_palm", rings, weights, (start, weights[0].mean(0)), (end, weights[-1].mean(0)), SKIN)

    for f in ("index", "middle", "ring", "pinky", "thumb"):
        js = [J[f"{side}_{f}{k}"] for k in (1, 2, 3)]
        tip = tips[js[2]]
        ch = _Chain(nj, P, js, tip, J[f"{side}_wrist"], (0.006 if f != "thumb" else 0.01) * H)
        r = [x * H for x in FINGER_RADII[f]]
        u1, u2, u3 = ch.u[1], ch.u[2], ch.u[3]
        st = [
            (-0.012 * H if f != "thumb" else -0.006 * H, r[0], r[0] * 1.05),
            (0.0, r[0], r[0] * 1.05),
            (0.5 * u1, r[0] * 0.93, r[0]),
            (u1, r[1] * 0.95, r[1]),
            (0.5 * (u1 + u2), r[1] * 0.88, r[1] * 0.95),
            (u2, r[2] * 0.92, r[2]),
            (0.5 * (u2 + u3), r[2] * 0.86, r[2] * 0.93),
            (u3 - r[3], r[3] * 0.88, r[3]),
        ]
        st += _round_end(u3 - r[3], r[3] * 0.88, r[3])
        _sweep(b, f"{side}_{f}", ch, st, palm_up, 10, SKIN, cap=(0.5, 0.27))


def _foot(b: _Builder, side: str, P: np.ndarray, tips: np.ndarray, J: dict, nj: int, S: float) -> None:
    ankle, ball = P[J[f"{side}_ankle"]], P[J[f"{side}_foot"]]
    toe = tips[J[f"{side}_foot"]]
    heel = ankle + np.array([0.0, -0.045, -0.055]) * S
    ch = _Chain(nj, P, [J[f"{side}_ankle"], J[f"{side}_foot"]], toe, None, 0.02 * S)
    # sweep along the sole: heel -> ball -> toe; weights by distance along the ankle chain
    sole = [
        heel,
        ankle + np.array([0.0, -0.04, 0.0]) * S,
        ball + np.array([0.0, 0.0, -0.01]) * S,
        ball + np.array([0.0, 0.0, 0.02]) * S,
        toe - np.array([0.0, 0.0, 0.01]) * S,
    ]
    radii = [(0.03, 0.034), (0.038, 0.04), (0.024, 0.046), (0.02, 0.044), (0.014, 0.034)]
    rings, weights = [], []
    for k, (c, (r1, r2)) in enumerate(zip(sole, radii)):
        d = _unit(sole[min(k + 1, len(sole) - 1)] - sole[max(k - 1, 0)])
        ring = _ring(c, d, [0, 1, 0], r1 * S, r2 * S, 12, power=2.6)
        # arc position of the ring's centre projected on the ankle -> ball -> toe chain
        if k < 3:
            u = float(np.dot(c - ankle, _unit(ball - ankle)))
        else:
            u = ch.u[1] + float(np.dot(c - ball, _unit(toe - ball)))
        rings.append(ring)
        weights.append(np.repeat(ch.at(max(u, 0.0))[None], 12, axis=0))
    w0, w1 = weights[0].mean(0), weights[-1].mean(0)
    b.tube(
        f"{side}_foot",
        rings,
        weights,
        (heel - np.array([0, 0, 0.02]) * S, w0),
        (toe + np.array([0, -0.005, 0.008]) * S, w1),
        TROUSERS,
    )

"""The fallback avatar: a low-poly artist's mannequin built from the skeleton, rigid per bone.

Used until ``core.avatar`` (the skinned signer) is importable. Every vertex belongs to one joint,
so posing is one batched rotate-and-translate and normals rotate with their joint: no normal
recomputation per frame, cheap enough for software GL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.avatar.normals import vertex_normals
from core.model.skeleton import Skeleton

SKIN = (0.87, 0.68, 0.56, 1.0)
SHIRT = (0.16, 0.24, 0.33, 1.0)
TROUSERS = (0.20, 0.20, 0.23, 1.0)
HAIR = (0.18, 0.13, 0.10, 1.0)


@dataclass
class PartMesh:
    vertices: np.ndarray  # (V, 3) rest positions, metres
    faces: np.ndarray  # (F, 3)
    joint: int | np.ndarray  # one joint, or one per vertex (the torso: one per ring)
    color: tuple[float, float, float, float]


def _frame(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors perpendicular to ``axis`` and to each other."""
    a = axis / np.linalg.norm(axis)
    ref = np.array([0.0, 1.0, 0.0]) if abs(a[1]) < 0.9 else np.array([0.0, 0.0, 1.0])
    u = np.cross(a, ref)
    u /= np.linalg.norm(u)
    return u, np.cross(a, u)


def _rings_to_faces(n_rings: int, n: int, offset: int = 0) -> list[tuple[int, int, int]]:
    faces = []
    for r in range(n_rings - 1):
        for i in range(n):
            a, b = offset + r * n + i, offset + r * n + (i + 1) % n
            c, d = a + n, b + n
            faces += [(a, b, d), (a, d, c)]
    return faces


def capsule(
    p0, p1, r0: float, r1: float, n: int = 10, cap: int = 3, flat: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """A tapered capsule from p0 to p1 (radii r0, r1); ``flat`` < 1 squashes one side (a palm)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    axis = p1 - p0
    length = np.linalg.norm(axis)
    a = axis / max(length, 1e-9)
    u, v = _frame(a)
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    circle = np.cos(ang)[:, None] * u + flat * np.sin(ang)[:, None] * v
    rings = []
    # hemispherical caps: rings at decreasing radius beyond each end
    for k in range(cap, 0, -1):
        th = k / (cap + 1) * np.pi / 2
        rings.append(p0 - a * r0 * np.sin(th) + circle * r0 * np.cos(th))
    rings.append(p0 + circle * r0)
    rings.append(p1 + circle * r1)
    for k in range(1, cap + 1):
        th = k / (cap + 1) * np.pi / 2
        rings.append(p1 + a * r1 * np.sin(th) + circle * r1 * np.cos(th))
    verts = np.concatenate(rings + [p0[None] - a * r0, p1[None] + a * r1])
    nr = len(rings)
    faces = _rings_to_faces(nr, n)
    s, e = nr * n, nr * n + 1
    faces += [(s, (i + 1) % n, i) for i in range(n)]
    last = (nr - 1) * n
    faces += [(e, last + i, last + (i + 1) % n) for i in range(n)]
    return verts, np.asarray(faces, np.int64)


def ellipsoid(centre, radii, n: int = 14, m: int = 10) -> tuple[np.ndarray, np.ndarray]:
    centre = np.asarray(centre, float)
    th = np.linspace(0, np.pi, m + 1)[1:-1]
    ph = np.linspace(0, 2 * np.pi, n, endpoint=False)
    st, ct = np.sin(th)[:, None], np.cos(th)[:, None]
    pts = np.stack([st * np.cos(ph), ct * np.ones_like(ph), st * np.sin(ph)], -1).reshape(-1, 3)
    verts = np.concatenate([pts, [[0, 1, 0], [0, -1, 0]]]) * np.asarray(radii) + centre
    faces = _rings_to_faces(m - 1, n)
    top, bot = (m - 1) * n, (m - 1) * n + 1
    faces += [(top, (i + 1) % n, i) for i in range(n)]
    last = (m - 2) * n
    faces += [(bot, last + i, last + (i + 1) % n) for i in range(n)]
    return verts, np.asarray(faces, np.int64)


def loft(sections: list[tuple[np.ndarray, float, float]], n: int = 16) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """A closed torso-like tube through elliptical sections (centre, half-width x, half-depth z),
    each section its own ring; returns vertices, faces and the ring size."""
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rings = [c + np.stack([rx * np.cos(ang), np.zeros(n), rz * np.sin(ang)], -1) for c, rx, rz in sections]
    verts = np.concatenate(rings + [sections[0][0][None], sections[-1][0][None]])
    nr = len(rings)
    faces = _rings_to_faces(nr, n)
    s, e = nr * n, nr * n + 1
    faces += [(s, i, (i + 1) % n) for i in range(n)]
    last = (nr - 1) * n
    faces += [(e, last + (i + 1) % n, last + i) for i in range(n)]
    return verts, np.asarray(faces, np.int64), [n] * nr


class Mannequin:
    """Rigid low-poly body on ``skeleton``.

    pose(world_r (J, 3, 3), world_p (J, 3)) -> positions (V, 3), normals (V, 3), float32.
    """

    name = "mannequin"

    def __init__(self, skeleton: Skeleton) -> None:
        self.skeleton = skeleton
        parts = self._parts(skeleton)
        rest = skeleton.rest_positions()
        verts, faces, joints, colors, normals = [], [], [], [], []
        off = 0
        for p in parts:
            jv = np.broadcast_to(np.asarray(p.joint), (len(p.vertices),))
            verts.append(p.vertices - rest[jv])  # in the joint's frame (rest rotation = identity)
            normals.append(vertex_normals(p.vertices, p.faces))
            faces.append(p.faces + off)
            joints.append(jv)
            colors.append(np.tile(p.color, (len(p.vertices), 1)))
            off += len(p.vertices)
        self.local = np.concatenate(verts).astype(np.float32)
        self.local_normals = np.concatenate(normals).astype(np.float32)
        self.faces = np.concatenate(faces).astype(np.uint32)
        self.joint = np.concatenate(joints)
        self.colors = np.concatenate(colors).astype(np.float32)
        order = np.argsort(self.joint, kind="stable")  # group by joint for one matmul per joint
        inv = np.empty_like(order)
        inv[order] = np.arange(len(order))
        self.local, self.local_normals, self.joint = self.local[order], self.local_normals[order], self.joint[order]
        self.colors = self.colors[order]
        self.faces = inv[self.faces].astype(np.uint32)
        self._bounds = np.searchsorted(self.joint, np.arange(skeleton.n_joints + 1))

    @property
    def n_vertices(self) -> int:
        return len(self.local)

    def pose(self, world_r: np.ndarray, world_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = world_r.astype(np.float32)[self.joint]
        pos = np.einsum("vab,vb->va", r, self.local) + world_p.astype(np.float32)[self.joint]
        nrm = np.einsum("vab,vb->va", r, self.local_normals)
        return pos, nrm

    @staticmethod
    def _parts(sk: Skeleton) -> list[PartMesh]:
        rest = sk.rest_positions()
        idx = {n: i for i, n in enumerate(sk.names)}
        parts: list[PartMesh] = []

        def add(verts_faces, joint: str, color) -> None:
            v, f = verts_faces[:2]
            parts.append(PartMesh(v, f, idx[joint], color))

        def bone(a: str, b: str | None, r0: float, r1: float, color, n: int = 10, tip=None, flat: float = 1.0) -> None:
            p0 = rest[idx[a]]
            p1 = rest[idx[b]] if b else p0 + (sk.tips[idx[a]] if tip is None else tip)
            add(capsule(p0, p1, r0, r1, n=n, flat=flat), a, color)

        # torso: one elliptical ring per spine joint, each moving with its joint
        ring_specs = [
            ("pelvis", 0.0, 0.150, 0.100),
            ("spine1", 0.0, 0.145, 0.095),
            ("spine2", 0.0, 0.150, 0.100),
            ("spine3", 0.0, 0.165, 0.105),
            ("spine3", 0.10, 0.180, 0.100),
            ("neck", -0.04, 0.12, 0.07),
        ]
        sections = [(rest[idx[j]] + [0, dy, 0], rx, rz) for j, dy, rx, rz in ring_specs]
        n = 16
        tv, tf, _ = loft(sections, n)
        ring_joints = [idx[j] for j, *_ in ring_specs for _ in range(n)] + [idx["pelvis"], idx["neck"]]
        parts.append(PartMesh(tv, tf, np.array(ring_joints), SHIRT))

        # neck, head, hair
        bone("neck", "head", 0.042, 0.040, SKIN)
        head = rest[idx["head"]] + [0.0, 0.085, 0.015]
        add(ellipsoid(head, (0.078, 0.105, 0.092)), "head", SKIN)
        add(ellipsoid(head + [0.0, 0.028, -0.022], (0.082, 0.088, 0.086)), "head", HAIR)
        add(ellipsoid(head + [0.0, -0.015, 0.092], (0.013, 0.018, 0.012), n=8, m=6), "head", SKIN)  # nose
        for x in (0.028, -0.028):  # eyes (left, right)
            add(ellipsoid(head + [x, 0.012, 0.083], (0.010, 0.007, 0.006), n=8, m=6), "head", (0.12, 0.10, 0.10, 1))

        for side in ("left", "right"):
            bone(f"{side}_collar", f"{side}_shoulder", 0.055, 0.050, SHIRT)
            add(ellipsoid(rest[idx[f"{side}_shoulder"]], (0.056, 0.056, 0.056), n=12, m=8), f"{side}_shoulder", SHIRT)
            bone(f"{side}_shoulder", f"{side}_elbow", 0.050, 0.040, SHIRT, n=12)
            add(ellipsoid(rest[idx[f"{side}_elbow"]], (0.040, 0.040, 0.040), n=12, m=8), f"{side}_elbow", SHIRT)
            bone(f"{side}_elbow", f"{side}_wrist", 0.039, 0.027, SHIRT, n=12)
            # palm: a flattened capsule from the wrist to between the knuckles
            w = rest[idx[f"{side}_wrist"]]
            knuckles = np.mean([rest[idx[f"{side}_{f}1"]] for f in ("index", "middle", "ring", "pinky")], axis=0)
            add(capsule(w, knuckles - (knuckles - w) * 0.12, 0.034, 0.040, n=12, flat=0.42), f"{side}_wrist", SKIN)
            for finger in ("index", "middle", "ring", "pinky", "thumb"):
                r = {"thumb": 0.011, "index": 0.0095, "middle": 0.0098, "ring": 0.0092, "pinky": 0.0082}[finger]
                j1, j2, j3 = (f"{side}_{finger}{k}" for k in (1, 2, 3))
                bone(j1, j2, r, r * 0.95, SKIN, n=8)
                bone(j2, j3, r * 0.95, r * 0.9, SKIN, n=8)
                bone(j3, None, r * 0.9, r * 0.8, SKIN, n=8)
            # legs (the camera frames the upper body, but a whole figure reads better when orbiting)
            bone(f"{side}_hip", f"{side}_knee", 0.075, 0.055, TROUSERS, n=12)
            bone(f"{side}_knee", f"{side}_ankle", 0.052, 0.040, TROUSERS, n=12)
            bone(f"{side}_ankle", f"{side}_foot", 0.040, 0.035, TROUSERS, n=10)
            bone(f"{side}_foot", None, 0.035, 0.030, TROUSERS, n=10)
        add(capsule(rest[idx["left_hip"]], rest[idx["right_hip"]], 0.09, 0.09, n=12), "pelvis", TROUSERS)
        return parts

"""The rotate gizmo: three axis rings and a camera-facing trackball ring on the selected joint.

Geometry is computed here (rings in world space, hit tests in canvas pixels, the rotation a drag
asks for); the viewport owns the vispy visual and the pose tool (``drag_pose``) turns drags into
undo commands. Axes are the joint's own frame ("local") or its parent's ("parent"); a ring drag
rotates about its axis, a drag inside the trackball ring rotates freely, and a constraint
(X / Y / Z) turns a free drag into a rotation about that axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vispy import scene

from core.kinematics.ik_geometry import axis_angle, normalize

AXIS_COLORS = ((0.95, 0.3, 0.3, 1.0), (0.35, 0.9, 0.35, 1.0), (0.35, 0.55, 1.0, 1.0))
BALL_COLOR = (0.85, 0.85, 0.85, 0.8)
RING_PX = 70.0  # ring radius on screen, pixels (constant whatever the zoom)
HIT_PX = 9.0
N_SEG = 64


@dataclass(frozen=True)
class GizmoFrame:
    """Where the gizmo is: ``centre`` (3,) world; ``axes`` (3, 3) world axis directions as
    columns; ``radius`` metres; ``right``, ``up``, ``toward`` (3,) the camera's world axes."""

    centre: np.ndarray
    axes: np.ndarray
    radius: float
    right: np.ndarray
    up: np.ndarray
    toward: np.ndarray


def ring_points(centre: np.ndarray, normal: np.ndarray, radius: float, n: int = N_SEG) -> np.ndarray:
    """(n, 3) points of a circle around ``normal``."""
    normal = normalize(np.asarray(normal, float))
    a = normalize(np.cross(normal, [0.0, 1.0, 0.0] if abs(normal[1]) < 0.9 else [1.0, 0.0, 0.0]))
    b = np.cross(normal, a)
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return centre + radius * (np.cos(t)[:, None] * a + np.sin(t)[:, None] * b)


def rings(frame: GizmoFrame) -> list[np.ndarray]:
    """[ring about x, y, z, trackball] world points (n, 3) each."""
    out = [ring_points(frame.centre, frame.axes[:, i], frame.radius) for i in range(3)]
    out.append(ring_points(frame.centre, frame.toward, frame.radius * 1.18))
    return out


def hit(frame: GizmoFrame, project, xy) -> str | None:
    """ "x" / "y" / "z" for a press on a ring, "ball" inside the trackball ring, else None.
    ``project``: (N, 3) world -> (N, 2) pixels."""
    xy = np.asarray(xy, float)
    best, best_d = None, HIT_PX
    for name, pts in zip("xyz", rings(frame)[:3]):
        px = project(np.concatenate([pts, pts[:1]]))
        a, b = px[:-1], px[1:]
        ab = b - a
        t = np.clip(np.sum((xy - a) * ab, 1) / np.maximum(np.sum(ab * ab, 1), 1e-9), 0.0, 1.0)
        d = float(np.min(np.linalg.norm(a + t[:, None] * ab - xy, axis=1)))
        if d < best_d:
            best, best_d = name, d
    if best is not None:
        return best
    c = project(frame.centre[None])[0]
    r = np.linalg.norm(project(rings(frame)[3][:1])[0] - c)
    return "ball" if np.linalg.norm(xy - c) <= r + HIT_PX else None


def world_delta(
    frame: GizmoFrame, mode: str, start_ray: tuple[np.ndarray, np.ndarray], ray: tuple[np.ndarray, np.ndarray], drag_px
) -> np.ndarray:
    """The world rotation (3, 3) a drag from ``start_ray`` to ``ray`` asks for (rays are
    (origin, unit direction)). Axis modes take the angle swept about the axis where the rays meet
    the ring's plane; "ball" turns about the screen axis perpendicular to the drag, 0.5 degree a
    pixel."""
    if mode == "ball":
        dx, dy = float(drag_px[0]), float(drag_px[1])
        n = np.hypot(dx, dy)
        if n < 1e-9:
            return np.eye(3)
        axis = normalize(dx * frame.up + dy * frame.right)
        return axis_angle(axis, np.asarray(np.radians(0.5 * n)))
    a = frame.axes[:, "xyz".index(mode)]
    p0, p1 = plane_hit(frame.centre, a, *start_ray), plane_hit(frame.centre, a, *ray)
    if p0 is None or p1 is None:
        return np.eye(3)
    v0, v1 = p0 - frame.centre, p1 - frame.centre
    ang = np.arctan2(np.cross(v0, v1) @ a, v0 @ v1)
    return axis_angle(a, np.asarray(ang))


def plane_hit(point: np.ndarray, normal: np.ndarray, origin: np.ndarray, direction: np.ndarray) -> np.ndarray | None:
    """Where a ray meets the plane through ``point`` with ``normal``; None when nearly parallel."""
    den = float(direction @ normal)
    if abs(den) < 1e-3:
        return None
    return origin + direction * float((point - origin) @ normal) / den


def local_after(world_parent: np.ndarray, local: np.ndarray, delta_world: np.ndarray) -> np.ndarray:
    """The local rotation (3, 3) after the joint turns by ``delta_world`` about its own centre:
    W' = D W, so L' = P^T D P L with P the parent's world rotation."""
    return world_parent.T @ delta_world @ world_parent @ local


class GizmoVisual:
    """The rings as one vispy line (segments), drawn over everything."""

    def __init__(self, parent) -> None:
        self.line = scene.visuals.Line(
            pos=np.zeros((2, 3)), color=BALL_COLOR, width=2.0, connect="segments", parent=parent, method="gl"
        )
        self.line.set_gl_state("translucent", depth_test=False)
        self.line.order = 7
        self.line.visible = False
        self.highlight: str | None = None

    def show(self, frame: GizmoFrame | None) -> None:
        if frame is None:
            self.line.visible = False
            return
        segs, cols = [], []
        for i, pts in enumerate(rings(frame)):
            nxt = np.roll(pts, -1, axis=0)
            segs.append(np.stack([pts, nxt], 1).reshape(-1, 3))
            name = "xyzb"[i]
            c = AXIS_COLORS[i] if i < 3 else BALL_COLOR
            if self.highlight is not None and self.highlight[0] == name:
                c = (1.0, 0.95, 0.3, 1.0)
            cols.append(np.tile(np.float32(c), (len(pts) * 2, 1)))
        self.line.set_data(pos=np.concatenate(segs).astype(np.float32), color=np.concatenate(cols))
        self.line.visible = True

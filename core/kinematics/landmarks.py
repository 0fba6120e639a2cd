"""Landmark tracks (MediaPipe Holistic style) in one canonical layout, and their geometry.

A ``LandmarkSet`` holds what a pose estimator saw, in IMAGE coordinates: x to the right and y down,
in pixels of the source canvas; z is the estimator's depth (larger = farther from the camera) on
its own scale, different per component (MediaPipe: body z around the hips, hand z relative to
the wrist, both as fractions of the image width). ``to_world`` maps them into our world frame
(Y up, the signer faces +Z, the signer's left on +X): the camera faces the signer, so image right
is the signer's left (+X), image down is -Y and "farther from the camera" is -Z:
``(x, y, z) -> (x, -y, -s z)`` — a rotation (det +1), so no hand changes chirality.

Depth scales are estimated from the data (``estimate_depth_scale``): the factor on z that makes
the bone lengths of a component most constant over the clip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Body points we use, a subset of MediaPipe's 33 POSE_LANDMARKS (same names, lower case).
BODY_POINTS: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
)
B = {n: i for i, n in enumerate(BODY_POINTS)}

# MediaPipe hand landmarks (OpenPose hands use the same order).
HAND_POINTS: tuple[str, ...] = (
    "wrist",
    "thumb_cmc",
    "thumb_mcp",
    "thumb_ip",
    "thumb_tip",
    "index_mcp",
    "index_pip",
    "index_dip",
    "index_tip",
    "middle_mcp",
    "middle_pip",
    "middle_dip",
    "middle_tip",
    "ring_mcp",
    "ring_pip",
    "ring_dip",
    "ring_tip",
    "pinky_mcp",
    "pinky_pip",
    "pinky_dip",
    "pinky_tip",
)
H = {n: i for i, n in enumerate(HAND_POINTS)}
# Per finger in OUR order (index, middle, pinky, ring, thumb): the 4 landmarks of its chain,
# base joint first (MCP, or the thumb's CMC) and tip last.
FINGER_CHAINS: tuple[tuple[int, int, int, int], ...] = (
    (5, 6, 7, 8),
    (9, 10, 11, 12),
    (17, 18, 19, 20),
    (13, 14, 15, 16),
    (1, 2, 3, 4),
)
PALM_POINTS: tuple[int, ...] = (0, 5, 9, 13, 17)  # wrist and the four MCPs
HAND_BONES: tuple[tuple[int, int], ...] = tuple((c[k], c[k + 1]) for c in FINGER_CHAINS for k in range(3)) + (
    (0, 1),
    (0, 5),
    (0, 9),
    (0, 13),
    (0, 17),
    (5, 9),
    (9, 13),
    (13, 17),
)

# Face mesh points (MediaPipe FaceMesh indices, kept by pose-format's reduced layout too).
FACE_POINTS: tuple[str, ...] = ("forehead", "chin", "face_right", "face_left", "nose_tip")
FACE_MESH_INDEX: tuple[int, ...] = (10, 152, 234, 454, 1)
FACE_BONES: tuple[tuple[int, int], ...] = ((0, 1), (2, 3), (0, 2), (0, 3), (1, 2), (1, 3), (4, 0), (4, 1))

BODY_BONES: tuple[tuple[int, int], ...] = tuple(
    (B[a], B[b])
    for a, b in (
        ("left_shoulder", "right_shoulder"),
        ("left_shoulder", "left_elbow"),
        ("right_shoulder", "right_elbow"),
        ("left_elbow", "left_wrist"),
        ("right_elbow", "right_wrist"),
        ("left_hip", "right_hip"),
        ("left_shoulder", "left_hip"),
        ("right_shoulder", "right_hip"),
    )
)


@dataclass(frozen=True, eq=False)
class LandmarkSet:
    """One signer's landmark tracks in image coordinates (see the module docstring).

    body: (T, 15, 3) float64 in BODY_POINTS order; body_ok: (T, 15) bool.
    hands: (T, 2, 21, 3) float64, [:, 0] the signer's LEFT hand, [:, 1] the right, HAND_POINTS
        order; hands_ok: (T, 2, 21) bool.
    face: (T, 5, 3) float64 in FACE_POINTS order; face_ok: (T, 5) bool.
    width, height: the canvas in pixels; fps: frames per second.
    Points that were not observed have ok False (their coordinates are meaningless, but finite).
    """

    body: np.ndarray
    body_ok: np.ndarray
    hands: np.ndarray
    hands_ok: np.ndarray
    face: np.ndarray
    face_ok: np.ndarray
    fps: float
    width: float = 0.0
    height: float = 0.0
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = self.body.shape[0]
        shapes = {
            "body": (t, len(BODY_POINTS), 3),
            "body_ok": (t, len(BODY_POINTS)),
            "hands": (t, 2, 21, 3),
            "hands_ok": (t, 2, 21),
            "face": (t, len(FACE_POINTS), 3),
            "face_ok": (t, len(FACE_POINTS)),
        }
        for name, shape in shapes.items():
            a = np.asarray(getattr(self, name), dtype=bool if name.endswith("_ok") else np.float64)
            if a.shape != shape:
                raise ValueError(f"landmarks: {name} has shape {a.shape}, expected {shape}")
            ok = np.isfinite(a).all(axis=-1) if a.ndim == len(shape) and not name.endswith("_ok") else None
            if ok is not None:  # never keep NaN: mark it unobserved and zero it
                a = np.where(ok[..., None], a, 0.0)
                okname = name + "_ok"
                object.__setattr__(self, okname, np.asarray(getattr(self, okname), bool) & ok)
            object.__setattr__(self, name, a)

    @property
    def n_frames(self) -> int:
        return int(self.body.shape[0])

    def slice(self, start: int, stop: int) -> LandmarkSet:
        sl = slice(start, stop)
        return LandmarkSet(
            self.body[sl],
            self.body_ok[sl],
            self.hands[sl],
            self.hands_ok[sl],
            self.face[sl],
            self.face_ok[sl],
            self.fps,
            self.width,
            self.height,
            self.meta,
        )


def empty_tracks(t: int) -> dict[str, np.ndarray]:
    """Zeroed, unobserved arrays for ``t`` frames, keyed as ``LandmarkSet``'s fields, for readers
    to fill."""
    return {
        "body": np.zeros((t, len(BODY_POINTS), 3)),
        "body_ok": np.zeros((t, len(BODY_POINTS)), bool),
        "hands": np.zeros((t, 2, 21, 3)),
        "hands_ok": np.zeros((t, 2, 21), bool),
        "face": np.zeros((t, len(FACE_POINTS), 3)),
        "face_ok": np.zeros((t, len(FACE_POINTS)), bool),
    }


def to_world(points: np.ndarray, depth_scale: float) -> np.ndarray:
    """(..., 3) image coordinates -> (..., 3) world axes (same units as x and y, pixels)."""
    p = np.asarray(points, dtype=np.float64)
    return np.stack([p[..., 0], -p[..., 1], -depth_scale * p[..., 2]], axis=-1)


def from_world(points: np.ndarray, depth_scale: float) -> np.ndarray:
    """Inverse of ``to_world`` (used by tests and synthetic data)."""
    p = np.asarray(points, dtype=np.float64)
    s = depth_scale if depth_scale != 0 else 1.0
    return np.stack([p[..., 0], -p[..., 1], -p[..., 2] / s], axis=-1)


def bone_length_spread(points: np.ndarray, ok: np.ndarray, bones, scales: np.ndarray) -> np.ndarray:
    """Mean squared coefficient of variation of bone lengths over frames, for each depth scale.

    points: (T, N, 3) image coordinates; ok: (T, N); bones: (a, b) index pairs; scales: (K,).
    Returns (K,) — smaller means more rigid bones. Frames where a bone's ends are not both
    observed are left out of that bone.
    """
    a = np.array([b[0] for b in bones])
    b = np.array([b[1] for b in bones])
    d = points[:, a] - points[:, b]  # (T, nb, 3)
    w = (ok[:, a] & ok[:, b]).astype(np.float64)
    n = w.sum(axis=0)  # (nb,)
    keep = n >= 3
    if not keep.any():
        return np.zeros(len(scales))
    d, w, n = d[:, keep], w[:, keep], n[keep]
    dxy2 = (d[..., :2] ** 2).sum(-1)
    dz2 = d[..., 2] ** 2
    length = np.sqrt(dxy2[None] + (np.asarray(scales, float)[:, None, None] ** 2) * dz2[None])  # (K, T, nb)
    mean = (length * w).sum(1) / n
    var = (((length - mean[:, None]) ** 2) * w).sum(1) / n
    cv2 = var / np.maximum(mean, 1e-12) ** 2
    return cv2.mean(axis=1)


def estimate_depth_scale(points: np.ndarray, ok: np.ndarray, bones) -> float:
    """The factor on z that makes bones most constant in length (0 when z carries nothing; the
    ratio of the xy to z spreads when every scale fits equally, i.e. the part never turned).

    points: (T, N, 3) image coordinates (x, y in pixels); ok: (T, N) bool. A coarse log-spaced
    search around the ratio of the xy to z spreads, then a golden-section refinement.
    """
    points = np.asarray(points, float)
    ok = np.asarray(ok, bool)
    a = np.array([b[0] for b in bones])
    b = np.array([b[1] for b in bones])
    both = ok[:, a] & ok[:, b]
    if both.sum() < 3:
        return 0.0
    d = (points[:, a] - points[:, b])[both]
    z_spread = float(np.median(np.abs(d[:, 2])))
    xy_spread = float(np.median(np.linalg.norm(d[:, :2], axis=-1)))
    if not (z_spread > 1e-9 * max(xy_spread, 1e-9)) or xy_spread <= 0:
        return 0.0
    ref = xy_spread / z_spread
    logs = np.linspace(np.log(ref) - np.log(1e3), np.log(ref) + np.log(1e2), 81)
    cost = bone_length_spread(points, ok, bones, np.concatenate([[0.0], np.exp(logs)]))
    if cost.max() < 1e-12:
        # rigid at every scale (the part never turned in depth): nothing to estimate; assume
        # depth extents like the image-plane ones
        return float(ref)
    if cost[0] <= cost[1:].min():
        return 0.0
    i = int(np.argmin(cost[1:]))
    lo, hi = logs[max(i - 1, 0)], logs[min(i + 1, len(logs) - 1)]
    g = (np.sqrt(5.0) - 1.0) / 2.0
    f = lambda x: float(bone_length_spread(points, ok, bones, np.exp([x]))[0])  # noqa: E731
    c, dd = hi - g * (hi - lo), lo + g * (hi - lo)
    fc, fd = f(c), f(dd)
    for _ in range(30):
        if fc < fd:
            hi, dd, fd = dd, c, fc
            c = hi - g * (hi - lo)
            fc = f(c)
        else:
            lo, c, fc = c, dd, fd
            dd = lo + g * (hi - lo)
            fd = f(dd)
    return float(np.exp(0.5 * (lo + hi)))

"""Drawing the motion over its reference video: which landmarks and joints, and the camera that
projects the avatar's joints onto the picture.

The camera is weak-perspective, fitted once per document: image ``x = s X + tx``, ``y = -s Y + ty``
(world Y up, image y down; the avatar faces +Z, towards the camera, so its left (+X) is on the
picture's right). ``fit_camera`` solves s, tx, ty by least squares between the avatar's joints and
the tracked landmarks of the same names (shoulders, elbows, wrists) over every frame both have;
without landmarks ``frame_camera`` fits the motion's extent into the picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# landmark names (core.kinematics.landmarks.BODY_POINTS) that are also SMPL-X joint names
SHARED_JOINTS = ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")


@dataclass(frozen=True)
class Camera:
    """Weak perspective: pixels = s * (X, -Y) + (tx, ty)."""

    s: float
    tx: float
    ty: float

    def project(self, xyz: np.ndarray) -> np.ndarray:
        """(..., 3) world metres -> (..., 2) pixels."""
        xyz = np.asarray(xyz, np.float64)
        return np.stack([self.s * xyz[..., 0] + self.tx, -self.s * xyz[..., 1] + self.ty], axis=-1)


def fit_camera(joints: np.ndarray, pixels: np.ndarray, ok: np.ndarray) -> Camera | None:
    """Least squares over joints (T, K, 3), their landmarks pixels (T, K, 2) and ok (T, K); None
    with fewer than 3 observations or a degenerate (non-positive) scale."""
    m = np.asarray(ok, bool)
    if m.sum() < 3:
        return None
    x, y = joints[..., 0][m], joints[..., 1][m]
    u, v = pixels[..., 0][m], pixels[..., 1][m]
    # unknowns (s, tx, ty): u = s x + tx, v = -s y + ty
    n = len(x)
    a = np.zeros((2 * n, 3))
    a[:n, 0], a[:n, 1] = x, 1.0
    a[n:, 0], a[n:, 2] = -y, 1.0
    b = np.concatenate([u, v])
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    if not np.isfinite(sol).all() or sol[0] <= 0:
        return None
    return Camera(float(sol[0]), float(sol[1]), float(sol[2]))


def frame_camera(joints: np.ndarray, width: int, height: int, margin: float = 0.1) -> Camera:
    """A camera that fits the joints' extent (T, J, 3) into a width x height picture."""
    xs, ys = joints[..., 0].ravel(), joints[..., 1].ravel()
    w = max(float(xs.max() - xs.min()), 1e-3)
    h = max(float(ys.max() - ys.min()), 1e-3)
    s = (1 - 2 * margin) * min(width / w, height / h)
    cx, cy = float(xs.max() + xs.min()) / 2, float(ys.max() + ys.min()) / 2
    return Camera(s, width / 2 - s * cx, height / 2 + s * cy)


def fit_error(joints: np.ndarray, pixels: np.ndarray, ok: np.ndarray) -> dict[str, float] | None:
    """How well the fitted camera lays joints (T, K, 3) over their landmarks (T, K, 2) (ok (T, K),
    K = ``SHARED_JOINTS``): the median and 90th percentile distance over the observed points,
    relative to the median shoulder width in the picture; None when no camera fits."""
    cam = fit_camera(joints, pixels, ok)
    if cam is None:
        return None
    err = np.linalg.norm(cam.project(joints) - pixels, axis=-1)[ok]
    both = ok[:, 0] & ok[:, 1]
    if not both.any():
        return None
    shoulders = float(np.median(np.linalg.norm(pixels[both, 0] - pixels[both, 1], axis=-1)))
    if shoulders <= 0:
        return None
    return {
        "median": float(np.median(err)) / shoulders,
        "p90": float(np.percentile(err, 90)) / shoulders,
    }


def eval_folder(folder: str, limit: int | None = None) -> dict[str, object]:
    """The projected-joint overlay on real recordings: every ``.pose`` of ``folder`` imported as
    the editor does, the camera fitted, the joints' distance from their landmarks (relative to the
    shoulder width) summarised over the files."""
    from pathlib import Path

    from ..io.errors import FormatError
    from ..io.pose_file import read_landmarks, solve_landmarks
    from ..kinematics.fk import joint_positions
    from ..kinematics.landmarks import BODY_POINTS

    files = sorted(Path(folder).glob("*.pose"))[:limit]
    li = [BODY_POINTS.index(n) for n in SHARED_JOINTS]
    med, p90, failed = [], [], 0
    for f in files:
        try:
            lm = read_landmarks(f)
            seq = solve_landmarks(f, lm, "pose")
        except FormatError:
            failed += 1
            continue
        ji = [seq.skeleton.names.index(n) for n in SHARED_JOINTS]
        joints = joint_positions(seq.skeleton, seq.rotations, seq.translation)[:, ji]
        e = fit_error(joints, lm.body[:, li, :2], lm.body_ok[:, li])
        if e is None:
            failed += 1
            continue
        med.append(e["median"])
        p90.append(e["p90"])
    return {
        "files": len(files),
        "fitted": len(med),
        "failed": failed,
        "median_error_shoulders": round(float(np.median(med)), 3) if med else None,
        "worst_file_median_error_shoulders": round(float(np.max(med)), 3) if med else None,
        "p90_error_shoulders_median_over_files": round(float(np.median(p90)), 3) if p90 else None,
    }

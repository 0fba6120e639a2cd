"""Rotation conversions on frame-first arrays, numpy only (scipy's ``Rotation`` does the maths).

Conventions:
- matrices ``(..., 3, 3)`` act on column vectors; local joint rotations relative to the parent.
- quaternions ``(..., 4)`` are scalar-last ``(x, y, z, w)`` as in scipy.
- axis-angle ``(..., 3)``: axis * angle (radians), SMPL-X's ``*_pose`` layout.
- 6D ``(..., 6)``: the first two ROWS of the matrix, ``[R00 R01 R02 R10 R11 R12]`` (official
  SignSparK / pytorch3d convention); decoding re-orthonormalises by Gram-Schmidt over the rows.
- hand flip: a left hand enters the right-hand model as ``F R F`` with F = diag(1, -1, -1).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

_F = np.array([1.0, -1.0, -1.0])
# F R F == R * outer(f, f): the flip is an element-wise sign pattern.
FLIP_SIGNS = np.outer(_F, _F)
FLIP_SIGNS_6D = FLIP_SIGNS[:2].reshape(6)  # [1, -1, -1, -1, 1, 1]


def _apply(fn, x: np.ndarray, inner: int, out_shape: tuple[int, ...]) -> np.ndarray:
    x = np.asarray(x)
    lead = x.shape[: x.ndim - inner]
    flat = x.reshape((-1,) + x.shape[x.ndim - inner :]).astype(np.float64, copy=False)
    if flat.shape[0] == 0:
        return np.zeros(lead + out_shape, dtype=np.float64)
    return fn(flat).reshape(lead + out_shape)


def matrix_to_quat(m: np.ndarray, assume_valid: bool = False) -> np.ndarray:
    """(..., 3, 3) -> (..., 4) xyzw, w >= 0.

    ``assume_valid`` skips scipy's orthonormalising SVD (~15x faster): only for matrices that
    were already checked to be rotations (every Sequence's are).
    """
    return _apply(lambda a: Rotation.from_matrix(a, assume_valid=assume_valid).as_quat(canonical=True), m, 2, (4,))


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """(..., 4) xyzw (normalised here) -> (..., 3, 3)."""
    return _apply(lambda a: Rotation.from_quat(a).as_matrix(), q, 1, (3, 3))


def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """(..., 3) rotation vectors -> (..., 3, 3)."""
    return _apply(lambda a: Rotation.from_rotvec(a).as_matrix(), aa, 1, (3, 3))


def matrix_to_axis_angle(m: np.ndarray, assume_valid: bool = False) -> np.ndarray:
    """(..., 3, 3) -> (..., 3) rotation vectors, angle in [0, pi] (``assume_valid``: as above)."""
    return _apply(lambda a: Rotation.from_matrix(a, assume_valid=assume_valid).as_rotvec(), m, 2, (3,))


def quat_to_axis_angle(q: np.ndarray) -> np.ndarray:
    return _apply(lambda a: Rotation.from_quat(a).as_rotvec(), q, 1, (3,))


def axis_angle_to_quat(aa: np.ndarray) -> np.ndarray:
    return _apply(lambda a: Rotation.from_rotvec(a).as_quat(canonical=True), aa, 1, (4,))


def matrix_to_euler(m: np.ndarray, order: str) -> np.ndarray:
    """(..., 3, 3) -> (..., 3) degrees, intrinsic rotation ``order`` (e.g. "ZXY", BVH style)."""
    return _apply(lambda a: Rotation.from_matrix(a).as_euler(order.upper(), degrees=True), m, 2, (3,))


def euler_to_matrix(e: np.ndarray, order: str, *, degrees: bool = True) -> np.ndarray:
    """(..., 3) angles in degrees (``degrees=False``: radians), intrinsic ``order`` (angles listed
    in that order: R = R_a @ R_b @ R_c) -> (..., 3, 3). The one Euler-to-matrix conversion."""
    return _apply(lambda a: Rotation.from_euler(order.upper(), a, degrees=degrees).as_matrix(), e, 1, (3, 3))


def matrix_to_6d(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 6): the first two rows, row-major."""
    m = np.asarray(m)
    return m[..., :2, :].reshape(m.shape[:-2] + (6,))


def sixd_to_matrix(d6: np.ndarray) -> np.ndarray:
    """(..., 6) -> (..., 3, 3): rows b1, b2 by Gram-Schmidt, b3 = b1 x b2."""
    d6 = np.asarray(d6, dtype=np.float64)
    a1, a2 = d6[..., :3], d6[..., 3:]
    b1 = a1 / np.linalg.norm(a1, axis=-1, keepdims=True)
    a2 = a2 - np.sum(b1 * a2, axis=-1, keepdims=True) * b1
    b2 = a2 / np.linalg.norm(a2, axis=-1, keepdims=True)
    b3 = np.cross(b1, b2)
    return np.stack([b1, b2, b3], axis=-2)


def flip_hand(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) left <-> right hand convention: F R F. Its own inverse."""
    return np.asarray(m) * FLIP_SIGNS


def flip_hand_6d(d6: np.ndarray) -> np.ndarray:
    """(..., 6) the same flip on 6D of an orthonormal matrix (sign pattern)."""
    return np.asarray(d6) * FLIP_SIGNS_6D.astype(np.asarray(d6).dtype)


def flip_hand_axis_angle(aa: np.ndarray) -> np.ndarray:
    """(..., 3) the flip in axis-angle: (x, y, z) -> (x, -y, -z)."""
    return np.asarray(aa) * _F.astype(np.asarray(aa).dtype)


def orthonormalize(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) nearest rotation (via SVD), for matrices that drifted in float32."""
    u, _, vt = np.linalg.svd(np.asarray(m, dtype=np.float64))
    d = np.sign(np.linalg.det(u @ vt))
    u[..., :, -1] *= d[..., None]
    return u @ vt


def is_rotation(m: np.ndarray, atol: float = 1e-4) -> np.ndarray:
    """(..., 3, 3) -> (...) bool: orthonormal with det +1, and finite."""
    m = np.asarray(m, dtype=np.float64)
    eye = np.eye(3)
    ok = np.isfinite(m).all(axis=(-1, -2))
    mm = np.where(ok[..., None, None], m, eye)
    ortho = np.abs(mm @ np.swapaxes(mm, -1, -2) - eye).max(axis=(-1, -2)) < atol
    det = np.abs(np.linalg.det(mm) - 1.0) < atol
    return ok & ortho & det


def identity(shape: tuple[int, ...]) -> np.ndarray:
    """(*shape, 3, 3) float32 identities."""
    return np.broadcast_to(np.eye(3, dtype=np.float32), tuple(shape) + (3, 3)).copy()

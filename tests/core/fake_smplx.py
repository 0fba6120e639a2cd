"""A structurally valid SMPL-X model file built in the test (no licensed data): its rest joints
are given, so the smplx package's forward pass can be compared with ours."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SMPLX_PARENTS = np.array(
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15]
    + [20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38]
    + [21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53]
)


def write_fake_smplx(folder: Path, joints55: np.ndarray, n_vertices: int = 9940, seed: int = 0) -> Path:
    """Write SMPLX_NEUTRAL.npz whose J_regressor returns ``joints55`` (55, 3) at rest."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n_vertices, 3)) * 0.1
    v[:55] = joints55
    j_reg = np.zeros((55, n_vertices))
    j_reg[np.arange(55), np.arange(55)] = 1.0
    kintree = np.stack([SMPLX_PARENTS, np.arange(55)]).astype(np.int64)
    weights = np.zeros((n_vertices, 55))
    weights[np.arange(n_vertices), np.arange(n_vertices) % 55] = 1.0
    path = Path(folder) / "SMPLX_NEUTRAL.npz"
    np.savez(
        path,
        v_template=v,
        f=rng.integers(0, n_vertices, (200, 3)).astype(np.int64),
        J_regressor=j_reg,
        kintree_table=kintree,
        weights=weights,
        shapedirs=np.zeros((n_vertices, 3, 400)),
        posedirs=np.zeros((n_vertices, 3, 486)),
        hands_componentsl=np.eye(45),
        hands_componentsr=np.eye(45),
        hands_meanl=np.zeros(45),
        hands_meanr=np.zeros(45),
        lmk_faces_idx=np.zeros(51, np.int64),
        lmk_bary_coords=np.full((51, 3), 1 / 3),
    )
    return path

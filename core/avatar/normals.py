"""Vertex normals of a triangle mesh: the one routine the avatar, the editor's meshes and the
FBX writer share.

Area-weighted: each face's cross product (its area times its unit normal) is summed into its
three vertices through a sparse (V, F) incidence matrix, built once per topology, so a mesh that
deforms every frame pays one sparse product per frame.
"""

from __future__ import annotations

import numpy as np


class VertexNormals:
    """``VertexNormals(faces (F, 3), n_vertices)(vertices)`` -> unit normals.

    vertices: (V, 3) or (T, V, 3) positions; the normals have that shape and the vertices' float
    dtype (float32 stays float32). A vertex with no face, or only degenerate ones, gets 0.
    """

    def __init__(self, faces: np.ndarray, n_vertices: int) -> None:
        from scipy.sparse import csr_matrix

        f = np.asarray(faces, np.int64)
        cols = np.repeat(np.arange(len(f)), 3)
        self.faces = f
        self.incidence = csr_matrix(
            (np.ones(f.size, np.float32), (f.reshape(-1), cols)), shape=(int(n_vertices), len(f))
        )

    def __call__(self, vertices: np.ndarray) -> np.ndarray:
        v = np.asarray(vertices)
        if not np.issubdtype(v.dtype, np.floating):
            v = v.astype(np.float64)
        f = self.faces
        fn = np.cross(v[..., f[:, 1], :] - v[..., f[:, 0], :], v[..., f[:, 2], :] - v[..., f[:, 0], :])
        if v.ndim == 2:
            n = self.incidence @ fn
        else:  # (T, F, 3) -> one product over (F, T * 3)
            t = v.shape[0]
            n = (self.incidence @ fn.transpose(1, 0, 2).reshape(len(f), t * 3)).reshape(-1, t, 3).transpose(1, 0, 2)
        n = n.astype(v.dtype, copy=False)
        norm = np.linalg.norm(n, axis=-1, keepdims=True)
        return n / np.where(norm > 0, norm, 1)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) or (T, V, 3) area-weighted unit vertex normals of ``faces`` (F, 3) (``VertexNormals``
    once; build that to reuse it across frames)."""
    v = np.asarray(vertices)
    return VertexNormals(faces, v.shape[-2])(v)

"""The skinned avatar as data, and linear blend skinning (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .normals import VertexNormals


@dataclass(frozen=True, eq=False)
class Avatar:
    """A triangle mesh in the skeleton's rest pose, skinned to its joints.

    vertices: (V, 3) float32 rest positions, metres, our world frame (Y up, facing +Z).
    faces: (F, 3) int32 vertex indices, counter-clockwise seen from outside.
    joints / weights: (V, K) int32 joint indices and float32 weights (K = 4 influences, rows sum
        to 1, unused slots weight 0).
    rest_joints: (J, 3) float64 rest world positions of the joints the mesh was built on.
    face_materials: (F,) int32 index into ``materials``, ((name, (r, g, b)), ...).
    parts: ((name, first vertex, end vertex), ...): the body parts, each a closed surface.
    """

    vertices: np.ndarray
    faces: np.ndarray
    joints: np.ndarray
    weights: np.ndarray
    rest_joints: np.ndarray
    face_materials: np.ndarray
    materials: tuple[tuple[str, tuple[float, float, float]], ...]
    parts: tuple[tuple[str, int, int], ...]

    def __post_init__(self) -> None:
        for a in (self.vertices, self.faces, self.joints, self.weights, self.rest_joints, self.face_materials):
            a.setflags(write=False)

    @property
    def n_vertices(self) -> int:
        return int(self.vertices.shape[0])

    @property
    def n_joints(self) -> int:
        return int(self.rest_joints.shape[0])

    def weight_matrix(self) -> np.ndarray:
        """(V, J) float64 dense skin weights (read-only, computed once)."""
        return self._dense_weights

    @cached_property
    def _dense_weights(self) -> np.ndarray:
        w = np.zeros((self.n_vertices, self.n_joints))
        rows = np.repeat(np.arange(self.n_vertices), self.joints.shape[1])
        np.add.at(w, (rows, self.joints.ravel()), self.weights.ravel())
        w.setflags(write=False)
        return w

    def part(self, name: str) -> slice:
        for n, a, b in self.parts:
            if n == name:
                return slice(a, b)
        raise KeyError(name)

    def skin(self, world_rotations: np.ndarray, world_positions: np.ndarray) -> np.ndarray:
        """Posed vertices by linear blend skinning.

        world_rotations: (T, J, 3, 3) or (J, 3, 3) joint world rotations (from FK);
        world_positions: (T, J, 3) or (J, 3) joint world positions, metres.
        Returns (T, V, 3) (or (V, 3) for unbatched input) float32.
        Our rest world rotations are identity, so joint j's skinning transform maps a rest point
        x to R_j (x - rest_j) + p_j.
        """
        rot = np.asarray(world_rotations, dtype=np.float64)
        pos = np.asarray(world_positions, dtype=np.float64)
        single = rot.ndim == 3
        if single:
            rot, pos = rot[None], pos[None]
        t, j = rot.shape[:2]
        if j != self.n_joints:
            raise ValueError(f"skin: {j} joints given, the avatar has {self.n_joints}")
        shift = pos - np.einsum("tjab,jb->tja", rot, self.rest_joints)  # (T, J, 3)
        affine = np.concatenate([rot, shift[..., None]], axis=-1).reshape(t, j, 12)  # (T, J, 3x4)
        blended = self.weight_matrix() @ affine.transpose(1, 0, 2).reshape(j, t * 12)  # (V, T*12)
        blended = blended.reshape(self.n_vertices, t, 3, 4).transpose(1, 0, 2, 3)
        v = self.vertices.astype(np.float64)
        out = np.einsum("tvab,vb->tva", blended[..., :3], v) + blended[..., 3]
        out = out.astype(np.float32)
        return out[0] if single else out

    def vertex_normals(self, vertices: np.ndarray | None = None) -> np.ndarray:
        """(V, 3) (or (T, V, 3)) float64 unit normals, area-weighted over the faces around each
        vertex (``core.avatar.normals``)."""
        v = self.vertices if vertices is None else np.asarray(vertices)
        return self._normals(v.astype(np.float64))

    @cached_property
    def _normals(self) -> VertexNormals:
        return VertexNormals(self.faces, self.n_vertices)

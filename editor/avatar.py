"""Which body the viewport draws: ``core.avatar``'s skinned signer when it imports, an SMPL-X mesh
when the user points Signframe at a model folder, else the built-in mannequin.

Every avatar answers ``pose(world_r (J, 3, 3), world_p (J, 3), local_r (J, 3, 3)) ->
(positions (V, 3), normals (V, 3))`` plus ``faces (F, 3)``, ``colors (V, 4)``, ``n_vertices``,
``dominant_joint (V,)`` (the joint that moves each vertex most) and ``name``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from core.avatar.normals import VertexNormals, vertex_normals
from core.model.skeleton import Skeleton

from .mannequin import Mannequin

log = logging.getLogger(__name__)


class CoreAvatar:
    """``core.avatar``'s skinned signer, posed by linear blend skinning with the weights as a
    sparse matrix (one (V, J) @ (J, 12) product per frame) and normals from the posed faces."""

    def __init__(self, model, skeleton: Skeleton) -> None:
        from scipy.sparse import csr_matrix

        self.model = model
        self.skeleton = skeleton
        v = np.asarray(model.vertices, np.float64)
        self.n_vertices = len(v)
        self.faces = np.asarray(model.faces, np.uint32)
        rows = np.repeat(np.arange(self.n_vertices), model.joints.shape[1])
        self._w = csr_matrix(
            (np.asarray(model.weights, np.float64).ravel(), (rows, np.asarray(model.joints).ravel())),
            shape=(self.n_vertices, model.n_joints),
        )
        self._rest_v = v
        self._rest_j = np.asarray(model.rest_joints, np.float64)
        palette = np.array([list(rgb) + [1.0] for _, rgb in model.materials], np.float32)
        colors = np.tile(np.float32([0.8, 0.65, 0.55, 1.0]), (self.n_vertices, 1))
        fm = np.asarray(model.face_materials)
        for k in range(3):  # a vertex takes the material of (one of) its faces
            colors[self.faces[:, k]] = palette[fm]
        self.colors = colors
        w = np.asarray(model.weights)
        self.dominant_joint = np.asarray(model.joints)[np.arange(self.n_vertices), w.argmax(1)]
        self._normals = VertexNormals(self.faces, self.n_vertices)
        self.name = "signer"

    def pose(self, world_r, world_p, local_r=None):
        r = np.asarray(world_r, np.float64)
        shift = np.asarray(world_p, np.float64) - np.einsum("jab,jb->ja", r, self._rest_j)
        affine = np.concatenate([r.reshape(-1, 9), shift], 1)  # (J, 12)
        b = self._w @ affine  # (V, 12)
        v = np.einsum("vab,vb->va", b[:, :9].reshape(-1, 3, 3), self._rest_v) + b[:, 9:]
        v = v.astype(np.float32)
        return v, self._normals(v)  # float32 in, float32 out


class SmplxAvatar:
    """The real SMPL-X mesh from a user-provided model folder (needs torch and ``smplx``)."""

    def __init__(self, model_dir: str | Path, skeleton: Skeleton) -> None:
        import smplx
        import torch

        from core.model.rotations import matrix_to_axis_angle
        from core.model.skeleton import SMPLX_INDEX

        self._torch, self._aa, self._index = torch, matrix_to_axis_angle, SMPLX_INDEX
        self.model = smplx.create(str(model_dir), model_type="smplx", ext="npz", use_pca=False, flat_hand_mean=True)
        self.faces = np.asarray(self.model.faces, np.uint32)
        self.n_vertices = int(self.model.v_template.shape[0])
        self.colors = np.tile(np.float32([0.78, 0.64, 0.56, 1.0]), (self.n_vertices, 1))
        self._normals = VertexNormals(self.faces, self.n_vertices)
        self._offset = skeleton.rest_positions()[0]
        self.skeleton = skeleton
        ours = {int(sx): i for i, sx in enumerate(SMPLX_INDEX)}
        head = skeleton.names.index("head") if "head" in skeleton.names else 0
        top = self.model.lbs_weights.detach().cpu().numpy().argmax(1)
        self.dominant_joint = np.array([ours.get(int(j), head) for j in top])
        self.name = "SMPL-X"

    def pose(self, world_r, world_p, local_r):
        torch = self._torch
        aa = np.zeros((55, 3), np.float32)
        aa[self._index] = self._aa(local_r)
        t = lambda a: torch.as_tensor(a, dtype=torch.float32)[None]  # noqa: E731
        with torch.no_grad():
            out = self.model(
                global_orient=t(aa[0]),
                body_pose=t(aa[1:22].reshape(-1)),
                left_hand_pose=t(aa[25:40].reshape(-1)),
                right_hand_pose=t(aa[40:55].reshape(-1)),
                jaw_pose=t(aa[22]),
                leye_pose=t(aa[23]),
                reye_pose=t(aa[24]),
            )
        v = out.vertices[0].numpy()
        j0 = out.joints[0, 0].numpy()
        v = v - j0 + world_p[0]  # put SMPL-X's pelvis on ours
        v = v.astype(np.float32)
        return v, self._normals(v)


class MannequinAvatar(Mannequin):
    """The fallback: rigid low-poly parts (until ``core.avatar`` imports)."""

    @property
    def dominant_joint(self) -> np.ndarray:
        return self.joint

    def pose(self, world_r, world_p, local_r=None):  # type: ignore[override]
        return super().pose(world_r, world_p)


def load_avatar(skeleton: Skeleton, smplx_dir: str | Path | None = None):
    """The best available body for ``skeleton`` (``smplx_dir`` imports torch: call it off the GUI
    thread; the viewport does)."""
    if smplx_dir:
        try:
            return SmplxAvatar(smplx_dir, skeleton)
        except Exception as e:  # a wrong folder must not stop the editor
            log.warning("SMPL-X model in %s not usable (%s); using the default avatar", smplx_dir, e)
    try:
        from core.avatar import build_avatar
    except ImportError:
        build_avatar = None
    if build_avatar is not None:
        try:
            return CoreAvatar(build_avatar(skeleton), skeleton)
        except Exception as e:
            log.warning("core.avatar present but not usable here (%s); using the mannequin", e)
    return MannequinAvatar(skeleton)


__all__ = ["load_avatar", "MannequinAvatar", "CoreAvatar", "SmplxAvatar", "vertex_normals"]

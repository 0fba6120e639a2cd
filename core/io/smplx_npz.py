"""SMPL-X parameter files (``.npz``) as AMASS and pose estimators write them.

SMPL-X has 55 joints: root 0, body 1-21, jaw 22, eyes 23-24, left hand 25-39, right hand 40-54.
Our 52-joint skeleton is SMPL-X without jaw and eyes (``core.model.skeleton.SMPLX_INDEX``); the
jaw, eye and expression parameters travel in ``Sequence.extra_frames`` and ``betas``, gender,
model type in ``Sequence.meta``, so a file round-trips through a project unchanged.

Hand poses are full axis-angle in SMPL-X's ``flat_hand_mean=True`` convention (a zero hand pose is
a flat hand; PCA coefficients are refused: they need the licensed model's components). The left
hand is in true left-hand convention and maps to our local rotations as it is.

Accepted keys (reading; the layout is recognised from the keys):

AMASS layout
    ``poses`` (T, 165) axis-angle in SMPL-X joint order (root 0:3, body 3:66, jaw 66:69,
    eyes 69:75, left hand 75:120, right hand 120:165); also (T, 55, 3), (T, 55, 3, 3), and the
    SMPL+H width (T, 156) = root, body, left hand, right hand (no jaw or eyes).
    Or, without ``poses``, AMASS's split keys ``root_orient`` (T, 3), ``pose_body`` (T, 63),
    ``pose_hand`` (T, 90: left then right), ``pose_jaw`` (T, 3), ``pose_eye`` (T, 6).
    ``trans`` (T, 3) metres; ``betas`` (B,); ``mocap_frame_rate`` or ``mocap_framerate``;
    ``gender``; ``surface_model_type``; ``num_betas``; ``mocap_time_length`` (recomputed on write).
Per-part layout (the ``smplx`` library's forward arguments)
    ``global_orient`` (1 joint), ``body_pose`` (21), ``left_hand_pose`` / ``right_hand_pose``
    (15 each), ``jaw_pose``, ``leye_pose``, ``reye_pose`` (1 each), ``expression`` (T, E),
    ``transl`` (T, 3), ``betas`` (B,) / (1, B) / (T, B), ``fps``, ``gender``.
Every rotation key accepts axis-angle (T, 3k) or (T, k, 3), rotation matrices (T, k, 3, 3) or
(T, 9k), with a stray leading batch dimension of 1 (``(1, T, 63)``).

Other keys: numeric per-frame arrays of at most 256 values per frame are kept as ``npz:<key>``
extra channels and scalars in ``meta["npz"]``; both are written back. Anything else (object
arrays, meshes, ...) is skipped and listed in ``meta["skipped_keys"]``.
A file without a frame rate gets ``default_fps`` (30) and ``meta["fps_assumed"] = True``.

Up axis: Signframe's world is Y-up (the SMPL-X rest pose), AMASS stores bodies standing along +Z.
``read(..., up_axis=)``: ``"z"`` turns a Z-up file into Y-up (root orientation and ``trans``
rotated by -90 degrees about X, +Z -> +Y, about the root joint as SMPL-X does); ``"y"`` keeps the
file as stored; ``"auto"`` (default) follows the file's own ``up_axis`` key (Signframe writes one)
and otherwise detects the axis: Z-up when the pelvis' up axis (the root rotation applied to the
rest pose's +Y) has a median world direction clearly along +Z (component > cos 45 degrees and
above its Y component). Random or lying-down data stay as stored. The decision is kept in
``meta["up_axis_source"]``.

Writing: ``layout="amass"`` (``poses`` and the split keys, float64 like AMASS) or ``"parts"``
(per-part axis-angle, float32 like the ``smplx`` library). Without ``layout``, a name ending in
``.smplx.npz`` gets ``parts`` and any other ``.npz`` gets ``amass``. Jaw and eyes are written as
zeros when the sequence has none; ``expression`` only when it has one. ``up_axis`` (``"y"`` or
``"z"``; default ``meta["up_axis_source"]``, else ``"y"``) is the axis the file is written in, so
an AMASS file read and written back keeps its Z-up values; it is also stored as the ``up_axis`` key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from ..model.rotations import axis_angle_to_matrix, is_rotation, matrix_to_axis_angle, orthonormalize
from ..model.sequence import Sequence, SequenceError, new_sequence
from ..model.skeleton import JOINT_NAMES, N_JOINTS, SMPLX_INDEX
from ..model.template import TEMPLATE
from .errors import FormatError
from .npzfile import NpzReader, open_npz, write_npz

N_SMPLX = 55
# SMPL-X joint ranges of each part.
PARTS: dict[str, slice] = {
    "global_orient": slice(0, 1),
    "body_pose": slice(1, 22),
    "jaw_pose": slice(22, 23),
    "leye_pose": slice(23, 24),
    "reye_pose": slice(24, 25),
    "left_hand_pose": slice(25, 40),
    "right_hand_pose": slice(40, 55),
}
# Extra channels (T, 3, 3) holding the SMPL-X joints our skeleton lacks.
EXTRA_JOINTS: dict[str, int] = {"jaw": 22, "left_eye": 23, "right_eye": 24}
# SMPL+H joint order (52): exactly ours.
_SMPLH_TO_SMPLX = SMPLX_INDEX
AMASS_SPLIT: dict[str, tuple[int, ...]] = {
    "root_orient": (0,),
    "pose_body": tuple(range(1, 22)),
    "pose_hand": tuple(range(25, 55)),
    "pose_jaw": (22,),
    "pose_eye": (23, 24),
}
FPS_KEYS = ("mocap_frame_rate", "mocap_framerate", "fps")
KNOWN_KEYS = frozenset(
    set(PARTS)
    | set(AMASS_SPLIT)
    | set(FPS_KEYS)
    | {
        "poses",
        "trans",
        "transl",
        "betas",
        "expression",
        "gender",
        "surface_model_type",
        "mocap_time_length",
        "up_axis",
    }
)
MAX_EXTRA_WIDTH = 256
DEFAULT_FPS = 30.0
UP_AXES = ("auto", "y", "z")
# Z-up world -> Y-up world: -90 degrees about X (+Z -> +Y, +Y -> -Z, X unchanged).
Z_TO_Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
# "auto" calls a file Z-up only when the pelvis clearly stands along +Z (cos 45 degrees): random
# root rotations (test data) and lying-down bodies stay as stored.
UPRIGHT_COS = 0.7


def _matrices(r: NpzReader, key: str, k: int, a: np.ndarray | None = None) -> np.ndarray:
    """Rotations under ``key`` for ``k`` joints -> (T, k, 3, 3) float64."""
    a = r.numeric(key) if a is None else a
    cands = [a]
    if a.ndim >= 2 and a.shape[0] == 1:
        cands.append(a[0])  # stray batch dim
    if a.ndim >= 3 and a.shape[1] == 1 and k != 1:
        cands.append(a[:, 0])
    for c in cands:
        t = c.shape[0] if c.ndim else 0
        if c.ndim == 2 and c.shape[1] == 3 * k:
            return axis_angle_to_matrix(c.reshape(t, k, 3))
        if c.ndim == 3 and c.shape[1:] == (k, 3):
            return axis_angle_to_matrix(c)
        if c.ndim == 2 and c.shape[1] == 9 * k:
            return _checked(r, key, c.reshape(t, k, 3, 3))
        if c.ndim == 4 and c.shape[1:] == (k, 3, 3):
            return _checked(r, key, c)
        if k == 1 and c.ndim == 3 and c.shape[1:] == (3, 3):
            return _checked(r, key, c[:, None])
    hint = ""
    if key.endswith("hand_pose") and a.ndim >= 2 and a.shape[-1] < 45:
        hint = " (PCA hand coefficients? export full axis-angle with use_pca=False)"
    raise r.fail(f"key {key!r} has shape {a.shape}; expected (T, {3 * k}), (T, {k}, 3) or (T, {k}, 3, 3){hint}")


def _checked(r: NpzReader, key: str, m: np.ndarray) -> np.ndarray:
    """Refuse non-rotations; re-orthonormalise float32 drift only where there is some."""
    if m.size and not is_rotation(m, atol=1e-3).all():
        raise r.fail(f"key {key!r} holds matrices that are not rotations")
    drift = np.abs(m @ np.swapaxes(m, -1, -2) - np.eye(3)).max(axis=(-1, -2)) > 1e-6
    if drift.any():
        m = m.copy()
        m[drift] = orthonormalize(m[drift])
    return m


def _per_frame(r: NpzReader, key: str, t: int, width: int | None = None) -> np.ndarray:
    """(T, width) float64 from (T, w), (1, T, w); refuses other shapes."""
    a = r.numeric(key)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2 or a.shape[0] != t or (width is not None and a.shape[1] != width):
        w = "W" if width is None else width
        raise r.fail(f"key {key!r} has shape {a.shape}, expected ({t}, {w})")
    return a


def _fill(full: np.ndarray, have: np.ndarray, joints, m: np.ndarray, r: NpzReader, key: str) -> None:
    if full.shape[0] != m.shape[0]:
        raise r.fail(f"key {key!r} has {m.shape[0]} frames, expected {full.shape[0]}")
    full[:, list(joints)] = m
    have[list(joints)] = True


def _pose_keys(r: NpzReader) -> tuple[str, np.ndarray, np.ndarray]:
    """Layout name, (T, 55, 3, 3) rotations (identity where missing), (55,) bool present."""
    have = np.zeros(N_SMPLX, bool)
    if r.has("poses"):
        a = r.numeric("poses")
        try:
            m, smplh = _matrices(r, "poses", N_SMPLX, a), False
        except FormatError as e55:
            try:
                m, smplh = _matrices(r, "poses", 52, a), True
            except FormatError:
                raise e55 from None
        full = np.broadcast_to(np.eye(3), (m.shape[0], N_SMPLX, 3, 3)).copy()
        _fill(full, have, _SMPLH_TO_SMPLX if smplh else range(N_SMPLX), m, r, "poses")
        return ("amass_smplh" if smplh else "amass"), full, have
    if r.has("root_orient") or r.has("pose_body"):
        layout, keys = "amass_split", AMASS_SPLIT
        first = "pose_body"
    elif r.has("global_orient") or r.has("body_pose"):
        layout, keys = "parts", {k: tuple(range(s.start, s.stop)) for k, s in PARTS.items()}
        first = "body_pose"
    else:
        raise r.fail("no SMPL-X pose keys (expected 'poses', 'root_orient'/'pose_body' or 'global_orient'/'body_pose')")
    if not r.has(first):
        raise r.fail(f"missing key {first!r}")
    parts: np.ndarray | None = None
    for key, joints in keys.items():
        if not r.has(key):
            continue
        m = _matrices(r, key, len(joints))
        if parts is None:
            parts = np.broadcast_to(np.eye(3), (m.shape[0], N_SMPLX, 3, 3)).copy()
        _fill(parts, have, joints, m, r, key)
    assert parts is not None
    return layout, parts, have


def _fps(r: NpzReader, default_fps: float) -> tuple[float, bool]:
    for key in FPS_KEYS:
        if r.has(key):
            fps = r.scalar(key)
            if not fps > 0:
                raise r.fail(f"key {key!r} is {fps}, expected a positive frame rate")
            return fps, False
    return float(default_fps), True


def _jsonable(a: np.ndarray) -> Any:
    if a.dtype.kind in "US":
        v = a.tolist()
        return v.decode("utf-8", "replace") if isinstance(v, bytes) else v
    return a.tolist()


def detect_up_axis(root: np.ndarray) -> str:
    """ "z" when the pelvis stands along +Z in most frames, else "y".

    root: (T, 3, 3) root (global) orientations. The rest pose's up is +Y, so column 1 of each
    root rotation is the pelvis' up axis in the file's world.
    """
    up = np.median(np.asarray(root)[:, :, 1], axis=0)  # (3,) component-wise median direction
    return "z" if up[2] > max(up[1], UPRIGHT_COS) else "y"


def _up_axis(r: NpzReader, up_axis: str, root: np.ndarray) -> str:
    """The axis the file is stored in: the option, the file's ``up_axis`` key, or detection."""
    if up_axis != "auto":
        return up_axis
    if r.has("up_axis"):
        stored = r.text("up_axis").strip().lower()
        if stored not in ("y", "z"):
            raise r.fail(
                f"key 'up_axis' is {stored!r}, expected 'y' or 'z' (read with an explicit up axis to ignore it)"
            )
        return stored
    return detect_up_axis(root)


def _root_offset(skeleton) -> np.ndarray:
    """(3,) the root joint's rest position, the point SMPL-X rotates the body about. Exact for our
    skeleton (FK adds ``trans`` to it); for other betas the real SMPL-X pelvis differs by a few
    cm, so a Z-up file's rotated ``trans`` is approximate for them."""
    return np.asarray(skeleton.offsets[0], np.float64)


def _rotate_body(root: np.ndarray, trans: np.ndarray, rot: np.ndarray, j0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn the whole body by ``rot`` (3, 3) about the root joint: (T, 3, 3) root orientations,
    (T, 3) translations -> rot @ root, rot @ (trans + j0) - j0 (float64)."""
    return rot @ root, (np.asarray(trans, np.float64) + j0) @ rot.T - j0


def read(path: str | Path, *, default_fps: float = DEFAULT_FPS, up_axis: str = "auto") -> Sequence:
    """Read an SMPL-X parameter file (AMASS or per-part layout, see the module docstring).

    up_axis: "auto", "y" or "z", the axis the file's bodies stand along; Z-up files are turned
    Y-up and ``meta["up_axis_source"]`` records which it was.
    """
    path = Path(path)
    if up_axis not in UP_AXES:
        raise FormatError(path, f"unknown up_axis {up_axis!r}; expected auto, y or z")
    with open_npz(path) as r:
        layout, full, have = _pose_keys(r)
        t = full.shape[0]
        if t == 0:
            raise r.fail("no frames (T = 0)")
        fps, assumed = _fps(r, default_fps)
        tkey = "trans" if r.has("trans") else ("transl" if r.has("transl") else None)
        trans = _per_frame(r, tkey, t, 3) if tkey else np.zeros((t, 3))
        source_axis = _up_axis(r, up_axis, full[:, 0])
        if source_axis == "z":
            full[:, 0], trans = _rotate_body(full[:, 0], trans, Z_TO_Y, _root_offset(TEMPLATE))
        extra: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {"source_format": "smplx", "smplx_layout": layout, "up_axis_source": source_axis}
        if assumed:
            meta["fps_assumed"] = True
        for name, j in EXTRA_JOINTS.items():
            if have[j]:
                extra[name] = full[:, j].astype(np.float32)
        if r.has("expression"):
            e = r.numeric("expression")
            if e.ndim == 3 and e.shape[0] == 1:
                e = e[0]
            if e.ndim == 2 and e.shape[0] == t:
                extra["expression"] = e.astype(np.float32)
            elif e.ndim <= 2 and e.size == e.shape[-1]:  # (E,) or (1, E): one face for all frames
                meta["expression"] = e.reshape(-1).tolist()
            else:
                raise r.fail(f"key 'expression' has shape {e.shape}, expected ({t}, E)")
        if r.has("betas"):
            b = r.numeric("betas")
            if b.ndim <= 1 or (b.ndim == 2 and b.shape[0] == 1):
                meta["betas"] = b.reshape(-1).tolist()
            elif b.ndim == 2 and b.shape[0] == t:
                extra["betas"] = b.astype(np.float32)
            else:
                raise r.fail(f"key 'betas' has shape {b.shape}, expected (B,) or ({t}, B)")
        for key in ("gender", "surface_model_type"):
            if r.has(key):
                meta[key] = r.text(key)
        others, skipped = {}, []
        for key in sorted(r.keys - KNOWN_KEYS):
            try:
                a = r.array(key)
            except FormatError:
                skipped.append(key)
                continue
            if (
                a.dtype.kind in "iuf"
                and a.ndim >= 1
                and a.shape[0] == t
                and t > 1
                and a[0].size <= MAX_EXTRA_WIDTH
                and np.isfinite(a).all()
            ):
                extra[f"npz:{key}"] = a
            elif a.dtype.kind in "iufbUS" and a.size <= 64 and (a.dtype.kind not in "f" or np.isfinite(a).all()):
                others[key] = _jsonable(a)
            else:
                skipped.append(key)
        if others:
            meta["npz"] = others
        if skipped:
            meta["skipped_keys"] = skipped
        valid = np.broadcast_to(have[SMPLX_INDEX], (t, N_JOINTS))
        try:
            return new_sequence(full[:, SMPLX_INDEX], fps, trans, valid=valid, extra_frames=extra, meta=meta)
        except SequenceError as e:
            raise FormatError(path, str(e)) from None


def _full_matrices(seq: Sequence) -> np.ndarray:
    """(T, 55, 3, 3) float64: our joints plus jaw / eyes from the extra channels (else identity)."""
    t = seq.n_frames
    full = np.broadcast_to(np.eye(3), (t, N_SMPLX, 3, 3)).copy()
    full[:, SMPLX_INDEX] = seq.rotations
    for name, j in EXTRA_JOINTS.items():
        m = seq.extra_frames.get(name)
        if m is not None and m.shape == (t, 3, 3):
            full[:, j] = m
    return full


def _to_axis_angle(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) valid rotations -> (..., 3). A Sequence's rotations are already checked, so
    scipy's SVD re-orthogonalisation (90 % of a 10-minute write) is skipped where scipy allows."""
    flat = m.reshape(-1, 3, 3)
    try:
        rot = Rotation.from_matrix(flat, assume_valid=True)
    except TypeError:  # scipy < 1.15
        return matrix_to_axis_angle(m)
    return rot.as_rotvec().reshape(m.shape[:-2] + (3,))


def default_layout(path: str | Path) -> str:
    return "parts" if str(path).lower().endswith(".smplx.npz") else "amass"


def output_up_axis(seq: Sequence, up_axis: str | None = None) -> str:
    """The axis a file is written in: ``up_axis`` ("y" / "z"; None or "auto": the one the
    sequence was read from, ``meta["up_axis_source"]``, else "y")."""
    axis = seq.meta.get("up_axis_source", "y") if up_axis in (None, "auto") else up_axis
    if axis not in ("y", "z"):
        raise ValueError(f"unknown up axis {axis!r}; expected y or z")
    return axis


def arrays_for(seq: Sequence, layout: str = "amass", up_axis: str | None = None) -> dict[str, np.ndarray]:
    """The npz contents ``write`` stores for ``seq`` in ``layout`` and ``up_axis``."""
    if layout not in ("amass", "parts"):
        raise ValueError(f"unknown SMPL-X layout {layout!r}; expected amass or parts")
    axis = output_up_axis(seq, up_axis)
    t = seq.n_frames
    full = _full_matrices(seq)
    trans = seq.translation.astype(np.float64)
    if axis == "z":  # undo the reader's turn: Y-up -> Z-up about the same root joint
        full[:, 0], trans = _rotate_body(full[:, 0], trans, Z_TO_Y.T, _root_offset(seq.skeleton))
    aa = _to_axis_angle(full)  # (T, 55, 3)
    meta = seq.meta
    out: dict[str, np.ndarray] = {}
    ftype = np.float64 if layout == "amass" else np.float32
    if layout == "amass":
        out["poses"] = aa.reshape(t, -1)
        for key, joints in AMASS_SPLIT.items():
            out[key] = aa[:, list(joints)].reshape(t, -1)
        out["trans"] = trans
        out["mocap_frame_rate"] = np.array(seq.fps)
        out["mocap_framerate"] = np.array(seq.fps)
        out["mocap_time_length"] = np.array(seq.duration)
        out["surface_model_type"] = np.array(str(meta.get("surface_model_type", "smplx")))
    else:
        for key, s in PARTS.items():
            out[key] = aa[:, s].reshape(t, -1).astype(np.float32)
        out["transl"] = trans.astype(np.float32)
        out["fps"] = np.array(seq.fps)
        if "surface_model_type" in meta:
            out["surface_model_type"] = np.array(str(meta["surface_model_type"]))
    out["gender"] = np.array(str(meta.get("gender", "neutral")))
    out["up_axis"] = np.array(axis)
    if "betas" in seq.extra_frames:
        out["betas"] = np.asarray(seq.extra_frames["betas"], ftype)
    elif "betas" in meta:
        out["betas"] = np.asarray(meta["betas"], ftype)
    else:
        out["betas"] = np.zeros(16 if layout == "amass" else 10, ftype)
    if "expression" in seq.extra_frames:
        out["expression"] = np.asarray(seq.extra_frames["expression"], ftype)
    elif "expression" in meta:
        out["expression"] = np.asarray(meta["expression"], ftype)
    for key, a in seq.extra_frames.items():
        if key.startswith("npz:") and key[4:] not in out:
            out[key[4:]] = a
    for key, v in dict(meta.get("npz", {})).items():
        if key not in out:
            out[key] = np.asarray(v)
    return out


def write(path: str | Path, seq: Sequence, *, layout: str | None = None, up_axis: str | None = None) -> None:
    """Write ``seq`` as SMPL-X parameters (see the module docstring for ``layout`` and ``up_axis``)."""
    path = Path(path)
    if seq.n_frames == 0:
        raise FormatError(path, "nothing to write: the sequence has no frames")
    layout = layout or default_layout(path)
    if layout not in ("amass", "parts"):
        raise FormatError(path, f"unknown SMPL-X layout {layout!r}; expected amass or parts")
    if tuple(seq.skeleton.names) != JOINT_NAMES:
        raise FormatError(path, "SMPL-X files need the SMPL-X joint set; this sequence has another skeleton")
    try:
        output_up_axis(seq, up_axis)
    except ValueError as e:
        raise FormatError(path, str(e)) from None
    write_npz(path, arrays_for(seq, layout, up_axis))

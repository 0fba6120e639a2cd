"""Autodesk FBX 7.4 binary writer: skeleton + animation, optionally the skinned default avatar.

What goes in (checked against ufbx and Blender's importer in tests/core/test_fbx.py):
- one ``Model`` of type ``LimbNode`` per joint (named as our joints) with a ``NodeAttribute``
  (``Skeleton``); its static transform is the rest pose: ``Lcl Translation`` = the joint's offset,
  ``Lcl Rotation`` = 0. Rest frames are aligned with the world axes (our rest rotations are
  identity), so there are no pre/post-rotations; ``RotationActive`` = 1 and an explicit
  ``RotationOrder`` make every reader apply the same Euler order (Blender ignores the order
  without it);
- a ``BindPose`` holding every joint's rest world matrix, also without a mesh (Blender takes the
  rest pose from it);
- one ``AnimationStack`` / ``AnimationLayer``; an ``R`` curve node with X/Y/Z curves on every
  joint and a ``T`` curve node on the root; one key per frame at ``frame * 46186158000 / fps``
  ticks, linear interpolation, Euler angles kept continuous between frames;
- ``GlobalSettings``: axes (``up="y"``: Y up, front +Z; ``up="z"``: Z up, front -Y, Blender's
  frame), ``UnitScaleFactor`` (100 for ``unit="m"``, 1 for ``"cm"``; values are written in that
  unit), ``TimeMode`` for the standard rates or ``eCustom`` + ``CustomFrameRate`` (exact fps);
- ``mesh=True``: the default avatar (``core.avatar``) as a ``Mesh`` with normals and two-tone
  materials, a ``Skin`` deformer and one ``Cluster`` per weighted joint (vertex indices, weights,
  ``Transform`` = inverse bind matrix, ``TransformLink`` = bind matrix).

Euler order option (``order``): FBX names, where ``"XYZ"`` (FBX's default ``eEulerXYZ``) means
X is applied first: R = Rz @ Ry @ Rx. ``"auto"`` picks per joint the order farthest from gimbal
lock for this clip. Default units are metres: Blender then imports at scale 1 (a centimetre file
arrives as an armature scaled 0.01), Unity's "Convert Units" gives scale 1, and Maya / Unreal
convert to centimetres on import.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from pathlib import Path

import numpy as np

from ..model.sequence import Sequence
from . import fbx_binary as fb
from .atomic import atomic_path
from .errors import FormatError
from .export_prep import (
    ORIGINS,
    UNITS,
    Progress,
    axis_matrix,
    check_exportable,
    check_option,
    euler_degrees,
    report,
    resolve_orders,
    to_target,
)
from .fbx_binary import Node, object_name

TICKS_PER_SECOND = 46_186_158_000
FBX_ORDER_ENUM = {"XYZ": 0, "XZY": 1, "YZX": 2, "YXZ": 3, "ZXY": 4, "ZYX": 5}
# FbxTime::EMode for the whole rates that have one. Everything else, NTSC rates included, is
# eCustom (14) + CustomFrameRate: readers take the NTSC modes as rounded values (ufbx: 29.97),
# which would not give back our exact rate.
TIME_MODES = (
    (120.0, 1),
    (100.0, 2),
    (60.0, 3),
    (50.0, 4),
    (48.0, 5),
    (30.0, 6),
    (25.0, 10),
    (24.0, 11),
    (96.0, 15),
    (72.0, 16),
)
# Linear interpolation (0x4) plus the tangent bits the FBX SDK sets by default.
KEY_FLAGS_LINEAR = 0x6104
# Default key data: slopes 0, tangent weights 1/3 (packed int 218434821), velocity 0.
KEY_DATA = np.array([0, 0, 218434821, 0], np.int32).view(np.float32)
AXIS_SETTINGS = {  # up -> (UpAxis, UpAxisSign, FrontAxis, FrontAxisSign, CoordAxis, CoordAxisSign)
    "y": (1, 1, 2, 1, 0, 1),
    "z": (2, 1, 1, -1, 0, 1),
}
STACK_NAME = "Take 001"


def write(
    path: str | Path,
    seq: Sequence,
    *,
    up: str = "y",
    unit: str = "m",
    mesh: bool = False,
    order: str | Seq[str] | dict = "XYZ",
    progress: Progress | None = None,
    origin: str = "pelvis",
) -> None:
    """Write ``seq`` as binary FBX 7.4 (atomically). See the module docstring for the options;
    ``origin`` "floor" stands the avatar on the ground, "pelvis" keeps our origin (the command
    line and the editor's export default to "floor")."""
    path = Path(path)
    check_option(path, "up", up, ("y", "z"))
    check_option(path, "origin", origin, ORIGINS)
    check_option(path, "unit", unit, tuple(UNITS))
    check_exportable(path, seq)
    report(progress, 0.0)
    nodes = build(path, seq, up=up, unit=unit, mesh=mesh, order=order, progress=progress, origin=origin)
    data = fb.encode(nodes)
    report(progress, 0.95)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    report(progress, 1.0)


def _fbx_orders(path: Path, order, names: Seq[str], rot: np.ndarray) -> list[str]:
    """Per joint FBX order name. FBX "XYZ" = intrinsic "ZYX" (X applied first)."""
    if isinstance(order, str) and order.upper() == "AUTO":
        return [o[::-1] for o in resolve_orders(path, "auto", names, rot)]
    return resolve_orders(path, order, names, rot, default="XYZ")


def key_times(n_frames: int, fps: float) -> np.ndarray:
    """(T,) int64 FBX ticks of each frame."""
    return np.round(np.arange(n_frames) * (TICKS_PER_SECOND / fps)).astype(np.int64)


def time_mode(fps: float) -> int:
    for rate, mode in TIME_MODES:
        if rate == fps:
            return mode
    return 14


class _Ids:
    """Deterministic unique object ids (0 is the scene root)."""

    def __init__(self) -> None:
        self.next = 1_000_000

    def __call__(self) -> int:
        self.next += 1
        return self.next


def _p(props: Node, name: str, type_: str, label: str, flags: str, *values) -> None:
    props.add("P", name, type_, label, flags, *values)


def _matrix(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """4x4 column-major (FBX order) from a 3x3 rotation and a translation."""
    m = np.eye(4)
    m[:3, :3] = rotation
    m[:3, 3] = translation
    return m.T.reshape(16)


def build(
    path: Path,
    seq: Sequence,
    *,
    up: str,
    unit: str,
    mesh: bool,
    order,
    progress: Progress | None = None,
    origin: str = "pelvis",
) -> list[Node]:
    """The top-level FBX nodes for ``seq`` (no I/O)."""
    sk = seq.skeleton
    offsets, _, root_pos, rot = to_target(seq, up, unit, origin)
    fbx_orders = _fbx_orders(path, order, sk.names, rot)
    angles = euler_degrees(rot, [o[::-1] for o in fbx_orders])  # (T, J, 3), listed intrinsic
    report(progress, 0.3)
    if not (np.isfinite(angles).all() and np.isfinite(root_pos).all()):
        raise FormatError(path, "motion has non-finite values after conversion; nothing was written")
    times = key_times(seq.n_frames, seq.fps)
    stop = int(times[-1])
    ids = _Ids()
    objects = Node("Objects")
    conns = Node("Connections")
    counts: dict[str, int] = {}

    def obj(kind: str, *values) -> Node:
        counts[kind] = counts.get(kind, 0) + 1
        return objects.add(kind, *values)

    def connect(child: int, parent: int, prop: str | None = None) -> None:
        if prop is None:
            conns.add("C", "OO", fb.i64(child), fb.i64(parent))
        else:
            conns.add("C", "OP", fb.i64(child), fb.i64(parent), prop)

    # --- skeleton ----------------------------------------------------------------------------
    rest_world = np.zeros((sk.n_joints, 3))
    model_ids = []
    for j, name in enumerate(sk.names):
        p = sk.parents[j]
        rest_world[j] = offsets[j] + (rest_world[p] if p >= 0 else 0.0)
        attr_id, model_id = ids(), ids()
        model_ids.append(model_id)
        attr = obj("NodeAttribute", fb.i64(attr_id), fb.string(object_name(name, "NodeAttribute")), "LimbNode")
        _p(attr.add("Properties70"), "Size", "double", "Number", "", 1.0)
        attr.add("TypeFlags", "Skeleton")
        model = obj("Model", fb.i64(model_id), fb.string(object_name(name, "Model")), "LimbNode")
        model.add("Version", 232)
        props = model.add("Properties70")
        _p(props, "RotationActive", "bool", "", "", 1)
        _p(props, "RotationOrder", "enum", "", "", FBX_ORDER_ENUM[fbx_orders[j]])
        _p(props, "InheritType", "enum", "", "", 1)
        _p(props, "DefaultAttributeIndex", "int", "Integer", "", 0)
        _p(props, "Lcl Translation", "Lcl Translation", "", "A", *map(float, offsets[j]))
        _p(props, "Lcl Rotation", "Lcl Rotation", "", "A", 0.0, 0.0, 0.0)
        _p(props, "Lcl Scaling", "Lcl Scaling", "", "A", 1.0, 1.0, 1.0)
        model.add("Shading", True)
        model.add("Culling", "CullingOff")
        connect(attr_id, model_id)
        connect(model_id, model_ids[p] if p >= 0 else 0)

    # --- mesh --------------------------------------------------------------------------------
    pose_nodes = [(model_ids[j], _matrix(np.eye(3), rest_world[j])) for j in range(sk.n_joints)]
    if mesh:
        mesh_id = _add_mesh(seq, up, unit, obj, connect, ids, model_ids, rest_world)
        pose_nodes.append((mesh_id, _matrix(np.eye(3), np.zeros(3))))
    report(progress, 0.4)

    pose_id = ids()
    pose = obj("Pose", fb.i64(pose_id), fb.string(object_name("BindPose", "Pose")), "BindPose")
    pose.add("Type", "BindPose")
    pose.add("Version", 100)
    pose.add("NbPoseNodes", len(pose_nodes))
    for node_id, m in pose_nodes:
        pn = pose.add("PoseNode")
        pn.add("Node", fb.i64(node_id))
        pn.add("Matrix", fb.array(m, np.float64))

    # --- animation ---------------------------------------------------------------------------
    stack_id, layer_id = ids(), ids()
    stack = obj("AnimationStack", fb.i64(stack_id), fb.string(object_name(STACK_NAME, "AnimStack")), "")
    sp = stack.add("Properties70")
    for name in ("LocalStart", "ReferenceStart"):
        _p(sp, name, "KTime", "Time", "", fb.i64(0))
    for name in ("LocalStop", "ReferenceStop"):
        _p(sp, name, "KTime", "Time", "", fb.i64(stop))
    layer = obj("AnimationLayer", fb.i64(layer_id), fb.string(object_name("BaseLayer", "AnimLayer")), "")
    layer.block = True
    connect(layer_id, stack_id)
    key_time = fb.array(times, np.int64)
    key_flags = fb.array(np.array([KEY_FLAGS_LINEAR], np.int32))
    key_data = fb.array(KEY_DATA)
    key_count = fb.array(np.array([seq.n_frames], np.int32))

    def curve_node(kind: str, target: int, prop: str, values: np.ndarray) -> None:
        """values: (T, 3) for the X, Y, Z channels of ``prop``."""
        cn_id = ids()
        cn = obj("AnimationCurveNode", fb.i64(cn_id), fb.string(object_name(kind, "AnimCurveNode")), "")
        cp = cn.add("Properties70")
        for a, axis in enumerate("XYZ"):
            _p(cp, f"d|{axis}", "Number", "", "A", float(values[0, a]))
        connect(cn_id, layer_id)
        connect(cn_id, target, prop)
        for a, axis in enumerate("XYZ"):
            cid = ids()
            c = obj("AnimationCurve", fb.i64(cid), fb.string(object_name("", "AnimCurve")), "")
            c.add("Default", float(values[0, a]))
            c.add("KeyVer", 4008)
            c.add("KeyTime", key_time)
            c.add("KeyValueFloat", fb.array(values[:, a], np.float32))
            c.add("KeyAttrFlags", key_flags)
            c.add("KeyAttrDataFloat", key_data)
            c.add("KeyAttrRefCount", key_count)
            connect(cid, cn_id, f"d|{axis}")

    root = [j for j, p in enumerate(sk.parents) if p < 0][0]
    curve_node("T", model_ids[root], "Lcl Translation", root_pos)
    for j in range(sk.n_joints):
        intrinsic = fbx_orders[j][::-1]
        xyz = angles[:, j, [intrinsic.index(a) for a in "XYZ"]]
        curve_node("R", model_ids[j], "Lcl Rotation", xyz)
    report(progress, 0.6)

    return [
        _header(path),
        Node("FileId", [fb.raw(fb.FILE_ID)]),
        Node("CreationTime", [fb.string(fb.CREATION_TIME)]),
        Node("Creator", [fb.string(_creator())]),
        _global_settings(seq.fps, up, unit, stop),
        _documents(ids),
        Node("References"),
        _definitions(counts),
        objects,
        conns,
        _takes(stop),
    ]


def _add_mesh(seq: Sequence, up: str, unit: str, obj, connect, ids, model_ids, rest_world) -> int:
    from ..avatar import build_avatar

    av = build_avatar(seq.skeleton)
    c = axis_matrix(up)
    s = UNITS[unit]
    verts = s * av.vertices.astype(np.float64) @ c.T
    normals = av.vertex_normals() @ c.T
    geom_id, mesh_id, skin_id = ids(), ids(), ids()
    geom = obj("Geometry", fb.i64(geom_id), fb.string(object_name("signer", "Geometry")), "Mesh")
    geom.add("Properties70")
    geom.add("GeometryVersion", 124)
    geom.add("Vertices", fb.array(verts, np.float64))
    poly = av.faces.astype(np.int32).copy()
    poly[:, -1] = ~poly[:, -1]  # the last index of each polygon is stored as -(i + 1)
    geom.add("PolygonVertexIndex", fb.array(poly, np.int32))
    ln = geom.add("LayerElementNormal", 0)
    ln.add("Version", 102)
    ln.add("Name", "")
    ln.add("MappingInformationType", "ByPolygonVertex")
    ln.add("ReferenceInformationType", "Direct")
    ln.add("Normals", fb.array(normals[av.faces].reshape(-1), np.float64))
    lm = geom.add("LayerElementMaterial", 0)
    lm.add("Version", 101)
    lm.add("Name", "")
    lm.add("MappingInformationType", "ByPolygon")
    lm.add("ReferenceInformationType", "IndexToDirect")
    lm.add("Materials", fb.array(av.face_materials, np.int32))
    layer = geom.add("Layer", 0)
    layer.add("Version", 100)
    for kind in ("LayerElementNormal", "LayerElementMaterial"):
        le = layer.add("LayerElement")
        le.add("Type", kind)
        le.add("TypedIndex", 0)

    model = obj("Model", fb.i64(mesh_id), fb.string(object_name("signer", "Model")), "Mesh")
    model.add("Version", 232)
    props = model.add("Properties70")
    _p(props, "InheritType", "enum", "", "", 1)
    _p(props, "DefaultAttributeIndex", "int", "Integer", "", 0)
    _p(props, "Lcl Translation", "Lcl Translation", "", "A", 0.0, 0.0, 0.0)
    _p(props, "Lcl Rotation", "Lcl Rotation", "", "A", 0.0, 0.0, 0.0)
    _p(props, "Lcl Scaling", "Lcl Scaling", "", "A", 1.0, 1.0, 1.0)
    model.add("Shading", True)
    model.add("Culling", "CullingOff")
    connect(geom_id, mesh_id)
    connect(mesh_id, 0)
    for name, rgb in av.materials:  # connection order = material index
        mat_id = ids()
        mat = obj("Material", fb.i64(mat_id), fb.string(object_name(name, "Material")), "")
        mat.add("Version", 102)
        mat.add("ShadingModel", "lambert")
        mat.add("MultiLayer", 0)
        mp = mat.add("Properties70")
        _p(mp, "DiffuseColor", "Color", "", "A", *map(float, rgb))
        _p(mp, "Diffuse", "Vector3D", "Vector", "", *map(float, rgb))
        connect(mat_id, mesh_id)

    skin = obj("Deformer", fb.i64(skin_id), fb.string(object_name("signer", "Deformer")), "Skin")
    skin.add("Version", 101)
    skin.add("Link_DeformAcuracy", 50.0)
    skin.add("SkinningType", "Linear")
    connect(skin_id, geom_id)
    w = av.weight_matrix()  # (V, J)
    for j, name in enumerate(seq.skeleton.names):
        idx = np.nonzero(w[:, j] > 0)[0]
        if len(idx) == 0:
            continue
        cl_id = ids()
        cl = obj("Deformer", fb.i64(cl_id), fb.string(object_name(name, "SubDeformer")), "Cluster")
        cl.add("Version", 100)
        cl.add("UserData", "", "")
        cl.add("Indexes", fb.array(idx, np.int32))
        cl.add("Weights", fb.array(w[idx, j], np.float64))
        cl.add("Transform", fb.array(_matrix(np.eye(3), -rest_world[j]), np.float64))
        cl.add("TransformLink", fb.array(_matrix(np.eye(3), rest_world[j]), np.float64))
        connect(cl_id, skin_id)
        connect(model_ids[j], cl_id)
    return mesh_id


def _creator() -> str:
    return "Signframe FBX writer (core.io.fbx)"


def _header(path: Path) -> Node:
    h = Node("FBXHeaderExtension")
    h.add("FBXHeaderVersion", 1003)
    h.add("FBXVersion", fb.VERSION)
    h.add("EncryptionType", 0)
    ts = h.add("CreationTimeStamp")
    for name, v in (
        ("Version", 1000),
        ("Year", 1970),
        ("Month", 1),
        ("Day", 1),
        ("Hour", 10),
        ("Minute", 0),
        ("Second", 0),
        ("Millisecond", 0),
    ):
        ts.add(name, v)
    h.add("Creator", _creator())
    info = h.add("SceneInfo", fb.string(object_name("GlobalInfo", "SceneInfo")), "UserData")
    info.add("Type", "UserData")
    info.add("Version", 100)
    md = info.add("MetaData")
    md.add("Version", 100)
    for name in ("Title", "Subject", "Author", "Keywords", "Revision", "Comment"):
        md.add(name, "")
    props = info.add("Properties70")
    _p(props, "DocumentUrl", "KString", "Url", "", str(path))
    _p(props, "SrcDocumentUrl", "KString", "Url", "", str(path))
    _p(props, "Original", "Compound", "", "")
    _p(props, "Original|ApplicationVendor", "KString", "", "", "Signframe")
    _p(props, "Original|ApplicationName", "KString", "", "", "Signframe")
    _p(props, "Original|ApplicationVersion", "KString", "", "", "0.1")
    _p(props, "Original|DateTime_GMT", "DateTime", "", "", "01/01/1970 10:00:00.000")
    _p(props, "Original|FileName", "KString", "", "", path.name)
    return h


def _global_settings(fps: float, up: str, unit: str, stop: int) -> Node:
    g = Node("GlobalSettings")
    g.add("Version", 1000)
    props = g.add("Properties70")
    for name, v in zip(
        ("UpAxis", "UpAxisSign", "FrontAxis", "FrontAxisSign", "CoordAxis", "CoordAxisSign"), AXIS_SETTINGS[up]
    ):
        _p(props, name, "int", "Integer", "", v)
    _p(props, "OriginalUpAxis", "int", "Integer", "", AXIS_SETTINGS[up][0])
    _p(props, "OriginalUpAxisSign", "int", "Integer", "", 1)
    scale = 100.0 / UNITS[unit]  # centimetres per file unit
    _p(props, "UnitScaleFactor", "double", "Number", "", scale)
    _p(props, "OriginalUnitScaleFactor", "double", "Number", "", scale)
    _p(props, "AmbientColor", "ColorRGB", "Color", "", 0.0, 0.0, 0.0)
    _p(props, "DefaultCamera", "KString", "", "", "Producer Perspective")
    _p(props, "TimeMode", "enum", "", "", time_mode(fps))
    _p(props, "TimeProtocol", "enum", "", "", 2)
    _p(props, "SnapOnFrameMode", "enum", "", "", 0)
    _p(props, "TimeSpanStart", "KTime", "Time", "", fb.i64(0))
    _p(props, "TimeSpanStop", "KTime", "Time", "", fb.i64(stop))
    _p(props, "CustomFrameRate", "double", "Number", "", float(fps))
    _p(props, "TimeMarker", "Compound", "", "")
    _p(props, "CurrentTimeMarker", "int", "Integer", "", -1)
    return g


def _documents(ids: _Ids) -> Node:
    d = Node("Documents")
    d.add("Count", 1)
    doc = d.add("Document", fb.i64(ids()), "Scene", "Scene")
    props = doc.add("Properties70")
    _p(props, "SourceObject", "object", "", "")
    _p(props, "ActiveAnimStackName", "KString", "", "", STACK_NAME)
    doc.add("RootNode", fb.i64(0))
    return d


def _definitions(counts: dict[str, int]) -> Node:
    d = Node("Definitions")
    d.add("Version", 100)
    d.add("Count", 1 + sum(counts.values()))
    d.add("ObjectType", "GlobalSettings").add("Count", 1)
    for kind, n in counts.items():
        d.add("ObjectType", kind).add("Count", n)
    return d


def _takes(stop: int) -> Node:
    t = Node("Takes")
    t.add("Current", STACK_NAME)
    take = t.add("Take", STACK_NAME)
    take.add("FileName", STACK_NAME.replace(" ", "_") + ".tak")
    take.add("LocalTime", fb.i64(0), fb.i64(stop))
    take.add("ReferenceTime", fb.i64(0), fb.i64(stop))
    return t

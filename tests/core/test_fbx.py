"""FBX 7.4 binary export, checked with readers we did not write (ufbx, Blender)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from export_readers import BLENDER, Z_UP, blender_read, in_target, signing_sequence, ufbx_read

from core.avatar import build_avatar
from core.io import fbx, registry
from core.io import fbx_binary as fb
from core.io.errors import FormatError
from core.kinematics.fk import forward_kinematics
from core.model.sequence import new_sequence
from core.model.skeleton import JOINT_NAMES, N_JOINTS, PARENTS

FRAMES = [0, 9, 17, 23]
VARIANTS = [(mesh, up, unit) for mesh in (False, True) for up in ("y", "z") for unit in ("m", "cm")]
UFBX_Y_UP = [0, 2, 4]  # ufbx CoordinateAxis: +X right, +Y up, +Z front
UFBX_Z_UP = [0, 4, 3]  # +X right, +Z up, -Y front


@pytest.fixture(scope="module")
def seq():
    return signing_sequence(t=24, fps=30.0)


@pytest.fixture(scope="module")
def fk(seq):
    return forward_kinematics(seq.skeleton, seq.rotations, seq.translation)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, seq):
    folder = tmp_path_factory.mktemp("fbx")
    out = {}
    for mesh, up, unit in VARIANTS:
        out[mesh, up, unit] = folder / f"sign_{'mesh' if mesh else 'skel'}_{up}_{unit}.fbx"
        fbx.write(out[mesh, up, unit], seq, mesh=mesh, up=up, unit=unit)
    return out


@pytest.fixture(scope="module")
def ufbx_scenes(exported):
    return ufbx_read(list(exported.values()), FRAMES, skin=True)


# --- the binary container -------------------------------------------------------------------


def test_header_and_footer_follow_the_7400_layout(exported):
    data = exported[False, "y", "m"].read_bytes()
    assert data[:21] == b"Kaydara FBX Binary  \x00" and data[21:23] == b"\x1a\x00"
    assert struct.unpack_from("<I", data, 23)[0] == 7400
    assert len(data) % 16 == 0
    assert data[-16:] == bytes.fromhex("f85a8c6adef5d97eece90ce3758f290b")
    assert data[-136:-16] == b"\x00" * 120
    assert struct.unpack_from("<I", data, len(data) - 140)[0] == 7400
    assert data[-144:-140] == b"\x00" * 4
    # the 16-byte footer id follows the top level's 13-byte null record, then zero padding
    at = data.rindex(bytes.fromhex("fabcab09d0c8d466b176fb831cf7267e"))
    assert data[at - 13 : at] == b"\x00" * 13 and set(data[at + 16 : len(data) - 144]) <= {0}
    assert (len(data) - 144) % 16 == 0 and len(data) - 144 - (at + 16) < 16


def test_node_records_and_property_types():
    node = fb.Node(
        "N",
        [
            fb.i16(-2),
            fb.boolean(True),
            fb.i32(7),
            fb.f32(1.5),
            fb.f64(-2.25),
            fb.i64(2**40),
            fb.string("ab"),
            fb.raw(b"\x00\xff"),
        ],
    )
    data = fb.encode([node])
    start = 27
    end, n_props, props_len, name_len = struct.unpack_from("<IIIB", data, start)
    assert (n_props, name_len, data[start + 13 : start + 14]) == (8, 1, b"N")
    expected = (
        b"Y"
        + struct.pack("<h", -2)
        + b"C\x01"
        + b"I"
        + struct.pack("<i", 7)
        + b"F"
        + struct.pack("<f", 1.5)
        + b"D"
        + struct.pack("<d", -2.25)
        + b"L"
        + struct.pack("<q", 2**40)
        + b"S\x02\x00\x00\x00ab"
        + b"R\x02\x00\x00\x00\x00\xff"
    )
    assert props_len == len(expected) and data[start + 14 : start + 14 + props_len] == expected
    assert end == start + 14 + props_len  # no children, has properties: no null record
    assert data[end : end + 13] == b"\x00" * 13  # the top-level list's null record


def test_arrays_are_typed_and_large_ones_zlib_compressed():
    big = np.linspace(0, 1, 1000)
    node = fb.Node(
        "A",
        [
            fb.array(big),
            fb.array(np.array([1, 2, 3], np.int32)),
            fb.array(np.array([1.5], np.float32)),
            fb.array(np.arange(3, dtype=np.int64)),
            fb.array(np.array([True, False])),
        ],
    )
    data = fb.encode([node])
    pos = 27 + 13 + 1
    assert data[pos : pos + 1] == b"d"
    count, encoding, length = struct.unpack_from("<III", data, pos + 1)
    assert (count, encoding) == (1000, 1)
    assert np.array_equal(np.frombuffer(zlib.decompress(data[pos + 13 : pos + 13 + length]), "<f8"), big)
    pos += 13 + length
    assert data[pos : pos + 1] == b"i" and struct.unpack_from("<III", data, pos + 1) == (3, 0, 12)
    assert np.array_equal(np.frombuffer(data[pos + 13 : pos + 25], "<i4"), [1, 2, 3])
    pos += 25
    assert data[pos : pos + 1] == b"f"
    pos += 13 + 4
    assert data[pos : pos + 1] == b"l"
    pos += 13 + 24
    assert data[pos : pos + 1] == b"b" and struct.unpack_from("<III", data, pos + 1) == (2, 0, 2)


def test_nested_nodes_close_with_null_records_and_decode_back():
    root = fb.Node("Root")
    child = root.add("Child", 1)
    child.add("Leaf", "x")
    root.add("Empty")
    data = fb.encode([root])
    (decoded,) = fb.decode(data)
    assert [c.name for c in decoded.children] == ["Child", "Empty"]
    assert decoded.children[0].children[0].props[0].value == b"x"
    end, _, _, _ = struct.unpack_from("<IIIB", data, 27)
    assert data[end - 13 : end] == b"\x00" * 13  # Root has children: closed by a null record


def test_scene_sections_present(exported):
    top = fb.decode(exported[True, "y", "m"].read_bytes())
    names = [n.name for n in top]
    for section in (
        "FBXHeaderExtension",
        "FileId",
        "CreationTime",
        "Creator",
        "GlobalSettings",
        "Documents",
        "References",
        "Definitions",
        "Objects",
        "Connections",
        "Takes",
    ):
        assert section in names
    objects = next(n for n in top if n.name == "Objects")
    kinds = [(o.name, o.props[2].value) for o in objects.children]
    assert kinds.count(("Model", b"LimbNode")) == N_JOINTS and kinds.count(("Model", b"Mesh")) == 1
    assert ("Deformer", b"Skin") in kinds and ("Pose", b"BindPose") in kinds
    definitions = next(n for n in top if n.name == "Definitions")
    counted = {
        o.props[0].value.decode(): o.children[0].props[0].value for o in definitions.children if o.name == "ObjectType"
    }
    assert counted["Model"] == N_JOINTS + 1 and counted["AnimationCurve"] == 3 * N_JOINTS + 3


# --- ufbx ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mesh,up,unit", VARIANTS)
def test_ufbx_reads_hierarchy_names_rate_and_keys(ufbx_scenes, exported, seq, mesh, up, unit):
    r = ufbx_scenes[exported[mesh, up, unit]]
    assert sorted(r["names"]) == sorted(JOINT_NAMES)
    assert r["parents"] == {n: (JOINT_NAMES[p] if p >= 0 else None) for n, p in zip(JOINT_NAMES, PARENTS)}
    assert r["fps"] == pytest.approx(30.0, abs=1e-9)
    assert r["unit_meters"] == pytest.approx(0.01 if unit == "cm" else 1.0)
    assert r["axes"] == (UFBX_Y_UP if up == "y" else UFBX_Z_UP)
    (stack,) = r["stacks"]
    assert stack[2] - stack[1] == pytest.approx((seq.n_frames - 1) / 30.0, abs=1e-9)
    assert r["n_curves"] == 3 * N_JOINTS + 3 and r["key_counts"] == [seq.n_frames]
    assert r["interpolation"] == ["LINEAR"]
    assert set(r["rotation_active"].values()) == {1}
    assert [bp for bp in r["bind_poses"] if bp[0]] == [[True, N_JOINTS + (1 if mesh else 0)]]
    assert (r["n_meshes"], r["n_clusters"]) == ((1, N_JOINTS) if mesh else (0, 0))


@pytest.mark.parametrize("mesh,up,unit", VARIANTS)
def test_ufbx_joint_positions_match_our_fk(ufbx_scenes, exported, fk, mesh, up, unit):
    r = ufbx_scenes[exported[mesh, up, unit]]
    scale = 100.0 if unit == "cm" else 1.0
    for f in FRAMES:
        raw = np.stack([r["positions"]["raw"][f][n] for n in JOINT_NAMES])
        assert np.abs(raw - in_target(fk[1][f], up, unit)).max() / scale < 1e-4, f
        # and with ufbx converting the file's declared axes and unit back to Y up, metres
        ours = np.stack([r["positions"]["ours"][f][n] for n in JOINT_NAMES])
        assert np.abs(ours - fk[1][f]).max() < 1e-4, f


@pytest.mark.parametrize("up,unit", [("y", "m"), ("y", "cm"), ("z", "m"), ("z", "cm")])
def test_ufbx_skinned_mesh_matches_our_skinning(ufbx_scenes, exported, seq, fk, up, unit):
    r = ufbx_scenes[exported[True, up, unit]]
    avatar = build_avatar(seq.skeleton)
    scale = 100.0 if unit == "cm" else 1.0
    for f in FRAMES:
        expect = avatar.skin(fk[0][f], fk[1][f])
        assert np.abs(r["skinned"]["raw"][f] - in_target(expect, up, unit)).max() / scale < 1e-4
        assert np.abs(r["skinned"]["ours"][f] - expect).max() < 1e-4


@pytest.mark.parametrize("order", ["auto", "ZXY", {"left_elbow": "YZX", "right_wrist": "XZY"}])
def test_rotation_orders_evaluate_the_same(tmp_path, seq, fk, order):
    path = tmp_path / "o.fbx"
    fbx.write(path, seq, order=order)
    r = ufbx_read([path], FRAMES)[path]
    enum = {"XYZ": 0, "XZY": 1, "YZX": 2, "YXZ": 3, "ZXY": 4, "ZYX": 5}
    if order == "ZXY":
        assert set(r["rotation_order"].values()) == {enum["ZXY"]}
    if isinstance(order, dict):
        assert r["rotation_order"]["left_elbow"] == enum["YZX"] and r["rotation_order"]["right_wrist"] == enum["XZY"]
    for f in FRAMES:
        assert np.abs(np.stack([r["positions"]["raw"][f][n] for n in JOINT_NAMES]) - fk[1][f]).max() < 1e-4


@pytest.mark.parametrize("fps", [25.0, 24.0, 30 / 1.001, 60.0, 12.5, 50.0])
def test_frame_rate_reads_back_exactly(tmp_path, fps):
    seq = signing_sequence(t=6, fps=fps)
    path = tmp_path / "r.fbx"
    fbx.write(path, seq)
    r = ufbx_read([path], [0, 5])[path]
    assert r["fps"] == pytest.approx(fps, rel=1e-9)
    p = forward_kinematics(seq.skeleton, seq.rotations, seq.translation)[1]
    assert np.abs(np.stack([r["positions"]["raw"][5][n] for n in JOINT_NAMES]) - p[5]).max() < 1e-4


def test_key_times_are_fbx_ticks():
    assert fbx.key_times(4, 25.0).tolist() == [0, 1847446320, 3694892640, 5542338960]
    assert fbx.key_times(2, 30.0).tolist() == [0, 1539538600]


# --- refusing bad input -----------------------------------------------------------------------


@pytest.mark.parametrize("problem", ["nan", "empty", "not_rotation"])
def test_bad_values_are_refused_before_writing(tmp_path, problem):
    seq = signing_sequence(t=5)
    if problem == "nan":
        r = seq.rotations.copy()
        r[1, 40, 1, 1] = np.nan
        object.__setattr__(seq, "rotations", r)
    elif problem == "not_rotation":
        r = seq.rotations.copy()
        r[1, 40] = 0.0
        object.__setattr__(seq, "rotations", r)
    else:
        seq = new_sequence(np.zeros((0, N_JOINTS, 3, 3)), 30.0)
    with pytest.raises(FormatError):
        registry.write(tmp_path / "out.fbx", seq, mesh=True)
    assert list(tmp_path.iterdir()) == []


def test_failed_export_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, seq):
    target = tmp_path / "take.fbx"
    target.write_bytes(b"old")

    def fail_late(fraction: float) -> None:
        if fraction >= 0.95:
            raise OSError("disk full")

    with pytest.raises(OSError):
        fbx.write(target, seq, progress=fail_late)
    assert [p.name for p in tmp_path.iterdir()] == ["take.fbx"] and target.read_bytes() == b"old"
    for opts in ({"unit": "in"}, {"up": "-y"}, {"order": "XYX"}):
        with pytest.raises(FormatError):
            fbx.write(target, seq, **opts)
    assert [p.name for p in tmp_path.iterdir()] == ["take.fbx"]


# --- Blender ---------------------------------------------------------------------------------


@pytest.mark.skipif(BLENDER is None, reason="Blender is not installed")
def test_blender_imports_every_variant_at_our_positions(exported, seq, fk, tmp_path):
    # plus other Euler orders: Blender applies RotationOrder only where RotationActive is set
    files = dict(exported)
    for order in ("ZXY", "auto"):
        files[order, "z", "m"] = tmp_path / f"order_{order}.fbx"
        fbx.write(files[order, "z", "m"], seq, up="z", order=order)
    got = blender_read([(p, {}) for p in files.values()], FRAMES)
    avatar = build_avatar(seq.skeleton)
    for (mesh, _up, _unit), path in files.items():
        mesh = mesh is True
        r = got[path]
        assert sorted(r["bones"]) == sorted(JOINT_NAMES)
        assert all(r["parents"][n] == (JOINT_NAMES[p] if p >= 0 else None) for n, p in zip(JOINT_NAMES, PARENTS))
        assert r["fps"] == pytest.approx(30.0, abs=1e-6)
        assert r["action_range"] == [1.0, float(seq.n_frames)]
        assert r["n_meshes"] == (1 if mesh else 0)
        for f in FRAMES:
            # Blender's world is Z up, facing -Y, metres, whatever the file declared
            pos = np.stack([r["positions"][f][n] for n in JOINT_NAMES])
            assert np.abs(pos - fk[1][f] @ Z_UP.T).max() < 1e-4, (path.name, f)
            if mesh:
                expect = avatar.skin(fk[0][f], fk[1][f]) @ Z_UP.T
                assert np.abs(r["mesh"][f] - expect).max() < 1e-4, (path.name, f)


# --- the bundled samples, when there are any ----------------------------------------------------


def _samples():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "assets" / "samples"
    found = []
    for p in sorted(folder.glob("*")) if folder.is_dir() else []:
        try:
            registry.format_for(p)
        except FormatError:
            continue
        found.append(p)
    return found or [None]


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name if p else "none")
def test_bundled_samples_export_exactly(tmp_path, sample):
    from export_readers import pybvh_read

    if sample is None:
        pytest.skip("no sample sequences in assets/samples")
    seq = registry.read(sample)
    frames = sorted({0, seq.n_frames // 2, seq.n_frames - 1})
    p = forward_kinematics(seq.skeleton, seq.rotations, seq.translation)[1]
    fbx_path, bvh_path = tmp_path / "s.fbx", tmp_path / "s.bvh"
    registry.write(fbx_path, seq, mesh=True)
    registry.write(bvh_path, seq)
    r = ufbx_read([fbx_path], frames)[fbx_path]
    pos, _ = pybvh_read(bvh_path)
    for f in frames:
        assert np.abs(np.stack([r["positions"]["raw"][f][n] for n in seq.skeleton.names]) - p[f]).max() < 1e-4
        assert np.abs(np.stack([pos[n][f] for n in seq.skeleton.names]) - p[f]).max() < 1e-4

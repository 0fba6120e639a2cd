"""Readers we did not write, for the export tests, and the motions they are checked on.

ufbx and Blender run in child processes: ufbx segfaults when Python drops objects it handed out
in the wrong order (shared/ENVIRONMENT.md), and a crash there must fail one test, not kill
pytest. Blender is optional: ``BLENDER`` is None when it is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from core.model.sequence import Sequence, new_sequence
from core.model.skeleton import JOINT_INDEX, N_JOINTS
from core.model.template import TEMPLATE

BLENDER = shutil.which("blender")
Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # our Y-up -> Z-up, facing -Y


def in_target(points: np.ndarray, up: str, unit: str) -> np.ndarray:
    """Our-frame metres -> the exported file's frame and unit (what a reader sees raw)."""
    c = np.eye(3) if up == "y" else Z_UP
    return (100.0 if unit == "cm" else 1.0) * np.asarray(points) @ c.T


# --- motions ---------------------------------------------------------------------------------


def signing_sequence(t: int = 24, fps: float = 30.0, seed: int = 0, skeleton=TEMPLATE) -> Sequence:
    """A signing-like clip: arms down and forward with bent elbows, forearm twists up to 90
    degrees, wrists and fingers moving through curls, spine and head sway, root drift."""
    rng = np.random.default_rng(seed)
    time = np.arange(t) / fps
    rv = np.zeros((t, N_JOINTS, 3))
    for side, s in (("left", 1.0), ("right", -1.0)):
        ph = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * 0.9 * time + ph)
        rv[:, JOINT_INDEX[f"{side}_shoulder"]] = np.stack(
            [0.3 * wave, -s * (0.6 + 0.2 * wave), -s * (1.1 + 0.15 * wave)], 1
        )
        rv[:, JOINT_INDEX[f"{side}_elbow"]] = np.stack([s * (0.8 + 0.7 * wave), -s * (1.5 + 0.3 * wave), 0 * wave], 1)
        rv[:, JOINT_INDEX[f"{side}_wrist"]] = np.stack([0.5 * wave, 0.3 * wave, -s * 0.4 * wave], 1)
        for f in ("index", "middle", "ring", "pinky"):
            curl = 0.7 + 0.7 * np.sin(2 * np.pi * 1.3 * time + rng.uniform(0, 6))
            for k in (1, 2, 3):
                rv[:, JOINT_INDEX[f"{side}_{f}{k}"]] = np.stack([0 * time, 0.1 * s * curl * (k == 1), -s * curl], 1)
        for k in (1, 2, 3):
            rv[:, JOINT_INDEX[f"{side}_thumb{k}"]] = np.stack([0.3 * wave, -s * 0.3 * (1 + wave), 0 * wave], 1)
    for name, amp in (("spine1", 0.08), ("spine2", 0.08), ("spine3", 0.08), ("neck", 0.15), ("head", 0.25)):
        rv[:, JOINT_INDEX[name]] = amp * np.stack([np.sin(2 * np.pi * 0.5 * time + a) for a in rng.uniform(0, 6, 3)], 1)
    rv[:, JOINT_INDEX["pelvis"]] = np.stack([0.05 * np.sin(time), 0.3 * np.sin(0.7 * time), 0 * time], 1)
    rot = Rotation.from_rotvec(rv.reshape(-1, 3)).as_matrix().reshape(t, N_JOINTS, 3, 3)
    trans = np.stack([0.1 * np.sin(time), 0.02 * np.cos(2 * time), 0.05 * time], 1)
    return new_sequence(rot, fps, trans, skeleton=skeleton)


def hands_sequence(fps: float = 25.0) -> Sequence:
    """Frame 0: the rest pose (T-pose, palms down). Frames 1 and 2: the asymmetric hand test pose,
    left index curled 90 degrees at its base joint, right pinky curled 45 degrees at its base;
    every other joint at rest. Curling bends a finger towards the palm, i.e. towards -Y."""
    rot = np.broadcast_to(np.eye(3), (3, N_JOINTS, 3, 3)).copy()
    # fingers point along +X on the left hand and -X on the right: curling down is a rotation
    # about -Z on the left and +Z on the right
    rot[1:, JOINT_INDEX["left_index1"]] = Rotation.from_rotvec([0, 0, -np.pi / 2]).as_matrix()
    rot[1:, JOINT_INDEX["right_pinky1"]] = Rotation.from_rotvec([0, 0, np.pi / 4]).as_matrix()
    return new_sequence(rot, fps)


def finger_bends(
    rest: dict[str, np.ndarray], posed: dict[str, np.ndarray]
) -> dict[tuple[str, str], tuple[float, float]]:
    """Per (side, finger): the angle (degrees) the proximal phalanx turned between the two poses,
    and how far its posed direction points down (along -Y, where the rest palms face), measured
    on joint positions in our frame as a reader reports them."""
    out = {}
    for side in ("left", "right"):
        for f in ("index", "middle", "ring", "pinky", "thumb"):
            d0 = rest[f"{side}_{f}2"] - rest[f"{side}_{f}1"]
            d1 = posed[f"{side}_{f}2"] - posed[f"{side}_{f}1"]
            d0, d1 = d0 / np.linalg.norm(d0), d1 / np.linalg.norm(d1)
            out[side, f] = (float(np.degrees(np.arccos(np.clip(d0 @ d1, -1, 1)))), float(-d1[1]))
    return out


# --- ufbx ------------------------------------------------------------------------------------

_UFBX_SCRIPT = r"""
import gc, json, os, sys
import ufbx
gc.disable()  # ufbx objects crash the cycle collector when freed in the wrong order
req = json.loads(sys.argv[1])
keep = []   # every object ufbx returns stays referenced until exit (it segfaults otherwise)
out = {}
target = dict(target_axes=ufbx.axes_right_handed_y_up, target_unit_meters=1.0)
for path in req["paths"]:
    r = {"positions": {}, "skinned": {}}
    for mode, opts in (("raw", {}), ("ours", target)):
        scene = ufbx.load_file(path, **opts); keep.append(scene)
        if mode == "raw":
            st = scene.settings; keep.append(st)
            ax = st.axes
            r["axes"] = [int(ax.right), int(ax.up), int(ax.front)]
            r["unit_meters"] = st.unit_meters
            r["fps"] = st.frames_per_second
            stacks = scene.anim_stacks; keep.append(stacks)
            r["stacks"] = [(s.name, s.time_begin, s.time_end) for s in stacks]
            curves = scene.anim_curves; keep.append(curves)
            counts, interp = [], set()
            for c in curves:
                keep.append(c)
                kf = c.keyframes; keep.append(kf)
                counts.append(len(kf))
                if len(kf):
                    interp.add(kf[0].interpolation.name)
            r["n_curves"] = len(counts)
            r["key_counts"] = sorted(set(counts))
            r["interpolation"] = sorted(interp)
            names, parents, active, orders = [], {}, {}, {}
            nodes = scene.nodes; keep.append(nodes)
            for n in nodes:
                keep.append(n)
                mesh = n.mesh; keep.append(mesh)
                if n.is_root or mesh is not None:
                    continue
                p = n.parent; keep.append(p)
                names.append(n.name)
                parents[n.name] = None if (p is None or p.is_root) else p.name
                props = n.props; keep.append(props)
                active[n.name] = ufbx.find_int(props, "RotationActive", 0)
                orders[n.name] = int(n.rotation_order)
            r["names"], r["parents"], r["rotation_active"], r["rotation_order"] = names, parents, active, orders
            poses = scene.poses; keep.append(poses)
            r["bind_poses"] = [(p.is_bind_pose, len(p.bone_poses)) for p in poses]
            meshes = scene.meshes; keep.append(meshes)
            r["n_meshes"] = len(meshes)
            clusters = scene.skin_clusters; keep.append(clusters)
            r["n_clusters"] = len(clusters)
        anim = scene.anim; keep.append(anim)
        r["positions"][mode] = {}
        r["skinned"][mode] = {}
        for f in req["frames"]:
            ev = scene.evaluate(anim, f / r["fps"], evaluate_skinning=bool(req["skin"])); keep.append(ev)
            pos = {}
            for name in r["names"]:
                node = ev.find_node(name); keep.append(node)
                m = node.node_to_world; keep.append(m)
                pos[name] = list(m.c3)
            r["positions"][mode][f] = pos
            ev_meshes = ev.meshes; keep.append(ev_meshes)
            if req["skin"] and len(ev_meshes):
                mesh = ev_meshes[0]; keep.append(mesh)
                instances = mesh.instances; keep.append(instances)
                node = instances[0]; keep.append(node)
                g2w = node.geometry_to_world; keep.append(g2w)
                sp = mesh.skinned_position; keep.append(sp)
                vals = sp.values; keep.append(vals)
                r["skinned"][mode][f] = {"local": bool(mesh.skinned_is_local),
                                         "g2w": [list(g2w.c0), list(g2w.c1), list(g2w.c2), list(g2w.c3)],
                                         "v": [list(v) for v in vals]}
    out[path] = r
sys.stdout.write(json.dumps(out))
sys.stdout.flush()
os._exit(0)  # skip interpreter teardown: freeing ufbx objects then is what crashes
"""


def ufbx_read(paths: list[Path], frames: list[int], skin: bool = False) -> dict:
    """What ufbx makes of each file: settings, nodes, animation, world joint positions at
    ``frames`` (``positions["raw"]``: file axes and unit; ``positions["ours"]``: converted by
    ufbx to Y up, metres), and skinned vertices when ``skin``."""
    req = json.dumps({"paths": [str(p) for p in paths], "frames": frames, "skin": skin})
    proc = subprocess.run([sys.executable, "-c", _UFBX_SCRIPT, req], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 and not proc.stdout:
        raise AssertionError(f"ufbx child process failed ({proc.returncode}): {proc.stderr[-2000:]}")
    data = json.loads(proc.stdout)
    for r in data.values():
        for mode in r["positions"]:
            r["positions"][mode] = {
                int(f): {n: np.array(v) for n, v in d.items()} for f, d in r["positions"][mode].items()
            }
            r["skinned"][mode] = {int(f): _skinned_world(d) for f, d in r["skinned"][mode].items()}
    return {Path(p): r for p, r in data.items()}


def _skinned_world(d: dict) -> np.ndarray:
    v = np.array(d["v"])
    if d["local"]:
        m = np.array(d["g2w"])  # columns
        v = v @ m[:3].T + m[3]
    return v


# --- Blender ---------------------------------------------------------------------------------

_BLENDER_SCRIPT = r"""
import bpy, builtins, json, sys
_open = builtins.open
def _open_compat(file, mode="r", *a, **k):  # Blender 3.4's BVH importer still passes Python 2's "rU"
    return _open(file, mode.replace("U", "") if isinstance(mode, str) else mode, *a, **k)
builtins.open = _open_compat
req = json.load(_open(sys.argv[sys.argv.index("--") + 1]))
out = {}
for item in req["files"]:
    path, opts = item["path"], item.get("options", {})
    bpy.ops.wm.read_factory_settings(use_empty=True)
    if path.endswith(".bvh"):
        bpy.ops.import_anim.bvh(filepath=path, update_scene_fps=True, **opts)
    else:
        bpy.ops.import_scene.fbx(filepath=path, **opts)
    sc = bpy.context.scene
    arm = [o for o in sc.objects if o.type == "ARMATURE"][0]
    meshes = [o for o in sc.objects if o.type == "MESH"]
    action = arm.animation_data.action if arm.animation_data else None
    r = {"fps": sc.render.fps / sc.render.fps_base, "bones": [b.name for b in arm.data.bones],
         "parents": {b.name: (b.parent.name if b.parent else None) for b in arm.data.bones},
         "action_range": list(action.frame_range) if action else None, "n_meshes": len(meshes),
         "positions": {}, "mesh": {}}
    for f in req["frames"]:
        sc.frame_set(f + 1)  # both importers put the first key on frame 1
        r["positions"][f] = {pb.name: list(arm.matrix_world @ pb.head) for pb in arm.pose.bones}
        if meshes:
            ob = meshes[0].evaluated_get(bpy.context.evaluated_depsgraph_get())
            me = ob.to_mesh()
            r["mesh"][f] = [list(meshes[0].matrix_world @ v.co) for v in me.vertices]
            ob.to_mesh_clear()
    out[path] = r
json.dump(out, _open(req["out"], "w"))
"""


def blender_read(files: list[tuple[Path, dict]], frames: list[int]) -> dict:
    """Import each (file, importer options) into a fresh Blender scene (one Blender process) and
    report bone head positions (Blender's world: Z up, metres) at our ``frames``."""
    assert BLENDER is not None
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "probe.py"
        script.write_text(_BLENDER_SCRIPT)
        req = Path(d) / "req.json"
        out = Path(d) / "out.json"
        req.write_text(
            json.dumps({"files": [{"path": str(p), "options": o} for p, o in files], "frames": frames, "out": str(out)})
        )
        proc = subprocess.run(
            [BLENDER, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(script), "--", str(req)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0 or not out.exists():
            raise AssertionError(f"blender failed ({proc.returncode}): {(proc.stdout + proc.stderr)[-3000:]}")
        data = json.loads(out.read_text())
    for r in data.values():
        r["positions"] = {int(f): {n: np.array(v) for n, v in d.items()} for f, d in r["positions"].items()}
        r["mesh"] = {int(f): np.array(v) for f, v in r["mesh"].items()}
    return {Path(p): r for p, r in data.items()}


# --- BVH readers ------------------------------------------------------------------------------


def pybvh_read(path: Path) -> tuple[dict[str, np.ndarray], float]:
    """{joint name: (T, 3) world positions} and the frame time, as pybvh computes them."""
    import pybvh

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its up-axis guess warns on Z-up files
        b = pybvh.read_bvh_file(path)
    pos = b.node_positions()
    return {n.name: pos[:, i] for i, n in enumerate(b.nodes) if not n.is_end_site()}, float(b.frame_time)


def bvhio_read(path: Path, frames: list[int]) -> tuple[dict[str, np.ndarray], float, int]:
    """{joint name: (len(frames), 3) world positions}, frame time and frame count from bvhio."""
    import bvhio

    container = bvhio.readAsBvh(str(path))
    root = bvhio.readAsHierarchy(str(path))
    joints = root.layout()
    out = {j[0].Name: np.zeros((len(frames), 3)) for j in joints}
    for k, f in enumerate(frames):
        root.loadPose(f, recursive=True)
        for j in joints:
            out[j[0].Name][k] = np.array(j[0].PositionWorld)
    return out, float(container.FrameTime), int(container.FrameCount)

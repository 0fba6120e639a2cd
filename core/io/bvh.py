"""Biovision BVH: write our skeleton, read ours and other tools' files.

Written files (``write``):
- one HIERARCHY: the root (pelvis) with 6 channels, every other joint 3 rotation channels (no
  position channels off the root: pybvh and several importers refuse them), an End Site under
  every leaf (finger tips, head, feet; offset from ``skeleton.tips``);
- rotation channels in one intrinsic order per joint (``order``): default ``"ZXY"``, the original
  Biovision / CMU convention that most BVH files use and every reader handles (Blender reads the
  order per joint; some older tools assume ZXY); ``"auto"`` picks per joint the order farthest
  from gimbal lock for this clip (forearm twists near 90 degrees are common in signing), or pass
  a {joint: order} dict / a list;
- the root position channels hold the root's absolute position (rest offset + translation), the
  convention of Blender, pybvh and bvhio (position channels replace the OFFSET);
- ``unit="m"`` by default: BVH has no unit field and Blender's importer takes numbers as
  metres (Blender units) at its default scale 1; ``unit="cm"`` for tools that assume cm;
- ``up="y"`` by default (our frame, and what Blender's BVH importer assumes: Y up, -Z forward
  converted to its Z up) or ``"z"`` (Z up, signer facing -Y), see ``export_prep``;
- ``Frame Time`` with 9 decimals so 1/30 reads back as 30 fps, not 30.0003;
- written to a temporary file and renamed: a failed export leaves no partial file.

Reading (``read``): any channel order and count, position channels anywhere (they replace the
joint's OFFSET in the file's own forward kinematics; a Sequence has fixed bone lengths, so only
rotations and the root's position come through), End Sites, cm/m/mm and Y/Z up. Joint
names are matched to ours through known schemes (ours = SMPL-X, SMPL ``L_Wrist``, Mixamo
``mixamorig:LeftHandIndex1``, HumanIK/CMU ``LeftArm/LeftForeArm/LeftHand``, Unreal ``hand_l``).
A file with our full skeleton in our rest pose comes back on the file's own skeleton offsets
with the file's local rotations. Anything else is retargeted onto the template skeleton: world
rotations of matched joints are copied (after aligning rest bone directions), unmatched joints
stay at rest and are marked not valid.
"""

from __future__ import annotations

import re
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..model.sequence import Sequence, new_sequence
from ..model.skeleton import JOINT_INDEX, JOINT_NAMES, PARENTS, Skeleton
from ..model.template import TEMPLATE
from . import limits
from .atomic import atomic_path
from .errors import FormatError
from .export_prep import (
    ORIGINS,
    UNITS,
    Progress,
    axis_matrix,
    axis_rotation,
    check_exportable,
    check_option,
    euler_degrees,
    report,
    resolve_orders,
    to_target,
)

ROW_CHUNK = 2048  # frames formatted per chunk (progress granularity, bounded memory)


# === writing ====================================================================================


def write(
    path: str | Path,
    seq: Sequence,
    *,
    unit: str = "m",
    up: str = "y",
    order: str | Seq[str] | dict = "ZXY",
    precision: int = 6,
    progress: Progress | None = None,
    origin: str = "pelvis",
) -> None:
    """Write ``seq`` as BVH. Options: ``unit`` "m"|"cm", ``up`` "y"|"z", ``order`` (see module),
    ``precision`` decimals; ``progress(fraction)`` is called while frames are written."""
    path = Path(path)
    check_option(path, "unit", unit, tuple(UNITS))
    check_option(path, "up", up, ("y", "z"))
    check_option(path, "origin", origin, ORIGINS)
    check_exportable(path, seq)
    sk = seq.skeleton
    offsets, tips, root, rot = to_target(seq, up, unit, origin)
    orders = resolve_orders(path, order, sk.names, rot)
    report(progress, 0.0)
    angles = euler_degrees(rot, orders)  # (T, J, 3)
    if not (np.isfinite(angles).all() and np.isfinite(root).all()):
        raise FormatError(path, "motion has non-finite values after conversion; nothing was written")
    leaf_tip = _leaf_tips(sk, offsets, tips)
    header, dfs = _hierarchy(sk, offsets, orders, leaf_tip, precision)
    angles = angles[:, dfs]  # channel columns follow the HIERARCHY's depth-first order
    frame_time = 1.0 / seq.fps
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="ascii", newline="\n") as f:
            f.write(header)
            f.write(f"MOTION\nFrames: {seq.n_frames}\nFrame Time: {frame_time:.9f}\n")
            n_cols = 3 + 3 * sk.n_joints
            row_fmt = " ".join([f"%.{precision}f"] * n_cols) + "\n"
            for start in range(0, seq.n_frames, ROW_CHUNK):
                stop = min(seq.n_frames, start + ROW_CHUNK)
                block = np.concatenate([root[start:stop], angles[start:stop].reshape(stop - start, -1)], axis=1)
                # "%.6f" of -0.0000001 prints "-0.000000": harmless, but round to keep files tidy
                block = np.round(block, precision) + 0.0
                f.write(row_fmt * (stop - start) % tuple(block.ravel().tolist()))
                report(progress, stop / seq.n_frames)


def _leaf_tips(sk: Skeleton, offsets: np.ndarray, tips: np.ndarray) -> dict[int, np.ndarray]:
    """End-site offset for every leaf: the skeleton's tip, or 1/3 of the incoming bone."""
    out = {}
    for j in range(sk.n_joints):
        if sk.children(j):
            continue
        tip = tips[j]
        if np.linalg.norm(tip) < 1e-9:
            tip = offsets[j] / 3.0 if np.linalg.norm(offsets[j]) > 1e-9 else np.array([0.0, 0.01, 0.0])
        out[j] = tip
    return out


def _hierarchy(
    sk: Skeleton, offsets: np.ndarray, orders: list[str], leaf_tip: dict[int, np.ndarray], precision: int
) -> tuple[str, list[int]]:
    """The HIERARCHY text and the depth-first joint order its channels follow."""
    num = f"%.{precision}f"
    lines = ["HIERARCHY"]
    dfs: list[int] = []

    def vec(v) -> str:
        return " ".join(num % (x + 0.0) for x in np.round(v, precision))

    def emit(j: int, depth: int) -> None:
        ind = "\t" * depth
        dfs.append(j)
        rot_ch = " ".join(f"{a}rotation" for a in orders[j])
        if sk.parents[j] < 0:
            lines.append(f"{ind}ROOT {sk.names[j]}")
            channels = f"CHANNELS 6 Xposition Yposition Zposition {rot_ch}"
        else:
            lines.append(f"{ind}JOINT {sk.names[j]}")
            channels = f"CHANNELS 3 {rot_ch}"
        lines.append(f"{ind}{{")
        lines.append(f"{ind}\tOFFSET {vec(offsets[j])}")
        lines.append(f"{ind}\t{channels}")
        for c in sk.children(j):
            emit(c, depth + 1)
        if j in leaf_tip:
            lines.extend([f"{ind}\tEnd Site", f"{ind}\t{{", f"{ind}\t\tOFFSET {vec(leaf_tip[j])}", f"{ind}\t}}"])
        lines.append(f"{ind}}}")

    roots = [j for j, p in enumerate(sk.parents) if p < 0]
    if len(roots) != 1:
        raise ValueError(f"BVH needs one root joint, skeleton has {len(roots)}")
    emit(roots[0], 0)
    return "\n".join(lines) + "\n", dfs


# === reading ====================================================================================


@dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray
    channels: list[str]
    end_site: np.ndarray | None = None
    children: list[int] = field(default_factory=list)


@dataclass
class BvhFile:
    """A parsed BVH file, numbers as written (file units, file axes)."""

    joints: list[BvhJoint]
    frame_time: float
    motion: np.ndarray  # (T, C) channel values in declaration order

    @property
    def n_frames(self) -> int:
        return int(self.motion.shape[0])


_CHANNEL_NAMES = {f"{a}{k}" for a in "xyz" for k in ("position", "rotation")}


def parse(path: str | Path) -> BvhFile:
    """Parse a BVH file; FormatError (one line, with the line number) when malformed."""
    path = Path(path)
    text = limits.read_text_capped(path).decode("utf-8", errors="replace")  # regular files only
    lines = text.splitlines()
    tokens: list[tuple[str, int]] = []
    motion_line = None
    for n, line in enumerate(lines):
        words = line.split()
        if words and words[0].upper() == "MOTION":
            motion_line = n
            break
        tokens += [(w, n + 1) for w in words]
    if not tokens or tokens[0][0].upper() != "HIERARCHY":
        raise FormatError(path, "not a BVH file (no HIERARCHY at the start)")
    if motion_line is None:
        raise FormatError(path, "no MOTION section (truncated file?)")
    joints = _parse_hierarchy(path, tokens)
    n_channels = sum(len(j.channels) for j in joints)
    frames, frame_time, first_row = _parse_motion_header(path, lines, motion_line)
    limits.check_count(path, frames, limits.MAX_FRAMES, "frames")
    rows = [ln for ln in lines[first_row:] if ln.strip()]
    if len(rows) < frames:
        raise FormatError(path, f"Frames: says {frames} but only {len(rows)} motion rows follow (truncated file?)")
    if len(rows) > frames:
        raise FormatError(path, f"Frames: says {frames} but {len(rows)} motion rows follow")
    counts = [len(r.split()) for r in rows]
    for i, c in enumerate(counts):
        if c != n_channels:
            raise FormatError(
                path,
                f"motion row {i + 1} (line {first_row + 1 + i}) has {c} values, "
                f"the hierarchy declares {n_channels} channels",
            )
    try:
        motion = np.array(" ".join(rows).split(), dtype=np.float64).reshape(frames, n_channels)
    except ValueError as e:
        raise FormatError(path, f"motion data is not numeric ({e})") from None
    if not np.isfinite(motion).all():
        t = int(np.argwhere(~np.isfinite(motion))[0, 0])
        raise FormatError(path, f"motion row {t + 1} contains NaN or infinite values")
    return BvhFile(joints, frame_time, motion)


def _parse_hierarchy(path: Path, tokens: list[tuple[str, int]]) -> list[BvhJoint]:
    joints: list[BvhJoint] = []
    pos = 1

    def take() -> tuple[str, int]:
        nonlocal pos
        if pos >= len(tokens):
            raise FormatError(path, "HIERARCHY ends early (unbalanced braces?)")
        pos += 1
        return tokens[pos - 1]

    def expect(word: str) -> None:
        w, n = take()
        if w.upper() != word.upper():
            raise FormatError(path, f"line {n}: expected {word!r}, found {w!r}")

    def numbers(k: int) -> np.ndarray:
        vals = []
        for _ in range(k):
            w, n = take()
            try:
                vals.append(float(w))
            except ValueError:
                raise FormatError(path, f"line {n}: expected a number, found {w!r}") from None
        a = np.array(vals)
        if not np.isfinite(a).all():
            raise FormatError(path, f"line {n}: NaN or infinite value in the hierarchy")
        return a

    def joint(parent: int, depth: int = 0) -> None:
        name, n = take()
        if depth >= limits.MAX_BVH_DEPTH:
            raise FormatError(path, f"line {n}: joints nest deeper than {limits.MAX_BVH_DEPTH} levels")
        if len(joints) >= limits.MAX_JOINTS:
            raise FormatError(path, f"line {n}: more than {limits.MAX_JOINTS} joints")
        expect("{")
        expect("OFFSET")
        offset = numbers(3)
        index = len(joints)
        j = BvhJoint(name, parent, offset, [])
        joints.append(j)
        if parent >= 0:
            joints[parent].children.append(index)
        w, n = take()
        if w.upper() == "CHANNELS":
            w, n = take()
            try:
                k = int(w)
            except ValueError:
                raise FormatError(path, f"line {n}: CHANNELS count {w!r} is not a number") from None
            if not 0 <= k <= 6:
                raise FormatError(path, f"line {n}: CHANNELS count {k} (a joint has 0 to 6 channels)")
            for _ in range(k):
                c, n = take()
                if c.lower() not in _CHANNEL_NAMES:
                    raise FormatError(path, f"line {n}: unknown channel {c!r}")
                j.channels.append(c[0].upper() + c[1:].lower())
            w, n = take()
        while True:
            u = w.upper()
            if u in ("JOINT", "ROOT"):
                joint(index, depth + 1)
            elif u == "END":
                expect("Site")
                expect("{")
                expect("OFFSET")
                site = numbers(3)
                expect("}")
                if j.end_site is None:
                    j.end_site = site
            elif u == "}":
                return
            else:
                raise FormatError(path, f"line {n}: unexpected {w!r} in joint {name}")
            w, n = take()

    w, n = take()
    if w.upper() != "ROOT":
        raise FormatError(path, f"line {n}: expected ROOT, found {w!r}")
    joint(-1)
    while pos < len(tokens):  # more roots: not ours, but read them
        w, n = take()
        if w.upper() != "ROOT":
            raise FormatError(path, f"line {n}: unexpected {w!r} after the root joint")
        joint(-1)
    return joints


def _parse_motion_header(path: Path, lines: list[str], motion_line: int) -> tuple[int, float, int]:
    i = motion_line + 1
    found: dict[str, str] = {}
    while i < len(lines) and len(found) < 2:
        line = lines[i].strip()
        i += 1
        if not line:
            continue
        m = re.match(r"(?i)^frames\s*:\s*(\S+)$", line) or re.match(r"(?i)^frame\s+time\s*:\s*(\S+)$", line)
        if not m:
            raise FormatError(path, f"line {i}: expected 'Frames:' and 'Frame Time:', found {line[:40]!r}")
        found["time" if line.lower().startswith("frame time") else "frames"] = m.group(1)
    if len(found) < 2:
        raise FormatError(path, "MOTION section lacks 'Frames:' or 'Frame Time:' (truncated file?)")
    try:
        frames = int(found["frames"])
        frame_time = float(found["time"])
    except ValueError:
        raise FormatError(path, f"bad Frames / Frame Time values {found}") from None
    if frames <= 0:
        raise FormatError(path, f"Frames: {frames}; the file holds no motion")
    if not (np.isfinite(frame_time) and 1.0 / limits.MAX_FPS <= frame_time <= 1.0 / limits.MIN_FPS):
        raise FormatError(
            path,
            f"Frame Time {found['time']} is outside {1.0 / limits.MAX_FPS:g}..{1.0 / limits.MIN_FPS:g} s "
            f"({limits.MIN_FPS:g} to {limits.MAX_FPS:g} fps)",
        )
    return frames, frame_time, i


def _fps(frame_time: float) -> float:
    """1/frame_time, snapped to a whole or NTSC rate when the file rounded it (0.033333 -> 30)."""
    fps = 1.0 / frame_time
    for cand in (round(fps), round(fps * 1.001) / 1.001):
        if cand > 0 and abs(1.0 / cand - frame_time) <= 5e-7 + 1e-6 * frame_time:
            return float(cand)
    return fps


def local_transforms(bvh: BvhFile) -> tuple[np.ndarray, np.ndarray]:
    """(T, N, 3, 3) local rotations and (T, N, 3) local translations of every file joint."""
    t, n = bvh.n_frames, len(bvh.joints)
    rot = np.broadcast_to(np.eye(3), (t, n, 3, 3)).copy()
    trans = np.broadcast_to(np.stack([j.offset for j in bvh.joints]), (t, n, 3)).copy()
    col = 0
    axes = "XYZ"
    for i, j in enumerate(bvh.joints):
        for c in j.channels:
            v = bvh.motion[:, col]
            if c.endswith("position"):
                trans[:, i, axes.index(c[0])] = v  # position channels replace the OFFSET
            else:
                rot[:, i] = rot[:, i] @ axis_rotation(axes.index(c[0]), np.radians(v))
            col += 1
    return rot, trans


def file_fk(bvh: BvhFile) -> tuple[np.ndarray, np.ndarray]:
    """World rotations (T, N, 3, 3) and positions (T, N, 3) of every file joint (file units)."""
    rot, trans = local_transforms(bvh)
    wr = np.empty_like(rot)
    wp = np.empty_like(trans)
    for i, j in enumerate(bvh.joints):
        if j.parent < 0:
            wr[:, i] = rot[:, i]
            wp[:, i] = trans[:, i]
        else:
            wr[:, i] = wr[:, j.parent] @ rot[:, i]
            wp[:, i] = wp[:, j.parent] + np.einsum("tab,tb->ta", wr[:, j.parent], trans[:, i])
    return wr, wp


# --- joint naming schemes --------------------------------------------------------------------


def _norm(name: str) -> str:
    name = name.split(":")[-1].split("|")[-1]
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _scheme_ours() -> dict[str, str]:
    m = {_norm(n): n for n in JOINT_NAMES}
    for n in JOINT_NAMES:  # SMPL style: L_Wrist, R_Index1
        for side, short in (("left_", "l"), ("right_", "r")):
            if n.startswith(side):
                m[short + _norm(n[len(side) :])] = n
    return m


def _scheme_humanik() -> dict[str, str]:
    """Mixamo / HumanIK / CMU-style names (mixamorig: prefix removed by ``_norm``)."""
    m = {
        "hips": "pelvis",
        "spine": "spine1",
        "spine1": "spine2",
        "spine2": "spine3",
        "chest": "spine2",
        "upperchest": "spine3",
        "neck": "neck",
        "neck1": "neck",
        "head": "head",
    }
    fingers = {
        "index": "index",
        "middle": "middle",
        "ring": "ring",
        "pinky": "pinky",
        "little": "pinky",
        "thumb": "thumb",
    }
    for side in ("left", "right"):
        m.update(
            {
                f"{side}shoulder": f"{side}_collar",
                f"{side}arm": f"{side}_shoulder",
                f"{side}upperarm": f"{side}_shoulder",
                f"{side}forearm": f"{side}_elbow",
                f"{side}lowerarm": f"{side}_elbow",
                f"{side}hand": f"{side}_wrist",
                f"{side}upleg": f"{side}_hip",
                f"{side}upperleg": f"{side}_hip",
                f"{side}thigh": f"{side}_hip",
                f"{side}leg": f"{side}_knee",
                f"{side}lowerleg": f"{side}_knee",
                f"{side}shin": f"{side}_knee",
                f"{side}foot": f"{side}_ankle",
                f"{side}toebase": f"{side}_foot",
                f"{side}toes": f"{side}_foot",
            }
        )
        for k in (1, 2, 3):
            for theirs, ours in fingers.items():
                m[f"{side}hand{theirs}{k}"] = f"{side}_{ours}{k}"
                m[f"{side}{theirs}{k}"] = f"{side}_{ours}{k}"
    return m


def _scheme_unreal() -> dict[str, str]:
    m = {
        "pelvis": "pelvis",
        "spine01": "spine1",
        "spine02": "spine2",
        "spine03": "spine3",
        "neck01": "neck",
        "head": "head",
    }
    for s, side in (("l", "left"), ("r", "right")):
        m.update(
            {
                f"clavicle{s}": f"{side}_collar",
                f"upperarm{s}": f"{side}_shoulder",
                f"lowerarm{s}": f"{side}_elbow",
                f"hand{s}": f"{side}_wrist",
                f"thigh{s}": f"{side}_hip",
                f"calf{s}": f"{side}_knee",
                f"foot{s}": f"{side}_ankle",
                f"ball{s}": f"{side}_foot",
            }
        )
        for f in ("index", "middle", "ring", "pinky", "thumb"):
            for k in (1, 2, 3):
                m[f"{f}0{k}{s}"] = f"{side}_{f}{k}"
    return m


SCHEMES: dict[str, dict[str, str]] = {"smplx": _scheme_ours(), "humanik": _scheme_humanik(), "unreal": _scheme_unreal()}


def match_joints(names: Seq[str]) -> tuple[str, dict[int, int]]:
    """Best naming scheme for these file joint names -> (scheme, {our joint: file joint})."""
    best: tuple[str, dict[int, int]] = ("none", {})
    for scheme, table in SCHEMES.items():
        mapping: dict[int, int] = {}
        for fi, name in enumerate(names):
            ours = table.get(_norm(name))
            if ours is not None and JOINT_INDEX[ours] not in mapping:
                mapping[JOINT_INDEX[ours]] = fi
        if len(mapping) > len(best[1]):
            best = (scheme, mapping)
    return best


# --- conversion to a Sequence ----------------------------------------------------------------


def read(path: str | Path, *, unit: str = "auto", up: str = "auto") -> Sequence:
    """Read a BVH file into a Sequence on our skeleton.

    unit: "m", "cm", "mm", "in" or "auto" (from the rest skeleton's height: > 4 units means
    centimetres, > 400 millimetres). up: "y", "z" or "auto" (the rest pose's pelvis-to-head
    direction).
    """
    path = Path(path)
    bvh = parse(path)
    check_option(path, "unit", unit, ("auto", "m", "cm", "mm", "in"))
    check_option(path, "up", up, ("auto", "y", "z"))
    scheme, mapping = match_joints([j.name for j in bvh.joints])
    if JOINT_INDEX["pelvis"] not in mapping and len(mapping) < 3:
        raise FormatError(path, "no joint names this reader knows (SMPL-X, Mixamo/HumanIK, Unreal)")
    wr, wp = file_fk(bvh)
    rest = _rest_positions(bvh)
    up_axis = _detect_up(rest, mapping) if up == "auto" else up
    scale = _detect_scale(rest) if unit == "auto" else {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}[unit]
    c = axis_matrix(up_axis)  # ours -> file frame; its transpose brings the file into ours
    wr = c.T @ wr @ c
    wp = scale * wp @ c
    rest = scale * rest @ c
    ends = {i: scale * j.end_site @ c for i, j in enumerate(bvh.joints) if j.end_site is not None}
    meta = {
        "source_format": "bvh",
        "bvh_scheme": scheme,
        "bvh_up": up_axis,
        "bvh_scale": scale,
        "bvh_unmatched_joints": [n for j, n in enumerate(JOINT_NAMES) if j not in mapping],
    }
    fps = _fps(bvh.frame_time)
    if _is_our_layout(bvh, mapping, rest):
        return _direct(bvh, mapping, wr, wp, rest, ends, fps, meta)
    return _retarget(mapping, wr, wp, rest, fps, meta)


def _rest_positions(bvh: BvhFile) -> np.ndarray:
    pos = np.zeros((len(bvh.joints), 3))
    for i, j in enumerate(bvh.joints):
        pos[i] = j.offset + (pos[j.parent] if j.parent >= 0 else 0.0)
    return pos


def _detect_up(rest: np.ndarray, mapping: dict[int, int]) -> str:
    lo = mapping.get(JOINT_INDEX["pelvis"])
    hi = mapping.get(JOINT_INDEX["head"], mapping.get(JOINT_INDEX["neck"]))
    if lo is None or hi is None:
        return "y"
    d = rest[hi] - rest[lo]
    return "z" if abs(d[2]) > abs(d[1]) else "y"


def _detect_scale(rest: np.ndarray) -> float:
    extent = float(np.ptp(rest, axis=0).max()) if len(rest) > 1 else 1.0
    if extent > 400:
        return 0.001
    if extent > 4:
        return 0.01
    return 1.0


def _mapped_parent(bvh: BvhFile, fi: int, mapped: set[int]) -> int:
    p = bvh.joints[fi].parent
    while p >= 0 and p not in mapped:
        p = bvh.joints[p].parent
    return p


def _is_our_layout(bvh: BvhFile, mapping: dict[int, int], rest: np.ndarray) -> bool:
    """All 52 joints present, with our parent tree, in a rest pose close to ours (T-pose)."""
    if len(mapping) != len(JOINT_NAMES):
        return False
    mapped = set(mapping.values())
    ours_rest = TEMPLATE.rest_positions()
    for j, p in enumerate(PARENTS):
        if p < 0:
            continue
        if _mapped_parent(bvh, mapping[j], mapped) != mapping[p]:
            return False
        a = rest[mapping[j]] - rest[mapping[p]]
        b = ours_rest[j] - ours_rest[p]
        if np.linalg.norm(a) > 1e-6 and np.dot(a, b) < np.cos(np.radians(25)) * np.linalg.norm(a) * np.linalg.norm(b):
            return False
    return True


def _local_from_world(wr_ours: np.ndarray) -> np.ndarray:
    loc = np.empty_like(wr_ours)
    for j, p in enumerate(PARENTS):
        loc[:, j] = wr_ours[:, j] if p < 0 else np.swapaxes(wr_ours[:, p], -1, -2) @ wr_ours[:, j]
    return loc


def _direct(bvh, mapping, wr, wp, rest, ends, fps, meta) -> Sequence:
    idx = np.array([mapping[j] for j in range(len(JOINT_NAMES))])
    positions = rest[idx]
    tips = np.zeros((len(JOINT_NAMES), 3))
    for j in range(len(JOINT_NAMES)):
        fi = idx[j]
        if fi in ends and not any(p == j for p in PARENTS):
            tips[j] = ends[fi]
    skeleton = Skeleton.from_rest_positions(JOINT_NAMES, PARENTS, positions, tips)
    rotations = _local_from_world(wr[:, idx])
    translation = wp[:, idx[0]] - positions[0]
    meta["bvh_layout"] = "ours"
    return new_sequence(rotations, fps, translation, skeleton=skeleton, meta=meta, check_rotations=False)


def _retarget(mapping, wr, wp, rest, fps, meta) -> Sequence:
    """World rotations of matched joints onto the template, bone directions aligned at rest."""
    t = wr.shape[0]
    ours_rest = TEMPLATE.rest_positions()
    world = np.broadcast_to(np.eye(3), (t, len(JOINT_NAMES), 3, 3)).copy()
    valid = np.zeros(len(JOINT_NAMES), bool)
    children = {j: [c for c, p in enumerate(PARENTS) if p == j] for j in range(len(JOINT_NAMES))}
    for j in range(len(JOINT_NAMES)):
        p = PARENTS[j]
        if j not in mapping:
            world[:, j] = world[:, p] if p >= 0 else np.eye(3)  # stays at rest relative to its parent
            continue
        valid[j] = True
        align = np.eye(3)
        kids = [c for c in children[j] if c in mapping]
        if kids:  # rotate our rest bone direction onto theirs
            c = kids[0]
            align = _rotation_between(ours_rest[c] - ours_rest[j], rest[mapping[c]] - rest[mapping[j]])
        world[:, j] = wr[:, mapping[j]] @ align
    rotations = _local_from_world(world)
    root = mapping.get(JOINT_INDEX["pelvis"])
    translation = np.zeros((t, 3)) if root is None else wp[:, root] - rest[root]
    meta["bvh_layout"] = "retargeted"
    return new_sequence(
        rotations,
        fps,
        translation,
        skeleton=TEMPLATE,
        meta=meta,
        valid=np.broadcast_to(valid, (t, len(JOINT_NAMES))).copy(),
        check_rotations=False,
    )


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation taking direction a to direction b."""
    a = a / (np.linalg.norm(a) or 1.0)
    b = b / (np.linalg.norm(b) or 1.0)
    v = np.cross(a, b)
    cth = float(np.dot(a, b))
    if np.linalg.norm(v) < 1e-9:
        if cth > 0:
            return np.eye(3)
        perp = np.cross(a, [1.0, 0, 0]) if abs(a[0]) < 0.9 else np.cross(a, [0, 1.0, 0])
        perp /= np.linalg.norm(perp)
        return 2 * np.outer(perp, perp) - np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + cth)

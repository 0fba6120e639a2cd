"""pose-format ``.pose`` files (MediaPipe Holistic landmarks) -> a Sequence, via inverse kinematics.

Layouts understood, by component and point names (so reduced layouts work too):
- MediaPipe Holistic: ``POSE_LANDMARKS`` (33 points, or any named subset), ``LEFT_HAND_LANDMARKS``
  / ``RIGHT_HAND_LANDMARKS`` (21), ``FACE_LANDMARKS`` (468/478 or a subset named by mesh index);
  ``POSE_WORLD_LANDMARKS`` is ignored (tools that post-process files rarely keep it metric);
- OpenPose: ``pose_keypoints_2d`` (BODY_25 names), ``hand_left_keypoints_2d`` /
  ``hand_right_keypoints_2d`` (21 points, same order as MediaPipe); 2-D only, so depth is flat.
Any component whose name says left/right hand and has 21 points is read as a hand.

Coordinates: x, y in pixels of the header's canvas (pose-format's convention); files holding
MediaPipe's normalised coordinates (all within about [0, 1]) are scaled back by the canvas size.
A point counts as observed where its confidence is > ``min_confidence`` (default 0: MediaPipe
writes 0 for what it did not detect) and its coordinates are finite. Points not observed make
only the joints they drive invalid in those frames (a lost hand: its 15 finger joints and the
wrist; a lost elbow: that arm), filled from the real frames around them; frames are GENERATED
only where nothing at all was seen. The depth of each component is checked and, where flat or
missing, lifted (``core.kinematics.depth``, ``core.kinematics.lift``).
The sequence carries a skeleton fitted to the signer (``core.kinematics.skeleton_fit``), so the
joint positions it gives (e.g. ``convert X.pose X.joints.npz``) follow the landmarks.
Never raises anything but ``FormatError`` for a bad file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..kinematics.landmarks import BODY_POINTS, FACE_MESH_INDEX, HAND_POINTS, LandmarkSet, empty_tracks
from ..model.sequence import Sequence
from .errors import FormatError

_OPENPOSE_BODY = {
    "nose": "nose",
    "leye": "left_eye",
    "reye": "right_eye",
    "lear": "left_ear",
    "rear": "right_ear",
    "lshoulder": "left_shoulder",
    "rshoulder": "right_shoulder",
    "lelbow": "left_elbow",
    "relbow": "right_elbow",
    "lwrist": "left_wrist",
    "rwrist": "right_wrist",
    "lhip": "left_hip",
    "rhip": "right_hip",
}
_BODY_SET = set(BODY_POINTS)
_MAX_BYTES = 2 << 30


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _body_name(point: str) -> str | None:
    n = _norm(point)
    if n in _BODY_SET:
        return n
    return _OPENPOSE_BODY.get(n.replace("_", ""))


def _hand_name(point: str) -> str | None:
    n = _norm(point).replace("_finger", "")
    return n if n in HAND_POINTS else None


def _hand_side(component: str) -> str | None:
    n = _norm(component)
    if "hand" not in n:
        return None
    if re.search(r"(^|_)(left|l)(_|$)", n):
        return "left"
    if re.search(r"(^|_)(right|r)(_|$)", n):
        return "right"
    return None


def _read_pose(path: Path):
    from pose_format import Pose  # lazy: only this reader needs pose-format

    try:
        size = path.stat().st_size
    except OSError as e:
        raise FormatError(path, f"cannot read ({e.strerror or e})") from None
    if size < 8:
        raise FormatError(path, "not a .pose file (too short)")
    if size > _MAX_BYTES:
        raise FormatError(path, f"too large for a .pose file ({size} bytes)")
    data = path.read_bytes()
    try:
        pose = Pose.read(data)
    except MemoryError:
        raise FormatError(path, "not a readable .pose file (corrupt header sizes)") from None
    except Exception as e:  # pose-format raises many types on damaged input
        raise FormatError(path, f"not a readable .pose file ({type(e).__name__}: {e})") from None
    return pose


def _components(header) -> list[tuple[str, int, int, list[str]]]:
    """(name, first point index, dims in data, point names) for each component."""
    out, start = [], 0
    for c in header.components:
        out.append((c.name, start, len(c.points), list(c.points)))
        start += len(c.points)
    return out


def landmarks_from_pose(
    pose, path: Path | str = "<pose>", *, person: int | None = None, min_confidence: float = 0.0
) -> LandmarkSet:
    """A pose-format ``Pose`` -> LandmarkSet (image coordinates). Raises FormatError."""
    header, body = pose.header, pose.body
    try:
        data = np.ma.getdata(body.data)
        mask = np.ma.getmaskarray(body.data)
        conf = np.asarray(np.ma.getdata(body.confidence), dtype=np.float64)
    except Exception as e:
        raise FormatError(path, f"unreadable body ({type(e).__name__}: {e})") from None
    if data.ndim != 4 or conf.ndim != 3 or data.shape[:3] != conf.shape:
        raise FormatError(path, f"unexpected body shape {data.shape} / confidence {conf.shape}")
    t, people, n_points, dims = data.shape
    if t == 0:
        raise FormatError(path, "no frames")
    if people == 0:
        raise FormatError(path, "no person in the file")
    if dims < 2:
        raise FormatError(path, f"points have {dims} coordinates, need at least x and y")
    comps = _components(header)
    if sum(c[2] for c in comps) != n_points:
        raise FormatError(path, f"header lists {sum(c[2] for c in comps)} points, body has {n_points}")

    data = np.asarray(data, dtype=np.float64)
    check_min_confidence(path, min_confidence)
    ok_all = (conf > min_confidence) & np.isfinite(data).all(-1) & ~mask.any(-1) & np.isfinite(conf)
    if person is None:
        person = int(np.argmax(ok_all.sum(axis=(0, 2))))
    if not 0 <= person < people:
        raise FormatError(path, f"no person {person} (the file has {people})")
    xyz = np.zeros((t, n_points, 3))
    xyz[..., : min(dims, 3)] = np.nan_to_num(data[:, person, :, :3], nan=0.0, posinf=0.0, neginf=0.0)
    ok = ok_all[:, person]
    dim = header.dimensions
    width = float(getattr(dim, "width", 0) or 0)
    height = float(getattr(dim, "height", 0) or 0)
    normalised = False
    if ok.any() and width > 2 and height > 2:
        seen = xyz[ok][:, :2]
        if seen.min() >= -0.5 and seen.max() <= 1.5:
            # MediaPipe's own normalised image coordinates (x / width, y / height): back to
            # pixels so that x and y share one scale (z is relative to the width, as x)
            xyz *= np.array([width, height, width])
            normalised = True

    body_xyz, body_ok, hands, hands_ok, face, face_ok = empty_tracks(t).values()
    found: list[str] = []
    mesh_names = {str(i): k for k, i in enumerate(FACE_MESH_INDEX)}
    for name, start, n, points in comps:
        uname = _norm(name)
        if uname.endswith("world_landmarks"):
            continue
        side = _hand_side(name)
        if side is not None and n == 21:
            k = 0 if side == "left" else 1
            names = [_hand_name(p) for p in points]
            order = (
                [HAND_POINTS.index(x) for x in names] if all(names) and len(set(names)) == 21 else list(range(21))
            )  # unnamed (OpenPose) hands: MediaPipe order
            hands[:, k, order] = xyz[:, start : start + 21]
            hands_ok[:, k, order] = ok[:, start : start + 21]
            found.append(name)
            continue
        if "face" in uname:
            for i, p in enumerate(points):
                slot = mesh_names.get(str(p).strip())
                if slot is not None:
                    face[:, slot] = xyz[:, start + i]
                    face_ok[:, slot] = ok[:, start + i]
            if any(str(p).strip() in mesh_names for p in points):
                found.append(name)
            continue
        hit = False
        for i, p in enumerate(points):
            b = _body_name(p)
            if b is not None:
                j = BODY_POINTS.index(b)
                body_xyz[:, j] = xyz[:, start + i]
                body_ok[:, j] = ok[:, start + i]
                hit = True
        if hit:
            found.append(name)
    if not found:
        listed = ", ".join(c[0] for c in comps) or "none"
        raise FormatError(path, f"no body, hand or face landmarks in a known layout (components: {listed})")
    fps = float(body.fps) if np.isfinite(body.fps) and body.fps > 0 else 0.0
    meta: dict[str, Any] = {
        "components": [c[0] for c in comps],
        "people": people,
        "person": person,
        "has_z": dims >= 3,
        "normalised_coordinates": normalised,
    }
    if fps <= 0:
        meta["fps_assumed"] = True
        fps = 25.0
    return LandmarkSet(body_xyz, body_ok, hands, hands_ok, face, face_ok, fps, width, height, meta)


def check_min_confidence(path: Path | str, value: float) -> None:
    """Raise FormatError unless ``value`` is a usable confidence threshold, [0, 1)."""
    if not (np.isfinite(value) and 0.0 <= value < 1.0):
        raise FormatError(path, f"min_confidence {value} is outside [0, 1)")


def read_landmarks(path: str | Path, **options: Any) -> LandmarkSet:
    path = Path(path)
    return landmarks_from_pose(_read_pose(path), path, **options)


def read(
    path: str | Path,
    *,
    smooth: bool = True,
    person: int | None = None,
    min_confidence: float = 0.0,
    fit_skeleton: bool = True,
    twist_limit_deg: float | None = None,
    lift_depth: bool = True,
    **_: Any,
) -> Sequence:
    """Read a .pose file and solve it (``solve_landmarks``). ``min_confidence``: points at or
    below it count as not observed (only the joints they drive are filled)."""
    path = Path(path)
    lm = read_landmarks(path, person=person, min_confidence=min_confidence)
    return solve_landmarks(
        path,
        lm,
        "pose",
        smooth=smooth,
        fit_skeleton=fit_skeleton,
        twist_limit_deg=twist_limit_deg,
        lift_depth=lift_depth,
    )


def solve_landmarks(
    path: Path,
    lm: LandmarkSet,
    source_format: str,
    *,
    smooth: bool = True,
    fit_skeleton: bool = True,
    twist_limit_deg: float | None = None,
    lift_depth: bool = True,
) -> Sequence:
    """Landmarks read from ``path`` -> a Sequence, by IK (``core.kinematics.ik``) onto a skeleton
    fitted to the signer (``fit_skeleton=False``: the template skeleton); ``twist_limit_deg``
    bounds the fingers' MCP twist (None: free, the default). Each component's depth is checked
    (``core.kinematics.depth``) and flat or missing depth lifted to plausible 3-D
    (``core.kinematics.lift``; ``lift_depth=False`` reads it as it is); the verdicts are in
    ``meta["depth"]``, the lifted components in ``meta["lifted"]``. Raises FormatError."""
    from ..kinematics.ik import landmarks_to_sequence

    meta = {
        "source_format": source_format,
        "source_file": path.name,
        "width": lm.width,
        "height": lm.height,
        **dict(lm.meta),
    }
    limit = None if twist_limit_deg is None else float(np.radians(twist_limit_deg))
    try:
        return landmarks_to_sequence(
            lm, smooth=smooth, meta=meta, fit=fit_skeleton, finger_twist_limit=limit, lift_depth=lift_depth
        )
    except (ValueError, FloatingPointError) as e:
        raise FormatError(path, f"cannot solve the landmarks ({e})") from None


MEDIAPIPE_POSE_NAMES: tuple[str, ...] = (
    "NOSE",
    "LEFT_EYE_INNER",
    "LEFT_EYE",
    "LEFT_EYE_OUTER",
    "RIGHT_EYE_INNER",
    "RIGHT_EYE",
    "RIGHT_EYE_OUTER",
    "LEFT_EAR",
    "RIGHT_EAR",
    "MOUTH_LEFT",
    "MOUTH_RIGHT",
    "LEFT_SHOULDER",
    "RIGHT_SHOULDER",
    "LEFT_ELBOW",
    "RIGHT_ELBOW",
    "LEFT_WRIST",
    "RIGHT_WRIST",
    "LEFT_PINKY",
    "RIGHT_PINKY",
    "LEFT_INDEX",
    "RIGHT_INDEX",
    "LEFT_THUMB",
    "RIGHT_THUMB",
    "LEFT_HIP",
    "RIGHT_HIP",
    "LEFT_KNEE",
    "RIGHT_KNEE",
    "LEFT_ANKLE",
    "RIGHT_ANKLE",
    "LEFT_HEEL",
    "RIGHT_HEEL",
    "LEFT_FOOT_INDEX",
    "RIGHT_FOOT_INDEX",
)
MEDIAPIPE_HAND_NAMES: tuple[str, ...] = tuple(
    n.upper().replace("INDEX_", "INDEX_FINGER_").replace("MIDDLE_", "MIDDLE_FINGER_").replace("RING_", "RING_FINGER_")
    for n in HAND_POINTS
)


def write_landmarks(path: str | Path, lm: LandmarkSet) -> None:
    """Write landmarks as a MediaPipe Holistic layout ``.pose`` (POSE_LANDMARKS with all 33
    names, the face mesh points we use, both hands), atomically. For tests and tools: the
    registry does not offer .pose as an export format."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    from .atomic import atomic_path

    t = lm.n_frames
    if t == 0:
        raise FormatError(path, "no frames to write")
    pose_xyz = np.zeros((t, 33, 3))
    pose_c = np.zeros((t, 33))
    for i, name in enumerate(BODY_POINTS):
        j = MEDIAPIPE_POSE_NAMES.index(name.upper())
        pose_xyz[:, j], pose_c[:, j] = lm.body[:, i], lm.body_ok[:, i]
    comps = [
        ("POSE_LANDMARKS", list(MEDIAPIPE_POSE_NAMES), pose_xyz, pose_c),
        ("FACE_LANDMARKS", [str(i) for i in FACE_MESH_INDEX], lm.face, lm.face_ok.astype(float)),
        ("LEFT_HAND_LANDMARKS", list(MEDIAPIPE_HAND_NAMES), lm.hands[:, 0], lm.hands_ok[:, 0].astype(float)),
        ("RIGHT_HAND_LANDMARKS", list(MEDIAPIPE_HAND_NAMES), lm.hands[:, 1], lm.hands_ok[:, 1].astype(float)),
    ]
    header = PoseHeader(
        0.2,
        PoseHeaderDimensions(int(lm.width or 1), int(lm.height or 1), 0),
        [PoseHeaderComponent(n, pts, [], [(255, 255, 255)], "XYZC") for n, pts, _, _ in comps],
    )
    data = np.concatenate([c[2] for c in comps], axis=1)[:, None].astype(np.float32)
    conf = np.concatenate([c[3] for c in comps], axis=1)[:, None].astype(np.float32)
    data = np.where(conf[..., None] > 0, data, 0.0)
    body = NumPyPoseBody(float(lm.fps), np.ma.masked_array(data, mask=np.repeat(conf[..., None] <= 0, 3, -1)), conf)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        Pose(header, body).write(f)

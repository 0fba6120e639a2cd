"""OpenPose JSON keypoints (``<clip>_<frame>_keypoints.json``, one file per frame) -> a Sequence.

OpenPose writes one JSON file per video frame, ``{"people": [{"pose_keypoints_2d": [x, y, c, ...],
"hand_left_keypoints_2d": [...], "hand_right_keypoints_2d": [...], "face_keypoints_2d": [...]}]}``;
How2Sign and many sign-language corpora distribute their keypoints this way. Opening any frame
file reads the whole clip: every ``<clip>_<number>_keypoints.json`` beside it, in frame order.

- Body: BODY_25 or COCO-18 (told apart by their length); the points we use are named below.
  Hands: 21 points in MediaPipe's order. Face: the 70-point layout's jaw ends, chin, nose tip and
  mouth corners.
- One signer per clip: in each frame the person with the most confident body.
- Points with confidence <= ``min_confidence`` or written as (0, 0, 0) count as not observed.
- 2-D only: depth is lifted to plausible 3-D (``core.kinematics.lift``); frame rate is not in
  the files, so 25 fps is assumed and said in ``meta["fps_assumed"]``.
Never raises anything but ``FormatError`` for a bad file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..kinematics.landmarks import BODY_POINTS, FACE_POINTS, LandmarkSet, empty_tracks
from ..model.sequence import Sequence
from .errors import FormatError
from .limits import check_regular_file
from .pose_file import check_min_confidence, solve_landmarks

# BODY_25 index of each of our body points (mouth corners come from the face); COCO-18 shares
# the first eight and then drops BODY_25's mid-hip
BODY_INDEX = {
    "nose": 0,
    "right_shoulder": 2,
    "right_elbow": 3,
    "right_wrist": 4,
    "left_shoulder": 5,
    "left_elbow": 6,
    "left_wrist": 7,
    "right_hip": 9,
    "left_hip": 12,
    "right_eye": 15,
    "left_eye": 16,
    "right_ear": 17,
    "left_ear": 18,
}
COCO18_INDEX = {
    **BODY_INDEX,
    "right_hip": 8,
    "left_hip": 11,
    "right_eye": 14,
    "left_eye": 15,
    "right_ear": 16,
    "left_ear": 17,
}
# 70-point face: jaw ends (0 on the signer's right), chin, nose tip; mouth corners for the body
FACE_INDEX = {"face_right": 0, "face_left": 16, "chin": 8, "nose_tip": 30}
MOUTH_INDEX = {"mouth_right": 48, "mouth_left": 54}
_NAME = re.compile(r"^(?P<clip>.*?)_?(?P<frame>\d+)_keypoints\.json$", re.IGNORECASE)
MAX_FRAMES = 500_000
MAX_FILE_BYTES = 16 << 20
ASSUMED_FPS = 25.0


def clip_files(path: Path) -> list[Path]:
    """The frame files of the clip ``path`` belongs to, in frame order (just ``path`` when its
    name carries no frame number)."""
    m = _NAME.match(path.name)
    if m is None:
        return [path]
    clip = m.group("clip")
    frames = []
    for p in path.parent.iterdir():
        n = _NAME.match(p.name)
        if n is not None and n.group("clip") == clip and p.is_file():
            frames.append((int(n.group("frame")), p))
            if len(frames) > MAX_FRAMES:
                raise FormatError(path, f"more than {MAX_FRAMES} frame files in the clip")
    return [p for _, p in sorted(frames)]


def _points(person: dict, key: str, n: int, path: Path) -> np.ndarray:
    """(n, 3) x, y, confidence of one keypoint list (zeros where absent)."""
    raw = person.get(key)
    out = np.zeros((n, 3))
    if raw is None or raw == []:
        return out
    if not isinstance(raw, list) or len(raw) % 3 or not all(isinstance(v, (int, float)) for v in raw):
        raise FormatError(path, f"{key} is not a flat list of x, y, confidence numbers")
    a = np.asarray(raw, float).reshape(-1, 3)[:n]
    out[: len(a)] = a
    return out


@dataclass(frozen=True)
class _Person:
    """One person's keypoints in a frame: x, y, confidence rows; ``index``: our body point ->
    its row in ``body`` (BODY_25 or COCO-18)."""

    body: np.ndarray  # (25, 3)
    left: np.ndarray  # (21, 3)
    right: np.ndarray  # (21, 3)
    face: np.ndarray  # (70, 3)
    index: Mapping[str, int]


def _frame(path: Path) -> _Person | None:
    """The most confident person of one frame file, or None when it holds nobody."""
    check_regular_file(path)  # a FIFO among the clip's frames would block the read forever
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FormatError(path, f"too large for a keypoints file ({path.stat().st_size} bytes)")
        data = json.loads(path.read_bytes())
    except OSError as e:
        raise FormatError(path, f"cannot read ({e.strerror or e})") from None
    except (ValueError, RecursionError) as e:
        raise FormatError(path, f"not valid JSON ({type(e).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise FormatError(path, "not OpenPose keypoints (no 'people' list)")
    best, best_conf = None, -1.0
    for person in data["people"]:
        if not isinstance(person, dict):
            raise FormatError(path, "a 'people' entry is not an object")
        body = _points(person, "pose_keypoints_2d", 25, path)
        conf = float(np.nan_to_num(body[:, 2]).sum())
        if conf > best_conf:
            best_conf = conf
            coco = len(person.get("pose_keypoints_2d") or []) == 18 * 3
            best = _Person(
                body,
                _points(person, "hand_left_keypoints_2d", 21, path),
                _points(person, "hand_right_keypoints_2d", 21, path),
                _points(person, "face_keypoints_2d", 70, path),
                COCO18_INDEX if coco else BODY_INDEX,
            )
    return best


def read_landmarks(path: str | Path, *, min_confidence: float = 0.0) -> LandmarkSet:
    """The clip of ``path`` as a LandmarkSet (image coordinates, z = 0). Raises FormatError."""
    path = Path(path)
    check_min_confidence(path, min_confidence)
    frames = [_frame(p) for p in clip_files(path)]
    t = len(frames)
    body, body_ok, hands, hands_ok, face, face_ok = empty_tracks(t).values()

    def seen(p: np.ndarray) -> np.ndarray:
        return np.isfinite(p).all(-1) & (p[..., 2] > min_confidence) & (np.abs(p[..., :2]).sum(-1) > 0)

    for i, f in enumerate(frames):
        if f is None:
            continue
        for name, j in f.index.items():
            k = BODY_POINTS.index(name)
            body[i, k, :2], body_ok[i, k] = f.body[j, :2], seen(f.body[j])
        for name, j in MOUTH_INDEX.items():
            k = BODY_POINTS.index(name)
            body[i, k, :2], body_ok[i, k] = f.face[j, :2], seen(f.face[j])
        for k, hand in enumerate((f.left, f.right)):
            hands[i, k, :, :2], hands_ok[i, k] = hand[:, :2], seen(hand)
        for name, j in FACE_INDEX.items():
            k = FACE_POINTS.index(name)
            face[i, k, :2], face_ok[i, k] = f.face[j, :2], seen(f.face[j])
    if not (body_ok.any() or hands_ok.any()):
        raise FormatError(path, f"no body or hand keypoints in {t} frame file(s)")
    meta: dict[str, Any] = {
        "has_z": False,
        "frame_files": t,
        "fps_assumed": True,
        "components": ["pose_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d", "face_keypoints_2d"],
    }
    return LandmarkSet(body, body_ok, hands, hands_ok, face, face_ok, ASSUMED_FPS, 0.0, 0.0, meta)


def read(
    path: str | Path,
    *,
    smooth: bool = True,
    min_confidence: float = 0.0,
    fit_skeleton: bool = True,
    twist_limit_deg: float | None = None,
    lift_depth: bool = True,
    **_: Any,
) -> Sequence:
    """Read the clip of an OpenPose ``*_keypoints.json`` file and solve it like a ``.pose`` file
    (``core.io.pose_file.solve_landmarks``)."""
    path = Path(path)
    lm = read_landmarks(path, min_confidence=min_confidence)
    return solve_landmarks(
        path,
        lm,
        "openpose_json",
        smooth=smooth,
        fit_skeleton=fit_skeleton,
        twist_limit_deg=twist_limit_deg,
        lift_depth=lift_depth,
    )


def write_frames(folder: str | Path, clip: str, lm: LandmarkSet) -> list[Path]:
    """Write landmarks as OpenPose frame files ``<clip>_<12 digits>_keypoints.json`` (x, y only;
    for tests and tools: the registry offers no OpenPose export)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(lm.n_frames):
        pose = np.zeros((25, 3))
        face = np.zeros((70, 3))
        for name, j in BODY_INDEX.items():
            k = BODY_POINTS.index(name)
            pose[j] = (*lm.body[i, k, :2], float(lm.body_ok[i, k]))
        for name, j in MOUTH_INDEX.items():
            k = BODY_POINTS.index(name)
            face[j] = (*lm.body[i, k, :2], float(lm.body_ok[i, k]))
        for name, j in FACE_INDEX.items():
            k = FACE_POINTS.index(name)
            face[j] = (*lm.face[i, k, :2], float(lm.face_ok[i, k]))
        hands = [np.concatenate([lm.hands[i, k, :, :2], lm.hands_ok[i, k, :, None]], -1) for k in range(2)]
        person = {
            "person_id": [-1],
            "pose_keypoints_2d": pose.ravel().tolist(),
            "face_keypoints_2d": face.ravel().tolist(),
            "hand_left_keypoints_2d": hands[0].ravel().tolist(),
            "hand_right_keypoints_2d": hands[1].ravel().tolist(),
        }
        p = folder / f"{clip}_{i:012d}_keypoints.json"
        p.write_text(json.dumps({"version": 1.3, "people": [person]}))
        out.append(p)
    return out

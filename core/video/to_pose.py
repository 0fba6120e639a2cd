"""MediaPipe worker output (.npz) -> a pose-format ``.pose`` in the MediaPipe Holistic layout.

Coordinates follow pose-format's holistic convention: x * width, y * height (pixels), z as
MediaPipe gives it; confidence is the body's visibility, 1 for detected hands and faces, 0 for
what was not detected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io.errors import FormatError


def worker_npz_to_pose(src: str | Path, out: str | Path) -> int:
    """Write ``out`` from the worker's ``src``; returns the number of frames."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    from ..io.atomic import atomic_path
    from ..io.pose_file import MEDIAPIPE_HAND_NAMES, MEDIAPIPE_POSE_NAMES

    try:
        with np.load(src, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise FormatError(src, f"not a tracker output ({e})") from None
    t = len(d["pose"])
    if t == 0:
        raise FormatError(src, "the tracker found no frames")
    w, h = float(d["width"]) or 1.0, float(d["height"]) or 1.0
    scale = np.array([w, h, 1.0], np.float32)
    parts = [
        ("POSE_LANDMARKS", list(MEDIAPIPE_POSE_NAMES), d["pose"], d["pose_conf"] * d["pose_seen"][:, None]),
        (
            "FACE_LANDMARKS",
            [str(i) for i in range(d["face"].shape[1])],
            d["face"],
            np.repeat(d["face_seen"][:, None], d["face"].shape[1], 1).astype(np.float32),
        ),
        (
            "LEFT_HAND_LANDMARKS",
            list(MEDIAPIPE_HAND_NAMES),
            d["left_hand"],
            np.repeat(d["left_hand_seen"][:, None], 21, 1).astype(np.float32),
        ),
        (
            "RIGHT_HAND_LANDMARKS",
            list(MEDIAPIPE_HAND_NAMES),
            d["right_hand"],
            np.repeat(d["right_hand_seen"][:, None], 21, 1).astype(np.float32),
        ),
    ]
    header = PoseHeader(
        0.2,
        PoseHeaderDimensions(int(w), int(h), 0),
        [PoseHeaderComponent(n, pts, [], [(255, 255, 255)], "XYZC") for n, pts, _, _ in parts],
    )
    data = np.concatenate([p[2] * scale for p in parts], axis=1)[:, None].astype(np.float32)
    conf = np.concatenate([p[3] for p in parts], axis=1)[:, None].astype(np.float32)
    data = np.where(conf[..., None] > 0, data, 0.0)
    body = NumPyPoseBody(float(d["fps"]), np.ma.masked_array(data, mask=np.repeat(conf[..., None] <= 0, 3, -1)), conf)
    with atomic_path(out) as tmp, open(tmp, "wb") as f:
        Pose(header, body).write(f)
    return t

"""``python -m core track VIDEO --out X.pose``: MediaPipe Holistic landmarks from a video.

MediaPipe 0.10.21 needs numpy < 2, so it runs in its own environment (``scripts/setup_video.sh``
creates ``.venv-video``; ``SIGNFRAME_VIDEO_PYTHON`` or ``--python`` point elsewhere) as a
subprocess; this process only converts its output into a ``.pose`` file. The video stays linked to
the motion: ``X.pose.media.json`` beside the output names it (a ``.pose`` has no room for it), so
the editor opens the pose with its reference video.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="a video file (anything OpenCV reads)")
    parser.add_argument("--out", required=True, help="the .pose file to write")
    parser.add_argument(
        "--python",
        default=None,
        help="python of the video environment (default: $SIGNFRAME_VIDEO_PYTHON or .venv-video)",
    )
    parser.add_argument(
        "--complexity",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="MediaPipe model complexity; only 1 works offline (default: %(default)s)",
    )


def video_python(explicit: str | None) -> Path:
    for cand in (explicit, os.environ.get("SIGNFRAME_VIDEO_PYTHON"), str(ROOT / ".venv-video" / "bin" / "python")):
        if cand and Path(cand).is_file():
            return Path(cand)
    from ..errors import UserError

    raise UserError(
        "the video tracker is not installed: run scripts/setup_video.sh "
        "(mediapipe in its own environment), or pass --python"
    )


def run(args: argparse.Namespace) -> int:
    import subprocess
    import sys
    import tempfile

    from ..errors import UserError
    from ..io.errors import FormatError
    from ..video.to_pose import worker_npz_to_pose

    video = Path(args.video)
    if not video.is_file():
        raise FormatError(video, "no such file")
    if not args.out.lower().endswith(".pose"):
        raise UserError(f"--out must name a .pose file, got {args.out}")
    py = video_python(args.python)
    worker = Path(__file__).resolve().parents[1] / "video" / "mediapipe_worker.py"
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "landmarks.npz"
        proc = subprocess.run(
            [str(py), str(worker), str(video), str(raw), "--complexity", str(args.complexity)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if proc.returncode != 0 or not raw.exists():
            last = (proc.stderr.strip().splitlines() or ["the tracker failed"])[-1]
            raise FormatError(video, f"tracking failed: {last}")
        n = worker_npz_to_pose(raw, args.out)
    from ..media.links import MediaLink, write_sidecar

    side = write_sidecar(args.out, [MediaLink("video", video.resolve(), 0.0)])
    print(f"{args.out}: {n} frames (video linked in {side.name})", file=sys.stderr)
    return 0

"""Run MediaPipe Holistic over a video; write the landmarks as a plain .npz.

Runs in the separate video environment (``scripts/setup_video.sh``: mediapipe 0.10.21 with
numpy < 2), so it imports only cv2, mediapipe and numpy, never ``core``:

    .venv-video/bin/python core/video/mediapipe_worker.py VIDEO OUT.npz [--complexity 1]

Output arrays (frames first, coordinates as MediaPipe gives them: x, y in [0, 1] of the image,
z on MediaPipe's own depth scale): ``pose`` (T, 33, 3) and ``pose_conf`` (T, 33) visibility,
``face`` (T, 478, 3), ``left_hand`` / ``right_hand`` (T, 21, 3), ``*_seen`` (T,) bool,
``fps``, ``width``, ``height``. Progress lines "frame i/n" go to stderr.
"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("video")
    ap.add_argument("out")
    ap.add_argument(
        "--complexity",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="1 works offline (the wheel bundles it); 0 and 2 download their model",
    )
    args = ap.parse_args(argv)
    import cv2
    import mediapipe as mp
    import numpy as np

    cap = cv2.VideoCapture(args.video)
    if not cap.isOpened():
        print(f"{args.video}: cannot open the video", file=sys.stderr)
        return 2
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
    height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    out = {
        k: []
        for k in (
            "pose",
            "pose_conf",
            "face",
            "left_hand",
            "right_hand",
            "pose_seen",
            "face_seen",
            "left_hand_seen",
            "right_hand_seen",
        )
    }

    def points(lms, count):
        if lms is None:
            return np.zeros((count, 3), np.float32), False
        return np.array([[p.x, p.y, p.z] for p in lms.landmark], np.float32)[:count], True

    with mp.solutions.holistic.Holistic(
        static_image_mode=False, model_complexity=args.complexity, refine_face_landmarks=True
    ) as holistic:
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            res = holistic.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            p, seen = points(res.pose_landmarks, 33)
            out["pose"].append(p)
            out["pose_seen"].append(seen)
            vis = [q.visibility for q in res.pose_landmarks.landmark] if seen else [0.0] * 33
            out["pose_conf"].append(np.array(vis, np.float32))
            f, seen = points(res.face_landmarks, 478)
            if seen and len(f) < 478:
                f = np.concatenate([f, np.zeros((478 - len(f), 3), np.float32)])
            out["face"].append(f)
            out["face_seen"].append(seen)
            for side in ("left", "right"):
                h, seen = points(getattr(res, f"{side}_hand_landmarks"), 21)
                out[f"{side}_hand"].append(h)
                out[f"{side}_hand_seen"].append(seen)
            i += 1
            if i % 25 == 0:
                print(f"frame {i}/{n}", file=sys.stderr, flush=True)
    if i == 0:
        print(f"{args.video}: no frames could be decoded", file=sys.stderr)
        return 2
    np.savez(
        args.out,
        fps=np.float64(fps),
        width=np.int64(width),
        height=np.int64(height),
        **{k: np.stack(v) for k, v in out.items()},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

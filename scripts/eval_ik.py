#!/usr/bin/env python
"""Measure the landmark IK on every usable clip of the spoken-to-signed fingerspelling lexicon.

    .venv/bin/python scripts/eval_ik.py                 # all configurations, a table
    .venv/bin/python scripts/eval_ik.py --json out.json --clips 100 --configs default,raw

For each clip that the corpus builder keeps (``core.data.clips.clean``: not too short, no
tracking blow-up; glitch frames masked), each configuration converts the landmarks exactly as
``python -m core convert CLIP.pose OUT.joints.npz`` does (``landmarks_to_sequence``: float32
rotations on the sequence's skeleton, root translation) and compares the forward-kinematics joint
positions (what the ``.joints.npz`` holds) with the RAW landmarks (``core.kinematics.ik.ik_errors``):
finger bone direction error (degrees), hand joint position error (hands scaled to 18 cm), elbow,
wrist and shoulder position errors (cm, each arm placed at its shoulder). Means over clips.
Needs the ``training`` extra (spoken-to-signed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.kinematics.ik_hand import FINGER_TWIST_LIMIT  # noqa: E402

LIMIT30, LIMIT60 = FINGER_TWIST_LIMIT, 2 * FINGER_TWIST_LIMIT
# name -> (description, landmarks_to_sequence options)
CONFIGS: dict[str, tuple[str, dict]] = {
    "default": ("fitted skeleton, free twist, smoothing on (the default)", {}),
    "raw": ("fitted skeleton, free twist, smoothing off", {"smooth": False}),
    "limit30": ("fitted skeleton, twist +-30, smoothing on", {"finger_twist_limit": LIMIT30}),
    "limit30_raw": ("fitted skeleton, twist +-30, smoothing off", {"finger_twist_limit": LIMIT30, "smooth": False}),
    "limit60_raw": ("fitted skeleton, twist +-60, smoothing off", {"finger_twist_limit": LIMIT60, "smooth": False}),
    "symmetric": ("fitted skeleton with symmetric arms, free twist, smoothing on", {"symmetric_arms": True}),
    "template": (
        "template skeleton, twist +-30, smoothing on (the previous default)",
        {"fit": False, "finger_twist_limit": LIMIT30},
    ),
    "template_raw": ("template skeleton, free twist, smoothing off", {"fit": False, "smooth": False}),
}
METRICS = (
    "finger_dir_deg",
    "hand_pos_cm",
    "elbow_cm",
    "wrist_cm",
    "shoulder_cm",
    "upper_arm_deg",
    "forearm_deg",
    "finger_dir_deg_vs_input",
    "hand_pos_cm_vs_input",
)


def evaluate(configs: list[str], n_clips: int | None, progress: bool = True) -> dict:
    from core.data.clips import clean
    from core.data.lexicon import read_lexicon
    from core.io.errors import FormatError
    from core.io.pose_file import read_landmarks
    from core.kinematics.ik import ik_errors, landmarks_to_sequence, smooth_landmarks

    entries = read_lexicon()
    if n_clips:  # an even spread over languages
        entries = entries[:: max(1, len(entries) // n_clips)][:n_clips]
    rows: dict[str, list[dict]] = {c: [] for c in configs}
    seconds = {c: 0.0 for c in configs}
    frames = 0
    dropped: dict[str, int] = {}
    for i, e in enumerate(entries):
        try:
            lm = read_landmarks(e.path)
        except FormatError as err:
            dropped[f"unreadable ({err.problem})"] = dropped.get(f"unreadable ({err.problem})", 0) + 1
            continue
        lm, why = clean(lm)
        if lm is None:
            key = why.split(" (")[0]
            dropped[key] = dropped.get(key, 0) + 1
            continue
        frames += lm.n_frames
        for c in configs:
            t0 = time.perf_counter()
            seq = landmarks_to_sequence(lm, **CONFIGS[c][1])
            seconds[c] += time.perf_counter() - t0
            ik = seq.meta["ik"]
            kw = dict(
                scales={**ik["depth_scales"], "metres_per_pixel": ik["metres_per_pixel"]},
                skeleton=seq.skeleton,
                translation=seq.translation,
            )
            err = ik_errors(lm, seq.rotations, **kw)
            # against what the solver was given (the smoothed landmarks): the IK's own fidelity
            given = ik_errors(smooth_landmarks(lm), seq.rotations, **kw) if ik["smoothed"] else err
            err.update({f"{m}_vs_input": given[m] for m in ("finger_dir_deg", "hand_pos_cm")})
            rows[c].append({"source": e.source, **err})
        if progress and (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(entries)} clips", file=sys.stderr, flush=True)
    out = {"clips": len(next(iter(rows.values()))) if rows else 0, "frames": frames, "dropped": dropped, "configs": {}}
    for c in configs:
        means = {m: float(np.nanmean([r[m] for r in rows[c]])) for m in METRICS} if rows[c] else {}
        # solver speed: seconds of IK per 10 s of 25 fps landmarks
        means["ik_seconds_per_10s_clip"] = seconds[c] / max(frames, 1) * 250.0
        out["configs"][c] = {"description": CONFIGS[c][0], **means}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, from {', '.join(CONFIGS)}")
    ap.add_argument("--clips", type=int, default=None, help="evaluate an even subset of this many lexicon clips")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    bad = [c for c in configs if c not in CONFIGS]
    if bad:
        ap.error(f"unknown configuration(s): {', '.join(bad)}")
    res = evaluate(configs, args.clips)
    print(f"{res['clips']} usable clips, {res['frames']} frames; dropped: {res['dropped']}")
    head = (
        "config",
        "finger deg",
        "hand cm",
        "elbow cm",
        "wrist cm",
        "shoulder cm",
        "finger deg / hand cm vs solver input",
        "s/10s",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for c, m in res["configs"].items():
        print(
            f"| {c}: {m['description']} | {m['finger_dir_deg']:.2f} | {m['hand_pos_cm']:.2f} | {m['elbow_cm']:.2f} | "
            f"{m['wrist_cm']:.2f} | {m['shoulder_cm']:.2f} | {m['finger_dir_deg_vs_input']:.2f} / "
            f"{m['hand_pos_cm_vs_input']:.2f} | {m['ik_seconds_per_10s_clip']:.3f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

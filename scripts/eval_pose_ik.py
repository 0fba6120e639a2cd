"""Drag-to-pose IK on real recorded signing: for frames of real .pose files, move each wrist
10 cm in random directions by arm IK (hand held) and each fingertip by finger IK toward a
reachable pose; report reach, limit violations of the joints IK sets, and time per solve.
Also: the share of ALL frames of the files whose recorded shoulders break the shoulder limits
(``anatomy.SHOULDER_CONE`` / ``SHOULDER_TWIST``): real signing must fit inside them.

    PYTHONPATH=$PWD .venv/bin/python scripts/eval_pose_ik.py /work/shared/realdata/signsuisse_val [--files 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from core.io import read
    from core.kinematics.anatomy import (
        clamp_params,
        from_params,
        joint_params,
        limit_violations,
        shoulder_excess,
        to_params,
    )
    from core.kinematics.fk import forward_kinematics
    from core.kinematics.pose_ik import arm_ik, finger_ik, finger_joints, fingertip

    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--files", type=int, default=20)
    p.add_argument("--frames", type=int, default=10, help="frames per file")
    a = p.parse_args()
    rng = np.random.default_rng(0)
    arm_err, arm_bad, arm_ms, held = [], 0, [], []
    fin_err, fin_bad, fin_ms = [], 0, []
    n_arm = n_fin = 0
    sh_frames = sh_bad = 0
    sh_params = []
    files = sorted(Path(a.folder).glob("*.pose"))[: a.files]
    for path in files:
        seq = read(path)
        sk = seq.skeleton
        bad = np.zeros(seq.n_frames, bool)
        for side in ("left", "right"):
            j = sk.index(f"{side}_shoulder")
            q = to_params(joint_params(sk, j), seq.rotations[:, j].astype(np.float64))
            over, twist_over = shoulder_excess(q)
            bad |= (over > 0.5) | (twist_over > 0.5)  # limit_violations' tolerance
            sh_params.append(q)
        sh_frames += seq.n_frames
        sh_bad += int(bad.sum())
        for f in rng.choice(seq.n_frames, min(a.frames, seq.n_frames), replace=False):
            rot = seq.rotations[f].astype(np.float64)
            tr = seq.translation[f].astype(np.float64)
            wr, wp = forward_kinematics(sk, rot[None], tr[None])
            for side in ("left", "right"):
                w = sk.index(f"{side}_wrist")
                d = rng.normal(size=3)
                target = wp[0, w] + 0.1 * d / np.linalg.norm(d)
                t0 = time.perf_counter()
                ch = arm_ik(sk, rot, tr, side, target)
                arm_ms.append((time.perf_counter() - t0) * 1e3)
                new = rot.copy()
                new[list(ch.joints)] = ch.rotations
                wr2, wp2 = forward_kinematics(sk, new[None], tr[None])
                arm_err.append(float(np.linalg.norm(wp2[0, w] - target)))
                # violations the drag added (a recorded joint already past a limit is not one)
                arm_bad += len(limit_violations(sk, new, ch.joints)) > len(limit_violations(sk, rot, ch.joints))
                held.append(float(np.degrees(np.arccos(np.clip((np.trace(wr2[0, w].T @ wr[0, w]) - 1) / 2, -1, 1)))))
                n_arm += 1
                js = finger_joints(sk, side, "index")
                posed = rot.copy()
                for j in js:
                    jp = joint_params(sk, j)
                    q = to_params(jp, posed[j])
                    q[0] += rng.uniform(-25, 25)
                    posed[j] = from_params(jp, clamp_params(jp, q))
                pr, pp = forward_kinematics(sk, posed[None], tr[None])
                goal = fingertip(sk, pr[0], pp[0], js[-1])
                t0 = time.perf_counter()
                fc = finger_ik(sk, rot, tr, side, "index", goal)
                fin_ms.append((time.perf_counter() - t0) * 1e3)
                new = rot.copy()
                new[list(fc.joints)] = fc.rotations
                fin_err.append(fc.reached)
                fin_bad += bool(limit_violations(sk, new, fc.joints))
                n_fin += 1
    q = np.concatenate(sh_params)
    elev = np.hypot(q[:, 0], q[:, 1])
    out = {
        "files": len(files),
        "frames": sh_frames,
        "shoulder_frames_outside_limits": round(sh_bad / max(sh_frames, 1), 4),
        "shoulder_elevation_deg": {"p99": round(float(np.percentile(elev, 99)), 1), "max": round(float(elev.max()), 1)},
        "shoulder_twist_deg": {
            "min": round(float(q[:, 2].min()), 1),
            "p1": round(float(np.percentile(q[:, 2], 1)), 1),
            "p99": round(float(np.percentile(q[:, 2], 99)), 1),
            "max": round(float(q[:, 2].max()), 1),
        },
        "arm_drags": n_arm,
        "arm_reach_error_mm": {
            "median": round(1e3 * np.median(arm_err), 3),
            "p95": round(1e3 * np.percentile(arm_err, 95), 2),
        },
        "arm_share_reached_within_1mm": round(float(np.mean(np.array(arm_err) < 1e-3)), 3),
        "arm_limit_violations": arm_bad,
        "hand_orientation_change_deg": {
            "median": round(float(np.median(held)), 2),
            "p95": round(float(np.percentile(held, 95)), 2),
        },
        "arm_ms": {"median": round(float(np.median(arm_ms)), 2), "p95": round(float(np.percentile(arm_ms, 95)), 2)},
        "finger_drags": n_fin,
        "finger_reach_error_mm": {
            "median": round(1e3 * np.median(fin_err), 3),
            "p95": round(1e3 * np.percentile(fin_err, 95), 2),
        },
        "finger_limit_violations": fin_bad,
        "finger_ms": {"median": round(float(np.median(fin_ms)), 2), "p95": round(float(np.percentile(fin_ms, 95)), 2)},
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

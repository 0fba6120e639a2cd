"""``python -m core bench pose-ik``: the cost of one drag step's IK solve (what a wrist, elbow or
fingertip drag computes per mouse move), on random signing-like poses of the template skeleton."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..model.template import TEMPLATE
from .anatomy import from_params, joint_params
from .fk import forward_kinematics
from .pose_ik import arm_ik, finger_ik, finger_joints, fingertip


def _pose(rng: np.random.Generator) -> np.ndarray:
    """Arms lowered and bent by random amounts, fingers curled by random amounts (all within limits)."""
    rot = np.tile(np.eye(3), (TEMPLATE.n_joints, 1, 1))
    for side, sg in (("left", 1.0), ("right", -1.0)):
        a = np.radians(-sg * rng.uniform(30, 80))
        rot[TEMPLATE.index(f"{side}_shoulder")] = [[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]]
        jp = joint_params(TEMPLATE, TEMPLATE.index(f"{side}_elbow"))
        assert jp is not None
        rot[TEMPLATE.index(f"{side}_elbow")] = from_params(jp, np.array([rng.uniform(30, 120), 0.0, 0.0]))
        for j in finger_joints(TEMPLATE, side, "index"):
            fj = joint_params(TEMPLATE, j)
            assert fj is not None
            rot[j] = from_params(fj, np.array([rng.uniform(0, 60), 0.0, 0.0]))
    return rot


def bench(repeat: int | None = None) -> dict[str, Any]:
    n = 100 * (repeat or 3)  # solves: ``--repeat`` hundreds
    rng = np.random.default_rng(0)
    tr = np.zeros(3)
    arm, finger, finger_free = [], [], []
    for _ in range(n):
        rot = _pose(rng)
        wr, wp = forward_kinematics(TEMPLATE, rot[None], tr[None])
        side = "right" if rng.random() < 0.5 else "left"
        w = TEMPLATE.index(f"{side}_wrist")
        d = rng.normal(size=3)
        t0 = time.perf_counter()
        arm_ik(TEMPLATE, rot, tr, side, wp[0, w] + 0.1 * d / np.linalg.norm(d))
        arm.append(time.perf_counter() - t0)
        tip = fingertip(TEMPLATE, wr[0], wp[0], finger_joints(TEMPLATE, side, "index")[-1])
        target = tip + rng.normal(scale=0.01, size=3)
        t0 = time.perf_counter()
        finger_ik(TEMPLATE, rot, tr, side, "index", target, iterations=12)
        finger.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        finger_ik(TEMPLATE, rot, tr, side, "index", target, iterations=12, move_wrist=True)
        finger_free.append(time.perf_counter() - t0)

    def ms(xs: list[float]) -> dict[str, float]:
        a = np.asarray(xs) * 1e3
        return {"median": round(float(np.median(a)), 3), "p95": round(float(np.percentile(a, 95)), 3)}

    return {
        "solves": n,
        "arm_ik_ms": ms(arm),
        "finger_ik_ms": ms(finger),
        "finger_ik_wrist_free_ms": ms(finger_free),
    }

"""``python -m core eval import DIR [--json]``: how `.pose` files come in, judged on plausibility.

For every `.pose` file in a folder (recursively), as read:
- the depth check of each component and what was lifted (``depth``, ``lift``);
- raised-wrist frames (wrist above spine1) and the share of them with the wrist in front of the
  chest joint (spine3, along the chest's forward axis): real signing is in front of the body;
- bone-length variation: the median coefficient of variation over the clip of the 3-D arm and
  shoulder lengths of the landmarks as solved (lifted where lifted);
- hand shape error: the hand points our motion gives against the observed landmarks, both hands
  similarity-aligned per frame (3-D where the hands have depth, in the image plane where not)
  and scaled to an 18 cm hand; mean over the 20 non-wrist points, cm;
- repaired: among the joints observed somewhere in the clip, the share of frames where any of
  them is not observed (filled from its real neighbours), and the share of joint-frames filled.
For files whose body has depth, the same after flattening on purpose (z set to its median plus
+-0.4 px noise, as exports with flat z look) and after dropping z (2-D), with the wrist positions
relative to the chest compared with the import of the original: the distance between the median
wrist positions (per side, the larger), the per-frame median distance, and the hand shape error
against the file's real 3-D hand landmarks (``hand_error_3d_cm``). ``flattened_unlifted`` is the
flattened file read without lifting (``solve(lift_depth=False)``): what flat files gave before.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..model.sequence import Sequence
from .fk import forward_kinematics
from .ik import HAND_SIZE, fk_hand_points, landmarks_to_sequence
from .landmarks import BODY_BONES, B, LandmarkSet, to_world

FLAT_NOISE_PX = 0.4
VARIANTS = ("flattened", "2d", "flattened_unlifted")


def flatten_depth(lm: LandmarkSet, *, drop: bool = False, seed: int = 0) -> LandmarkSet:
    """The same landmarks with z made flat (each component's median z plus +-0.4 px of uniform
    noise) or, with ``drop``, zero (a 2-D file)."""
    rng = np.random.default_rng(seed)

    def flat(a: np.ndarray, ok: np.ndarray) -> np.ndarray:
        a = a.copy()
        if drop:
            a[..., 2] = 0.0
        else:
            m = float(np.median(a[..., 2][ok])) if ok.any() else 0.0
            a[..., 2] = m + rng.uniform(-FLAT_NOISE_PX, FLAT_NOISE_PX, a.shape[:-1])
        return a

    meta = dict(lm.meta)
    if drop:
        meta["has_z"] = False
    return LandmarkSet(
        flat(lm.body, lm.body_ok),
        lm.body_ok,
        flat(lm.hands, lm.hands_ok),
        lm.hands_ok,
        flat(lm.face, lm.face_ok),
        lm.face_ok,
        lm.fps,
        lm.width,
        lm.height,
        meta,
    )


def wrists_in_chest(seq: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Wrists relative to the chest joint in the chest's frame (T, 2, 3) metres (x left, y up, z
    forward; left, right), and whether each is raised above spine1 (T, 2)."""
    sk = seq.skeleton
    wr, wp = forward_kinematics(sk, np.asarray(seq.rotations, float), np.asarray(seq.translation, float))
    s3, s1 = sk.index("spine3"), sk.index("spine1")
    rel, raised = [], []
    for side in ("left", "right"):
        w = wp[:, sk.index(f"{side}_wrist")]
        rel.append(np.einsum("tij,ti->tj", wr[:, s3], w - wp[:, s3]))
        raised.append(w[:, 1] > wp[:, s1, 1])
    return np.stack(rel, 1), np.stack(raised, 1)


def _wrist_valid(seq: Sequence) -> np.ndarray:
    sk = seq.skeleton
    return np.stack([np.asarray(seq.valid)[:, sk.index(f"{s}_wrist")] for s in ("left", "right")], 1)


def front_counts(seq: Sequence) -> tuple[int, int]:
    """(raised-wrist frames, of them in front of the chest joint), observed wrists only."""
    rel, raised = wrists_in_chest(seq)
    raised &= _wrist_valid(seq)
    return int(raised.sum()), int((raised & (rel[..., 2] > 0)).sum())


def _similarity_align(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """src (N, P, D) aligned onto dst (N, P, D) by a rotation, scale and shift per item."""
    ms, md = src.mean(1, keepdims=True), dst.mean(1, keepdims=True)
    a, b = src - ms, dst - md
    cov = np.einsum("npi,npj->nij", b, a)
    u, s, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.ones(s.shape)
    fix[:, -1] = d
    r = u @ (fix[:, :, None] * vt)
    scale = (s * fix).sum(-1) / np.maximum((a**2).sum((1, 2)), 1e-12)
    return np.einsum("nij,npj->npi", r, a) * scale[:, None, None] + md


def hand_shape_error_cm(seq: Sequence, lm: LandmarkSet, hands_scale: float, planar: bool) -> float:
    """Mean distance (cm, 18 cm hands) of our 20 non-wrist hand points from the observed ones,
    similarity-aligned per frame; in the image plane when ``planar``. NaN when no hand is seen."""
    ours = fk_hand_points(np.asarray(seq.rotations, float), None, seq.skeleton)  # (T, 2, 21, 3)
    obs = to_world(lm.hands, hands_scale)
    full = lm.hands_ok.all(axis=-1)  # (T, 2)
    if not full.any():
        return float("nan")
    o, m = obs[full], ours[full]  # (N, 21, 3)
    if planar:
        o, m = o[..., :2], m[..., :2]
    aligned = _similarity_align(o, m)
    size = np.linalg.norm(ours[full][:, 9] - ours[full][:, 0], axis=-1) + sum(
        np.linalg.norm(ours[full][:, b] - ours[full][:, a], axis=-1) for a, b in ((9, 10), (10, 11), (11, 12))
    )
    err = np.linalg.norm(aligned[:, 1:] - m[:, 1:], axis=-1) * (HAND_SIZE / np.maximum(size, 1e-9))[:, None]
    return 100.0 * float(err.mean())


def bone_cv(lm: LandmarkSet, body_scale: float) -> float:
    """Median over the arm and shoulder bones of the coefficient of variation of their 3-D length."""
    world = to_world(lm.body, body_scale)
    cvs = []
    for a, b in BODY_BONES:
        if a in (B["left_hip"], B["right_hip"]) or b in (B["left_hip"], B["right_hip"]):
            continue
        ok = lm.body_ok[:, a] & lm.body_ok[:, b]
        if ok.sum() < 3:
            continue
        length = np.linalg.norm(world[ok, a] - world[ok, b], axis=-1)
        cvs.append(float(length.std() / max(length.mean(), 1e-12)))
    return float(np.median(cvs)) if cvs else float("nan")


def _solved(lm: LandmarkSet, **options: Any) -> tuple[Sequence, float]:
    t0 = time.perf_counter()
    seq = landmarks_to_sequence(lm, meta=dict(lm.meta), **options)
    return seq, time.perf_counter() - t0


def _judge(seq: Sequence, lm: LandmarkSet) -> dict[str, Any]:
    """Plausibility figures of one import (see the module docstring)."""
    depth = seq.meta["depth"]
    lifted = list(seq.meta.get("lifted", []))
    scales = dict(seq.meta["ik"]["depth_scales"])
    raised, front = front_counts(seq)
    valid = np.asarray(seq.valid)
    seen = valid.any(axis=1)
    valid = valid[:, valid.any(axis=0)]  # joints never observed are absent, not repaired
    hands_planar = "hands" in lifted or not _has_depth(depth, "hands")
    # the hand error compares with what the file says: lifted hands against their image
    return {
        "depth": {k: v["kind"] for k, v in depth.items()},
        "lifted": lifted,
        "raised_wrist_frames": raised,
        "front_of_chest": front,
        "front_share": front / raised if raised else float("nan"),
        "bone_cv": bone_cv(lm, 1.0 if "body" in lifted else scales.get("body", 0.0)),
        "hand_error_cm": hand_shape_error_cm(seq, lm, scales.get("hands", 0.0), hands_planar),
        "repaired_frames": float((~valid[seen]).any(axis=1).mean()) if seen.any() else 0.0,
        "repaired_joints": float((~valid[seen]).mean()) if seen.any() else 0.0,
    }


def _has_depth(depth: dict, name: str) -> bool:
    return depth.get(name, {}).get("kind") in ("3d", "scaled_z")


def _wrist_shift(ref: Sequence, other: Sequence) -> dict[str, float]:
    r0, _ = wrists_in_chest(ref)
    r1, _ = wrists_in_chest(other)
    ok = _wrist_valid(ref)
    shifts, frames = [], []
    for k in range(2):
        if ok[:, k].sum() == 0:
            continue
        shifts.append(np.linalg.norm(np.median(r1[ok[:, k], k], 0) - np.median(r0[ok[:, k], k], 0)))
        frames.append(np.linalg.norm(r1[ok[:, k], k] - r0[ok[:, k], k], axis=-1))
    if not shifts:
        return {"median_wrist_shift_cm": float("nan"), "frame_wrist_shift_cm": float("nan")}
    return {
        "median_wrist_shift_cm": 100.0 * float(max(shifts)),
        "frame_wrist_shift_cm": 100.0 * float(np.median(np.concatenate(frames))),
    }


def evaluate_file(path: Path, *, min_confidence: float = 0.0, roundtrip: bool = True) -> dict[str, Any]:
    """All figures for one `.pose` file (see the module docstring)."""
    from ..io.pose_file import read_landmarks

    lm = read_landmarks(path, min_confidence=min_confidence)
    seq, seconds = _solved(lm)
    row: dict[str, Any] = {"file": str(path), "frames": lm.n_frames, "seconds": seconds, **_judge(seq, lm)}
    hands_scale = float(seq.meta["ik"]["depth_scales"].get("hands", 0.0))
    if roundtrip and _has_depth(seq.meta["depth"], "body"):
        for name, drop, lift_depth in (
            ("flattened", False, True),
            ("2d", True, True),
            ("flattened_unlifted", False, False),
        ):
            lm2 = flatten_depth(lm, drop=drop)
            seq2, s2 = _solved(lm2, lift_depth=lift_depth)
            row[name] = {
                "seconds": s2,
                **_judge(seq2, lm2),
                **_wrist_shift(seq, seq2),
                # the hands' depth: our hands against the file's real 3-D landmarks
                "hand_error_3d_cm": hand_shape_error_cm(seq2, lm, hands_scale, planar=False),
            }
    return row


def _pooled(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if not rows:
        return {"files": 0}
    raised = sum(r["raised_wrist_frames"] for r in rows)
    front = sum(r["front_of_chest"] for r in rows)

    def med(key: str) -> float:
        vals = [r.get(key, np.nan) for r in rows]
        return float(np.nanmedian(vals)) if np.isfinite(vals).any() else float("nan")

    out = {
        "files": len(rows),
        "front_share": front / raised if raised else float("nan"),
        "raised_wrist_frames": raised,
        "bone_cv": med("bone_cv"),
        "hand_error_cm": med("hand_error_cm"),
        "repaired_frames": med("repaired_frames"),
        "repaired_joints": med("repaired_joints"),
        "frames_per_second": sum(r.get("frames", 0) for r in rows) / max(sum(r["seconds"] for r in rows), 1e-9),
    }
    if "median_wrist_shift_cm" in rows[0]:
        out["hand_error_3d_cm"] = med("hand_error_3d_cm")
        out["median_wrist_shift_cm"] = med("median_wrist_shift_cm")
        out["frame_wrist_shift_cm"] = med("frame_wrist_shift_cm")
        out["wrist_shift_within_5cm"] = float(
            np.mean([r["median_wrist_shift_cm"] <= 5.0 for r in rows if np.isfinite(r["median_wrist_shift_cm"])])
        )
    return out


def evaluate_folder(folder: str | Path, every: int = 1, limit: int = 0, min_confidence: float = 0.0) -> dict[str, Any]:
    """``eval import``: every ``every``-th ``.pose`` file under ``folder`` (at most ``limit``, 0: all),
    each judged by ``evaluate_file``, pooled."""
    from ..errors import UserError

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: eval import takes a folder of .pose files")
    files = sorted(folder.rglob("*.pose"))[:: max(int(every), 1)]
    if limit:
        files = files[:limit]
    if not files:
        raise UserError(f"{folder}: no .pose files in it")
    rows, errors = [], []
    from ..io.errors import FormatError

    for f in files:
        try:
            rows.append(evaluate_file(f, min_confidence=min_confidence))
        except FormatError as e:
            errors.append(str(e))
    kinds: dict[str, int] = {}
    for r in rows:
        key = r["depth"].get("body", "unseen") + "/" + r["depth"].get("hands", "unseen")
        kinds[key] = kinds.get(key, 0) + 1
    for r in rows:  # the per-variant rows carry their frames for the pooled speed
        for name in VARIANTS:
            if name in r:
                r[name]["frames"] = r["frames"]
    summary = {
        "as_read": _pooled(rows),
        **{v: _pooled([r[v] for r in rows if v in r]) for v in VARIANTS},
        "depth_kinds_body_hands": kinds,
    }
    return {"folder": str(folder), "files": len(rows), "unreadable": errors, "summary": summary, "per_file": rows}


def format_text(result: dict[str, Any]) -> str:
    s = result["summary"]
    lines = [
        f"{result['folder']}: {result['files']} files ({len(result['unreadable'])} unreadable)",
        "  depth (body/hands): " + ", ".join(f"{k} {v}" for k, v in sorted(s["depth_kinds_body_hands"].items())),
    ]
    for name in ("as_read",) + VARIANTS:
        p = s[name]
        if not p.get("files"):
            continue
        line = (
            f"  {name:18s} files {p['files']:4d}  front of chest {100 * p['front_share']:5.1f} % of "
            f"{p['raised_wrist_frames']} raised  bone CV {p['bone_cv']:.3f}  hand error {p['hand_error_cm']:.2f} cm"
            f"  repaired frames {100 * p['repaired_frames']:.1f} % joints {100 * p['repaired_joints']:.1f} %"
            f"  {p['frames_per_second']:.0f} frames/s"
        )
        if "median_wrist_shift_cm" in p:
            line += (
                f"\n            against the original: wrist median position {p['median_wrist_shift_cm']:.2f} cm"
                f" ({100 * p['wrist_shift_within_5cm']:.0f} % of files within 5 cm),"
                f" per frame {p['frame_wrist_shift_cm']:.2f} cm;"
                f" hands vs its 3-D landmarks {p['hand_error_3d_cm']:.2f} cm"
            )
        lines.append(line)
    for e in result["unreadable"][:5]:
        lines.append(f"  unreadable: {e}")
    return "\n".join(lines)


def bench(minutes: float | None = None, repeat: int = 3) -> dict[str, Any]:
    """``bench import``: landmark import speed for a long recording (a bundled clip played back
    and forth to ``--minutes``, default 2) with real depth, flat depth lifted, flat depth read as
    it is (the baseline: no check's verdict acted on) and 2-D lifted; frames per second, best of
    ``--repeat``, and the lifted paths' cost as a ratio to that baseline."""
    from ..io.pose_file import read_landmarks

    sample = Path(__file__).resolve().parents[2] / "assets" / "samples" / "cse_letter_H.pose"
    lm = read_landmarks(sample)
    t = max(2, int((minutes if minutes is not None else 2.0) * 60 * lm.fps))
    idx = np.arange(t) % (2 * lm.n_frames)
    idx = np.where(idx < lm.n_frames, idx, 2 * lm.n_frames - 1 - idx)  # back and forth: no jumps
    long = LandmarkSet(
        lm.body[idx],
        lm.body_ok[idx],
        lm.hands[idx],
        lm.hands_ok[idx],
        lm.face[idx],
        lm.face_ok[idx],
        lm.fps,
        lm.width,
        lm.height,
        lm.meta,
    )
    inputs = {
        "real_depth": (long, True),
        "flat_lifted": (flatten_depth(long), True),
        "flat_as_is": (flatten_depth(long), False),
        "2d_lifted": (flatten_depth(long, drop=True), True),
    }
    out: dict[str, Any] = {"frames": t, "fps": lm.fps, "frames_per_second": {}}
    for name, (x, lift_depth) in inputs.items():
        best = min(_solved(x, lift_depth=lift_depth)[1] for _ in range(max(1, repeat)))
        out["frames_per_second"][name] = round(t / best)
    fps = out["frames_per_second"]
    out["times_real_time"] = {k: round(v / lm.fps, 1) for k, v in fps.items()}
    out["lifted_cost_vs_as_is"] = round(fps["flat_as_is"] / fps["flat_lifted"], 2)
    return out

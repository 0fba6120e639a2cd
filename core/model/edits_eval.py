"""``python -m core eval edits DIR [--json]``: known-answer checks of the editing model on real files.

For every readable file in DIR (``.pose`` landmark files, or anything ``core.io`` reads; the loop
over the files is ``core.commands.eval_targets.edits``: this module reads no file):

- **pure retime**: keys on fixed-length "signs" (onset / midpoint / offset of
  ``--sign-frames`` spans, a deterministic stand-in for FAST's keys). The truth S' is the record
  played through a known smooth monotone time-warp: one sign 1.3x slower, a later one 0.8x
  faster, the rest of the region [P, Q] (between two unmoved keys) absorbing the difference,
  speed 1 at P and Q. The keys move to their warped times, rounded to frames; the truth warp
  is then adjusted by a C2 spline of the sub-frame residuals so that it passes through those
  whole frames (a keyframe editor puts keys on frames). S' samples the record by the same
  SLERP as the editor, so the error measures the edit's warp alone. Mean joint position error
  over the region (joints whose record is reliable), cm: the editor's warp and, beside it, the
  old "regenerate from keys" path (eased SLERP between the moved keys).
- **zero edits**: a key set to its own pose; a key moved and moved back (two edits); a
  correction and its undo: every frame bit-identical.
- **locality**: a correction at a key leaves frames outside (previous key, next key)
  bit-identical, shows the correction exactly at the key, and adds no velocity jump at the
  neighbouring keys beyond the record's own frame-to-frame change there.

Real data is validation only (``../shared/realdata/README.md``); tests build synthetic cases with
the same functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SLOWER, FASTER = 1.3, 0.8


# --- the known time-warp ---------------------------------------------------------------------------
def _plateau(t: np.ndarray, s: float, e: float, ramp: float) -> np.ndarray:
    """1 on [s, e], 0 outside [s - ramp, e + ramp], raised-cosine ramps between (C1)."""
    up = np.clip((t - (s - ramp)) / ramp, 0, 1)
    down = np.clip(((e + ramp) - t) / ramp, 0, 1)
    return 0.5 - 0.5 * np.cos(np.pi * np.minimum(up, down))


def truth_warp(
    p: int, q: int, sign_a: tuple[int, int], sign_b: tuple[int, int], keys: np.ndarray, ramp: float = 2.0
) -> tuple[dict[int, int], np.ndarray]:
    """A smooth monotone time-warp of region [p, q] (p, q unmoved keys).

    Sign A (old frames sign_a, inclusive) plays SLOWER times longer, sign B FASTER times as long;
    the rest of the region absorbs the difference, so frames p and q stay and the speed is 1
    there. Returns the key mapping {old key frame: new whole frame} for the keys strictly inside
    (p, q) and ``u`` (q - p + 1,) float64: the old (record) time shown at each new frame p..q,
    passing exactly through the moved keys.
    """
    from scipy.interpolate import CubicSpline

    grid = np.linspace(p, q, (q - p) * 64 + 1)
    ga = _plateau(grid, *sign_a, ramp)
    gb = _plateau(grid, *sign_b, ramp)
    rest = np.sin(np.pi * (grid - p) / (q - p)) ** 2 * np.clip(1 - ga - gb, 0, 1)
    base = 1 + (SLOWER - 1) * ga + (FASTER - 1) * gb  # d(new)/d(old)
    integ = lambda v: np.concatenate([[0.0], np.cumsum((v[1:] + v[:-1]) / 2 * np.diff(grid))])  # noqa: E731
    c = ((q - p) - integ(base)[-1]) / integ(rest)[-1]
    speed = base + c * rest
    if speed.min() <= 0.2:
        raise ValueError("region too short for the warp")
    new_of_old = p + integ(speed)
    inside = keys[(keys > p) & (keys < q)]
    new_keys = np.rint(np.interp(inside, grid, new_of_old)).astype(np.int64)
    if np.any(np.diff(np.concatenate([[p], new_keys, [q]])) <= 0):
        raise ValueError("keys too close for the warp")
    frames = np.arange(p, q + 1, dtype=np.float64)
    old_of_new = lambda f: np.interp(f, new_of_old, grid)  # noqa: E731
    ax = np.concatenate([[p], new_keys, [q]]).astype(np.float64)
    resid = np.concatenate([[0.0], inside - old_of_new(new_keys), [0.0]])
    fix = CubicSpline(ax, resid, bc_type="clamped")
    u = old_of_new(frames) + fix(frames)
    fine = np.linspace(p, q, (q - p) * 16 + 1)
    if np.any(np.diff(old_of_new(fine) + fix(fine)) <= 0):
        raise ValueError("the adjusted warp is not monotone")
    u[0], u[-1] = p, q
    return dict(zip(inside.tolist(), new_keys.tolist())), u


def sign_keys(n_frames: int, sign_frames: int):
    """Segments of ``sign_frames`` frames with transitions of half that between them, keys
    onset / mid / offset (paper 3.1): keys about every ``sign_frames / 2`` frames."""
    from .sequence import Segment, keyframes_from_segments

    step = sign_frames + max(2, sign_frames // 2)
    segs = [Segment(s, min(s + sign_frames - 1, n_frames - 1)) for s in range(0, n_frames, step)]
    segs = [s for s in segs if s.end - s.start >= 2]
    return segs, keyframes_from_segments(segs)


def _reliable(seq, valid: np.ndarray) -> np.ndarray:
    """(n, J) joints whose position depends only on reliable rotations (itself and its ancestors)."""
    out = valid.copy()
    for j, par in enumerate(seq.skeleton.parents):
        if par >= 0:
            out[:, j] &= out[:, par]
    return out


def pure_retime(seq, sign_frames: int = 12, first_sign: int = 1) -> dict[str, Any]:
    """The pure-retime check on one sequence (keys from ``sign_keys``); see the module doc."""
    from ..kinematics.fk import joint_positions
    from ..kinematics.slerp import inbetween_baseline, smoothstep
    from . import edits, layers
    from .sequence import FrameState

    segs, keys = sign_keys(seq.n_frames, sign_frames)
    first_sign = min(first_sign, max(0, len(segs) - 5))
    if len(segs) < first_sign + 5:
        raise ValueError(f"too short ({seq.n_frames} frames) for the retime check")
    seq = seq.replace(keyframes=tuple(keys))
    a, b = segs[first_sign + 1], segs[first_sign + 3]
    p, q = segs[first_sign].end, segs[first_sign + 4].start
    mapping, u = truth_warp(p, q, (a.start, a.end), (b.start, b.end), seq.key_frames)

    t_rot, t_tr, t_valid = layers.sample_record(seq, u)
    change = edits.retime_keys(seq, mapping)
    got = change.sequence
    # the old path: the same keys, the frames between them regenerated by eased SLERP
    regen = edits.set_span_state(got, p + 1, q - 1, FrameState.GENERATED).sequence
    regen = inbetween_baseline(regen, smoothstep, (p, q + 1))
    truth_pos = joint_positions(seq.skeleton, t_rot, t_tr)
    ok = _reliable(seq, t_valid & got.valid[p : q + 1])
    if not ok.any():
        raise ValueError("no reliably recorded joint in the retimed region")

    def err(s) -> float:
        pos = joint_positions(seq.skeleton, s.rotations[p : q + 1], s.translation[p : q + 1])
        d = np.linalg.norm(pos - truth_pos, axis=-1)
        return float(d[ok].mean() * 100.0)

    return {
        "region": [int(p), int(q)],
        "keys_moved": len(mapping),
        "slower_sign": [a.start, a.end],
        "faster_sign": [b.start, b.end],
        "warp_cm": err(got),
        "regenerate_eased_cm": err(regen),
        "frames_changed": int((np.abs(got.rotations - seq.rotations).reshape(seq.n_frames, -1).max(1) > 0).sum()),
        "outside_identical": bool(
            np.array_equal(got.rotations[:p], seq.rotations[:p])
            and np.array_equal(got.rotations[q + 1 :], seq.rotations[q + 1 :])
        ),
    }


def zero_edits(seq, sign_frames: int = 12) -> dict[str, bool]:
    """Edits that must change nothing, bit for bit."""
    from ..kinematics.slerp import inbetween_baseline, smoothstep
    from . import edits

    _, keys = sign_keys(seq.n_frames, sign_frames)
    seq = seq.replace(keyframes=tuple(keys))
    kf = seq.key_frames
    k = int(kf[len(kf) // 2])
    own = edits.set_key_pose(seq, k, seq.rotations[k]).sequence
    moved = edits.move_keys(seq, [k], 2).sequence
    back = edits.move_keys(moved, [k + 2], -2).sequence
    corr = edits.set_joint_rotations(seq, k, [20], np.eye(3, dtype=np.float32)[None])
    undone = corr.undo()
    # GENERATED frames and lost joints are derived data: compare after the same (deterministic)
    # in-betweening of both, as the editor shows them
    ref = inbetween_baseline(seq, smoothstep)

    def same(s) -> bool:
        s = inbetween_baseline(s, smoothstep)
        return bool(np.array_equal(s.rotations, ref.rotations) and np.array_equal(s.translation, ref.translation))

    return {
        "own_pose": same(own),
        "move_and_back": same(back),
        "moved_changed_frames": not same(moved),
        "correction_undo": same(undone) and bool(np.array_equal(undone.offsets, seq.offsets)),
    }


def locality(seq, sign_frames: int = 12, joint: str = "right_wrist", degrees: float = 25.0) -> dict[str, Any]:
    """A correction at a key: what changes, where, and how smoothly."""
    from scipy.spatial.transform import Rotation

    from . import edits

    _, keys = sign_keys(seq.n_frames, sign_frames)
    seq = seq.replace(keyframes=tuple(keys))
    kf = seq.key_frames
    i = len(kf) // 2
    k, prev, nxt = int(kf[i]), int(kf[i - 1]), int(kf[i + 1])
    j = seq.skeleton.names.index(joint)
    target = (
        seq.rotations[k, j].astype(np.float64) @ Rotation.from_euler("x", degrees, degrees=True).as_matrix()
    ).astype(np.float32)
    got = edits.set_joint_rotations(seq, k, [j], target[None]).sequence
    outside = np.ones(seq.n_frames, bool)
    outside[prev + 1 : nxt] = False

    def jump(r: np.ndarray, f: int) -> tuple[float, float]:
        """(velocity change across f, largest frame step there), degrees: angular velocity
        vectors of the frame steps f-1 -> f and f -> f+1."""
        a = Rotation.from_matrix(r[f - 1 : f + 2, j].astype(np.float64))
        w0, w1 = (a[0].inv() * a[1]).as_rotvec(), (a[1].inv() * a[2]).as_rotvec()
        return float(np.degrees(np.linalg.norm(w1 - w0))), float(
            np.degrees(max(np.linalg.norm(w0), np.linalg.norm(w1)))
        )

    jumps = {}
    for f in (prev, nxt):
        if 1 <= f < seq.n_frames - 1:
            rec_jump, rec_step = jump(seq.rotations, f)
            new_jump, _ = jump(got.rotations, f)
            jumps[str(f)] = {
                "edited_jump_deg": new_jump,
                "record_jump_deg": rec_jump,
                "record_step_deg": rec_step,
                "added_jump_deg": abs(new_jump - rec_jump),
            }
    return {
        "key": k,
        "neighbours": [prev, nxt],
        "joint": joint,
        "outside_identical": bool(np.array_equal(got.rotations[outside], seq.rotations[outside])),
        "key_exact": bool(np.array_equal(got.rotations[k, j], target)),
        "velocity_at_neighbours": jumps,
        # the jump the correction adds is within the record's own frame-to-frame change
        "no_velocity_jump": all(v["added_jump_deg"] <= v["record_step_deg"] + 1e-6 for v in jumps.values()),
    }

"""Pure, invertible edits of a ``Sequence``.

Every edit returns a ``Change``: the new sequence, the ``Patch`` that turns it back into the
input (so undo is one more patch), and the dirty frame span it touched (the in-betweener redoes
what in it has no reliable record: ``core.jobs.requests.merge_spans``).

The record is the user's data and is kept (docs/representation.md): retiming warps it, a pose
change at a key becomes a correction offset that blends into it (``core.model.layers``); only
"regenerate" spans, resized tails and joints without a reliable record are GENERATED.
A patch splices frames ``[start, start + n_old)`` with new per-frame arrays (so it can also
change the length) and replaces the keyframe and gloss lists.

Versions share what an edit leaves alone: a new sequence takes the unchanged (read-only) arrays
of the old one as they are, and a patch carries only the channels it changes, so an edit of a
10-minute document copies the channels it touches, not the whole document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import layers
from .rotations import identity, is_rotation
from .sequence import FrameState, Keyframe, KeyKind, Segment, Sequence, SequenceError, freeze
from .spans import enclosing_span

# channels that in-betweening output overwrites (``Sequence.with_generated``) after an edit: an
# inverse patch always restores them, so undo is exact whatever was generated in the meantime
GENERATED_CHANNELS = ("rotations", "translation")


class EditError(ValueError):
    """An edit that cannot apply to this sequence (a key off the end, two keys on a frame...)."""


@dataclass(frozen=True, eq=False)
class Patch:
    """Replace frames ``[start, start + n_old)`` by ``arrays`` (each (n_new, ...)) and set the
    keyframe and gloss lists. A patch that keeps the length may carry only some channels (the
    others stay as they are); one that changes it carries every channel."""

    start: int
    n_old: int
    arrays: Mapping[str, np.ndarray]
    keyframes: tuple[Keyframe, ...]
    glosses: tuple[Segment, ...]
    meta: Mapping[str, Any] | None = None  # the source facts too (None: left as they are)

    @property
    def n_new(self) -> int:
        if not self.arrays:
            return self.n_old
        return int(next(iter(self.arrays.values())).shape[0])


@dataclass(frozen=True, eq=False)
class Change:
    sequence: Sequence
    inverse: Patch
    dirty: tuple[int, int]  # frames [lo, hi) of ``sequence`` to regenerate

    def undo(self) -> Sequence:
        return apply_patch(self.sequence, self.inverse).sequence


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-for-bit equality: ``np.array_equal`` calls -0.0 and +0.0 equal, and an undo that
    skipped such a channel would bring +0.0 back where -0.0 was."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    # byte views of contiguous copies (no copy when already contiguous, as patch slices are)
    ab = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    bb = np.ascontiguousarray(b).reshape(-1).view(np.uint8)
    return bool(np.array_equal(ab, bb))


def apply_patch(seq: Sequence, patch: Patch) -> Change:
    """Apply ``patch``; the returned change's inverse restores ``seq`` exactly."""
    t = seq.n_frames
    a, b = patch.start, patch.start + patch.n_old
    if not (0 <= a <= b <= t):
        raise EditError(f"patch frames {a}..{b} outside 0..{t}")
    old = seq.frame_arrays()
    n_new = patch.n_new
    same_length = n_new == patch.n_old
    if not (set(patch.arrays) <= set(old) if same_length else set(patch.arrays) == set(old)):
        raise EditError("patch channels do not match the sequence")
    new = dict(old)  # channels the patch leaves alone are shared with ``seq``
    for k, p in patch.arrays.items():
        v, p = old[k], np.asarray(p)
        if p.shape != (n_new,) + v.shape[1:]:
            raise EditError(f"patch channel {k} has shape {p.shape}, expected {(n_new,) + v.shape[1:]}")
        if same_length and same_bits(v[a:b], p):
            continue  # rides along unchanged (kept for the inverse): share it
        if same_length:
            arr = v.copy()
            arr[a:b] = p
        else:
            arr = np.concatenate([v[:a], p, v[b:]])
        # ``v`` was validated with ``seq``: only the spliced frames can bring a NaN in
        new[k] = freeze(arr, finite=p.dtype.kind not in "fc" or bool(np.isfinite(p).all()))
    meta = {} if patch.meta is None else {"meta": patch.meta}
    try:
        out = seq.with_frame_arrays(new, keyframes=patch.keyframes, glosses=patch.glosses, **meta)
    except SequenceError as e:
        raise EditError(str(e)) from None
    old_meta = None if patch.meta is None else seq.meta
    inverse = Patch(a, n_new, {k: old[k][a:b].copy() for k in patch.arrays}, seq.keyframes, seq.glosses, old_meta)
    return Change(out, inverse, (a, a + n_new))


def _change(old: Sequence, new: Sequence, lo: int, hi: int, dirty: tuple[int, int] | None = None) -> Change:
    """Change from ``old`` to same-length ``new`` differing only in frames [lo, hi).

    The inverse carries the channels the edit replaced, plus those in-betweening rewrites."""
    lo, hi = max(0, lo), min(old.n_frames, hi)
    after = new.frame_arrays()
    inverse = Patch(
        lo,
        hi - lo,
        {k: v[lo:hi].copy() for k, v in old.frame_arrays().items() if after[k] is not v or k in GENERATED_CHANNELS},
        old.keyframes,
        old.glosses,
    )
    return Change(new, inverse, dirty if dirty is not None else (lo, hi))


def _generate_between(states: np.ndarray, lo: int, hi: int) -> np.ndarray:
    s = states.copy()
    s[lo:hi] = FrameState.GENERATED
    return freeze(s)


def _recompose(
    seq: Sequence,
    lo: int,
    hi: int,
    joints: Seq[int] | None = None,
    rotations: np.ndarray | None = None,
    translation: np.ndarray | None = None,
    losses_follow: bool = False,
) -> Sequence:
    """``seq`` with frames [lo, hi) rebuilt from its layers (``layers.compose_span``).

    rotations / translation: writable full-length arrays already holding the edit's other
    changes (keys' poses), updated in place; copies of ``seq``'s when None. A record-derived
    frame that now shows a moment with nothing recorded (no valid joint) is GENERATED.
    losses_follow (a retime): GENERATED frames in the span that had nothing recorded (tracking
    losses, not "regenerate" spans) are re-sampled too, so the losses travel with the record.
    """
    base = seq.base_states
    if losses_follow:
        sl = slice(lo, hi)
        lost = (base[sl] == FrameState.GENERATED) & ~seq.valid[sl].any(axis=1)
        if lost.any():
            base = base.copy()
            base[sl][lost] = FrameState.SOURCE
            seq = seq.replace(base_states=freeze(base))
    out = (
        seq.rotations.copy() if rotations is None else rotations,
        seq.translation.copy() if translation is None else translation,
        seq.valid.copy(),
    )
    rot, tr, valid = layers.compose_span(seq, lo, hi, joints, out=out)
    # every value comes from validated arrays or checked rotations: no NaN scan of 28 MB
    changes: dict = {"rotations": freeze(rot, finite=True), "translation": freeze(tr, finite=True)}
    if not np.array_equal(valid[lo:hi], seq.valid[lo:hi]):
        changes["valid"] = freeze(valid)
    nothing = (base[lo:hi] == FrameState.SOURCE) & ~valid[lo:hi].any(axis=1)
    kf = seq.key_frames
    nothing[kf[(kf >= lo) & (kf < hi)] - lo] = False
    if nothing.any():
        base = base.copy()
        base[lo:hi][nothing] = FrameState.GENERATED
        changes["base_states"] = freeze(base)
    return seq.replace(**changes)


def _key_frames_of(seq: Sequence, frames: Iterable[int]) -> np.ndarray:
    frames = np.unique(np.asarray(list(frames), dtype=np.int64))
    have = set(seq.key_frames.tolist())
    missing = [int(f) for f in frames if int(f) not in have]
    if missing:
        raise EditError(f"no keyframe at frame(s) {missing}")
    if frames.size == 0:
        raise EditError("no keyframes given")
    return frames


def key_room(key_frames: np.ndarray, frames: Iterable[int], n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """The rule that keys never pass a key that stays: for each of the moving keys ``frames``
    (n,), the lowest and highest frame (n,) it may move to -- just after the last staying key
    before it and just before the first one after it, or the sequence's ends."""
    frames = np.asarray(list(frames), dtype=np.int64)
    keys = np.asarray(key_frames, dtype=np.int64)
    fixed = keys[~np.isin(keys, frames)]
    ends = np.concatenate([[-1], fixed, [n_frames]])  # the staying keys, with the ends as keys
    i = np.searchsorted(fixed, frames)  # staying keys before each moving one
    return ends[i] + 1, ends[i + 1] - 1


def shift_limits(key_frames: np.ndarray, frames: Iterable[int], n_frames: int) -> tuple[int, int]:
    """The range of deltas (lo, hi) that moves ``frames`` together without passing a key that
    stays or leaving the sequence (``key_room``): what a drag of those keys is clamped to."""
    frames = np.asarray(list(frames), dtype=np.int64)
    lower, upper = key_room(key_frames, frames, n_frames)
    return int((lower - frames).max()), int((upper - frames).min())


def retime_keys(seq: Sequence, mapping: Mapping[int, int]) -> Change:
    """Move keys in time: ``mapping`` old frame -> new frame. Poses (and corrections) travel
    with their keys.

    The record between the moved keys' unmoved neighbours is re-timed: every frame there shows
    the record at the time given by a monotone C1 time-warp through the keys' (new frame, record
    time) anchors (``layers.warp_times``), ending with the record's own speed at the unmoved
    neighbours. Frames stay record-derived (WARPED); B/I/O labels and glosses are warped
    piecewise-linearly with the keys.
    """
    t = seq.n_frames
    src = _key_frames_of(seq, mapping.keys())
    dst = np.array([mapping[int(f)] for f in src], dtype=np.int64)
    if dst.min() < 0 or dst.max() >= t:
        raise EditError(f"a key would leave the sequence (frames 0..{t - 1})")
    if len(set(dst.tolist())) != len(dst):
        raise EditError("two keys would land on one frame")
    moved = set(src.tolist())
    fixed = np.array([f for f in seq.key_frames.tolist() if f not in moved], dtype=np.int64)
    if np.isin(dst, fixed).any():
        raise EditError("a key would land on another key")
    # keys must keep their order relative to fixed keys (a key cannot jump over a fixed one)
    lower, upper = key_room(seq.key_frames, src, t)
    bad = np.flatnonzero((dst < lower) | (dst > upper))
    if bad.size:
        raise EditError(f"key {int(src[bad[0]])} cannot pass another key on its way to {int(dst[bad[0]])}")
    if np.any(np.diff(dst) <= 0):
        raise EditError("moved keys cannot pass each other")
    if np.array_equal(src, dst):
        return _change(seq, seq, 0, 0)
    # the warp, one interval between consecutive unmoved keys (or the sequence's ends) at a
    # time: anchors (new frame -> record time) at the interval's ends and its moved keys; at an
    # unmoved key the warp keeps the record's speed there, so the joins are C1 and the frames
    # beyond it are untouched
    rt = lambda f: float(f) + float(seq.warp[f])  # noqa: E731
    bounds = np.array(sorted(set(fixed.tolist()) | {0, t - 1}), dtype=np.int64)
    lo_f = np.minimum(src, dst)
    which = np.clip(np.searchsorted(bounds, lo_f, side="right") - 1, 0, max(0, bounds.size - 2))
    edited = sorted(set(which.tolist()))
    fixed_set = set(fixed.tolist())

    def slope_at(a: int) -> float | None:
        if a <= 0 or a >= t - 1 or a not in fixed_set:
            return None  # a sequence end: the end secant
        i = int(np.searchsorted(bounds, a))
        left, right = (i - 1) in edited, i in edited
        if not left:
            return rt(a) - rt(a - 1)
        if not right:
            return rt(a + 1) - rt(a)
        return (rt(a + 1) - rt(a - 1)) / 2

    warp = seq.warp.copy()
    lo, hi = t, 0
    for i in edited:
        a, b = int(bounds[i]), int(bounds[min(i + 1, bounds.size - 1)])
        sel = which == i
        xs = [float(d) for d in dst[sel]]
        ys = [rt(f) for f in src[sel]]
        for end in (a, b):
            if float(end) not in xs:
                xs.append(float(end))
                ys.append(rt(end))
        order = np.argsort(xs)
        x, y = np.asarray(xs)[order], np.asarray(ys)[order]
        if x.size < 2 or np.any(np.diff(y) < 0):
            raise EditError("keys cannot change their order in the recording")
        frames = np.arange(a, b + 1)
        warp[a : b + 1] = (
            layers.warp_times(x, y, frames, slope_at(a) if x[0] == a else None, slope_at(b) if x[-1] == b else None)
            - frames
        )
        lo, hi = min(lo, a), max(hi, b + 1)
    frames = np.arange(lo, hi)

    # poses only move between frames of a validated sequence: the copies stay finite
    rot = seq.rotations.copy()
    tr = seq.translation.copy()
    rot[dst] = seq.rotations[src]
    tr[dst] = seq.translation[src]
    off = seq.offsets
    if off[src].any():  # corrections travel with their keys
        off = seq.offsets.copy()
        off[src] = 0.0
        off[dst] = seq.offsets[src]
        freeze(off, finite=True)
    kinds = {k.frame: k.kind for k in seq.keyframes}
    keys = [k for k in seq.keyframes if k.frame not in moved] + [
        Keyframe(int(d), kinds[int(s)]) for s, d in zip(src, dst)
    ]

    # piecewise-linear warp new-frame -> old-frame through the anchors, to carry labels/glosses
    still = bounds[(bounds >= lo) & (bounds <= hi - 1)]
    still = still[~np.isin(still, dst)]  # a key moved onto a sequence end anchors it itself
    anchors_new = np.concatenate([still, dst]).astype(float)
    anchors_old = np.concatenate([still, src]).astype(float)
    order = np.argsort(anchors_new, kind="stable")
    an, ao = anchors_new[order], anchors_old[order]
    labels = seq.labels.copy()
    labels[lo:hi] = seq.labels[np.clip(np.rint(np.interp(frames, an, ao)), 0, t - 1).astype(int)]
    freeze(labels)
    fwd = lambda f: int(np.clip(np.rint(np.interp(f, ao[np.argsort(ao)], an[np.argsort(ao)])), 0, t - 1))  # noqa: E731
    glosses = tuple(
        Segment(fwd(g.start), max(fwd(g.start), fwd(g.end)), g.gloss, g.hand)
        if lo <= g.start < hi or lo <= g.end < hi
        else g
        for g in seq.glosses
    )
    layered = seq.replace(
        keyframes=tuple(keys), labels=labels, glosses=glosses, warp=freeze(warp, finite=True), offsets=off
    )
    new = _recompose(layered, lo, hi, rotations=rot, translation=tr, losses_follow=True)
    return _change(seq, new, lo, hi)


def move_keys(seq: Sequence, frames: Iterable[int], delta: int) -> Change:
    """Shift the given keys by ``delta`` frames (one sign's three keys, a selection...)."""
    return retime_keys(seq, {int(f): int(f) + int(delta) for f in frames})


def scale_keys(seq: Sequence, frames: Iterable[int], pivot: float, factor: float) -> Change:
    """Scale the given keys' times around ``pivot`` (retime a sign or phrase), rounding to frames."""
    frames = [int(f) for f in frames]
    return retime_keys(seq, {f: int(np.rint(pivot + (f - pivot) * factor)) for f in frames})


def _corrected_span(seq: Sequence, frame: int) -> tuple[int, int]:
    """[lo, hi): the frames a correction at the key on ``frame`` reaches (its neighbouring keys,
    exclusive, or the sequence's ends)."""
    kf = seq.key_frames
    before, after = kf[kf < frame], kf[kf > frame]
    return (int(before[-1]) + 1 if before.size else 0), (int(after[0]) if after.size else seq.n_frames)


def set_joint_rotations(seq: Sequence, frame: int, joints: Seq[int], rotations: np.ndarray) -> Change:
    """Set local rotations (n, 3, 3) of ``joints`` at the key on ``frame``.

    The key shows exactly the given rotations; the difference from the record there is stored as
    a per-joint offset at that key (the correction layer), which blends into the recorded motion
    up to the neighbouring keys. A joint set to the pose it already has changes nothing.
    """
    _key_frames_of(seq, [frame])
    joints = np.asarray(joints, dtype=np.int64).reshape(-1)
    rotations = np.asarray(rotations, dtype=np.float32).reshape(-1, 3, 3)
    if joints.size != rotations.shape[0]:
        raise EditError(f"{joints.size} joints but {rotations.shape[0]} rotations")
    if joints.size and (joints.min() < 0 or joints.max() >= seq.n_joints):
        raise EditError("joint index out of range")
    if not is_rotation(rotations).all():
        raise EditError("not a rotation matrix (NaN, scaled or reflected)")
    # later entries win for a joint given twice; unchanged joints are no edit (bit-identical)
    last = {int(j): i for i, j in enumerate(joints.tolist())}
    joints = np.array(sorted(last), dtype=np.int64)
    rotations = rotations[[last[int(j)] for j in joints]]
    changed = np.any((seq.rotations[frame, joints] != rotations).reshape(joints.size, -1), axis=1)
    joints, rotations = joints[changed], rotations[changed]
    if joints.size == 0:
        return _change(seq, seq, 0, 0)
    rot = seq.rotations.copy()
    rot[frame, joints] = rotations
    rec, _, rec_valid = layers.sample_record(seq, np.array([frame + seq.warp[frame]]))
    off = seq.offsets.copy()
    o = layers.correction_offset(rec[0, joints], rotations)
    o[~rec_valid[0, joints]] = 0.0  # no record to correct: the key is a plain pin there
    off[frame, joints] = o
    lo, hi = _corrected_span(seq, frame)
    new = _recompose(seq.replace(offsets=freeze(off, finite=True)), lo, hi, joints, rotations=rot)
    return _change(seq, new, lo, hi)


def set_key_pose(seq: Sequence, frame: int, rotations: np.ndarray) -> Change:
    """Set the whole pose (J, 3, 3) at a key (paste)."""
    return set_joint_rotations(seq, frame, np.arange(seq.n_joints), rotations)


def reset_joints(seq: Sequence, frame: int, joints: Seq[int]) -> Change:
    """Put ``joints`` back to the rest pose (identity) at the key on ``frame``."""
    return set_joint_rotations(seq, frame, joints, identity((len(joints),)))


def insert_key(seq: Sequence, frame: int, kind: KeyKind = KeyKind.USER, pose: np.ndarray | None = None) -> Change:
    """Pin ``frame`` as a key, with its current pose or ``pose`` (J, 3, 3).

    Pinning the pose a frame already shows keeps the motion: the new key takes the blended
    correction it already showed, so only frames next to corrected keys move (slightly, as the
    blend now runs through the new key). A given pose is then a correction at the new key.
    """
    if not 0 <= frame < seq.n_frames:
        raise EditError(f"frame {frame} outside 0..{seq.n_frames - 1}")
    if seq.key_at(frame) is not None:
        raise EditError(f"frame {frame} already has a key")
    keys = seq.keyframes + (Keyframe(int(frame), KeyKind(kind)),)
    kf = seq.key_frames
    here = layers.offset_field(kf, seq.offsets[kf], np.array([frame]))[0].astype(np.float32)
    if not here.any():
        new = seq.replace(keyframes=keys)
        change = _change(seq, new, frame, frame + 1)
    else:
        off = seq.offsets.copy()
        off[frame] = here
        pinned = seq.replace(keyframes=keys, offsets=freeze(off, finite=True))
        lo, hi = _corrected_span(pinned, frame)
        changed = np.flatnonzero(np.any(seq.offsets[kf] != 0, axis=(0, 2)) | np.any(here != 0, axis=-1))
        change = _change(seq, _recompose(pinned, lo, hi, changed), lo, hi)
    if pose is None:
        return change
    posed = set_joint_rotations(change.sequence, frame, np.arange(seq.n_joints), pose)
    lo, hi = change.dirty
    return _change(seq, posed.sequence, min(lo, posed.dirty[0]), max(hi, posed.dirty[1]))


def delete_keys(seq: Sequence, frames: Iterable[int]) -> Change:
    """Remove keys (and the corrections they carried): the frames between their remaining
    neighbours show the record again (re-timed, with the remaining keys' corrections)."""
    frames = _key_frames_of(seq, frames)
    gone = set(frames.tolist())
    keep = tuple(k for k in seq.keyframes if k.frame not in gone)
    remaining = np.array([k.frame for k in keep], dtype=np.int64)
    lo, hi = enclosing_span(remaining, int(frames.min()), int(frames.max()) + 1, seq.n_frames)
    changes: dict = {"keyframes": keep}
    if seq.offsets[frames].any():
        off = seq.offsets.copy()
        off[frames] = 0.0
        changes["offsets"] = freeze(off, finite=True)
    new = _recompose(seq.replace(**changes), lo, hi)
    return _change(seq, new, lo, hi)


def set_key_kind(seq: Sequence, frame: int, kind: KeyKind) -> Change:
    _key_frames_of(seq, [frame])
    keys = tuple(Keyframe(k.frame, KeyKind(kind)) if k.frame == frame else k for k in seq.keyframes)
    return _change(seq, seq.replace(keyframes=keys), frame, frame + 1, dirty=(frame, frame))


def set_span_state(seq: Sequence, start: int, end: int, state: FrameState) -> Change:
    """Frames ``start..end`` (inclusive) become GENERATED ("regenerate from keys": the
    in-betweener fills them) or SOURCE ("keep recording": the record comes back there, re-timed
    and corrected by the layers). Keys inside keep their poses."""
    if state not in (FrameState.SOURCE, FrameState.GENERATED):
        raise EditError("a span can be set to SOURCE or GENERATED only")
    t = seq.n_frames
    lo, hi = max(0, int(start)), min(t, int(end) + 1)
    if lo >= hi:
        raise EditError(f"empty span {start}..{end}")
    base = seq.base_states.copy()
    base[lo:hi] = state
    new = seq.replace(base_states=freeze(base))
    if state == FrameState.SOURCE:
        new = _recompose(new, lo, hi)
    # the frames around the span depend on it through the in-betweener
    keys = seq.key_frames
    dlo, dhi = enclosing_span(keys[(keys < lo) | (keys >= hi)], lo, hi, t)
    return _change(seq, new, lo, hi, dirty=(dlo, dhi))


def resize(seq: Sequence, n_frames: int) -> Change:
    """Change the length: cut the tail, or extend it with GENERATED frames holding the last pose."""
    t = seq.n_frames
    if n_frames < 1:
        raise EditError("a sequence needs at least one frame")
    if n_frames == t:
        return _change(seq, seq, t, t)
    arrays = seq.frame_arrays()
    if n_frames < t:
        tail = {k: v[n_frames:n_frames] for k, v in arrays.items()}
        patch = Patch(
            n_frames,
            t - n_frames,
            tail,
            tuple(k for k in seq.keyframes if k.frame < n_frames),
            tuple(
                Segment(g.start, min(g.end, n_frames - 1), g.gloss, g.hand) for g in seq.glosses if g.start < n_frames
            ),
        )
    else:
        extra = n_frames - t
        tail = {k: np.repeat(v[-1:], extra, axis=0) for k, v in arrays.items()}
        tail["base_states"] = np.full(extra, FrameState.GENERATED, np.uint8)
        tail["labels"] = np.zeros(extra, np.uint8)
        tail["warp"] = np.zeros(extra, np.float64)  # the tail's record: the last frame, held
        tail["offsets"] = np.zeros_like(tail["offsets"])
        patch = Patch(t, 0, tail, seq.keyframes, seq.glosses)
    change = apply_patch(seq, patch)
    keys = change.sequence.key_frames
    lo = int(keys[keys < min(t, n_frames)][-1]) if (keys < min(t, n_frames)).any() else 0
    return Change(change.sequence, change.inverse, (lo, n_frames))


def _whole(old: Sequence, new: Sequence, dirty: tuple[int, int]) -> Change:
    """Change to ``new`` of another length, undone by restoring every channel of ``old``."""
    inverse = Patch(0, new.n_frames, {k: v.copy() for k, v in old.frame_arrays().items()}, old.keyframes, old.glosses)
    return Change(new, inverse, dirty)


def insert_frames(seq: Sequence, at: int, n: int) -> Change:
    """Insert ``n`` frames before frame ``at``: new material with no record (GENERATED, holding
    the pose before it until the in-betweener fills it from the frames around). Keys, glosses and
    the record after ``at`` move later by ``n``."""
    t = seq.n_frames
    at, n = int(at), int(n)
    if not 0 <= at <= t:
        raise EditError(f"insert position {at} outside 0..{t}")
    if n < 1:
        raise EditError("insert at least one frame")
    old_of_new = np.concatenate([np.arange(at), np.full(n, -1), np.arange(at, t)])
    hold = max(at - 1, 0)
    arrays = {}
    for k, v in seq.frame_arrays().items():
        a = v[np.where(old_of_new >= 0, old_of_new, hold)].copy()
        arrays[k] = a
    new_rows = slice(at, at + n)
    arrays["base_states"][new_rows] = FrameState.GENERATED
    arrays["valid"][new_rows] = False
    arrays["source_valid"][new_rows] = False
    arrays["offsets"][new_rows] = 0.0
    inside = 0 < at < t and seq.labels[at - 1] != 0 and seq.labels[at] != 0
    arrays["labels"][new_rows] = 1 if inside else 0
    # the record is spliced like the frames: record times at or after ``at`` move by n too
    kept = np.flatnonzero(old_of_new >= 0)
    rt = old_of_new[kept] + seq.warp[old_of_new[kept]]
    warp = np.zeros(t + n)
    warp[kept] = np.where(rt >= at, rt + n, rt) - kept
    arrays["warp"] = warp
    keys = tuple(Keyframe(k.frame + n if k.frame >= at else k.frame, k.kind) for k in seq.keyframes)
    glosses = tuple(
        Segment(g.start + n if g.start >= at else g.start, g.end + n if g.end >= at else g.end, g.gloss, g.hand)
        for g in seq.glosses
    )
    new = seq.with_frame_arrays(arrays, keyframes=keys, glosses=glosses)
    kf = new.key_frames
    lo = int(kf[kf < at][-1]) if (kf < at).any() else 0
    hi = int(kf[kf >= at + n][0]) + 1 if (kf >= at + n).any() else t + n
    return _whole(seq, new, (lo, hi))


def delete_frames(seq: Sequence, start: int, end: int, bridge: int = 2) -> Change:
    """Delete frames ``start..end`` (inclusive) with their keys and record. The cut is bridged by
    the in-betweener: ``bridge`` frames on each side of it become GENERATED (keys excepted)."""
    t = seq.n_frames
    lo, hi = max(0, int(start)), min(t, int(end) + 1)
    if lo >= hi:
        raise EditError(f"empty range {start}..{end}")
    if hi - lo >= t:
        raise EditError("a sequence needs at least one frame")
    keep = np.concatenate([np.arange(lo), np.arange(hi, t)])
    n = hi - lo
    arrays = {k: v[keep].copy() for k, v in seq.frame_arrays().items()}
    # the record is cut like the frames; record moments that were cut show the first one after
    rt = keep + seq.warp[keep]
    arrays["warp"] = np.where(rt >= hi, rt - n, np.minimum(rt, lo)) - np.arange(keep.size)
    keys = tuple(
        Keyframe(k.frame - n if k.frame >= hi else k.frame, k.kind) for k in seq.keyframes if not lo <= k.frame < hi
    )
    glosses = []
    for g in seq.glosses:
        s_, e_ = g.start, g.end
        if lo <= s_ and e_ < hi:
            continue
        s_ = s_ - n if s_ >= hi else min(s_, lo) if s_ >= lo else s_
        e_ = e_ - n if e_ >= hi else (lo - 1 if e_ >= lo else e_)
        if e_ >= s_:
            glosses.append(Segment(s_, e_, g.gloss, g.hand))
    is_key = np.zeros(t - n, bool)
    is_key[[k.frame for k in keys]] = True
    bridged = np.arange(max(0, lo - bridge), min(t - n, lo + bridge))
    arrays["base_states"][bridged[~is_key[bridged]]] = FrameState.GENERATED
    new = seq.with_frame_arrays(arrays, keyframes=keys, glosses=tuple(glosses))
    return _whole(seq, new, enclosing_span(new.key_frames, lo, lo, t - n))


def replace_segmentation(seq: Sequence, lo: int, hi: int, labels: np.ndarray, keys: Iterable[Keyframe]) -> Change:
    """Frames [lo, hi) take new B/I/O labels and keys (accepting FAST proposals for a range).

    Keys outside the range stay; new keys pin the poses the frames show. Built on
    ``apply_patch`` so the inverse is exact.
    """
    t = seq.n_frames
    lo, hi = max(0, int(lo)), min(t, int(hi))
    if hi <= lo:
        raise EditError(f"empty range {lo}..{hi}")
    labels = np.asarray(labels, np.uint8)
    if labels.shape != (hi - lo,):
        raise EditError(f"{labels.shape[0]} labels for {hi - lo} frames")
    new_keys = tuple(k for k in seq.keyframes if not lo <= k.frame < hi) + tuple(
        Keyframe(int(k.frame), KeyKind(k.kind)) for k in keys if lo <= k.frame < hi
    )
    # only the labels change (the other channels stay shared with ``seq``); rotations and
    # translation ride along so that undo restores them over later generated frames
    arrays = {k: v[lo:hi].copy() for k, v in seq.frame_arrays().items() if k in GENERATED_CHANNELS}
    arrays["labels"] = labels
    change = apply_patch(seq, Patch(lo, hi - lo, arrays, new_keys, seq.glosses))
    return Change(change.sequence, change.inverse, (lo, hi))

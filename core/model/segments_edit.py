"""Pure, invertible edits of sign segments and glosses, as a linguist makes them.

Lanes: the sign lane (``hand=""``: the signs of both hands, from the B/I/O labels, glossed by the
``hand=""`` gloss annotations) and one lane per hand (``"right"`` / ``"left"``: gloss annotations
with that hand, present when the annotations give the hands separately). Every edit returns a
``core.model.edits.Change`` (one undo step); segment edits leave the keys alone unless asked
(``move_boundary(..., move_key=True)``, ``import_annotations(..., keys=True)``), so the motion
does not change when a boundary does.

A sign-lane edit rewrites the labels of the frames it touches (B at each start, I through the
end) and the lane's glosses together, so labels and glosses always describe the same signs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .edits import GENERATED_CHANNELS, Change, EditError, Patch, _change, apply_patch, move_keys
from .sequence import (
    Keyframe,
    KeyKind,
    Label,
    Segment,
    Sequence,
    glossed_segments,
    keyframes_from_segments,
    labels_from_segments,
    segment_order,
)

HANDS = ("", "right", "left")


def _check_hand(hand: str) -> str:
    if hand not in HANDS:
        raise EditError(f"unknown lane {hand!r} (expected one of {HANDS})")
    return hand


def label_segments(labels: np.ndarray) -> list[Segment]:
    """``core.model.sequence.segments_from_labels`` with numpy (the same segments, ~50x faster on
    a 10-minute document: the lanes re-read them on every edit). (T,) uint8 labels."""
    lab = np.asarray(labels)
    if lab.size == 0:
        return []
    on = lab != Label.O
    prev = np.concatenate([[Label.O], lab[:-1]])
    # a sign starts after an O, or at a B that follows an I (back-to-back Bs are one onset)
    starts = np.flatnonzero(on & ((prev == Label.O) | ((lab == Label.B) & (prev == Label.I))))
    nxt = np.concatenate([lab[1:], [Label.O]])
    run_ends = np.flatnonzero(on & (nxt == Label.O))
    ends = run_ends[np.searchsorted(run_ends, starts)]
    ends[:-1] = np.minimum(ends[:-1], starts[1:] - 1)
    return [Segment(int(a), int(b)) for a, b in zip(starts.tolist(), ends.tolist())]


def sign_segments(seq: Sequence) -> list[Segment]:
    """The sign lane: segments from the labels, each with the gloss of the sign-lane annotation
    overlapping it most (``core.model.sequence.glossed_segments``, faster)."""
    segs = label_segments(seq.labels)
    both = [g for g in seq.glosses if not g.hand]
    if not segs:
        return both
    if not both:
        return segs
    exact = {(g.start, g.end): g.gloss for g in both}
    if all((s.start, s.end) in exact for s in segs):  # the usual case: lane and labels agree
        return [Segment(s.start, s.end, exact[(s.start, s.end)]) for s in segs]
    return glossed_segments(seq)


def lane_segments(seq: Sequence, hand: str = "") -> list[Segment]:
    """The segments of a lane, sorted (the sign lane's from the labels, with their glosses)."""
    if _check_hand(hand) == "":
        return sign_segments(seq)
    return sorted((g for g in seq.glosses if g.hand == hand), key=segment_order)


def hands_differ(seq: Sequence) -> bool:
    """True when the glosses give the hands separately (the timeline then shows a lane per hand)."""
    return any(g.hand for g in seq.glosses)


def segment_at(seq: Sequence, frame: int, hand: str = "") -> Segment | None:
    for s in lane_segments(seq, hand):
        if s.start <= frame <= s.end:
            return s
    return None


def _find(segs: list[Segment], start: int) -> int:
    for i, s in enumerate(segs):
        if s.start == start:
            return i
    raise EditError(f"no segment starts at frame {start}")


def set_lane(seq: Sequence, hand: str, segments: Iterable[Segment], keys: tuple[Keyframe, ...] | None = None) -> Change:
    """Replace a lane's segments (and, given, the keyframes). The primitive the other edits use.

    segments: non-overlapping, inside the sequence. Sign lane: the labels of the frames whose
    label changes are rewritten, its glosses become the segments that carry one."""
    t = seq.n_frames
    segs = sorted((Segment(int(s.start), int(s.end), s.gloss, _check_hand(hand)) for s in segments), key=segment_order)
    for s in segs:
        if s.start < 0 or s.end >= t:
            raise EditError(f"segment {s.start}..{s.end} outside 0..{t - 1}")
    for a, b in zip(segs, segs[1:]):
        if b.start <= a.end:
            raise EditError(f"segments {a.start}..{a.end} and {b.start}..{b.end} overlap")
    others = tuple(g for g in seq.glosses if g.hand != hand)
    arrays: dict[str, np.ndarray] = {}
    lo = hi = 0
    if hand == "":
        lane = tuple(s for s in segs if s.gloss)
        labels = labels_from_segments(segs, t)
        diff = np.flatnonzero(labels != seq.labels)
        if diff.size:
            lo, hi = int(diff[0]), int(diff[-1]) + 1
    else:
        lane = tuple(segs)
    new_keys = seq.keyframes if keys is None else tuple(keys)
    if new_keys != seq.keyframes:
        changed = {k.frame for k in new_keys} ^ {k.frame for k in seq.keyframes}
        if changed:
            lo = min([lo] + list(changed)) if hi > lo else min(changed)
            hi = max([hi] + [f + 1 for f in changed])
    if hi > lo:
        if hand == "":
            arrays["labels"] = labels[lo:hi]
        if new_keys != seq.keyframes:
            # keys decide what is generated: undo must restore those frames as they were
            arrays.update({k: v[lo:hi].copy() for k, v in seq.frame_arrays().items() if k in GENERATED_CHANNELS})
    change = apply_patch(seq, Patch(lo, hi - lo, arrays, new_keys, others + lane))
    dirty = (lo, hi) if new_keys != seq.keyframes else (lo, lo)
    return Change(change.sequence, change.inverse, dirty)


def rename(seq: Sequence, hand: str, start: int, gloss: str | None) -> Change:
    """Set the gloss of the segment starting at ``start`` (empty text clears it)."""
    segs = lane_segments(seq, hand)
    i = _find(segs, start)
    text = (gloss or "").strip() or None
    if text is not None and ("\n" in text or len(text) > 1000):
        raise EditError("a gloss is one line of at most 1000 characters")
    segs[i] = Segment(segs[i].start, segs[i].end, text, hand)
    return set_lane(seq, hand, segs)


def split(seq: Sequence, hand: str, frame: int) -> Change:
    """Split the segment holding ``frame`` into ``start..frame-1`` and ``frame..end``: the first
    keeps the gloss, the second starts unglossed (as ELAN splits)."""
    segs = lane_segments(seq, hand)
    for i, s in enumerate(segs):
        if s.start <= frame <= s.end:
            if frame == s.start:
                raise EditError(f"frame {frame} is the first of its segment: nothing to split off")
            segs[i : i + 1] = [Segment(s.start, frame - 1, s.gloss, hand), Segment(frame, s.end, None, hand)]
            return set_lane(seq, hand, segs)
    raise EditError(f"no segment at frame {frame}")


def merge(seq: Sequence, hand: str, start: int) -> Change:
    """Merge the segment starting at ``start`` with the next one of its lane (the gap between
    them joins the sign); glosses join with a space when both have one."""
    segs = lane_segments(seq, hand)
    i = _find(segs, start)
    if i + 1 >= len(segs):
        raise EditError(f"the segment at frame {start} is the last one: nothing to merge with")
    a, b = segs[i], segs[i + 1]
    gloss = " ".join(g for g in (a.gloss, b.gloss) if g) or None
    segs[i : i + 2] = [Segment(a.start, b.end, gloss, hand)]
    return set_lane(seq, hand, segs)


def boundary_limits(seq: Sequence, hand: str, start: int, side: str) -> tuple[int, int]:
    """The frames a boundary may move to: a segment keeps at least one frame and never overlaps
    its neighbours."""
    segs = lane_segments(seq, hand)
    i = _find(segs, start)
    s = segs[i]
    if side == "start":
        return (segs[i - 1].end + 1 if i > 0 else 0), s.end
    if side == "end":
        return s.start, (segs[i + 1].start - 1 if i + 1 < len(segs) else seq.n_frames - 1)
    raise EditError(f"side must be 'start' or 'end', got {side!r}")


def move_boundary(seq: Sequence, hand: str, start: int, side: str, frame: int, move_key: bool = False) -> Change:
    """Move the start or end of the segment starting at ``start`` to ``frame`` (clamped to
    ``boundary_limits``). The keys stay where they are unless ``move_key``: then the key on the
    old boundary (its onset / offset key) moves with it, retiming the motion around it."""
    lo_f, hi_f = boundary_limits(seq, hand, start, side)
    frame = int(np.clip(frame, lo_f, hi_f))
    segs = lane_segments(seq, hand)
    i = _find(segs, start)
    s = segs[i]
    old = s.start if side == "start" else s.end
    segs[i] = Segment(frame, s.end, s.gloss, hand) if side == "start" else Segment(s.start, frame, s.gloss, hand)
    if frame == old:
        return set_lane(seq, hand, segs)
    if not move_key or seq.key_at(old) is None:
        return set_lane(seq, hand, segs)
    # retime first (the record and the signs around the key move with it), then set the boundary
    retimed = move_keys(seq, [old], frame - old)
    moved = lane_segments(retimed.sequence, hand)
    if len(moved) == len(segs):
        m = moved[i]
        moved[i] = Segment(frame, m.end, m.gloss, hand) if side == "start" else Segment(m.start, frame, m.gloss, hand)
        if all(a.end < b.start for a, b in zip(moved, moved[1:])) and moved[i].end >= moved[i].start:
            segs = moved
    lane = set_lane(retimed.sequence, hand, segs)
    lo, hi = retimed.dirty
    if lane.dirty[1] > lane.dirty[0]:
        lo, hi = min(lo, lane.dirty[0]), max(hi, lane.dirty[1])
    lo, hi = min(lo, old, frame), max(hi, old + 1, frame + 1)
    return _change(seq, lane.sequence, lo, hi, dirty=retimed.dirty)


# --- bringing annotations onto a motion ---------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    """What an import did: segments per lane, annotations clipped to the motion or dropped
    (outside it, or shorter than a frame and overlapping the previous one at this frame rate)."""

    counts: Mapping[str, int] = field(default_factory=dict)
    clipped: int = 0
    dropped: int = 0
    keys: int = 0

    def summary(self) -> str:
        lanes = ", ".join(f"{n} {'sign' if h == '' else h + ' hand'}" for h, n in self.counts.items())
        extra = []
        if self.clipped:
            extra.append(f"{self.clipped} clipped to the motion")
        if self.dropped:
            extra.append(f"{self.dropped} dropped (outside the motion or overlapping at this frame rate)")
        return f"{lanes} segments, {self.keys} keys" + (f" ({'; '.join(extra)})" if extra else "")


def fit_segments(segments: Iterable[Segment], n_frames: int) -> tuple[list[Segment], int, int]:
    """Segments clipped to 0..n_frames-1 and made non-overlapping (a later segment starts after
    the one before it); returns (segments, clipped, dropped)."""
    out: list[Segment] = []
    clipped = dropped = 0
    for s in sorted(segments, key=segment_order):
        a, b = max(0, s.start), min(n_frames - 1, s.end)
        if out and a <= out[-1].end:
            a = out[-1].end + 1
        if b < a:
            dropped += 1
            continue
        if (a, b) != (s.start, s.end):
            clipped += 1
        out.append(Segment(a, b, s.gloss, s.hand))
    return out, clipped, dropped


def union_of_hands(right: Iterable[Segment], left: Iterable[Segment]) -> list[Segment]:
    """Signs of both hands from each hand's segments: overlapping ones are one sign, glossed by
    the right hand's gloss when it has one."""
    segs = sorted(
        [(s.start, s.end, s.gloss, 0) for s in right] + [(s.start, s.end, s.gloss, 1) for s in left],
        key=lambda v: (v[0], v[1], v[3]),
    )
    out: list[list] = []
    for a, b, g, h in segs:
        if out and a <= out[-1][1]:
            cur = out[-1]
            cur[1] = max(cur[1], b)
            if g and (cur[2] is None or (cur[3] == 1 and h == 0)):
                cur[2], cur[3] = g, h
        else:
            out.append([a, b, g, h])
    return [Segment(a, b, g) for a, b, g, _ in out]


def import_annotations(
    seq: Sequence,
    *,
    sign: Iterable[Segment] | None = None,
    right: Iterable[Segment] | None = None,
    left: Iterable[Segment] | None = None,
    keys: bool = True,
    meta: Mapping[str, object] | None = None,
) -> tuple[Change, ImportReport]:
    """Bring gloss annotations onto the motion: the sign lane (``sign``, else the union of the
    hands), each hand's lane, and (``keys``) keys by the keyframe policy (onset, midpoint,
    offset of every sign). Keys FAST proposed or the policy placed earlier that carry no
    correction make way; the user's keys and corrected keys stay."""
    t = seq.n_frames
    clipped = dropped = 0
    lanes: dict[str, list[Segment]] = {}
    for hand, given in (("right", right), ("left", left)):
        if given is not None:
            segs, c, d = fit_segments([Segment(s.start, s.end, s.gloss, hand) for s in given], t)
            lanes[hand] = segs
            clipped, dropped = clipped + c, dropped + d
    if sign is not None:
        segs, c, d = fit_segments([Segment(s.start, s.end, s.gloss) for s in sign], t)
        clipped, dropped = clipped + c, dropped + d
    else:
        segs = union_of_hands(lanes.get("right", []), lanes.get("left", []))
    lanes[""] = segs
    new_keys = seq.keyframes
    if keys:
        kf = seq.key_frames
        offsets = np.asarray(seq.offsets)
        corrected = set(kf[np.any(offsets[kf] != 0, axis=(1, 2))].tolist()) if kf.size else set()
        kept = {k.frame: k for k in seq.keyframes if k.kind == KeyKind.USER or k.frame in corrected}
        for k in keyframes_from_segments(segs):
            kept.setdefault(k.frame, k)
        new_keys = tuple(sorted(kept.values()))
    labels = labels_from_segments(segs, t)
    glosses = tuple(s for s in segs if s.gloss) + tuple(lanes.get("right", ())) + tuple(lanes.get("left", ()))
    arrays = {k: v.copy() for k, v in seq.frame_arrays().items() if k in GENERATED_CHANNELS}
    arrays["labels"] = labels
    change = apply_patch(seq, Patch(0, t, arrays, new_keys, glosses, None if meta is None else dict(meta)))
    changed = {k.frame for k in new_keys} ^ {k.frame for k in seq.keyframes}
    dirty = (min(changed), max(changed) + 1) if changed else (0, 0)
    report = ImportReport({h: len(v) for h, v in lanes.items() if h == "" or v}, clipped, dropped, len(new_keys))
    return Change(change.sequence, change.inverse, dirty), report


def accept_segments(seq: Sequence, segments: Iterable[Segment], keys: bool = True) -> Change:
    """Add proposed signs (FAST's) to the sign lane, replacing the signs they overlap, with
    their keys by the policy when ``keys`` (accepting proposals one by one or all at once)."""
    new = sorted(segments, key=segment_order)
    if not new:
        raise EditError("no proposals to accept")
    segs = [s for s in lane_segments(seq, "") if not any(s.start <= n.end and n.start <= s.end for n in new)] + [
        Segment(n.start, n.end, n.gloss) for n in new
    ]
    new_keys = seq.keyframes
    if keys:
        have = {k.frame: k for k in seq.keyframes}
        for k in keyframes_from_segments(new):
            have.setdefault(k.frame, k)
        new_keys = tuple(sorted(have.values()))
    return set_lane(seq, "", segs, new_keys)


__all__ = [
    "HANDS",
    "ImportReport",
    "accept_segments",
    "boundary_limits",
    "fit_segments",
    "hands_differ",
    "import_annotations",
    "label_segments",
    "sign_segments",
    "lane_segments",
    "merge",
    "move_boundary",
    "rename",
    "segment_at",
    "set_lane",
    "split",
    "union_of_hands",
]

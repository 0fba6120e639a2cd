"""What crosses the thread boundary: frozen requests and results (a ``Sequence`` is immutable)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..model.patches import FramePatch  # the in-betweening contract (core.model), re-exported
from ..model.sequence import FrameState, Sequence
from ..model.spans import enclosing_span, trim_keys

Span = tuple[int, int]


def unrecorded(seq: Sequence, lo: int, hi: int) -> np.ndarray:
    """(hi - lo,) bool: frames in [lo, hi) with something for the in-betweener to fill -- not a
    key, and GENERATED or with a joint that has no reliable record (docs/representation.md)."""
    a = seq.base_states[lo:hi] == FrameState.GENERATED
    a |= ~seq.valid[lo:hi].all(axis=1)
    kf = seq.key_frames
    a[kf[(kf >= lo) & (kf < hi)] - lo] = False
    return a


def merge_spans(seq: Sequence, spans: Iterable[Span]) -> list[Span]:
    """Dirty spans [lo, hi) -> the minimal list of disjoint spans to hand to an in-betweener.

    Each span is first cut down to the frames that have no reliable record (``unrecorded``):
    an edit of recorded motion needs no in-betweening at all. Keys at a span's ends are trimmed
    first (an edit's dirty span runs from key to key, and keys are never regenerated); each span
    is then grown to its enclosing keys (what an in-betweener recomputes), and spans whose grown
    ranges overlap are merged into one raw hull, so every gap is filled once and an edit's cost
    stays proportional to the gaps it touched, not to the sequence length.
    """
    t = seq.n_frames
    keys = seq.key_frames
    raw = []
    for lo, hi in spans:
        lo, hi = max(0, int(lo)), min(t, int(hi))
        # only what has no reliable record is the in-betweener's: GENERATED frames and joints
        # the record lost; re-timed and corrected record frames are final as the edit made them
        need = np.flatnonzero(unrecorded(seq, lo, hi))
        if need.size == 0:
            continue
        lo, hi = trim_keys(keys, lo + int(need[0]), lo + int(need[-1]) + 1)
        if hi > lo:
            raw.append((lo, hi))
    raw.sort()
    out: list[tuple[Span, Span]] = []  # (raw hull, grown hull)
    for lo, hi in raw:
        glo, ghi = enclosing_span(keys, lo, hi, t)
        if out and glo < out[-1][1][1]:  # the grown spans share a key: fill them in one go
            (plo, phi), (pglo, pghi) = out[-1]
            out[-1] = ((plo, max(phi, hi)), (min(pglo, glo), max(pghi, ghi)))
        else:
            out.append(((lo, hi), (glo, ghi)))
    return [r for r, _ in out]


@dataclass(frozen=True, eq=False)
class InbetweenRequest:
    """Fill the GENERATED frames (and joints with no reliable record) of ``sequence`` in the
    dirty ``spans``; recorded frames, re-timed or corrected, are final as the edit made them.

    sequence: the document snapshot (immutable, so it can be read by the worker as it is).
    spans: dirty frame ranges [lo, hi); each is grown to its enclosing keys by the in-betweener.
    generation: the document's edit counter when the snapshot was taken; results carry it back so
        the receiver can drop stale ones.
    model: a registry name (``core.jobs.MODELS``); options: extra factory arguments, as pairs.
    seed: the document's noise seed (fixed per document; "reroll" draws a new one).
    """

    sequence: Sequence
    spans: tuple[Span, ...]
    generation: int
    model: str = "eased"
    seed: int = 0
    options: tuple[tuple[str, object], ...] = ()
    submitted_at: float = field(default_factory=time.perf_counter)

    @property
    def span(self) -> Span:
        """The hull of all dirty spans."""
        if not self.spans:
            return (0, 0)
        return min(lo for lo, _ in self.spans), max(hi for _, hi in self.spans)


@dataclass(frozen=True, eq=False)
class InbetweenResult:
    generation: int
    model: str
    device: str
    patches: tuple[FramePatch, ...] = ()
    spans: tuple[Span, ...] = ()
    compute_ms: float = 0.0  # time in the in-betweener
    latency_ms: float = 0.0  # submit -> result ready
    error: str | None = None  # one line when the model failed (no patches then)

    def apply(self, seq: Sequence) -> Sequence:
        """Write the patches into ``seq`` (GENERATED frames only; not an edit)."""
        # a patch past the end: a length change raced this result (the receiver's generation check drops it anyway)
        fits = [(p.start, p.rotations, p.translation) for p in self.patches if p.stop <= seq.n_frames]
        return seq.with_generated_many(fits) if fits else seq

"""The document data: a signer's motion with its keyframes, frame states and sign labels.

Everything here is immutable: a ``Sequence`` is a frozen dataclass over read-only arrays, so a
snapshot can cross threads as it is. Edits (``core.model.edits``) return new sequences.
"""

from __future__ import annotations

import bisect
import enum
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from .rotations import is_rotation
from .skeleton import Skeleton
from .template import TEMPLATE


class FrameState(enum.IntEnum):
    """Per-frame state (docs/representation.md). The sampler observes KEY, SOURCE and WARPED frames.

    ``base_states`` holds SOURCE (record-derived) or GENERATED only: KEY comes from the keyframes
    and WARPED is derived (a record-derived frame that is re-timed or carries a correction).
    """

    GENERATED = 0
    SOURCE = 1
    KEY = 2
    WARPED = 3


class Label(enum.IntEnum):
    """Per-frame B/I/O label (paper 3.1)."""

    O = 0
    I = 1
    B = 2


class KeyKind(str, enum.Enum):
    ONSET = "onset"
    MID = "mid"
    OFFSET = "offset"
    USER = "user"


@dataclass(frozen=True, order=True)
class Keyframe:
    frame: int
    kind: KeyKind = KeyKind.USER


@dataclass(frozen=True, order=True)
class Segment:
    """A sign: frames ``start..end`` inclusive, with an optional gloss. ``hand``: "" for a sign
    of both hands (the sign lane), "right" / "left" for a gloss of one hand's lane."""

    start: int
    end: int
    gloss: str | None = None
    hand: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"segment end {self.end} before start {self.start}")


def segment_order(s: Segment) -> tuple[int, int, str, str]:
    """A total order of segments (a gloss may be None, so the dataclass order can fail)."""
    return (s.start, s.end, s.hand, s.gloss or "")


class SequenceError(ValueError):
    """A sequence's arrays are inconsistent (wrong shapes, NaN, ...)."""


# Per-frame arrays that every edit slices, splices and stores. Extra per-frame channels
# (jaw, eyes, expression, ...) ride along in ``Sequence.extra_frames``.
FRAME_FIELDS = (
    "rotations",
    "translation",
    "source_rotations",
    "source_translation",
    "base_states",
    "labels",
    "valid",
    "warp",
    "offsets",
    "source_valid",
)
# the editing layers (``core.model.layers``): absent from files written before them, and then
# an identity warp, no corrections and the shown validity
LAYER_FIELDS = ("warp", "offsets", "source_valid")


def _read_only(a: np.ndarray) -> bool:
    """True when nobody can write ``a``'s data: it and every array it views are read-only."""
    while isinstance(a, np.ndarray):
        if a.flags.writeable:
            return False
        a = a.base
    return a is None or isinstance(a, bytes)


def _frozen(a: np.ndarray, dtype) -> np.ndarray:
    """``a`` as a read-only array of ``dtype``. An array that is read-only already (another
    version's, or one an edit built and froze) is shared, not copied: an edit of a 10-minute
    document then copies only the channels it changes (rotations alone are 28 MB)."""
    if isinstance(a, np.ndarray) and a.dtype == dtype and _read_only(a):
        return a
    a = np.array(a, dtype=dtype, copy=True)
    a.setflags(write=False)
    return a


# read-only arrays already checked to be finite, by id (with a weak reference: an id is reused
# once its array is gone), so the versions sharing an unchanged array do not scan it again
_finite: dict[int, weakref.ref] = {}


def _remember_finite(a: np.ndarray) -> None:
    key = id(a)
    _finite[key] = weakref.ref(a, lambda r, key=key: _finite.pop(key, None) if _finite.get(key) is r else None)


def _all_finite(a: np.ndarray) -> bool:
    ref = _finite.get(id(a))
    if ref is not None and ref() is a:
        return True
    if not np.isfinite(a).all():
        return False
    if not a.flags.writeable:
        _remember_finite(a)
    return True


def freeze(a: np.ndarray, *, finite: bool = False) -> np.ndarray:
    """Make ``a``, a new array only the caller holds, read-only, so a ``Sequence`` takes it as
    it is instead of copying it. ``finite``: the caller knows every value is finite (copied from
    a validated sequence, plus pieces it checked), so validation need not scan it again."""
    a.setflags(write=False)
    if finite and _read_only(a):
        _remember_finite(a)
    return a


@dataclass(frozen=True, eq=False)
class Sequence:
    """A motion on ``skeleton`` at ``fps``.

    rotations: (T, J, 3, 3) float32 local joint rotations, the pose shown at every frame (the
        pinned pose at KEY frames, the observed pose at SOURCE frames, the last in-betweening
        result at GENERATED frames).
    translation: (T, 3) float32 root translation, metres (added to the pelvis rest position).
    source_rotations / source_translation: the record (the originally observed motion), indexed
        by record frame, same shapes. Never changed by retiming or corrections.
    base_states: (T,) uint8 FrameState SOURCE (record-derived) or GENERATED; KEY comes from
        ``keyframes``, WARPED from the layers (``states``).
    labels: (T,) uint8 B/I/O labels as given (not normalised: records keep their raw labels).
    valid: (T, J) bool, False where the shown frame has no reliable record of a joint (a hand not
        detected); the in-betweener fills those joints.
    warp: (T,) float64 time-warp layer: frame f shows the record at time ``f + warp[f]`` (frames,
        fractional: re-sampled by SLERP). Zeros = the record as recorded.
    offsets: (T, J, 3) float32 correction layer: rotation vectors of per-joint offsets, non-zero
        only at corrected keys; between keys they blend smoothly (``core.model.layers``).
    source_valid: (T, J) bool validity of the record, indexed by record frame (``valid`` is the
        shown frames' validity, re-sampled through the warp).
    keyframes: sorted, one per frame.
    glosses: gloss annotations (segments with text), e.g. from ELAN; independent of labels.
    extra_frames: other per-frame channels carried through (T, ...) arrays.
    meta: JSON-able facts about the source (betas, gender, file format, ...).
    """

    rotations: np.ndarray
    translation: np.ndarray
    fps: float
    source_rotations: np.ndarray
    source_translation: np.ndarray
    base_states: np.ndarray
    labels: np.ndarray
    valid: np.ndarray
    keyframes: tuple[Keyframe, ...] = ()
    glosses: tuple[Segment, ...] = ()
    text: str = ""
    language: str = ""
    skeleton: Skeleton = TEMPLATE
    extra_frames: Mapping[str, np.ndarray] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    warp: np.ndarray | None = None
    offsets: np.ndarray | None = None
    source_valid: np.ndarray | None = None

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        t = int(np.shape(self.rotations)[0])
        if self.warp is None:
            set_("warp", freeze(np.zeros(t, np.float64), finite=True))
        if self.offsets is None:
            set_("offsets", freeze(np.zeros((t, self.skeleton.n_joints, 3), np.float32), finite=True))
        for name, dtype in (
            ("rotations", np.float32),
            ("translation", np.float32),
            ("source_rotations", np.float32),
            ("source_translation", np.float32),
            ("base_states", np.uint8),
            ("labels", np.uint8),
            ("valid", bool),
            ("warp", np.float64),
            ("offsets", np.float32),
            ("source_valid", bool),
        ):
            if getattr(self, name) is None:  # source_valid: the record is the shown motion
                set_(name, self.valid)
                continue
            set_(name, _frozen(getattr(self, name), dtype))
        set_(
            "extra_frames",
            MappingProxyType({k: _frozen(v, np.asarray(v).dtype) for k, v in dict(self.extra_frames).items()}),
        )
        set_("meta", MappingProxyType(dict(self.meta)))
        set_("keyframes", tuple(sorted(self.keyframes)))
        set_("glosses", tuple(sorted(self.glosses, key=segment_order)))
        set_("fps", float(self.fps))
        self._validate()

    def _validate(self) -> None:
        t, j = self.n_frames, self.skeleton.n_joints
        expect = {
            "rotations": (t, j, 3, 3),
            "translation": (t, 3),
            "source_rotations": (t, j, 3, 3),
            "source_translation": (t, 3),
            "base_states": (t,),
            "labels": (t,),
            "valid": (t, j),
            "warp": (t,),
            "offsets": (t, j, 3),
            "source_valid": (t, j),
        }
        for name, shape in expect.items():
            if getattr(self, name).shape != shape:
                raise SequenceError(f"{name} has shape {getattr(self, name).shape}, expected {shape}")
        for name, a in self.extra_frames.items():
            if a.shape[:1] != (t,):
                raise SequenceError(f"extra channel {name!r} has {a.shape[0]} frames, expected {t}")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise SequenceError(f"fps must be positive, got {self.fps}")
        for name in ("rotations", "translation", "source_rotations", "source_translation", "warp", "offsets"):
            if not _all_finite(getattr(self, name)):
                raise SequenceError(f"{name} contains NaN or infinite values")
        if np.any((self.base_states != FrameState.SOURCE) & (self.base_states != FrameState.GENERATED)):
            raise SequenceError("base_states must be SOURCE or GENERATED (KEY comes from keyframes)")
        if np.any(self.labels > 2):
            raise SequenceError("labels must be 0 (O), 1 (I) or 2 (B)")
        frames = [k.frame for k in self.keyframes]
        if len(set(frames)) != len(frames):
            raise SequenceError("two keyframes on one frame")
        if frames and (frames[0] < 0 or frames[-1] >= t):
            raise SequenceError(f"keyframe outside 0..{t - 1}")
        for g in self.glosses:
            if g.start < 0 or g.end >= t:
                raise SequenceError(f"gloss segment {g.start}..{g.end} outside 0..{t - 1}")

    # --- derived views -------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return int(self.rotations.shape[0])

    @property
    def n_joints(self) -> int:
        return self.skeleton.n_joints

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    @property
    def key_frames(self) -> np.ndarray:
        """(K,) int64 frames of the keys, ascending."""
        return np.array([k.frame for k in self.keyframes], dtype=np.int64)

    @property
    def states(self) -> np.ndarray:
        """(T,) uint8 FrameState: base states, WARPED where a record-derived frame is re-timed or
        carries a correction, KEY on keyframes."""
        s = self.base_states.copy()
        s[(s == FrameState.SOURCE) & self.warped_mask()] = FrameState.WARPED
        s[self.key_frames] = FrameState.KEY
        return s

    def warped_mask(self) -> np.ndarray:
        """(T,) bool: frames whose record time is shifted, or that lie next to (or on) a key
        carrying a correction (the offsets blend from it to its neighbouring keys)."""
        m = self.warp != 0
        kf = self.key_frames
        if kf.size:
            corrected = np.flatnonzero(self.offsets[kf].reshape(kf.size, -1).any(axis=1))
            t = self.n_frames
            for i in corrected.tolist():
                lo = int(kf[i - 1]) + 1 if i > 0 else 0
                hi = int(kf[i + 1]) if i + 1 < kf.size else t
                m[lo:hi] = True
        return m

    @property
    def observed(self) -> np.ndarray:
        """(T, J) bool observation mask for the in-betweener: KEY, or record-derived where valid."""
        s = self.states
        return (s == FrameState.KEY)[:, None] | ((s != FrameState.GENERATED)[:, None] & self.valid)

    def key_at(self, frame: int) -> Keyframe | None:
        for k in self.keyframes:
            if k.frame == frame:
                return k
        return None

    def replace(self, **changes: Any) -> Sequence:
        # a sequence whose record validity is its shown validity (nothing re-timed) keeps them one
        if (
            "valid" in changes
            and "source_valid" not in changes
            and self.source_valid is self.valid
            and not self.warp.any()
        ):
            changes["source_valid"] = None
        return replace(self, **changes)

    def frame_arrays(self) -> dict[str, np.ndarray]:
        """Every per-frame array, by name (extra channels prefixed ``extra:``)."""
        out = {name: getattr(self, name) for name in FRAME_FIELDS}
        out.update({f"extra:{k}": v for k, v in self.extra_frames.items()})
        return out

    def with_frame_arrays(self, arrays: Mapping[str, np.ndarray], **changes: Any) -> Sequence:
        base = {k: v for k, v in arrays.items() if not k.startswith("extra:")}
        extra = {k[6:]: v for k, v in arrays.items() if k.startswith("extra:")}
        return replace(self, **base, extra_frames=extra, **changes)

    def with_generated(self, start: int, rotations: np.ndarray, translation: np.ndarray | None = None) -> Sequence:
        """Write in-betweening output for frames ``start..start+n-1`` at GENERATED frames only.

        Not an edit: generated frames are derived data and never on the undo stack.
        rotations: (n, J, 3, 3); translation: (n, 3) or None.
        """
        return self.with_generated_many(((start, rotations, translation),))

    def with_generated_many(self, patches: Iterable[tuple[int, np.ndarray, np.ndarray | None]]) -> Sequence:
        """``with_generated`` for several (start, rotations, translation) patches with one copy of
        the arrays: a 10-minute document's rotations are 28 MB, copied once per result, not per gap."""
        key = np.zeros(self.n_frames, bool)
        key[self.key_frames] = True
        rot = self.rotations.copy()
        tr = None
        finite = True  # the copies are of validated arrays: only the written pieces need a check
        for start, rotations, translation in patches:
            sl = slice(start, start + rotations.shape[0])
            gen = (self.base_states[sl] == FrameState.GENERATED) & ~key[sl]
            # joints with no reliable record at record-derived frames are the in-betweener's too
            lost = ~gen[:, None] & ~key[sl, None] & ~self.valid[sl]
            rot[sl][gen] = rotations[gen]
            if lost.any():
                rot[sl][lost] = rotations[lost]
            finite = finite and bool(np.isfinite(rot[sl]).all())
            if translation is not None:
                tr = self.translation.copy() if tr is None else tr
                tr[sl][gen] = translation[gen]
                finite = finite and bool(np.isfinite(tr[sl]).all())
        return replace(
            self,
            rotations=freeze(rot, finite=finite),
            translation=self.translation if tr is None else freeze(tr, finite=finite),
        )


def new_sequence(
    rotations: np.ndarray,
    fps: float,
    translation: np.ndarray | None = None,
    *,
    skeleton: Skeleton = TEMPLATE,
    valid: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    keyframes: Iterable[Keyframe] = (),
    glosses: Iterable[Segment] = (),
    text: str = "",
    language: str = "",
    extra_frames: Mapping[str, np.ndarray] | None = None,
    meta: Mapping[str, Any] | None = None,
    check_rotations: bool = True,
) -> Sequence:
    """A sequence whose every frame is observed source (the usual result of reading a file).

    rotations: (T, J, 3, 3) local rotations; translation: (T, 3) metres (zeros if None).
    """
    rotations = np.asarray(rotations, dtype=np.float32)
    if rotations.ndim != 4 or rotations.shape[1:] != (skeleton.n_joints, 3, 3):
        raise SequenceError(f"rotations have shape {rotations.shape}, expected (T, {skeleton.n_joints}, 3, 3)")
    t = rotations.shape[0]
    if check_rotations and not is_rotation(rotations).all():
        raise SequenceError("rotations contain NaN or non-rotation matrices")
    translation = np.zeros((t, 3), np.float32) if translation is None else np.asarray(translation, np.float32)
    return Sequence(
        rotations=rotations,
        translation=translation,
        fps=fps,
        source_rotations=rotations,
        source_translation=translation,
        base_states=np.full(t, FrameState.SOURCE, np.uint8),
        labels=np.zeros(t, np.uint8) if labels is None else labels,
        valid=np.ones((t, skeleton.n_joints), bool) if valid is None else valid,
        keyframes=tuple(keyframes),
        glosses=tuple(glosses),
        text=text,
        language=language,
        skeleton=skeleton,
        extra_frames=extra_frames or {},
        meta=meta or {},
    )


def segments_from_labels(labels: np.ndarray) -> list[Segment]:
    """B/I/O labels -> sign segments (end inclusive), the editor's reading of FAST output.

    A sign starts at a B, or at an O->I step with no B; a B inside a sign starts the next sign,
    but back-to-back Bs merge into one onset; a sign ends at the last non-O frame.
    """
    labels = np.asarray(labels)
    segs: list[Segment] = []
    start = None
    for i, v in enumerate(labels.tolist()):
        if v == Label.O:
            if start is not None:
                segs.append(Segment(start, i - 1))
                start = None
        elif v == Label.B:
            prev_b = i > 0 and labels[i - 1] == Label.B
            if start is not None and not prev_b:
                segs.append(Segment(start, i - 1))
                start = i
            elif start is None:
                start = i
        elif start is None:  # I after O without a B
            start = i
    if start is not None:
        segs.append(Segment(start, len(labels) - 1))
    return segs


def glossed_segments(seq: Sequence) -> list[Segment]:
    """The sign segments of ``seq``: from its labels, each with the gloss of the annotation that
    overlaps it most; when the labels hold no sign, the gloss annotations themselves."""
    segs = segments_from_labels(seq.labels)
    both = [g for g in seq.glosses if not g.hand]  # the hands' own lanes are not the sign lane
    if not segs:
        return both
    starts = [g.start for g in both]
    reach = np.maximum.accumulate([g.end for g in both]) if both else np.zeros(0, np.int64)
    out = []
    for s in segs:
        best, best_ov = None, 0
        k = bisect.bisect_right(starts, s.end) - 1  # glosses starting at or before the sign's end
        while k >= 0 and reach[k] >= s.start:
            g = both[k]
            ov = min(s.end, g.end) - max(s.start, g.start) + 1
            if ov > best_ov or (ov == best_ov and ov > 0):
                best, best_ov = g.gloss, ov
            k -= 1
        out.append(Segment(s.start, s.end, best))
    return out


def labels_from_segments(segments: Iterable[Segment], n_frames: int) -> np.ndarray:
    """(T,) uint8: B at each start, I through the end, O elsewhere."""
    out = np.zeros(n_frames, np.uint8)
    for s in segments:
        out[s.start : s.end + 1] = Label.I
        out[s.start] = Label.B
    return out


def keyframes_from_segments(segments: Iterable[Segment]) -> list[Keyframe]:
    """Onset, midpoint ``(start+end)//2`` and offset of every segment (paper 3.1)."""
    keys: dict[int, Keyframe] = {}
    for s in segments:
        for f, kind in ((s.start, KeyKind.ONSET), ((s.start + s.end) // 2, KeyKind.MID), (s.end, KeyKind.OFFSET)):
            keys.setdefault(f, Keyframe(f, kind))
    return sorted(keys.values())

"""Undo commands over the pure edits of ``core.model.edits``: one class per kind of edit.

``redo`` runs the edit on the document's sequence; ``undo`` applies the edit's inverse patch
(``Change.inverse``). Generated frames are not part of any command: in-betweening output is
written with ``Sequence.with_generated`` and recomputed after undo / redo.

Drags: every command built with the same ``drag_id`` while a gesture is open becomes one undo
step. A continuation is computed from the state *before* the drag (the open command's inverse
patch restores it), with parameters relative to that state (e.g. a mapping from the keys'
frames at drag start), so redo after undo reproduces exactly what the user saw; ``mergeWith``
then keeps the newest parameters and inverse. Call ``end_drag`` when the gesture finishes.
While nothing else has written the document since the last step (no in-betweening result),
the next step starts from the pre-drag state the last one was computed from, instead of
applying the inverse patch again (a 28 MB copy of the rotations per mouse move at 10 minutes).
"""
from __future__ import annotations

import itertools
from typing import Iterable, Mapping, Sequence as Seq

import numpy as np
from PySide6.QtGui import QUndoCommand

from core.model import edits
from core.model.edits import GENERATED_CHANNELS, Change, EditError, Patch, apply_patch
from core.model.sequence import FrameState, Keyframe, KeyKind, Sequence

from .document import Document

_drag_ids = itertools.count(1)


def new_drag_id() -> int:
    return next(_drag_ids)


def end_drag(doc: Document) -> None:
    """The gesture is over: the next command starts a new undo step."""
    od = getattr(doc, "open_drag", None)
    if od is not None:
        od[1].base = None  # the pre-drag state is no longer needed: let it go
    doc.open_drag = None  # type: ignore[attr-defined]


class EditCommand(QUndoCommand):
    """Base: subclasses define ``compute(seq) -> Change`` and a class-unique ``ID``."""

    ID = -1

    def __init__(self, doc: Document, text: str, drag_id: int | None = None) -> None:
        super().__init__(text)
        self.doc = doc
        self.drag_id = drag_id
        self.inverse: Patch | None = None
        self.dirty: tuple[int, int] = (0, 0)
        self._prepared: tuple[Change, tuple[int, int], Sequence] | None = None
        # during a drag: (the sequence this step installed, the pre-drag state it came from)
        self.base: tuple[Sequence, Sequence] | None = None

    # -- subclass API ------------------------------------------------------------------------
    def compute(self, seq: Sequence) -> Change:
        raise NotImplementedError

    def adopt(self, other: "EditCommand") -> None:
        """Take over ``other``'s parameters (a later step of the same drag)."""
        raise NotImplementedError

    def is_noop(self) -> bool:
        """True when the parameters change nothing (a drag that came back to its start)."""
        return False

    # -- machinery ---------------------------------------------------------------------------
    def _open(self) -> "EditCommand | None":
        od = getattr(self.doc, "open_drag", None)
        if self.drag_id is None or od is None or od[0] != self.drag_id or od[1] is self or type(od[1]) is not type(self):
            return None
        return od[1]

    def prepare(self) -> None:
        """Compute the change now (raises ``EditError`` before anything is pushed)."""
        seq = self.doc.sequence
        extra = (0, 0)
        opened = self._open()
        if opened is not None and opened.inverse is not None:
            if opened.base is not None and opened.base[0] is seq:
                seq = opened.base[1]  # nothing written since the last step: its starting state
            else:
                seq = apply_patch(seq, opened.inverse).sequence  # the state before the drag
            extra = opened.dirty
        change = self.compute(seq)
        lo, hi = change.dirty
        if extra[1] > extra[0]:
            lo, hi = (min(lo, extra[0]), max(hi, extra[1])) if hi > lo else extra
        self._prepared = (change, (lo, hi), seq)

    def redo(self) -> None:
        pushed = self._prepared is not None  # a gesture's step, not a redo from the history
        if self._prepared is None:
            self.prepare()
        change, span, before = self._prepared
        self._prepared = None
        self.inverse = change.inverse
        self.dirty = change.dirty
        if self.drag_id is None:
            end_drag(self.doc)
        elif self._open() is None:
            end_drag(self.doc)
            self.doc.open_drag = (self.drag_id, self)  # type: ignore[attr-defined]
        self.base = (change.sequence, before) if self.drag_id is not None and pushed else None
        self.doc.apply_edit(change.sequence, span)

    def undo(self) -> None:
        end_drag(self.doc)
        self.base = None
        change = apply_patch(self.doc.sequence, self.inverse)
        lo, hi = change.dirty
        self.doc.apply_edit(change.sequence, (min(lo, self.dirty[0]), max(hi, self.dirty[1])))

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if self.drag_id is None or not isinstance(other, type(self)) or other.drag_id != self.drag_id:
            return False
        self.adopt(other)
        self.inverse = other.inverse
        self.dirty = other.dirty
        self.base, other.base = other.base, None
        # a drag that ended where it started leaves no step: QUndoStack drops an obsolete merge
        self.setObsolete(self.is_noop())
        return True


def push(doc: Document, cmd: EditCommand) -> str | None:
    """Validate and push ``cmd``; returns a one-line reason instead when the edit cannot apply."""
    try:
        cmd.prepare()
    except EditError as e:
        return str(e)
    doc.undo_stack.push(cmd)
    return None


class RetimeKeys(EditCommand):
    """Move keys in time (drag, grab, scale, move a sign): ``mapping`` old frame -> new frame."""

    ID = 1001

    def __init__(self, doc: Document, mapping: Mapping[int, int], text: str = "Retime keys",
                 drag_id: int | None = None) -> None:
        super().__init__(doc, text, drag_id)
        self.mapping = {int(a): int(b) for a, b in mapping.items()}

    def compute(self, seq: Sequence) -> Change:
        return edits.retime_keys(seq, self.mapping)

    def adopt(self, other: "RetimeKeys") -> None:
        self.mapping = dict(other.mapping)

    def is_noop(self) -> bool:
        return all(a == b for a, b in self.mapping.items())


class SetJointRotations(EditCommand):
    """Set local rotations of joints at a key (inspector sliders, paste, mirror, reset)."""

    ID = 1002

    def __init__(self, doc: Document, frame: int, joints: Seq[int], rotations: np.ndarray,
                 text: str = "Edit pose", drag_id: int | None = None) -> None:
        super().__init__(doc, text, drag_id)
        self.frame = int(frame)
        self.joints = [int(j) for j in joints]
        self.rotations = np.asarray(rotations, np.float32).reshape(-1, 3, 3).copy()

    def compute(self, seq: Sequence) -> Change:
        return edits.set_joint_rotations(seq, self.frame, self.joints, self.rotations)

    def adopt(self, other: "SetJointRotations") -> None:
        self.frame, self.joints, self.rotations = other.frame, other.joints, other.rotations

    def mergeWith(self, other: QUndoCommand) -> bool:
        if isinstance(other, SetJointRotations) and (other.frame != self.frame or other.joints != self.joints):
            return False
        return super().mergeWith(other)


class InsertKey(EditCommand):
    ID = 1003

    def __init__(self, doc: Document, frame: int, kind: KeyKind = KeyKind.USER, pose: np.ndarray | None = None,
                 text: str = "Insert key") -> None:
        super().__init__(doc, f"{text} at {frame}")
        self.frame, self.kind, self.pose = int(frame), kind, pose

    def compute(self, seq: Sequence) -> Change:
        return edits.insert_key(seq, self.frame, self.kind, self.pose)


class DeleteKeys(EditCommand):
    ID = 1004

    def __init__(self, doc: Document, frames: Iterable[int]) -> None:
        self.frames = sorted(int(f) for f in frames)
        super().__init__(doc, f"Delete {len(self.frames)} key{'s' if len(self.frames) != 1 else ''}")

    def compute(self, seq: Sequence) -> Change:
        return edits.delete_keys(seq, self.frames)


class SetKeyKind(EditCommand):
    ID = 1005

    def __init__(self, doc: Document, frame: int, kind: KeyKind) -> None:
        super().__init__(doc, f"Key {frame}: {KeyKind(kind).value}")
        self.frame, self.kind = int(frame), KeyKind(kind)

    def compute(self, seq: Sequence) -> Change:
        return edits.set_key_kind(seq, self.frame, self.kind)


class SetSpanState(EditCommand):
    """"Regenerate from keys" (GENERATED) or "keep recording" (SOURCE: the warped, corrected
    record) on frames start..end inclusive."""

    ID = 1006

    def __init__(self, doc: Document, start: int, end: int, state: FrameState) -> None:
        what = "Regenerate" if state == FrameState.GENERATED else "Keep recording"
        super().__init__(doc, f"{what} {start}-{end}")
        self.start, self.end, self.state = int(start), int(end), FrameState(state)

    def compute(self, seq: Sequence) -> Change:
        return edits.set_span_state(seq, self.start, self.end, self.state)


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
        Keyframe(int(k.frame), KeyKind(k.kind)) for k in keys if lo <= k.frame < hi)
    # only the labels change (the other channels stay shared with ``seq``); rotations and
    # translation ride along so that undo restores them over later generated frames
    arrays = {k: v[lo:hi].copy() for k, v in seq.frame_arrays().items() if k in GENERATED_CHANNELS}
    arrays["labels"] = labels
    change = apply_patch(seq, Patch(lo, hi - lo, arrays, new_keys, seq.glosses))
    return Change(change.sequence, change.inverse, (lo, hi))


class ApplyProposals(EditCommand):
    ID = 1008

    def __init__(self, doc: Document, lo: int, hi: int, labels: np.ndarray, keys: Iterable[Keyframe]) -> None:
        super().__init__(doc, f"Accept FAST proposals {lo}-{hi - 1}")
        self.lo, self.hi, self.labels, self.keys = int(lo), int(hi), np.asarray(labels), tuple(keys)

    def compute(self, seq: Sequence) -> Change:
        return replace_segmentation(seq, self.lo, self.hi, self.labels, self.keys)

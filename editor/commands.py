"""Undo commands over the pure edits of ``core.model.edits``: one class per kind of edit.

Each command is a thin ``QUndoCommand`` over a ``core.model.document.EditStep``, which holds the
rules (run the edit, undo by its inverse patch, merge the steps of one drag: see that module).
Generated frames are not part of any command: in-betweening output is written with
``Sequence.with_generated`` and recomputed after undo / redo. Call ``end_drag`` when a gesture
finishes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Mapping
from collections.abc import Sequence as Seq

import numpy as np
from PySide6.QtGui import QUndoCommand

from core.model import edits
from core.model.document import EditStep
from core.model.edits import Change, EditError
from core.model.sequence import FrameState, Keyframe, KeyKind, Sequence

from .document import Document

_drag_ids = itertools.count(1)


def new_drag_id() -> int:
    return next(_drag_ids)


def end_drag(doc: Document) -> None:
    """The gesture is over: the next command starts a new undo step."""
    doc.end_drag()


class EditCommand(QUndoCommand):
    """Base: subclasses define ``edit() -> (seq -> Change)`` over their parameters and a
    class-unique ``ID`` (steps of one drag merge only within a class)."""

    ID = -1

    def __init__(self, doc: Document, text: str, drag_id: int | None = None) -> None:
        super().__init__(text)
        self.doc = doc
        self.drag_id = drag_id
        self._step: EditStep | None = None

    # -- subclass API ------------------------------------------------------------------------
    def edit(self) -> Callable[[Sequence], Change]:
        raise NotImplementedError

    def merge_key(self) -> Hashable:
        """Parameters two steps of a drag must share to merge (none by default)."""
        return None

    def is_noop(self) -> bool:
        """True when the parameters change nothing (a drag that came back to its start)."""
        return False

    # -- the core step -------------------------------------------------------------------------
    @property
    def step(self) -> EditStep:
        if self._step is None:  # built on first use: subclasses set their parameters after __init__
            self._step = EditStep(
                self.doc.model,
                self.edit(),
                kind=self.ID,
                drag_id=self.drag_id,
                merge_key=self.merge_key(),
                noop=self.is_noop(),
            )
        return self._step

    def prepare(self) -> None:
        """Compute the change now (raises ``EditError`` before anything is pushed)."""
        self.step.prepare()

    def redo(self) -> None:
        self.step.redo()

    def undo(self) -> None:
        self.step.undo()

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, type(self)) or not self.step.can_absorb(other.step):
            return False
        self.step.absorb(other.step)
        # a drag that ended where it started leaves no step: QUndoStack drops an obsolete merge
        self.setObsolete(self.step.noop)
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

    def __init__(
        self, doc: Document, mapping: Mapping[int, int], text: str = "Retime keys", drag_id: int | None = None
    ) -> None:
        super().__init__(doc, text, drag_id)
        self.mapping = {int(a): int(b) for a, b in mapping.items()}

    def edit(self) -> Callable[[Sequence], Change]:
        mapping = dict(self.mapping)
        return lambda seq: edits.retime_keys(seq, mapping)

    def is_noop(self) -> bool:
        return all(a == b for a, b in self.mapping.items())


class SetJointRotations(EditCommand):
    """Set local rotations of joints at a key (inspector sliders, paste, mirror, reset)."""

    ID = 1002

    def __init__(
        self,
        doc: Document,
        frame: int,
        joints: Seq[int],
        rotations: np.ndarray,
        text: str = "Edit pose",
        drag_id: int | None = None,
    ) -> None:
        super().__init__(doc, text, drag_id)
        self.frame = int(frame)
        self.joints = [int(j) for j in joints]
        self.rotations = np.asarray(rotations, np.float32).reshape(-1, 3, 3).copy()

    def edit(self) -> Callable[[Sequence], Change]:
        frame, joints, rotations = self.frame, list(self.joints), self.rotations
        return lambda seq: edits.set_joint_rotations(seq, frame, joints, rotations)

    def merge_key(self) -> Hashable:
        return self.frame, tuple(self.joints)


class InsertKey(EditCommand):
    ID = 1003

    def __init__(
        self,
        doc: Document,
        frame: int,
        kind: KeyKind = KeyKind.USER,
        pose: np.ndarray | None = None,
        text: str = "Insert key",
    ) -> None:
        super().__init__(doc, f"{text} at {frame}")
        self.frame, self.kind, self.pose = int(frame), kind, pose

    def edit(self) -> Callable[[Sequence], Change]:
        frame, kind, pose = self.frame, self.kind, self.pose
        return lambda seq: edits.insert_key(seq, frame, kind, pose)


class DeleteKeys(EditCommand):
    ID = 1004

    def __init__(self, doc: Document, frames: Iterable[int]) -> None:
        self.frames = sorted(int(f) for f in frames)
        super().__init__(doc, f"Delete {len(self.frames)} key{'s' if len(self.frames) != 1 else ''}")

    def edit(self) -> Callable[[Sequence], Change]:
        frames = list(self.frames)
        return lambda seq: edits.delete_keys(seq, frames)


class SetKeyKind(EditCommand):
    ID = 1005

    def __init__(self, doc: Document, frame: int, kind: KeyKind) -> None:
        super().__init__(doc, f"Key {frame}: {KeyKind(kind).value}")
        self.frame, self.kind = int(frame), KeyKind(kind)

    def edit(self) -> Callable[[Sequence], Change]:
        frame, kind = self.frame, self.kind
        return lambda seq: edits.set_key_kind(seq, frame, kind)


class SetSpanState(EditCommand):
    """ "Regenerate from keys" (GENERATED) or "keep recording" (SOURCE: the warped, corrected
    record) on frames start..end inclusive."""

    ID = 1006

    def __init__(self, doc: Document, start: int, end: int, state: FrameState) -> None:
        what = "Regenerate" if state == FrameState.GENERATED else "Keep recording"
        super().__init__(doc, f"{what} {start}-{end}")
        self.start, self.end, self.state = int(start), int(end), FrameState(state)

    def edit(self) -> Callable[[Sequence], Change]:
        start, end, state = self.start, self.end, self.state
        return lambda seq: edits.set_span_state(seq, start, end, state)


class InsertFrames(EditCommand):
    """``n`` new frames before frame ``at``: material with no record (GENERATED), filled by the
    in-betweener from the frames around (``edits.insert_frames``)."""

    ID = 1009

    def __init__(self, doc: Document, at: int, n: int) -> None:
        super().__init__(doc, f"Insert {int(n)} frame{'s' if int(n) != 1 else ''} at {int(at)}")
        self.at, self.n = int(at), int(n)

    def edit(self) -> Callable[[Sequence], Change]:
        at, n = self.at, self.n
        return lambda seq: edits.insert_frames(seq, at, n)


class DeleteFrames(EditCommand):
    """Frames start..end inclusive removed with their keys and record; the cut is bridged by the
    in-betweener (``edits.delete_frames``)."""

    ID = 1010

    def __init__(self, doc: Document, start: int, end: int) -> None:
        super().__init__(doc, f"Delete frames {int(start)}-{int(end)}")
        self.start, self.end = int(start), int(end)

    def edit(self) -> Callable[[Sequence], Change]:
        start, end = self.start, self.end
        return lambda seq: edits.delete_frames(seq, start, end)


class ApplyProposals(EditCommand):
    """Accept FAST's labels and keys for frames [lo, hi) (``edits.replace_segmentation``)."""

    ID = 1008

    def __init__(self, doc: Document, lo: int, hi: int, labels: np.ndarray, keys: Iterable[Keyframe]) -> None:
        super().__init__(doc, f"Accept FAST proposals {lo}-{hi - 1}")
        self.lo, self.hi, self.labels, self.keys = int(lo), int(hi), np.asarray(labels), tuple(keys)

    def edit(self) -> Callable[[Sequence], Change]:
        lo, hi, labels, keys = self.lo, self.hi, self.labels, self.keys
        return lambda seq: edits.replace_segmentation(seq, lo, hi, labels, keys)

"""The open document without Qt: the sequence plus editor state, generations, dirty spans, the
stale-result rule, and undoable edit steps with drag merging.

Views subscribe to ``DocumentModel.events`` (plain ``Event``s); the editor's ``Document`` is a
thin adapter that re-emits them as Qt signals, and its ``QUndoCommand``s drive ``EditStep``s.

Generations: every edit (and anything that asks for generated frames anew: another sequence, a
reroll, another model) bumps ``generation``; a request to the in-betweener carries the
generation its snapshot was taken at, and ``apply_generated`` drops a result whose generation is
not the document's (the stale-result rule). ``pending`` holds the dirty spans not yet
regenerated; a fresh result answers all of them (each new span bumps the generation).

Drags: every step built with the same ``drag_id`` while a gesture is open becomes one undo step.
A continuation is computed from the state *before* the drag (the open step's inverse patch
restores it), with parameters relative to that state (e.g. a mapping from the keys' frames at
drag start), so redo after undo reproduces exactly what the user saw; merging then keeps the
newest parameters and inverse. ``end_drag`` closes the gesture. While nothing else has written
the document since the last step (no in-betweening result), the next step starts from the
pre-drag state the last one was computed from instead of applying the inverse patch again (a
28 MB copy of the rotations per mouse move at 10 minutes).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Protocol

import numpy as np

from .edits import Change, EditError, Patch, apply_patch
from .events import Event
from .sequence import FrameState, Sequence

Span = tuple[int, int]


class GeneratedFrames(Protocol):
    """What ``apply_generated`` needs of an in-betweening result (``core.jobs.InbetweenResult``)."""

    generation: int
    error: str | None

    @property
    def patches(self) -> tuple: ...

    def apply(self, seq: Sequence) -> Sequence: ...


class DocumentEvents:
    """sequence_edited(lo, hi): an edit changed frames [lo, hi) (a new generation).
    frames_generated(lo, hi): in-betweening results were written into frames [lo, hi).
    sequence_replaced(): another sequence was loaded (new file, new length).
    current_frame_changed(frame), selection_changed(), joint_changed(joint), path_changed(),
    seed_changed(seed)."""

    def __init__(self) -> None:
        self.sequence_edited = Event()
        self.frames_generated = Event()
        self.sequence_replaced = Event()
        self.current_frame_changed = Event()
        self.selection_changed = Event()
        self.joint_changed = Event()
        self.path_changed = Event()
        self.seed_changed = Event()


class DocumentModel:
    """State of one open file. Only edit steps call ``apply_edit``; generated frames arrive
    through ``apply_generated`` and are never part of an edit."""

    def __init__(self, sequence: Sequence, path: str | Path | None = None) -> None:
        self.events = DocumentEvents()
        self._seq = sequence
        self.path: Path | None = Path(path) if path else None
        self.generation = 0
        seed = sequence.meta.get("seed", 0)
        self.seed = int(seed) if isinstance(seed, int) else 0
        self.pending: list[Span] = [(0, sequence.n_frames)]  # dirty spans not yet regenerated
        self.current_frame = 0
        self.selected_keys: set[int] = set()
        names = sequence.skeleton.names
        self.joint: int = names.index("right_wrist") if "right_wrist" in names else -1
        self.range: Span | None = None  # a selected frame range, inclusive (regenerate / keep recording)
        self.loop: Span | None = None
        self.open_drag: EditStep | None = None  # the step a gesture in progress merges into

    # --- the sequence ----------------------------------------------------------------------
    @property
    def sequence(self) -> Sequence:
        return self._seq

    @property
    def n_frames(self) -> int:
        return self._seq.n_frames

    @property
    def fps(self) -> float:
        return self._seq.fps

    def apply_edit(self, seq: Sequence, dirty: Span) -> None:
        """Install an edited sequence (edit steps only). Bumps the generation."""
        length_changed = seq.n_frames != self._seq.n_frames
        self._seq = seq
        self.generation += 1
        lo, hi = max(0, dirty[0]), min(seq.n_frames, dirty[1])
        if hi > lo:
            self.pending.append((lo, hi))
        t = seq.n_frames
        self.pending = [(max(0, a), min(t, b)) for a, b in self.pending if min(t, b) > max(0, a)]
        keys = set(seq.key_frames.tolist())
        if not self.selected_keys <= keys:
            self.selected_keys &= keys
            self.events.selection_changed.emit()
        if length_changed:
            self.set_current_frame(min(self.current_frame, seq.n_frames - 1))
        self.events.sequence_edited.emit(lo, hi)

    def apply_generated(self, result: GeneratedFrames) -> bool:
        """Write in-betweening output computed on snapshot ``result.generation``; a stale result
        (the document changed since) or a failed one is dropped and False returned."""
        if result.generation != self.generation or result.error:
            return False
        self._seq = result.apply(self._seq)
        # the request for this generation carried every pending span (each new one bumps it)
        self.pending = []
        if result.patches:
            self.events.frames_generated.emit(min(p.start for p in result.patches), max(p.stop for p in result.patches))
        return True

    def replace_sequence(self, seq: Sequence, path: str | Path | None) -> None:
        """Load a different sequence (open / revert): clears the selection and any open drag."""
        self._seq = seq
        self.path = Path(path) if path else None
        self.generation += 1
        self.pending = [(0, seq.n_frames)]
        self.selected_keys = set()
        self.range = None
        self.loop = None
        self.current_frame = 0
        self.open_drag = None
        ev = self.events
        ev.sequence_replaced.emit()
        ev.path_changed.emit()
        ev.selection_changed.emit()
        ev.current_frame_changed.emit(0)

    def reroll(self) -> int:
        """A new noise seed: every generated frame is redone (not an edit: derived data)."""
        self.seed = random.randrange(1, 2**31 - 1)
        self.generation += 1
        self.pending = [(0, self.n_frames)]
        self.events.seed_changed.emit(self.seed)
        return self.seed

    def invalidate_all(self) -> None:
        """Ask for every generated frame again (another model chosen)."""
        self.generation += 1
        self.pending = [(0, self.n_frames)]

    def end_drag(self) -> None:
        """The gesture is over: the next step starts a new undo step."""
        if self.open_drag is not None:
            self.open_drag.base = None  # the pre-drag state is no longer needed: let it go
        self.open_drag = None

    # --- editor state (not undoable) ------------------------------------------------------
    def set_current_frame(self, frame: int) -> None:
        frame = int(np.clip(frame, 0, self.n_frames - 1))
        if frame != self.current_frame:
            self.current_frame = frame
            self.events.current_frame_changed.emit(frame)

    def select_keys(self, frames, add: bool = False) -> None:
        keys = set(self._seq.key_frames.tolist())
        new = (set(self.selected_keys) if add else set()) | ({int(f) for f in frames} & keys)
        if new != self.selected_keys:
            self.selected_keys = new
            self.events.selection_changed.emit()

    def set_joint(self, joint: int) -> None:
        if joint != self.joint:
            self.joint = int(joint)
            self.events.joint_changed.emit(self.joint)

    def set_range(self, span: Span | None) -> None:
        self.range = span
        self.events.selection_changed.emit()

    def set_path(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self.events.path_changed.emit()

    # --- queries --------------------------------------------------------------------------
    def state_at(self, frame: int) -> FrameState:
        return FrameState(int(self._seq.states[frame]))

    def key_frames(self) -> np.ndarray:
        return self._seq.key_frames

    def current_key(self) -> int | None:
        """The key the inspector edits: the key under the playhead, and only that one (a selected
        key elsewhere is not what the view shows: after a nudge it was edited unseen)."""
        if self._seq.key_at(self.current_frame) is not None:
            return self.current_frame
        return None

    @property
    def title(self) -> str:
        return self.path.name if self.path else "Untitled"


class EditStep:
    """One undoable edit of a ``DocumentModel``: ``compute(seq) -> Change`` (a pure edit of
    ``core.model.edits``), with drag merging (module docstring).

    kind: steps of one drag continue each other only when of the same kind (a retime, a pose
        change); merge_key: further parameters that must match to merge (a pose change's key
        and joints). noop: the parameters change nothing (a drag that came back to its start).
    """

    def __init__(
        self,
        doc: DocumentModel,
        compute: Callable[[Sequence], Change],
        *,
        kind: Hashable,
        drag_id: int | None = None,
        merge_key: Hashable = None,
        noop: bool = False,
    ) -> None:
        self.doc = doc
        self.compute = compute
        self.kind = kind
        self.drag_id = drag_id
        self.merge_key = merge_key
        self.noop = noop
        self.inverse: Patch | None = None
        self.dirty: Span = (0, 0)
        self.redo_patch: Patch | None = None  # while undone: the patch that redoes it (autosave keeps it)
        self._prepared: tuple[Change, Span, Sequence] | None = None
        # during a drag: (the sequence this step installed, the pre-drag state it came from)
        self.base: tuple[Sequence, Sequence] | None = None

    def _open(self) -> EditStep | None:
        od = self.doc.open_drag
        if self.drag_id is None or od is None or od is self or od.drag_id != self.drag_id or od.kind != self.kind:
            return None
        return od

    def prepare(self) -> None:
        """Compute the change now (raises ``EditError`` before anything is applied)."""
        seq = self.doc.sequence
        extra: Span = (0, 0)
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
        doc = self.doc
        if self.drag_id is None:
            doc.end_drag()
        elif self._open() is None:
            doc.end_drag()
            doc.open_drag = self
        self.base = (change.sequence, before) if self.drag_id is not None and pushed else None
        doc.apply_edit(change.sequence, span)

    def undo(self) -> None:
        self.doc.end_drag()
        self.base = None
        change = apply_patch(self.doc.sequence, self.inverse)
        self.redo_patch = change.inverse
        lo, hi = change.dirty
        self.doc.apply_edit(change.sequence, (min(lo, self.dirty[0]), max(hi, self.dirty[1])))

    def can_absorb(self, later: EditStep) -> bool:
        """``later`` is a further step of this step's drag."""
        return (
            self.drag_id is not None
            and later.drag_id == self.drag_id
            and later.kind == self.kind
            and later.merge_key == self.merge_key
        )

    def absorb(self, later: EditStep) -> None:
        """Become the drag's newest step (``later`` was applied already): its parameters, inverse
        and pre-drag state. ``noop`` then tells whether the whole drag changed nothing."""
        self.compute, self.noop = later.compute, later.noop
        self.inverse = later.inverse
        self.dirty = later.dirty
        self.base, later.base = later.base, None


class History:
    """A Qt-free undo stack with ``QUndoStack``'s rules: ``push`` applies a step; a later step of
    the open drag merges into the top one; a merged drag that ends where it started leaves no
    step. (The editor uses ``QUndoStack`` for its history view, over the same ``EditStep``s.)"""

    def __init__(self) -> None:
        self.steps: list[EditStep] = []
        self.index = 0

    def push(self, step: EditStep) -> str | None:
        """Apply ``step``; returns a one-line reason instead when the edit cannot apply."""
        try:
            step.prepare()
        except EditError as e:
            return str(e)
        step.redo()
        del self.steps[self.index :]
        top = self.steps[-1] if self.steps else None
        if top is not None and top.can_absorb(step):
            top.absorb(step)
            if top.noop:
                self.steps.pop()
        else:
            self.steps.append(step)
        self.index = len(self.steps)
        return None

    def undo(self) -> bool:
        if self.index == 0:
            return False
        self.index -= 1
        self.steps[self.index].undo()
        return True

    def redo(self) -> bool:
        if self.index == len(self.steps):
            return False
        self.steps[self.index].redo()
        self.index += 1
        return True

    def count(self) -> int:
        return len(self.steps)

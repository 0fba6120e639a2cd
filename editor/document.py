"""The open document on the Qt side: the sequence plus editor state, announcing changes by signal.

Only undo commands (``editor.commands``) call ``apply_edit``; generated frames arrive through
``apply_generated`` and never touch the undo stack. Views observe the signals and never write.
"""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from core.model.sequence import FrameState, Sequence

if TYPE_CHECKING:
    from core.jobs import InbetweenResult

Span = tuple[int, int]


def prefer_small_pages() -> None:
    """Ask numpy not to advise transparent huge pages for new large arrays.

    Every edit makes a new version of the channels it changes (rotations: 28 MB at 10 minutes).
    When malloc hands such a version fresh memory (the first steps of a drag), touching it with
    huge-page advice cost ~60 ms on the 2-core development VM against ~11 ms with 4 KB pages (measured in
    ``python -m editor.bench``: a 110 ms event at the start of each drag). Setting
    NUMPY_MADVISE_HUGEPAGE keeps the user's choice.
    """
    if os.environ.get("NUMPY_MADVISE_HUGEPAGE") is not None:
        return
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # another numpy layout: keep its default
        return
    _set_madvise_hugepage(False)


class Document(QObject):
    """State of one open file.

    Signals:
      sequenceEdited(lo, hi): an undo command changed frames [lo, hi) (a new generation).
      framesGenerated(lo, hi): in-betweening results were written into frames [lo, hi).
      sequenceReplaced(): a different sequence was loaded (new file, new length).
      currentFrameChanged(frame), selectionChanged(), jointChanged(joint), pathChanged(),
      modifiedChanged(bool), seedChanged(seed).
    """

    sequenceEdited = Signal(int, int)
    framesGenerated = Signal(int, int)
    sequenceReplaced = Signal()
    currentFrameChanged = Signal(int)
    selectionChanged = Signal()
    jointChanged = Signal(int)
    pathChanged = Signal()
    modifiedChanged = Signal(bool)
    seedChanged = Signal(int)

    def __init__(self, sequence: Sequence, path: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        prefer_small_pages()
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean)
        self._seq = sequence
        self.path: Path | None = Path(path) if path else None
        self.generation = 0
        self.seed = int(sequence.meta.get("seed", 0)) if isinstance(sequence.meta.get("seed", 0), int) else 0
        self.pending: list[Span] = [(0, sequence.n_frames)]  # dirty spans not yet regenerated
        self.current_frame = 0
        self.selected_keys: set[int] = set()
        names = sequence.skeleton.names
        self.joint: int = names.index("right_wrist") if "right_wrist" in names else -1
        self.range: Span | None = None  # a selected frame range (for regenerate / keep source)
        self.loop: Span | None = None
        self.open_drag: tuple[int, object] | None = None  # (drag id, command) while a gesture lasts

    def _on_clean(self, clean: bool) -> None:
        self.modifiedChanged.emit(not clean)

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

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def apply_edit(self, seq: Sequence, dirty: Span) -> None:
        """Install an edited sequence (undo commands only). Bumps the generation."""
        length_changed = seq.n_frames != self._seq.n_frames
        self._seq = seq
        self.generation += 1
        lo, hi = max(0, dirty[0]), min(seq.n_frames, dirty[1])
        if hi > lo:
            self.pending.append((lo, hi))
        self.pending = [(max(0, a), min(seq.n_frames, b)) for a, b in self.pending if min(seq.n_frames, b) > max(0, a)]
        keys = set(seq.key_frames.tolist())
        if not self.selected_keys <= keys:
            self.selected_keys &= keys
            self.selectionChanged.emit()
        if length_changed:
            self.set_current_frame(min(self.current_frame, seq.n_frames - 1))
        self.sequenceEdited.emit(lo, hi)

    def apply_generated(self, result: "InbetweenResult") -> bool:
        """Write in-betweening output computed on snapshot ``result.generation``; a stale result
        (the document changed since) is dropped and False returned."""
        if result.generation != self.generation or result.error:
            return False
        self._seq = result.apply(self._seq)
        # the request for this generation carried every pending span (each new one bumps it)
        self.pending = []
        if result.patches:
            self.framesGenerated.emit(min(p.start for p in result.patches), max(p.stop for p in result.patches))
        return True

    def replace_sequence(self, seq: Sequence, path: str | Path | None) -> None:
        """Load a different sequence (open / revert): clears the undo stack and the selection."""
        self._seq = seq
        self.path = Path(path) if path else None
        self.generation += 1
        self.pending = [(0, seq.n_frames)]
        self.selected_keys = set()
        self.range = None
        self.loop = None
        self.current_frame = 0
        self.open_drag = None
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.sequenceReplaced.emit()
        self.pathChanged.emit()
        self.selectionChanged.emit()
        self.currentFrameChanged.emit(0)

    def mark_saved(self, path: str | Path) -> None:
        self.path = Path(path)
        self.undo_stack.setClean()
        self.pathChanged.emit()

    def reroll(self) -> int:
        """A new noise seed: every generated frame is redone (not an edit: derived data)."""
        self.seed = random.randrange(1, 2**31 - 1)
        self.generation += 1
        self.pending = [(0, self.n_frames)]
        self.seedChanged.emit(self.seed)
        return self.seed

    def invalidate_all(self) -> None:
        """Ask for every generated frame again (another model chosen)."""
        self.generation += 1
        self.pending = [(0, self.n_frames)]

    # --- editor state (not undoable) ------------------------------------------------------
    def set_current_frame(self, frame: int) -> None:
        frame = int(np.clip(frame, 0, self.n_frames - 1))
        if frame != self.current_frame:
            self.current_frame = frame
            self.currentFrameChanged.emit(frame)

    def select_keys(self, frames, add: bool = False) -> None:
        keys = set(self._seq.key_frames.tolist())
        new = (set(self.selected_keys) if add else set()) | ({int(f) for f in frames} & keys)
        if new != self.selected_keys:
            self.selected_keys = new
            self.selectionChanged.emit()

    def set_joint(self, joint: int) -> None:
        if joint != self.joint:
            self.joint = int(joint)
            self.jointChanged.emit(self.joint)

    def set_range(self, span: Span | None) -> None:
        self.range = span
        self.selectionChanged.emit()

    # --- queries --------------------------------------------------------------------------
    def state_at(self, frame: int) -> FrameState:
        return FrameState(int(self._seq.states[frame]))

    def key_frames(self) -> np.ndarray:
        return self._seq.key_frames

    def current_key(self) -> int | None:
        """The key the inspector edits: the key under the playhead, else the one selected key."""
        if self._seq.key_at(self.current_frame) is not None:
            return self.current_frame
        if len(self.selected_keys) == 1:
            return next(iter(self.selected_keys))
        return None

    @property
    def title(self) -> str:
        return self.path.name if self.path else "Untitled"

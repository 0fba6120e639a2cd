"""The open document on the Qt side: a thin adapter over ``core.model.document.DocumentModel``.

The state, generations, dirty spans, the stale-result rule and drag merging live in core (no
Qt, testable headless); this class re-emits the model's events as Qt signals and owns the
``QUndoStack`` (the history view needs one). Only undo commands (``editor.commands``) call
``apply_edit``; generated frames arrive through ``apply_generated``. Views observe the signals
and never write.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from core.model.document import DocumentModel, EditStep, Span
from core.model.sequence import FrameState, Sequence

if TYPE_CHECKING:
    from core.model.document import GeneratedFrames


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
    """State of one open file (``model``), announced by signal.

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
        self.model = DocumentModel(sequence, path)
        ev = self.model.events
        ev.sequence_edited.connect(self.sequenceEdited.emit)
        ev.frames_generated.connect(self.framesGenerated.emit)
        ev.sequence_replaced.connect(self._on_replaced)
        ev.current_frame_changed.connect(self.currentFrameChanged.emit)
        ev.selection_changed.connect(self.selectionChanged.emit)
        ev.joint_changed.connect(self.jointChanged.emit)
        ev.path_changed.connect(self.pathChanged.emit)
        ev.seed_changed.connect(self.seedChanged.emit)

    def _on_clean(self, clean: bool) -> None:
        self.modifiedChanged.emit(not clean)

    def _on_replaced(self) -> None:
        self.undo_stack.clear()  # before the views hear of it: no command outlives its sequence
        self.undo_stack.setClean()
        self.sequenceReplaced.emit()

    # --- the model's state ------------------------------------------------------------------
    @property
    def sequence(self) -> Sequence:
        return self.model.sequence

    @property
    def n_frames(self) -> int:
        return self.model.n_frames

    @property
    def fps(self) -> float:
        return self.model.fps

    @property
    def generation(self) -> int:
        return self.model.generation

    @property
    def pending(self) -> list[Span]:
        return self.model.pending

    @property
    def seed(self) -> int:
        return self.model.seed

    @seed.setter
    def seed(self, seed: int) -> None:
        self.model.seed = int(seed)

    @property
    def path(self) -> Path | None:
        return self.model.path

    @path.setter
    def path(self, path: str | Path | None) -> None:
        self.model.path = Path(path) if path else None

    @property
    def current_frame(self) -> int:
        return self.model.current_frame

    @property
    def selected_keys(self) -> set[int]:
        return self.model.selected_keys

    @property
    def joint(self) -> int:
        return self.model.joint

    @property
    def range(self) -> Span | None:
        return self.model.range

    @property
    def loop(self) -> Span | None:
        return self.model.loop

    @property
    def open_drag(self) -> EditStep | None:
        return self.model.open_drag

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def title(self) -> str:
        return self.model.title

    # --- changes (forwarded) ------------------------------------------------------------------
    def apply_edit(self, seq: Sequence, dirty: Span) -> None:
        self.model.apply_edit(seq, dirty)

    def apply_generated(self, result: GeneratedFrames) -> bool:
        return self.model.apply_generated(result)

    def replace_sequence(self, seq: Sequence, path: str | Path | None) -> None:
        """Load a different sequence (open / revert): clears the undo stack and the selection."""
        self.model.replace_sequence(seq, path)

    def mark_saved(self, path: str | Path) -> None:
        self.model.path = Path(path)
        self.undo_stack.setClean()
        self.pathChanged.emit()

    def reroll(self) -> int:
        return self.model.reroll()

    def invalidate_all(self) -> None:
        self.model.invalidate_all()

    def end_drag(self) -> None:
        self.model.end_drag()

    def set_current_frame(self, frame: int) -> None:
        self.model.set_current_frame(frame)

    def select_keys(self, frames, add: bool = False) -> None:
        self.model.select_keys(frames, add)

    def set_joint(self, joint: int) -> None:
        self.model.set_joint(joint)

    def set_range(self, span: Span | None) -> None:
        self.model.set_range(span)

    # --- queries --------------------------------------------------------------------------
    def state_at(self, frame: int) -> FrameState:
        return self.model.state_at(frame)

    def key_frames(self) -> np.ndarray:
        return self.model.key_frames()

    def current_key(self) -> int | None:
        return self.model.current_key()

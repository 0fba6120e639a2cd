"""Keys and frame ranges: undo / redo, selection, insert / delete, nudge, grab / scale, the
timeline's key drags (through the one drag throttle), regenerate / keep recording, accepting
FAST's proposals. Every change is an undo command (``editor.commands``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject

from core.model.sequence import FrameState, Keyframe, segments_from_labels

from .commands import (
    ApplyProposals,
    DeleteFrames,
    DeleteKeys,
    EditCommand,
    InsertFrames,
    InsertKey,
    RetimeKeys,
    SetSpanState,
    end_drag,
    push,
)
from .proposals import fast_unavailable_reason, run_fast
from .tasks import Task
from .throttle import DragThrottle

if TYPE_CHECKING:
    from .main_window import MainWindow

SELECT_FIRST = "Select keys first (click, shift-click or drag a box)"


class KeysController(QObject):
    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.doc = win.doc
        self.timeline = win.timeline
        self.throttle = DragThrottle(parent=self)
        self._tasks: list[Task] = []
        tl = self.timeline
        tl.keysDragged.connect(self._on_dragged)
        tl.keysDragFinished.connect(self._on_drag_finished)
        tl.keysDragCancelled.connect(self._on_drag_cancelled)

    def _status(self, text: str, ms: int) -> None:
        self.win.statusBar().showMessage(text, ms)

    def push(self, cmd: EditCommand) -> bool:
        reason = push(self.doc, cmd)
        if reason:
            self._status(f"Cannot {cmd.text().lower()}: {reason}", 6000)
            return False
        return True

    # --- history and selection --------------------------------------------------------------------
    def act_undo(self) -> None:
        self.doc.undo_stack.undo()

    def act_redo(self) -> None:
        self.doc.undo_stack.redo()

    def act_select_all(self) -> None:
        self.doc.select_keys(self.doc.key_frames().tolist())

    def act_select_none(self) -> None:
        self.doc.select_keys([])
        self.doc.set_range(None)

    def act_select_sign(self) -> None:
        f = self.doc.current_frame
        for s in segments_from_labels(self.doc.sequence.labels):
            if s.start <= f <= s.end:
                self.doc.select_keys([k for k in self.doc.key_frames().tolist() if s.start <= k <= s.end])
                return

    # --- keys -------------------------------------------------------------------------------------
    def act_insert_key(self) -> None:
        f = self.doc.current_frame
        if self.doc.sequence.key_at(f) is not None:
            self._status(f"Frame {f} is already a key", 3000)
            return
        if self.push(InsertKey(self.doc, f)):
            self.doc.select_keys([f])

    def act_delete_keys(self) -> None:
        keys = sorted(self.doc.selected_keys)
        if not keys and self.doc.sequence.key_at(self.doc.current_frame) is not None:
            keys = [self.doc.current_frame]
        if keys:
            self.push(DeleteKeys(self.doc, keys))

    def act_grab(self) -> None:
        if not self.timeline.begin_grab():
            self._status(SELECT_FIRST, 3000)

    def act_scale(self) -> None:
        if not self.timeline.begin_scale():
            self._status(SELECT_FIRST, 3000)

    def _nudge(self, delta: int) -> None:
        keys = sorted(self.doc.selected_keys)
        if keys and self.push(RetimeKeys(self.doc, {k: k + delta for k in keys}, "Nudge keys")):
            self.doc.select_keys([k + delta for k in keys])

    def act_nudge_left(self) -> None:
        self._nudge(-1)

    def act_nudge_right(self) -> None:
        self._nudge(1)

    # --- timeline drags: a throttled stream of merged undo steps, the last on release -------------
    def _on_dragged(self, drag_id: int, mapping: dict, text: str) -> None:
        mapping = dict(mapping)
        self.throttle.step(lambda: self._retime(drag_id, mapping, text))

    def _on_drag_finished(self, drag_id: int, mapping: dict, text: str) -> None:
        self._on_dragged(drag_id, mapping, text)
        self.throttle.flush()
        end_drag(self.doc)

    def _on_drag_cancelled(self, drag_id: int, frames: Iterable[int]) -> None:
        # back to the start: merged into the open step, which then disappears (obsolete)
        self._on_drag_finished(drag_id, {f: f for f in frames}, "Cancel")

    def _retime(self, drag_id: int, mapping: dict[int, int], text: str) -> None:
        od = self.doc.open_drag
        if all(a == b for a, b in mapping.items()) and (od is None or od.drag_id != drag_id):
            return  # nothing moved yet
        if self.push(RetimeKeys(self.doc, mapping, text, drag_id=drag_id)):
            self.doc.select_keys(mapping.values())

    # --- frame ranges -------------------------------------------------------------------------------
    def act_regenerate(self) -> None:
        if self.doc.range:
            self.push(SetSpanState(self.doc, *self.doc.range, FrameState.GENERATED))

    def act_keep_source(self) -> None:
        if self.doc.range:
            self.push(SetSpanState(self.doc, *self.doc.range, FrameState.SOURCE))

    def act_insert_frames(self, n: int | None = None) -> None:
        """Insert frames before the playhead; asks how many unless ``n`` is given."""
        if n is None:
            from PySide6.QtWidgets import QInputDialog

            n, ok = QInputDialog.getInt(
                self.win,
                "Insert frames",
                "Frames to insert before the playhead:",
                int(round(self.doc.sequence.fps)),
                1,
                100_000,
            )
            if not ok:
                return
        self.push(InsertFrames(self.doc, self.doc.current_frame, n))

    def act_delete_frames(self) -> None:
        if not self.doc.range:
            self._status("Select a frame range first (drag in the timeline's state band)", 6000)
            return
        self.push(DeleteFrames(self.doc, *self.doc.range))
        self.doc.set_range(None)

    def act_accept_fast(self) -> Task | None:
        reason = fast_unavailable_reason()
        if reason:
            self._status(f"FAST is not available: {reason}", 6000)
            return None
        seq = self.doc.sequence
        lo, hi = (self.doc.range[0], self.doc.range[1] + 1) if self.doc.range else (0, seq.n_frames)

        def work(progress, cancelled):
            return run_fast(seq, progress=progress)

        task = Task(work, "Segmenting with FAST…", self.win, show_after_ms=150)
        task.done.connect(lambda res, err: self._fast_done(res, err, lo, hi))
        self._tasks.append(task)
        return task.start()

    def _fast_done(self, decoded, error: str, lo: int, hi: int) -> None:
        if error:
            self.win.report_error(self.win, "FAST failed", error)
            return
        keys = [Keyframe(k.frame, k.kind) for k in decoded.keyframes if lo <= k.frame < hi]
        self.push(ApplyProposals(self.doc, lo, hi, np.asarray(decoded.labels)[lo:hi], keys))

    # --- enabled state ------------------------------------------------------------------------------
    def update_enabled(self, acts: dict) -> None:
        doc = self.doc
        sel = bool(doc.selected_keys)
        acts["delete_keys"].setEnabled(sel or doc.sequence.key_at(doc.current_frame) is not None)
        for n in ("grab", "scale", "nudge_left", "nudge_right"):
            acts[n].setEnabled(sel)
        acts["regenerate"].setEnabled(doc.range is not None)
        acts["keep_source"].setEnabled(doc.range is not None)
        acts["undo"].setEnabled(doc.undo_stack.canUndo())
        acts["redo"].setEnabled(doc.undo_stack.canRedo())
        reason = fast_unavailable_reason()
        acts["accept_fast"].setEnabled(reason is None)
        acts["accept_fast"].setToolTip(
            reason or "Replace labels and keys in the selected range (or everywhere) by FAST's proposals (Ctrl+F)"
        )

"""The undo history across a crash: what autosave writes beside the recovery file, and the
undo steps rebuilt from it when the recovery is opened.

Saved: the inverse patch of every done step of the undo stack (``done_patches``). Restored:
one ``RestoredStep`` per patch, pushed without re-applying anything (the recovered document is
already the result of those steps); undoing one applies its patch and keeps the patch that
redoes it, so undo and redo walk the history exactly as before the crash.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtGui import QUndoCommand, QUndoStack

from core.model.edits import EditError, Patch, apply_patch

from .document import Document

log = logging.getLogger(__name__)


class RestoredStep(QUndoCommand):
    """An undo step recovered from a crashed session: holds the patch that undoes it (while
    done) or redoes it (while undone)."""

    def __init__(self, doc: Document, patch: Patch, text: str) -> None:
        super().__init__(text)
        self.doc = doc
        self.patch = patch
        self.done = True
        self._skip_first_redo = True  # pushed onto the stack already applied

    def _swap(self) -> None:
        change = apply_patch(self.doc.sequence, self.patch)
        self.patch = change.inverse
        self.doc.end_drag()
        self.doc.apply_edit(change.sequence, change.dirty)

    def redo(self) -> None:
        if self._skip_first_redo:
            self._skip_first_redo = False
            return
        self._swap()
        self.done = True

    def undo(self) -> None:
        self._swap()
        self.done = False


def done_patches(stack: QUndoStack) -> list[Patch]:
    """The inverse patches of the done steps, oldest first: those of the newest steps that all
    have one (a step without one ends what can be undone after a recovery)."""
    out: list[Patch] = []
    for i in range(stack.index() - 1, -1, -1):
        cmd = stack.command(i)
        patch = None
        if isinstance(cmd, RestoredStep):
            patch = cmd.patch if cmd.done else None
        else:
            step = getattr(cmd, "step", None)
            patch = getattr(step, "inverse", None)
        if patch is None:
            break
        out.append(patch)
    return out[::-1]


def restore_history(doc: Document, recovery: str | Path, editor: dict[str, Any]) -> int:
    """Push the recovered undo steps of ``recovery`` onto ``doc``'s stack; returns how many.
    A missing, foreign or damaged history is logged and skipped: the recovered document stands."""
    from core.io.errors import FormatError
    from core.io.history_file import history_path, read_history

    token = editor.get("history_token")
    hp = history_path(recovery)
    if not isinstance(token, str) or not hp.is_file():
        return 0
    try:
        patches = read_history(hp, token)
    except FormatError as e:
        log.warning("undo history not restored: %s", e)
        return 0
    seq = doc.sequence
    try:  # dry run, newest first: every step must undo cleanly before any is offered
        for p in reversed(patches):
            seq = apply_patch(seq, p).sequence
    except (EditError, ValueError) as e:
        log.warning("undo history not restored (%s does not fit the recovered document: %s)", hp, e)
        return 0
    for i, p in enumerate(patches):
        doc.undo_stack.push(RestoredStep(doc, p, f"Recovered edit {i + 1}"))
    return len(patches)

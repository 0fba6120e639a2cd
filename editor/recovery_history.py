"""The undo stack across a crash: what autosave writes beside the recovery file, and the steps
rebuilt from it when the recovery is opened.

Saved (``stack_patches``): one patch per step and the stack's index: the inverse patch of every
done step, the forward patch of every undone step (``EditStep.redo_patch``, kept by its undo).
Restored (``restore_history``): one ``RestoredStep`` per patch, pushed without re-applying
anything (the recovered document is already the result of the done steps), then the stack is
set back to its index (again applying nothing), so undo and redo walk exactly the stack as it
was before the crash. Undoing or redoing a step applies its patch and keeps the opposite one.
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

    def __init__(self, doc: Document, patch: Patch, text: str, done: bool = True) -> None:
        super().__init__(text)
        self.doc = doc
        self.patch = patch
        self.done = done
        # calls that only rebuild the stack, already in this state: the push's redo, and for an
        # undone step the undo that ``setIndex`` makes
        self._skip = 1 if done else 2

    def _swap(self) -> None:
        if self._skip:
            self._skip -= 1
            return
        change = apply_patch(self.doc.sequence, self.patch)
        self.patch = change.inverse
        self.doc.end_drag()
        self.doc.apply_edit(change.sequence, change.dirty)

    def redo(self) -> None:
        self._swap()
        self.done = True

    def undo(self) -> None:
        self._swap()
        self.done = False


def _patch_of(cmd: QUndoCommand | None, done: bool) -> Patch | None:
    """The patch that undoes (``done``) or redoes ``cmd``; None when it has none."""
    if isinstance(cmd, RestoredStep):
        return cmd.patch if cmd.done == done else None
    step = getattr(cmd, "step", None)
    return getattr(step, "inverse" if done else "redo_patch", None)


def stack_patches(stack: QUndoStack) -> tuple[list[Patch], int]:
    """(patches oldest first, index): the done steps' inverse patches, then the undone steps'
    forward patches. Only the steps next to the index that all have one: a step without one
    ends what can be undone (or redone) after a recovery."""
    done: list[Patch] = []
    for i in range(stack.index() - 1, -1, -1):
        patch = _patch_of(stack.command(i), True)
        if patch is None:
            break
        done.append(patch)
    undone: list[Patch] = []
    for i in range(stack.index(), stack.count()):
        patch = _patch_of(stack.command(i), False)
        if patch is None:
            break
        undone.append(patch)
    return done[::-1] + undone, len(done)


def done_patches(stack: QUndoStack) -> list[Patch]:
    """The inverse patches of the done steps, oldest first."""
    patches, index = stack_patches(stack)
    return patches[:index]


def restore_history(doc: Document, recovery: str | Path, editor: dict[str, Any]) -> tuple[int, str]:
    """Rebuild the saved undo stack of ``recovery`` on ``doc``'s stack: (steps pushed, problem).
    A missing history is no problem (nothing was undoable); a foreign, damaged or unfitting one
    is skipped, the recovered document stands, and ``problem`` says why in one line."""
    from core.io.errors import FormatError
    from core.io.history_file import history_path, read_stack

    token = editor.get("history_token")
    hp = history_path(recovery)
    if not isinstance(token, str) or not hp.is_file():
        return 0, ""
    try:
        history = read_stack(hp, token)
    except FormatError as e:
        log.warning("undo history not restored: %s", e)
        return 0, f"Recovered without undo history: {e}"
    try:  # dry runs from the recovered state: every step must apply before any is offered
        seq = doc.sequence
        for p in reversed(history.done):
            seq = apply_patch(seq, p).sequence
        seq = doc.sequence
        for p in history.undone:
            seq = apply_patch(seq, p).sequence
    except (EditError, ValueError) as e:
        log.warning("undo history not restored (%s does not fit the recovered document: %s)", hp, e)
        return 0, f"Recovered without undo history: {hp.name} does not fit the recovered document ({e})"
    stack = doc.undo_stack
    for i, p in enumerate(history.patches):
        stack.push(RestoredStep(doc, p, f"Recovered edit {i + 1}", done=i < history.index))
    stack.setIndex(history.index)  # the undone steps' undo is skipped: nothing changes
    return len(history.patches), ""

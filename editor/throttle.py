"""The one throttle of drag gestures: a drag's steps reach the document at most every
``DRAG_STEP_MS``; the newest step wins and the last one is applied at once when the gesture ends.

A step of a key drag on a 10-minute document re-times up to a sign's worth of frames and makes
new versions of the channels it touches: taking every mouse move (~80 a second) would keep the
GUI thread busy. The in-betweening bridge does not throttle again: it sends one request per
event-loop turn after an edit.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

DRAG_STEP_MS = 40


class DragThrottle(QObject):
    """``step(apply)``: run ``apply`` (it pushes the drag's undo command) soon, replacing any step
    still waiting; ``flush()``: run the waiting step now (the gesture ended)."""

    def __init__(self, interval_ms: int = DRAG_STEP_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._waiting: Callable[[], None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)

    def step(self, apply: Callable[[], None]) -> None:
        self._waiting = apply
        if not self._timer.isActive():
            self._timer.start(self.interval_ms)

    def flush(self) -> None:
        self._timer.stop()
        apply, self._waiting = self._waiting, None
        if apply is not None:
            apply()

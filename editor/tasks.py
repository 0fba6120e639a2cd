"""Long operations (opening a big file, FAST on a long sequence, export) off the GUI thread,
with a progress dialog that appears when the work takes a moment and a Cancel button.

The work function gets ``progress(fraction)`` and ``cancelled()``; a cancelled task's result is
thrown away (a reader that cannot stop half-way simply finishes in the background).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from core.io.errors import FormatError


class Task(QObject):
    """Signals (GUI thread): done(result, error: str), progressed(fraction)."""

    done = Signal(object, str)
    progressed = Signal(float)
    _finish = Signal(object, str)
    _progress = Signal(float)

    def __init__(
        self, fn: Callable[..., Any], label: str, parent: QWidget | None = None, show_after_ms: int = 300
    ) -> None:
        super().__init__(parent)
        self.fn = fn
        self.label = label
        self.cancel_requested = False
        self.finished = False
        self.result: Any = None
        self.error = ""
        self._dialog: QProgressDialog | None = None
        self._parent = parent
        self._finish.connect(self._on_finish, Qt.ConnectionType.QueuedConnection)
        self._progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.timeout.connect(self._show_dialog)
        self._show_after = show_after_ms
        self.started_at = 0.0

    def start(self) -> Task:
        self.started_at = time.perf_counter()
        self._show_timer.start(self._show_after)
        threading.Thread(target=self._run, name=f"signframe-task:{self.label}", daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            result = self.fn(progress=self._progress.emit, cancelled=lambda: self.cancel_requested)
            self._finish.emit(result, "")
        except FormatError as e:
            self._finish.emit(None, str(e))
        except Exception as e:  # shown to the user as one line; the trace goes to the log
            traceback.print_exc()
            self._finish.emit(None, f"{type(e).__name__}: {e}".splitlines()[0])

    def _show_dialog(self) -> None:
        if self.finished:
            return
        d = QProgressDialog(self.label, "Cancel", 0, 0, self._parent)
        d.setWindowTitle("Signframe")
        d.setWindowModality(Qt.WindowModality.WindowModal)
        d.setMinimumDuration(0)
        d.canceled.connect(self.cancel)
        d.show()
        self._dialog = d

    def _on_progress(self, fraction: float) -> None:
        if self._dialog is not None:
            self._dialog.setMaximum(1000)
            self._dialog.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self.progressed.emit(fraction)

    def cancel(self) -> None:
        self.cancel_requested = True
        self._close_dialog()

    def _close_dialog(self) -> None:
        self._show_timer.stop()
        if self._dialog is not None:
            d, self._dialog = self._dialog, None
            d.canceled.disconnect(self.cancel)
            d.close()
            d.deleteLater()

    def _on_finish(self, result: Any, error: str) -> None:
        self.finished = True
        self.result, self.error = result, error
        self._close_dialog()
        if self.cancel_requested:
            return
        self.done.emit(result, error)

"""Qt bridge over ``core.jobs.DocumentLink``: document edits in, regenerated frames out, on the
GUI thread.

Each event-loop turn with edits sends one frozen snapshot; the worker's results
are re-emitted through a queued signal so they land on the GUI thread, where the link applies
them (results for an older generation than the document's are dropped: core's rule).
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from core.jobs import InbetweenResult
from core.jobs.document_link import DocumentLink

from .document import Document


class InbetweenBridge(QObject):
    """Signals (GUI thread):
    started(generation): the worker picked up a request.
    finished(result, applied): a result arrived; ``applied`` False when it was stale.
    stateChanged(text): "idle" / "running" / "error: ..." for the status bar.
    """

    started = Signal(int)
    finished = Signal(object, bool)
    stateChanged = Signal(str)
    _fromWorker = Signal(object)
    _startedInWorker = Signal(int)

    def __init__(
        self, doc: Document, model: str = "eased", options: dict | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.doc = doc
        self.last_latency_ms: float | None = None
        self.device = "cpu"
        self.running = False
        self._edit_time: float | None = None
        self._held = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.submit_now)
        self._fromWorker.connect(self._on_result, Qt.ConnectionType.QueuedConnection)
        self._startedInWorker.connect(self._on_started, Qt.ConnectionType.QueuedConnection)
        # the worker's Python (solver loop, numpy glue) holds the GIL in slices of the switch
        # interval: 5 ms by default, long enough to push GUI events past a frame; 1 ms keeps the
        # GUI thread's waits short (measured in ``python -m editor.bench``)
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        self.link = DocumentLink(
            doc.model,
            self._fromWorker.emit,
            model=model,
            options=options,
            on_started=lambda req: self._startedInWorker.emit(req.generation),
        )
        self.service = self.link.service
        doc.sequenceEdited.connect(lambda lo, hi: self.schedule())
        doc.sequenceReplaced.connect(self.schedule)
        doc.seedChanged.connect(lambda seed: self.schedule())

    # --- the link's state -----------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.link.model

    @property
    def options(self) -> dict:
        return self.link.options

    @property
    def last_result(self) -> InbetweenResult | None:
        return self.link.last_result

    @property
    def results_applied(self) -> int:
        return self.link.results_applied

    @property
    def results_dropped(self) -> int:
        return self.link.results_dropped

    @property
    def last_applied_at(self) -> float:
        return self.link.last_applied_at

    # --- models ---------------------------------------------------------------------------
    def models(self):
        """[(spec, reason or None)] for the model menu."""
        return self.link.models()

    def set_model(self, name: str, options: dict | None = None) -> str | None:
        """Switch the in-betweener; returns the reason when it is not available."""
        reason = self.link.set_model(name, options)
        if reason:
            return reason
        self.warm_up()
        self.schedule()
        return None

    def hold(self) -> None:
        """Queue nothing until ``release`` (the window is not up yet: torch must not load before)."""
        self._held = True

    def release(self) -> None:
        self._held = False
        self.warm_up()
        self.schedule(timed=False)

    def warm_up(self) -> None:
        """Create a torch model in the worker ahead of time (the first torch import happens there)."""
        if not self._held:
            self.link.warm_up()

    # --- requests -------------------------------------------------------------------------
    def schedule(self, timed: bool = True) -> None:
        """Submit on the next event-loop turn (the edits of one turn make one request; drags are
        throttled where their steps are made: ``editor.throttle``). ``timed``: the status bar's
        latency counts from now (an edit), else from the submit."""
        if self._held:
            return
        if self._edit_time is None and timed:
            self._edit_time = time.perf_counter()
        if not self._timer.isActive():
            self._timer.start(0)

    def reset_timing(self) -> None:
        """The next result's latency counts from its submit (start-up is not an edit)."""
        self._edit_time = None

    def submit_now(self) -> None:
        self._timer.stop()
        self.link.submit()
        self._set_running(True)

    def _on_started(self, generation: int) -> None:
        self.started.emit(generation)

    def _on_result(self, result: InbetweenResult) -> None:
        applied = self.link.receive(result)
        self.device = result.device
        if applied:
            now = self.link.last_applied_at
            self.last_latency_ms = (now - self._edit_time) * 1e3 if self._edit_time else result.latency_ms
            self._edit_time = None
            if self.doc.pending:  # the latest edit went first: the backlog follows
                self.schedule(timed=False)
        if result.error:
            self.stateChanged.emit(f"error: {result.error}")
            self.running = False
        elif result.generation == self.doc.generation:
            self._set_running(False)
        self.finished.emit(result, applied)

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.stateChanged.emit("running" if running else "idle")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self.link.wait_idle(timeout)

    def shutdown(self) -> None:
        self._timer.stop()
        self.link.close()

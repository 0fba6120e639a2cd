"""The edit -> worker -> apply loop of one document, without Qt.

``submit`` snapshots the document (sequence, dirty spans, generation, seed) into a frozen
``InbetweenRequest`` for the service's worker thread. The service hands results to ``on_result``
*in the worker thread*; the owner moves each to the document's thread (the editor: a queued Qt
signal; a script or test: a queue) and calls ``receive`` there, which applies it unless it is
stale (``DocumentModel.apply_generated``) and keeps the counts the status bar and benchmarks read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..model.document import DocumentModel
from .inbetweeners import available_models, model_spec
from .requests import InbetweenRequest, InbetweenResult
from .service import InbetweenService

# a backlog larger than this (frames) is served after the latest edit's own span
BACKLOG_FRAMES = 2000


def first_spans(pending: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """What the next request carries: every pending span, or only the newest (the latest edit)
    when the others add up to a large backlog (a just-opened file: its whole length). The first
    edit after opening a 10-minute file otherwise waited for the whole file's in-betweening."""
    if len(pending) > 1 and sum(b - a for a, b in pending[:-1]) > BACKLOG_FRAMES:
        return [pending[-1]]
    return list(pending)


class DocumentLink:
    """One document's requests and results.

    on_result(result): called in the worker thread (see module docstring).
    on_started(request): called in the worker thread when a request starts running.
    """

    def __init__(
        self,
        doc: DocumentModel,
        on_result: Callable[[InbetweenResult], None],
        *,
        on_started: Callable[[InbetweenRequest], None] | None = None,
        model: str = "eased",
        options: dict[str, Any] | None = None,
        **service_options: Any,
    ) -> None:
        self.doc = doc
        self.model = model
        self.options: dict[str, Any] = dict(options or {})
        self.last_result: InbetweenResult | None = None
        self.results_applied = 0
        self.results_dropped = 0
        self.last_submit = 0.0  # perf_counter of the last submit
        self.last_applied_at = 0.0  # perf_counter of the last applied result
        self.service = InbetweenService(on_result, on_started=on_started, **service_options)

    # --- models ---------------------------------------------------------------------------
    def models(self):
        """[(spec, reason or None)] for a model menu."""
        return available_models(self.options)

    def set_model(self, name: str, options: dict[str, Any] | None = None) -> str | None:
        """Switch the in-betweener (every generated frame is redone); returns the reason when it
        is not available."""
        if options is not None:
            self.options = dict(options)
        reason = model_spec(name).available(self.options)
        if reason:
            return reason
        self.model = name
        self.doc.invalidate_all()
        return None

    def options_tuple(self) -> tuple[tuple[str, Any], ...]:
        return tuple(sorted((k, v) for k, v in self.options.items()))

    def warm_up(self) -> None:
        """Create a torch model in the worker ahead of time (the first torch import happens there)."""
        if model_spec(self.model).uses_torch:
            self.service.preload(self.model, self.options_tuple())

    # --- requests and results -------------------------------------------------------------
    def request(self) -> InbetweenRequest:
        """The document's snapshot: what is dirty, at which generation."""
        doc = self.doc
        first = first_spans(doc.pending)
        # held back for the next request: put back as pending when this result is applied
        self._backlog = (doc.generation, [s for s in doc.pending if s not in first])
        spans = tuple(first) or ((0, 0),)  # nothing dirty: still answer (the first result shows)
        return InbetweenRequest(doc.sequence, spans, doc.generation, self.model, doc.seed, self.options_tuple())

    def submit(self) -> InbetweenRequest:
        req = self.request()
        self.last_submit = time.perf_counter()
        self.service.submit(req)
        return req

    def receive(self, result: InbetweenResult) -> bool:
        """On the document's thread: apply ``result`` unless stale or failed; True when applied."""
        applied = self.doc.apply_generated(result)
        generation, backlog = getattr(self, "_backlog", (None, []))
        if applied and backlog and generation == result.generation:
            self.doc.pending.extend(backlog)  # the latest edit went first; the rest is next
            self._backlog = (None, [])
        self.last_result = result
        if applied:
            self.results_applied += 1
            self.last_applied_at = time.perf_counter()
        else:
            self.results_dropped += 1
        return applied

    @property
    def current(self) -> bool:
        """No edit since the last result: the document's generation is the result's."""
        return self.last_result is not None and self.last_result.generation == self.doc.generation

    def wait_idle(self, timeout: float | None = 10.0) -> bool:
        return self.service.wait_idle(timeout)

    def close(self) -> None:
        self.service.close()

"""One worker thread running in-betweening requests: the latest request wins.

``submit`` replaces whatever is waiting; a running job sees ``cancel()`` turn True as soon as a
newer request arrives and stops at its next check (between solver steps, between spans).
Results are handed to ``on_result`` *in the worker thread*, carrying their request's generation:
the receiver (the editor's Qt bridge) moves them to its own thread and drops stale ones.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .inbetweeners import Inbetweener, model_spec
from .requests import InbetweenRequest, InbetweenResult, merge_spans

log = logging.getLogger(__name__)

ResultFn = Callable[[InbetweenResult], None]
StartFn = Callable[[InbetweenRequest], None]


def pick_device(preferred: str | None = None) -> str:
    """ "cuda" when torch sees a GPU (or ``preferred`` when given), else "cpu". Imports torch."""
    if preferred:
        return preferred
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class InbetweenService:
    """In-betweening on one background thread.

    on_result(result): called in the worker thread for every finished (not cancelled) request.
    on_started(request): called in the worker thread when a request starts running.
    torch_threads: intra-op threads for torch models (1: measured 10x faster next to an animating
        GUI on 2 cores than torch's default of one per core).
    device: force "cpu" / "cuda"; None picks CUDA when available.
    """

    def __init__(
        self,
        on_result: ResultFn,
        *,
        on_started: StartFn | None = None,
        torch_threads: int = 1,
        device: str | None = None,
    ) -> None:
        self._on_result = on_result
        self._on_started = on_started
        self._torch_threads = torch_threads
        self._device_pref = device
        self._cond = threading.Condition()
        self._pending: InbetweenRequest | None = None
        self._preload: list[tuple[str, tuple]] = []
        self._running = False
        self._stop = False
        self._models: dict[tuple[str, tuple], Inbetweener] = {}
        self._torch_ready = False
        self.device = "cpu"
        self._thread = threading.Thread(target=self._loop, name="signframe-inbetween", daemon=True)
        self._thread.start()

    # --- called from any thread -------------------------------------------------------------
    def submit(self, request: InbetweenRequest) -> None:
        """Queue ``request``, replacing any waiting one; a running job will be cancelled."""
        with self._cond:
            self._pending = request
            self._cond.notify_all()

    def preload(self, model: str, options: tuple[tuple[str, Any], ...] = ()) -> None:
        """Create ``model`` in the worker ahead of the first request (imports torch there)."""
        with self._cond:
            self._preload.append((model, tuple(options)))
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._running or self._pending is not None or bool(self._preload)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is running or waiting; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._running or self._pending is not None or self._preload:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Cancel the running job and stop the thread."""
        with self._cond:
            self._stop = True
            self._pending = None
            self._preload.clear()
            self._cond.notify_all()
        self._thread.join(timeout)

    # --- worker thread --------------------------------------------------------------------
    def _cancelled(self) -> bool:
        return self._stop or self._pending is not None

    def _model(self, name: str, options: tuple) -> Inbetweener:
        key = (name, options)
        model = self._models.get(key)
        if model is None:
            spec = model_spec(name)
            device = "cpu"
            if spec.uses_torch:
                device = pick_device(self._device_pref)
                if not self._torch_ready:
                    import torch

                    torch.set_num_threads(self._torch_threads)
                    self._torch_ready = True
            model = spec.make(device, **dict(options))
            self._models[key] = model
        self.device = getattr(model, "device", "cpu")
        return model

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not (self._stop or self._pending is not None or self._preload):
                    self._cond.wait()
                if self._stop:
                    self._running = False
                    self._cond.notify_all()
                    return
                preload = self._preload.pop(0) if self._preload else None
                request = None if preload else self._pending
                if request is not None:
                    self._pending = None
                self._running = True
            try:
                if preload is not None:
                    try:
                        self._model(*preload)
                    except Exception:  # reported when a request uses it
                        log.exception("preloading in-betweener %s failed", preload[0])
                else:
                    self._run(request)
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()

    def _run(self, req: InbetweenRequest) -> None:
        if self._on_started is not None:
            self._on_started(req)
        t0 = time.perf_counter()
        try:
            model = self._model(req.model, req.options)
            seq = req.sequence
            patches = []
            spans = merge_spans(seq, req.spans)
            for lo, hi in spans:
                if self._cancelled():
                    return
                # span-local output: no O(T) copy of the whole sequence
                patches.append(model.fill_patch(seq, (lo, hi), self._cancelled, req.seed))
        except Exception as e:
            if self._cancelled():
                return  # the solver noticed the newer request (its own Cancelled, or ours)
            log.exception("in-betweening failed")
            self._deliver(
                InbetweenResult(
                    req.generation,
                    req.model,
                    self.device,
                    spans=req.spans,
                    compute_ms=(time.perf_counter() - t0) * 1e3,
                    latency_ms=(time.perf_counter() - req.submitted_at) * 1e3,
                    error=f"{type(e).__name__}: {e}".splitlines()[0],
                )
            )
            return
        if self._cancelled():
            return  # finished, but a newer snapshot is waiting: this one is stale already
        now = time.perf_counter()
        self._deliver(
            InbetweenResult(
                req.generation,
                req.model,
                self.device,
                tuple(patches),
                tuple(spans),
                compute_ms=(now - t0) * 1e3,
                latency_ms=(now - req.submitted_at) * 1e3,
            )
        )

    def _deliver(self, result: InbetweenResult) -> None:
        try:
            self._on_result(result)
        except Exception:
            log.exception("in-betweening result handler failed")

"""A plain event: a model announces a change, views subscribe (napari's layer events, minimal).

No Qt: a GUI adapter connects its own signals' ``emit`` as callbacks. Callbacks run at once, on
the thread that emitted, in the order they were connected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Callback = Callable[..., Any]


class Event:
    """``connect(fn)``, ``disconnect(fn)``, ``emit(*args)``."""

    __slots__ = ("_callbacks",)

    def __init__(self) -> None:
        self._callbacks: list[Callback] = []

    def connect(self, fn: Callback) -> Callback:
        self._callbacks.append(fn)
        return fn

    def disconnect(self, fn: Callback) -> None:
        self._callbacks.remove(fn)

    def emit(self, *args: Any) -> None:
        for fn in tuple(self._callbacks):  # a callback may connect or disconnect others
            fn(*args)

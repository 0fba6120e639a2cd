"""The in-betweening service: latest request wins, cancellable, Qt-free.

- ``requests``: the frozen objects that cross the thread boundary (request, result, frame patch)
- ``inbetweeners``: the ``Inbetweener`` protocol and the model registry (name -> factory)
- ``service``: ``InbetweenService``, one worker thread
- ``document_link``: ``DocumentLink``, one document's edit -> worker -> apply loop (no Qt)

Nothing here imports torch at import time: a model's factory imports it, in the worker thread.
"""

from .document_link import DocumentLink
from .inbetweeners import (
    MODELS,
    Cancelled,
    Inbetweener,
    ModelSpec,
    SlerpInbetweener,
    available_models,
    create,
    model_spec,
    register,
)
from .requests import FramePatch, InbetweenRequest, InbetweenResult, merge_spans
from .service import InbetweenService

__all__ = [
    "MODELS",
    "Cancelled",
    "Inbetweener",
    "ModelSpec",
    "SlerpInbetweener",
    "available_models",
    "create",
    "model_spec",
    "register",
    "FramePatch",
    "InbetweenRequest",
    "InbetweenResult",
    "merge_spans",
    "InbetweenService",
    "DocumentLink",
]

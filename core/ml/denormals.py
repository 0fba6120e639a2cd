"""Flush denormal floats to zero while a torch model runs, and only then.

Denormals (Mish of large negative activations) made forward passes 10-100x slower on CPU
(measured). The flag is per thread and process-global within it, so it is switched on around the
model's work and off again: a caller's own numpy arithmetic afterwards sees IEEE subnormals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def flushing_denormals() -> Iterator[None]:
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)

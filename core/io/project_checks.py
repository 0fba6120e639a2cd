"""Checks on a project's array manifest made before any array is allocated."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import FormatError


def check_manifest_shape(path: Path, name: str, shape: object, t: int, dtype: object, budget: int) -> tuple[int, ...]:
    """The manifest's ``shape`` for array ``name`` as a tuple of ints, ``t`` frames first, whose
    size in bytes (at ``dtype``) fits ``budget``: a sparse array is allocated from the manifest
    alone, so a claimed shape must be bounded before ``np.zeros`` sees it."""
    if not isinstance(shape, list) or not 1 <= len(shape) <= 8:
        raise FormatError(path, f"array {name!r}: bad shape {shape!r} in the manifest")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise FormatError(path, f"array {name!r}: bad shape {shape!r} in the manifest")
    if shape[0] != t:
        raise FormatError(path, f"array {name!r} has shape {tuple(shape)}, expected {t} frames")
    try:
        itemsize = np.dtype(dtype).itemsize if isinstance(dtype, str) else 8
    except (TypeError, ValueError):
        itemsize = 8
    count = 1
    for n in shape:
        count *= n
    if count * max(1, itemsize) > budget:
        raise FormatError(
            path, f"array {name!r}: the manifest claims shape {tuple(shape)}, more than this file may allocate"
        )
    return tuple(shape)

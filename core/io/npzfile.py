"""Safe ``.npz`` reading and atomic writing shared by the npz-based formats.

Never unpickles (object dtypes refused); sizes are checked before allocating (``safezip``);
every failure (not a zip, truncated, an object array, a corrupt member, over the cap) becomes
a one-line ``FormatError`` naming the file and the key.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path
from .errors import FormatError
from .safezip import SafeZip, open_zip


class NpzReader:
    """Key access to an open npz archive with errors that name the file."""

    def __init__(self, path: Path, archive: SafeZip) -> None:
        self.path = path
        self._zip = archive
        # numpy's convention: member "x.npy" is key "x"
        self._members = {(n[:-4] if n.endswith(".npy") else n): n for n in archive.names}
        self.keys: frozenset[str] = frozenset(self._members)

    def has(self, key: str) -> bool:
        return key in self.keys

    def fail(self, problem: str) -> FormatError:
        return FormatError(self.path, problem)

    def array(self, key: str) -> np.ndarray:
        """The array stored under ``key``; its header is checked before anything is allocated,
        object arrays are refused (they would need pickle)."""
        if key not in self.keys:
            raise self.fail(f"missing key {key!r}")
        return self._zip.npy(self._members[key], key)

    def numeric(self, key: str) -> np.ndarray:
        """A finite int/float array as float64 (bools refused)."""
        a = self.array(key)
        if a.dtype.kind not in "iuf":
            raise self.fail(f"key {key!r} holds {a.dtype} data, expected numbers")
        a = a.astype(np.float64)
        if not np.isfinite(a).all():
            raise self.fail(f"key {key!r} contains NaN or infinite values")
        return a

    def text(self, key: str, default: str = "") -> str:
        """A string stored as a 0-d or one-element unicode/bytes array."""
        if key not in self.keys:
            return default
        a = self.array(key)
        if a.size != 1 or a.dtype.kind not in "US":
            raise self.fail(f"key {key!r} should hold one string, got {a.dtype} array of shape {a.shape}")
        v = a.reshape(()).item()
        return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)

    def scalar(self, key: str) -> float:
        a = self.numeric(key)
        if a.size != 1:
            raise self.fail(f"key {key!r} should hold one number, got shape {a.shape}")
        return float(a.reshape(()))


@contextlib.contextmanager
def open_npz(path: str | Path) -> Iterator[NpzReader]:
    """An npz archive checked before reading (``safezip``): a regular file, supported and
    unencrypted members, inflating to no more than ``limits.decompressed_cap`` of its size."""
    path = Path(path)
    with open_zip(path, "readable .npz archive") as archive:
        if not any(n.endswith(".npy") for n in archive.names):
            raise FormatError(path, "not an .npz archive of arrays (no .npy members)")
        yield NpzReader(path, archive)


def write_npz(path: str | Path, arrays: Mapping[str, np.ndarray], *, compress: bool = False) -> None:
    """Write ``arrays`` atomically; refuses object arrays so the result never needs pickle."""
    path = Path(path)
    clean: dict[str, Any] = {}  # Any: numpy types savez(**kw) as if allow_pickle were one of them
    for k, v in arrays.items():
        a = np.asarray(v)
        if a.dtype.kind == "O":
            raise FormatError(path, f"cannot store {k!r}: object arrays would need pickle")
        clean[k] = a
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        (np.savez_compressed if compress else np.savez)(f, **clean)


def load_all(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an npz file, read through the same checks as ``open_npz`` (FormatError)."""
    with open_npz(path) as r:
        return {k: r.array(k) for k in sorted(r.keys)}

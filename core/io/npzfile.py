"""Safe ``.npz`` reading and atomic writing shared by the npz-based formats.

Never unpickles (``allow_pickle=False``); every failure (not a zip, truncated, an object array,
a corrupt member) becomes a one-line ``FormatError`` naming the file and the key.
"""

from __future__ import annotations

import contextlib
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path
from .errors import FormatError

# What numpy / zipfile raise on damaged archives.
_LOAD_ERRORS = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


class NpzReader:
    """Key access to an open npz archive with errors that name the file."""

    def __init__(self, path: Path, npz: np.lib.npyio.NpzFile) -> None:
        self.path = path
        self._npz = npz
        self.keys: frozenset[str] = frozenset(npz.files)

    def has(self, key: str) -> bool:
        return key in self.keys

    def fail(self, problem: str) -> FormatError:
        return FormatError(self.path, problem)

    def array(self, key: str) -> np.ndarray:
        """The array stored under ``key``; refuses object arrays (they would need pickle)."""
        if key not in self.keys:
            raise self.fail(f"missing key {key!r}")
        try:
            return np.asarray(self._npz[key])
        except _LOAD_ERRORS as e:
            raise self.fail(f"key {key!r} cannot be read ({type(e).__name__}: {e})") from None

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
        if a.size != 1 or a.dtype.kind not in "USO":
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
    path = Path(path)
    try:
        npz = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FormatError(path, "no such file") from None
    except _LOAD_ERRORS as e:
        raise FormatError(
            path, f"not a readable .npz archive, damaged or truncated ({type(e).__name__}: {e})"
        ) from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise FormatError(path, "a single .npy array, not an .npz archive")
    try:
        yield NpzReader(path, npz)
    finally:
        npz.close()


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

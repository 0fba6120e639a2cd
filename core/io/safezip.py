"""Zip archives and ``.npy`` members read without trusting a single declared size.

``zipfile`` and ``np.load`` trust the file: a member with an unsupported compression method or
the "encrypted" flag raises NotImplementedError / RuntimeError, a zip bomb inflates to gigabytes,
and an npy header claiming 1e9 rows makes numpy allocate the whole array before reading a byte.
Here every archive is checked from its central directory first (member count, encryption,
compression method, total inflated size against ``limits.decompressed_cap``), and every npy
member's header is parsed and its shape x itemsize checked against the member's real size and
the remaining budget before any array is allocated. Object dtypes are refused (no pickle).
"""

from __future__ import annotations

import contextlib
import io
import lzma
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from . import limits
from .errors import FormatError

# Methods the standard library inflates; 9 (deflate64) and 99 (AES) are not among them.
SUPPORTED_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}
# What zipfile / zlib raise on damaged archives and members (bz2 / lzma raise OSError / EOFError).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    lzma.LZMAError,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    KeyError,
    NotImplementedError,
    RuntimeError,
)
_NPY_KINDS = "biufcUS"
_MAX_NDIM = 8


def _mib(n: int | float) -> str:
    return f"{n / 2**20:.1f} MiB"


class SafeZip:
    """An open zip archive whose members were checked against ``budget`` inflated bytes."""

    def __init__(self, path: Path, source: str | Path | IO[bytes], budget: int, what: str = "archive") -> None:
        self.path = path
        size = len(source.getbuffer()) if isinstance(source, io.BytesIO) else Path(source).stat().st_size  # type: ignore[arg-type]
        try:
            _check_directory_size(path, source, size, what)
            self.zip = zipfile.ZipFile(source)
        except FormatError:
            raise
        except ZIP_ERRORS as e:
            raise FormatError(path, f"not a readable {what} (not a zip: {type(e).__name__}: {e})") from None
        try:
            infos = self.zip.infolist()
            if len(infos) > limits.MAX_ZIP_MEMBERS:
                raise FormatError(path, f"{what} has {len(infos)} members, more than {limits.MAX_ZIP_MEMBERS}")
            total = 0
            for info in infos:
                if info.flag_bits & 0x1:
                    raise FormatError(path, f"{what} member {info.filename!r} is encrypted")
                if info.compress_type not in SUPPORTED_METHODS:
                    raise FormatError(
                        path, f"{what} member {info.filename!r}: unsupported compression method {info.compress_type}"
                    )
                if info.compress_size > size or info.header_offset + info.compress_size > size:
                    # zipfile reads a member's declared compressed size in one call: a lie
                    # here would allocate it (gigabytes) before any check could run
                    raise FormatError(
                        path,
                        f"{what} member {info.filename!r} claims {_mib(info.compress_size)} of data, "
                        f"the archive holds {_mib(size)}",
                    )
                total += max(0, info.file_size)
            if total > budget:
                raise FormatError(
                    path, f"{what} would inflate to {_mib(total)}, more than the {_mib(budget)} allowed for this file"
                )
        except BaseException:
            self.zip.close()
            raise
        self.budget = budget
        self.names = [i.filename for i in infos]

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()

    def info(self, name: str) -> zipfile.ZipInfo | None:
        try:
            return self.zip.getinfo(name)
        except KeyError:
            return None

    def read(self, name: str, limit: int | None = None) -> bytes:
        """A member's bytes (KeyError when absent); at most ``limit`` bytes or FormatError."""
        info = self.zip.getinfo(name)
        if limit is not None and info.file_size > limit:
            raise FormatError(self.path, f"member {name!r} is {_mib(info.file_size)}, more than {_mib(limit)}")
        try:
            return self.zip.read(info)
        except ZIP_ERRORS as e:
            raise FormatError(self.path, f"member {name!r} cannot be read ({type(e).__name__}: {e})") from None

    def npy(self, name: str, key: str | None = None) -> np.ndarray:
        """The array in ``.npy`` member ``name``, its header checked before allocating."""
        info = self.zip.getinfo(name)
        label = key if key is not None else name
        try:
            with self.zip.open(info) as f:
                return read_npy(f, info.file_size, self.path, label)
        except FormatError:
            raise
        except ZIP_ERRORS as e:
            raise FormatError(self.path, f"key {label!r} cannot be read ({type(e).__name__}: {e})") from None


def _check_directory_size(path: Path, source: str | Path | IO[bytes], size: int, what: str) -> None:
    """``ZipFile`` reads the central directory in one call of the size the end record claims:
    refuse a claim larger than the archive before it allocates it."""
    end_record = getattr(zipfile, "_EndRecData", None)  # the stdlib's own parser of that record
    if end_record is None:
        return
    with contextlib.ExitStack() as stack:
        fp = source if not isinstance(source, (str, Path)) else stack.enter_context(open(source, "rb"))
        rec = end_record(fp)
        if isinstance(source, io.BytesIO):
            source.seek(0)
    if rec and not 0 <= rec[5] <= size:  # _ECD_SIZE: bytes of central directory
        raise FormatError(
            path, f"not a readable {what} (its directory claims {_mib(rec[5])}, the file is {_mib(size)})"
        )


def open_zip(path: str | Path, what: str = "archive") -> SafeZip:
    """Open a zip file on disk: a regular file, its members within the cap for its size."""
    path = Path(path)
    size = limits.check_regular_file(path)
    return SafeZip(path, path, limits.decompressed_cap(size), what)


def read_npy(f: IO[bytes], size: int, path: Path, key: str) -> np.ndarray:
    """Read one ``.npy`` stream of ``size`` bytes: header first, then exactly the data it
    declares, which must fit in ``size`` (so no claimed shape can allocate past the file)."""

    def bad(problem: str) -> FormatError:
        return FormatError(path, f"key {key!r}: {problem}")

    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise bad(f"npy format version {version[0]}.{version[1]} is not supported")
    except FormatError:
        raise
    except Exception as e:  # numpy's header parser raises ValueError, SyntaxError, tokenize errors...
        raise bad(f"not a readable .npy header ({type(e).__name__}: {e})".splitlines()[0]) from None
    dt = np.dtype(dtype)
    if dt.hasobject:
        raise bad("holds Python objects (would need pickle); refused")
    if dt.fields is not None or dt.subdtype is not None or dt.kind not in _NPY_KINDS:
        raise bad(f"unsupported dtype {dt}")
    if not isinstance(shape, tuple) or len(shape) > _MAX_NDIM or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise bad(f"bad shape {shape!r}")
    count = 1
    for n in shape:
        count *= n  # Python ints: no overflow, however large the claim
    nbytes = count * dt.itemsize
    header = f.tell() if f.seekable() else 0
    if nbytes > size - header:
        raise bad(f"header claims shape {shape} ({_mib(nbytes)}), the member holds {_mib(max(0, size - header))}")
    out = np.empty(count, dt)
    view = out.view(np.uint8) if nbytes else np.empty(0, np.uint8)
    got = 0
    while got < nbytes:
        chunk = f.read(min(nbytes - got, 1 << 24))
        if not chunk:
            raise bad(f"truncated: {got} of {nbytes} data bytes")
        view[got : got + len(chunk)] = np.frombuffer(chunk, np.uint8)
        got += len(chunk)
    return out.reshape(shape, order="F" if fortran else "C")


def nested_zip(outer: SafeZip, member: str, what: str) -> SafeZip:
    """A zip stored as a member of ``outer`` (a project's ``frames.npz``), within its budget."""
    data = outer.read(member, limit=outer.budget)
    return SafeZip(outer.path, io.BytesIO(data), outer.budget, what)

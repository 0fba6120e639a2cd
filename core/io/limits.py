"""The documented limits every reader enforces before it allocates (hostile-file hardening).

A file may make a reader allocate at most ``decompressed_cap(file size)`` bytes of decompressed
data: ``EXPANSION`` times its own size, or ``FLOOR_BYTES`` for small files, whichever is larger,
and never more than ``CEILING_BYTES``. Motion is float32 and barely compresses (deflate buys
~10 %), so an honest file is far inside the cap; a zip bomb is refused from its headers, before
a byte is inflated. Counts (frames, joints, JSON nesting, BVH depth) and the frame rate have
fixed bounds. Everything here is checked on numbers the file declares, before reading the data.
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path

import numpy as np

from .errors import FormatError

EXPANSION = 16  # decompressed bytes per byte of file
FLOOR_BYTES = 64 * 2**20  # small files may always inflate to this much
CEILING_BYTES = 2 * 2**30  # no file, however large, inflates to more
MAX_TEXT_BYTES = 64 * 2**20  # text formats (BVH, OpenPose JSON, project.json): 10 min of 60 fps BVH is ~40 MB
MAX_FRAMES = 1_000_000  # 11 h at 25 fps
MAX_JOINTS = 1024
MAX_BVH_DEPTH = 128  # SMPL-X's deepest chain is 9 joints; real rigs stay under 40
MAX_JSON_DEPTH = 64  # project.json nests 4 deep; editor metadata a few more
MIN_FPS = 1.0
MAX_FPS = 1000.0
MAX_ZIP_MEMBERS = 10_000
MAX_UNDO_STEPS = 10_000  # steps in a saved undo history (each holds at least one zip member)


def decompressed_cap(file_size: int) -> int:
    """Most bytes a file of ``file_size`` bytes may inflate to."""
    return int(min(CEILING_BYTES, max(FLOOR_BYTES, EXPANSION * file_size)))


def check_regular_file(path: str | Path) -> int:
    """The size of ``path``; FormatError unless it is a regular file (after symlinks).

    A FIFO would block the reader forever and a device (``/dev/zero``) would be read until
    memory runs out, so neither is ever opened."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FormatError(path, "no such file") from None
    except OSError as e:
        raise FormatError(path, f"cannot read: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise FormatError(path, "is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "a socket or special file"
        )
        raise FormatError(path, f"not a regular file ({kind}); refusing to read it")
    return int(st.st_size)


def check_text_size(path: str | Path, size: int, limit: int = MAX_TEXT_BYTES) -> None:
    if size > limit:
        raise FormatError(
            path, f"file is {size / 2**20:.0f} MiB, more than the {limit / 2**20:.0f} MiB this reader accepts"
        )


def read_text_capped(path: str | Path, limit: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of a regular file no larger than ``limit`` (checked before and while reading)."""
    size = check_regular_file(path)
    check_text_size(path, size, limit)
    try:
        with open(path, "rb") as f:
            data = f.read(min(size, limit) + 1)  # read(n) allocates n bytes up front
    except OSError as e:
        raise FormatError(path, f"cannot read: {e.strerror or e}") from None
    check_text_size(path, len(data), limit)
    return data


def check_fps(path: str | Path, fps: object, what: str = "frame rate") -> float:
    """``fps`` as a float; FormatError unless a finite number within [MIN_FPS, MAX_FPS]."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)):
        raise FormatError(path, f"{what} {fps!r} is not a number")
    try:
        v = float(fps)
    except OverflowError:  # an integer past float range
        raise FormatError(path, f"{what} {fps} is outside {MIN_FPS:g}..{MAX_FPS:g}") from None
    if not (math.isfinite(v) and MIN_FPS <= v <= MAX_FPS):
        raise FormatError(path, f"{what} {v:g} fps is outside {MIN_FPS:g}..{MAX_FPS:g}")
    return v


def check_count(path: str | Path, n: int, limit: int, what: str) -> None:
    if n > limit:
        raise FormatError(path, f"{n} {what}, more than the {limit} this reader accepts")


def json_depth_ok(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests at most ``limit`` brackets deep (brackets inside strings do not
    count), checked before parsing: ``json.loads`` recurses once per level and overflows the
    stack at ~1,000. Vectorised: strings are blanked, then the bracket balance is summed."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "replace")
    bare = _JSON_STRING.sub(b'""', raw)
    b = np.frombuffer(bare, np.uint8)
    step = np.isin(b, _OPEN).astype(np.int64) - np.isin(b, _CLOSE).astype(np.int64)
    return bool(step.size == 0 or np.cumsum(step).max() <= limit)


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPEN = np.frombuffer(b"[{", np.uint8)
_CLOSE = np.frombuffer(b"]}", np.uint8)

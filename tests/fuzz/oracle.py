"""Run one reader on one file and classify what happened.

Outcomes: ``ok`` (a sequence that passes the invariants below), ``garbage`` (a sequence that
breaks one: accepted without an error), ``error`` (the one-line error naming the file),
``bug`` (the one-line error, but produced by the registry's last line of defence from an
unexpected exception: the reader missed a check), ``traceback`` (any other exception: what a
user would see as a traceback), ``badline`` (an error of our family that is not one line or
does not name the file), ``overcap`` (peak traced allocation over the file's cap, or a
MemoryError), ``hang`` (set by the driver when a read passes its time limit).

The invariants are written here independently of ``core.io.sanity``: frame rate within
1..1000, at least one frame, every float channel finite, rotations orthonormal with det +1,
keyframes and segments inside the frames; EAF segments within ``MAX_FRAMES``.
"""

from __future__ import annotations

import time
import traceback
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OUTCOMES = ("ok", "error", "garbage", "bug", "traceback", "badline", "overcap", "hang")
EAF_FPS = 25.0


@dataclass
class Result:
    outcome: str
    detail: str
    seconds: float
    peak_bytes: int


def _where(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    return f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"


def invariants_broken(seq) -> str | None:
    if not (np.isfinite(seq.fps) and 1.0 <= seq.fps <= 1000.0):
        return f"fps {seq.fps}"
    if seq.n_frames < 1:
        return "no frames"
    for name, a in seq.frame_arrays().items():
        a = np.asarray(a)
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            return f"non-finite {name}"
    r = np.asarray(seq.rotations, np.float64).reshape(-1, 3, 3)
    if r.size and (
        np.abs(r @ np.swapaxes(r, 1, 2) - np.eye(3)).max() > 1e-2 or np.abs(np.linalg.det(r) - 1).max() > 1e-2
    ):
        return "rotations not orthonormal"
    t = seq.n_frames
    if any(not 0 <= k.frame < t for k in seq.keyframes):
        return "keyframe outside the frames"
    if any(not 0 <= g.start <= g.end < t for g in seq.glosses):
        return "segment outside the frames"
    return None


def read_one(path: Path, fmt: str, cap_bytes: int | None = None, trace: bool = True) -> Result:
    """Read ``path`` with the reader API of ``fmt`` and classify the outcome."""
    from core.errors import UserError
    from core.io import limits, registry
    from core.io.errors import FormatError

    if cap_bytes is None:
        try:
            cap_bytes = limits.decompressed_cap(path.stat().st_size)
        except OSError:
            cap_bytes = limits.FLOOR_BYTES
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    outcome, detail = "ok", ""
    try:
        if fmt == "eaf":
            from core.io.eaf import read_segments

            segs = read_segments(path, EAF_FPS)
            bad = [s for s in segs if not 0 <= s.start <= s.end < limits.MAX_FRAMES]
            if bad:
                outcome, detail = "garbage", f"segment {bad[0].start}..{bad[0].end}"
        else:
            seq = registry.read(path)
            broken = invariants_broken(seq)
            if broken:
                outcome, detail = "garbage", broken
    except (FormatError, UserError) as e:
        text = str(e)
        if "\n" in text or (path.name not in text and str(path) not in text):
            outcome, detail = "badline", text[:200]
        elif e.__cause__ is not None and not isinstance(e.__cause__, (FormatError, UserError)):
            outcome, detail = "bug", f"{text[:200]} at {_where(e.__cause__)}"
        else:
            outcome, detail = "error", text[:200]
    except MemoryError as e:
        outcome, detail = "overcap", f"MemoryError {e} at {_where(e)}"
    except Exception as e:  # noqa: BLE001 - this is what the suite counts
        outcome, detail = "traceback", f"{type(e).__name__}: {e}"[:200] + f" at {_where(e)}"
    seconds = time.perf_counter() - t0
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if peak > cap_bytes and outcome != "overcap":
            outcome, detail = "overcap", f"peak {peak / 2**20:.0f} MiB > cap {cap_bytes / 2**20:.0f} MiB ({outcome})"
    return Result(outcome, detail, seconds, peak)

"""The undo stack saved beside a recovery project (``<recovery>.history.npz``).

What makes undo and redo work after a crash: one patch (``core.model.edits.Patch``: the frames
it replaces, the key and gloss lists it sets) per step of the stack, oldest first, and the
stack's current ``index`` (how many steps are done). A done step (``i < index``) stores its
inverse patch: applying those newest first walks the recovered document back. An undone step
(``i >= index``) stores its forward patch: applying those oldest first walks it forward again.
Applying any patch returns the opposite one, so each step can go back and forth.

Layout: ``format``, ``token`` (the same random string the recovery project's editor metadata
carries, so a history is never applied to a project it was not written with), ``index`` (one
int64; format 2), ``manifest`` (JSON list: per step ``start``, ``n_old``, the channel names,
keyframes, glosses) and arrays ``p<step>_<channel index>``. Format 1 (no ``index``) held done
steps only and is still read. Every field is checked against ``core.io.limits`` (at most
``MAX_UNDO_STEPS`` steps, frame counts within ``MAX_FRAMES``). No pickle; read through
``npzfile`` (sizes checked before allocating).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..model.edits import Patch
from ..model.sequence import Keyframe, KeyKind, Segment
from . import limits
from .errors import FormatError
from .npzfile import open_npz, write_npz

FORMAT = "signframe-undo-history-2"  # whole stack + index (older builds refuse it: safe)
FORMAT_V1 = "signframe-undo-history"  # done steps only


@dataclass(frozen=True)
class History:
    """A saved undo stack: ``patches`` oldest first; the first ``index`` are done steps (their
    inverse patches), the rest undone steps (their forward patches)."""

    patches: tuple[Patch, ...]
    index: int

    @property
    def done(self) -> tuple[Patch, ...]:
        return self.patches[: self.index]

    @property
    def undone(self) -> tuple[Patch, ...]:
        return self.patches[self.index :]


def history_path(project: str | Path) -> Path:
    project = Path(project)
    return project.with_name(project.name + ".history.npz")


def write_history(path: str | Path, patches: Seq[Patch], token: str, index: int | None = None) -> None:
    """Write the stack atomically: ``patches`` oldest first, the first ``index`` (default: all)
    done steps' inverse patches, the rest undone steps' forward patches."""
    index = len(patches) if index is None else int(index)
    if not 0 <= index <= len(patches):
        raise ValueError(f"index {index} outside 0..{len(patches)}")
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "token": np.array(token),
        "index": np.array(index, np.int64),
    }
    manifest = []
    for i, p in enumerate(patches):
        names = list(p.arrays)
        for j, name in enumerate(names):
            arrays[f"p{i}_{j}"] = np.asarray(p.arrays[name])
        manifest.append(
            {
                "start": int(p.start),
                "n_old": int(p.n_old),
                "arrays": names,
                "keyframes": [[int(k.frame), KeyKind(k.kind).value] for k in p.keyframes],
                # every field, by name: a field added to Segment later travels too
                "glosses": [{f.name: getattr(g, f.name) for f in dataclasses.fields(g)} for g in p.glosses],
            }
        )
    arrays["manifest"] = np.array(json.dumps(manifest))
    write_npz(path, arrays)


def _int(v: Any, lo: int, hi: int, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{what} {v!r} is not an integer in {lo}..{hi}")
    return v


def _list(v: Any, limit: int, what: str) -> list:
    if not isinstance(v, list):
        raise ValueError(f"{what} is {type(v).__name__}, not a list")
    if len(v) > limit:
        raise ValueError(f"{len(v)} {what}, more than the {limit} accepted")
    return v


def _patch(m: dict, arrays: dict[str, np.ndarray], i: int) -> Patch:
    """Step ``i`` of the manifest (an object), checked field by field."""
    start = _int(m.get("start"), 0, limits.MAX_FRAMES, f"step {i} start")
    n_old = _int(m.get("n_old"), 0, limits.MAX_FRAMES, f"step {i} n_old")
    lengths = {a.shape[0] if a.ndim else -1 for a in arrays.values()}
    if len(lengths) > 1 or -1 in lengths or any(n > limits.MAX_FRAMES for n in lengths):
        raise ValueError(f"step {i} channels disagree on their frame count ({sorted(lengths)})")
    keys = []
    for k in _list(m.get("keyframes"), limits.MAX_FRAMES, f"step {i} keyframes"):
        if not (isinstance(k, list) and len(k) == 2):
            raise ValueError(f"step {i} keyframe {k!r} is not [frame, kind]")
        keys.append(Keyframe(_int(k[0], 0, limits.MAX_FRAMES, f"step {i} key frame"), KeyKind(k[1])))
    glosses = []
    for g in _list(m.get("glosses"), limits.MAX_FRAMES, f"step {i} glosses"):
        if not isinstance(g, dict):
            raise ValueError(f"step {i} gloss {g!r} is not an object")
        glosses.append(Segment(**g))
    return Patch(start, n_old, arrays, tuple(keys), tuple(glosses))


def read_stack(path: str | Path, token: str | None = None) -> History:
    """The saved undo stack; FormatError (one line, naming the file) when unreadable, damaged,
    beyond the limits, or written with another project (``token`` differs)."""
    path = Path(path)
    with open_npz(path) as r:
        fmt = r.text("format")
        if fmt not in (FORMAT, FORMAT_V1):
            raise r.fail("not a Signframe undo history")
        if token is not None and r.text("token") != token:
            raise r.fail("undo history belongs to another recovery file")
        raw = r.text("manifest")
        if not limits.json_depth_ok(raw):
            raise r.fail("manifest nests too deep")
        try:
            manifest = _list(json.loads(raw), limits.MAX_UNDO_STEPS, "undo steps")
            if fmt == FORMAT:
                idx = r.array("index")
                if idx.shape != () or idx.dtype.kind not in "iu":
                    raise ValueError(f"index should be one integer, got {idx.dtype} array of shape {idx.shape}")
                index = _int(int(idx), 0, len(manifest), "index")
            else:
                index = len(manifest)  # format 1: every step was a done one
            out = []
            for i, m in enumerate(manifest):
                if not isinstance(m, dict):
                    raise ValueError(f"step {i} is {type(m).__name__}, not an object")
                names = _list(m.get("arrays"), limits.MAX_ZIP_MEMBERS, f"step {i} channels")
                if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
                    raise ValueError(f"step {i} channel names {names!r} are not distinct strings")
                arrays = {name: r.array(f"p{i}_{j}") for j, name in enumerate(names)}
                out.append(_patch(m, arrays, i))
        except FormatError:
            raise
        except (ValueError, TypeError, KeyError, OverflowError) as e:
            raise r.fail(f"damaged undo history ({type(e).__name__}: {e})") from None
    return History(tuple(out), index)


def read_history(path: str | Path, token: str | None = None) -> list[Patch]:
    """The done steps' inverse patches (oldest first); see ``read_stack`` for the whole stack."""
    return list(read_stack(path, token).done)

"""The undo history saved beside a recovery project (``<recovery>.history.npz``).

What makes undo work after a crash: the inverse patch of every done step (``core.model.edits
.Patch``: the frames it replaced, the key and gloss lists before it), oldest first. Applying
them newest first walks the recovered document back through its history; each application
returns the forward patch, so redo works too. Layout: ``format``, ``token`` (the same random
string the recovery project's editor metadata carries, so a history is never applied to a
project it was not written with), ``manifest`` (JSON: per step ``start``, ``n_old``, the
channel names, keyframes, glosses) and arrays ``p<step>_<channel index>``. No pickle; read
through ``npzfile`` (sizes checked before allocating).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence as Seq
from pathlib import Path

import numpy as np

from ..model.edits import Patch
from ..model.sequence import Keyframe, KeyKind, Segment
from . import limits
from .errors import FormatError
from .npzfile import open_npz, write_npz

FORMAT = "signframe-undo-history"


def history_path(project: str | Path) -> Path:
    project = Path(project)
    return project.with_name(project.name + ".history.npz")


def write_history(path: str | Path, patches: Seq[Patch], token: str) -> None:
    """Write the done steps' inverse patches (oldest first) atomically."""
    arrays: dict[str, np.ndarray] = {"format": np.array(FORMAT), "token": np.array(token)}
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


def read_history(path: str | Path, token: str | None = None) -> list[Patch]:
    """The inverse patches (oldest first); FormatError when unreadable or written with another
    project (``token`` differs)."""
    path = Path(path)
    with open_npz(path) as r:
        if r.text("format") != FORMAT:
            raise r.fail("not a Signframe undo history")
        if token is not None and r.text("token") != token:
            raise r.fail("undo history belongs to another recovery file")
        raw = r.text("manifest")
        if not limits.json_depth_ok(raw):
            raise r.fail("manifest nests too deep")
        try:
            manifest = json.loads(raw)
            out = []
            for i, m in enumerate(manifest):
                arrays = {name: r.array(f"p{i}_{j}") for j, name in enumerate(m["arrays"])}
                keys = tuple(Keyframe(int(f), KeyKind(k)) for f, k in m["keyframes"])
                glosses = tuple(Segment(**g) for g in m["glosses"])
                out.append(Patch(int(m["start"]), int(m["n_old"]), arrays, keys, glosses))
        except FormatError:
            raise
        except (ValueError, TypeError, KeyError, OverflowError) as e:
            raise r.fail(f"damaged undo history ({type(e).__name__}: {e})") from None
    return out

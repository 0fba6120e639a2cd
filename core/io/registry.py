"""One registry of file formats, chosen by extension (longest match first).

Format modules are imported only when used, so reading a project never imports pose-format.
Each format module defines ``read(path, **options) -> Sequence`` and/or
``write(path, seq, **options) -> None`` and raises ``FormatError`` for bad input.
``.npz`` files are sniffed: several formats share that extension.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..model.sequence import Sequence, SequenceError
from .errors import FormatError
from .limits import check_regular_file
from .sanity import check_sequence

# What a reader bug can raise on hostile input; mapped to the one-line error, never a traceback.
LAST_DEFENCE = (
    ValueError,
    KeyError,
    IndexError,
    OSError,
    EOFError,
    TypeError,
    AttributeError,
    ArithmeticError,
    RecursionError,
    NotImplementedError,
    RuntimeError,
    UnicodeError,
    SyntaxError,
    AssertionError,
)


@dataclass(frozen=True)
class Format:
    name: str
    module: str  # "core.io.<module>"
    extensions: tuple[str, ...]
    readable: bool = True
    writable: bool = True
    description: str = ""

    def load(self):
        return importlib.import_module(self.module)


FORMATS: tuple[Format, ...] = (
    Format("project", "core.io.project", (".signframe",), description="Signframe project (zip of JSON + npz)"),
    Format(
        "joints",
        "core.io.joints",
        (".joints.npz",),
        readable=False,
        description="world joint positions (T, J, 3), for evaluation",
    ),
    Format("signspark", "core.io.signspark_record", (".signspark.npz",), description="SignSparK per-clip record"),
    Format(
        "smplx", "core.io.smplx_npz", (".npz", ".smplx.npz"), description="SMPL-X parameters (AMASS or per-part layout)"
    ),
    Format(
        "pose",
        "core.io.pose_file",
        (".pose",),
        writable=False,
        description="pose-format landmarks (MediaPipe Holistic)",
    ),
    Format(
        "openpose",
        "core.io.openpose_json",
        ("_keypoints.json",),
        writable=False,
        description="OpenPose JSON keypoints, one file per frame (the clip is read whole)",
    ),
    Format("bvh", "core.io.bvh", (".bvh",), description="Biovision hierarchy"),
    Format("fbx", "core.io.fbx", (".fbx",), readable=False, description="Autodesk FBX 7.4 binary"),
    Format("eaf", "core.io.eaf", (".eaf",), description="ELAN annotation (segments only)"),
)


def _by_extension(path: Path) -> Format | None:
    name = path.name.lower()
    best = None
    for fmt in FORMATS:
        for ext in fmt.extensions:
            if name.endswith(ext) and (best is None or len(ext) > len(best[1])):
                best = (fmt, ext)
    return best[0] if best else None


def _sniff_npz(path: Path) -> Format:
    """Pick the npz flavour from its keys."""
    from .safezip import open_zip

    with open_zip(path, "readable .npz archive") as z:  # checked: no trusted sizes
        keys = {n[:-4] for n in z.names if n.endswith(".npy")}
    names = {f.name: f for f in FORMATS}
    if "positions" in keys and "joint_names" in keys:
        return names["joints"]
    if {"left_features", "right_features"} & keys or "body_features" in keys:
        return names["signspark"]
    return names["smplx"]


def format_for(path: str | Path, *, for_write: bool = False) -> Format:
    path = Path(path)
    fmt = _by_extension(path)
    if fmt is None:
        known = ", ".join(sorted({e for f in FORMATS for e in f.extensions}))
        raise FormatError(path, f"unknown file extension (known: {known})")
    if not for_write and fmt.name == "smplx" and path.exists():
        fmt = _sniff_npz(path)
    if for_write and not fmt.writable:
        raise FormatError(path, f"{fmt.name} files can be read but not written")
    if not for_write and not fmt.readable:
        raise FormatError(path, f"{fmt.name} files can be written but not read")
    return fmt


def read(path: str | Path, **options: Any) -> Sequence:
    """Read any supported file into a Sequence. Raises FormatError with a one-line message."""
    path = Path(path)
    check_regular_file(path)  # never open a FIFO or a device: they block or never end
    fmt = format_for(path)
    try:
        seq = fmt.load().read(path, **options)
    except FormatError:
        raise
    except SequenceError as e:  # the model's own validation of what the reader built
        raise FormatError(path, f"inconsistent {fmt.name} data: {e}") from None
    except (*LAST_DEFENCE, MemoryError) as e:
        # last line of defence: a reader bug or an unexpected layout still names the file
        # (``__cause__`` is kept: the fuzz suite counts these as reader bugs)
        raise FormatError(path, f"cannot read as {fmt.name}: {type(e).__name__}: {e}") from e
    return check_sequence(path, seq)


def write(path: str | Path, seq: Sequence, **options: Any) -> None:
    """Write ``seq`` in the format the extension names (atomically)."""
    fmt = format_for(path, for_write=True)
    fmt.load().write(Path(path), seq, **options)

"""The handshape palette: named handshapes made from real recorded hands, plus the user's own.

Bundled shapes: ``assets/handshapes/handshapes.npz`` (built by ``scripts/make_handshapes.py``
from the fingerspelling lexicon; provenance per shape in the file and in the folder's README).
Every shape is stored as a RIGHT hand: 15 local finger-joint rotations in SMPL-X hand order
(index, middle, pinky, ring, thumb; 3 joints each). A left hand gets the mirror image
(F R F, F = diag(1, -1, -1), the hand model's convention).

User shapes live in one ``.npz`` of the same layout (read with ``allow_pickle=False``); a bad
file raises ``FormatError`` naming the file and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_path
from ..io.errors import FormatError
from ..model.rotations import flip_hand, is_rotation
from ..model.skeleton import N_BODY, N_HAND

BUNDLED = Path(__file__).resolve().parents[2] / "assets" / "handshapes" / "handshapes.npz"


@dataclass(frozen=True, eq=False)
class Handshape:
    """name: identifier; label: what the palette shows; rotations: (15, 3, 3) float32 right hand
    (read-only); provenance: where it came from; user: saved by the user."""

    name: str
    label: str
    rotations: np.ndarray
    provenance: str
    user: bool = False

    def for_side(self, side: str) -> np.ndarray:
        """(15, 3, 3) float32 local rotations for the ``side`` hand."""
        r = self.rotations if side == "right" else flip_hand(self.rotations)
        return np.asarray(r, np.float32).copy()


def hand_slice(side: str) -> slice:
    start = N_BODY if side == "left" else N_BODY + N_HAND
    return slice(start, start + N_HAND)


def hand_of(rotations: np.ndarray, side: str) -> np.ndarray:
    """A pose's ``side`` hand (J, 3, 3) -> (15, 3, 3) in the right-hand convention."""
    r = np.asarray(rotations)[hand_slice(side)]
    return np.asarray(r if side == "right" else flip_hand(r), np.float32)


def read_handshapes(path: str | Path, user: bool = False) -> list[Handshape]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("names", "labels", "rotations") if k not in z.files]
            if missing:
                raise FormatError(path, f"not a handshape file (no {missing[0]!r} array)")
            names, labels, rot = z["names"], z["labels"], z["rotations"]
            prov = z["provenance"] if "provenance" in z.files else np.array([""] * len(names))
    except FileNotFoundError:
        raise FormatError(path, "no such file") from None
    except (OSError, ValueError) as e:
        raise FormatError(path, f"not a readable handshape file ({e})") from None
    if rot.ndim != 4 or rot.shape[1:] != (N_HAND, 3, 3) or not (len(names) == len(labels) == len(rot) == len(prov)):
        raise FormatError(path, f"handshapes must be (N, {N_HAND}, 3, 3) with N names and labels, got {rot.shape}")
    if not np.isfinite(rot).all() or not is_rotation(rot, atol=1e-3).all():
        raise FormatError(path, "a handshape holds something that is not a rotation matrix")
    out = []
    for n, lab, r, p in zip(names, labels, rot.astype(np.float32), prov):
        r.setflags(write=False)
        out.append(Handshape(str(n), str(lab), r, str(p), user))
    return out


def bundled_handshapes() -> list[Handshape]:
    return read_handshapes(BUNDLED)


def write_handshapes(path: str | Path, shapes: list[Handshape]) -> None:
    """Write ``shapes`` atomically (the user file)."""
    path = Path(path)
    arrays = {
        "names": np.array([s.name for s in shapes], dtype=str),
        "labels": np.array([s.label for s in shapes], dtype=str),
        "rotations": np.asarray([s.rotations for s in shapes], np.float32).reshape(-1, N_HAND, 3, 3),
        "provenance": np.array([s.provenance for s in shapes], dtype=str),
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]


def save_user_handshape(path: str | Path, name: str, rotations: np.ndarray, side: str, provenance: str) -> Handshape:
    """Add (or replace) the user shape ``name`` made from a ``side`` hand (15, 3, 3); returns it."""
    path = Path(path)
    shapes = read_handshapes(path, user=True) if path.exists() else []
    r = np.asarray(rotations, np.float32)
    r = r if side == "right" else flip_hand(r).astype(np.float32)
    new = Handshape(name, name, r, provenance, True)
    shapes = [s for s in shapes if s.name != name] + [new]
    write_handshapes(path, shapes)
    return new

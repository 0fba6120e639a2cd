"""The Signframe project file (``.signframe``): one document, everything needed to resume editing.

A zip archive (stored, not deflated: see ``write``) with two members:

- ``project.json``: ``format`` ("signframe-project"), ``version`` (int), ``fps``, ``n_frames``,
  ``text``, ``language``, ``skeleton`` (``names``, ``parents``, ``offsets``, ``tips``, metres),
  ``keyframes`` [{frame, kind}], ``glosses`` [{start, end, gloss}], ``meta`` (source facts),
  ``editor`` (editor metadata: playhead, selection, seed, view...; JSON, opaque here), ``media``
  (optional: reference video / audio links, relative paths and offsets, ``core.media.links``) and
  ``arrays``: for each per-frame array of ``Sequence.frame_arrays()`` (``extra:`` channels
  included) its npz member, dtype and shape.
- ``frames.npz``: the per-frame arrays (members ``a0``, ``a1``, ... named in ``arrays``, so no
  channel name ever becomes a path). ``source_rotations`` / ``source_translation`` are stored
  only at the frames where they differ from ``rotations`` / ``translation`` (``diff_of``): a
  freshly imported document stores its motion once. ``source_valid`` likewise differs from
  ``valid``; the editing layers ``warp`` and ``offsets`` (``core.model.layers``) are stored
  ``sparse``: only their non-zero frames.

Versions: 1 had no editing layers (the record and the shown motion only); such a file opens with
an identity warp and no corrections. 2 adds ``warp``, ``offsets`` and ``source_valid``.

No pickle anywhere (``allow_pickle=False``); writes are atomic (temp file + rename).
A file written by a newer Signframe (higher ``version``) is refused with a clear message.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..media.links import MediaLink, links_to_json, parse_links
from ..model.sequence import FRAME_FIELDS, LAYER_FIELDS, Keyframe, KeyKind, Segment, Sequence, SequenceError
from ..model.skeleton import Skeleton
from ..model.template import TEMPLATE
from . import limits
from .atomic import atomic_path
from .errors import FormatError
from .project_checks import check_manifest_shape
from .safezip import ZIP_ERRORS, SafeZip, nested_zip, open_zip
from .sanity import rotations_ok

FORMAT_NAME = "signframe-project"
VERSION = 2
JSON_MEMBER = "project.json"
FRAMES_MEMBER = "frames.npz"
# Stored as differences from the displayed motion (mostly equal to it).
DIFF_OF = {"source_rotations": "rotations", "source_translation": "translation", "source_valid": "valid"}
# Stored as their non-zero frames (zero almost everywhere).
SPARSE = ("warp", "offsets")
_ZIP_ERRORS = ZIP_ERRORS


def _to_json(x: Any) -> Any:
    """Meta / editor values -> plain JSON types (numpy arrays and scalars included)."""
    if isinstance(x, Mapping):
        return {str(k): _to_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_to_json(v) for v in x]
    if isinstance(x, np.ndarray):
        return _to_json(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    return x


def _skeleton_json(sk: Skeleton) -> dict[str, Any]:
    return {
        "names": list(sk.names),
        "parents": list(sk.parents),
        "offsets": sk.offsets.tolist(),
        "tips": sk.tips.tolist(),
    }


def _encode_arrays(seq: Sequence) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    manifest: dict[str, Any] = {}
    members: dict[str, np.ndarray] = {}
    arrays = seq.frame_arrays()
    for name, a in arrays.items():
        entry: dict[str, Any] = {"dtype": a.dtype.str, "shape": list(a.shape)}
        base = DIFF_OF.get(name)
        if name in SPARSE:
            nz = np.nonzero(a.reshape(a.shape[0], -1).any(axis=1))[0]
            fm, vm = f"a{len(members)}", f"a{len(members) + 1}"
            members[fm], members[vm] = nz.astype(np.int64), a[nz]
            entry.update(sparse=True, frames=fm, values=vm)
        elif base is not None:
            ref = arrays[base]
            differs = np.nonzero((a != ref).reshape(a.shape[0], -1).any(axis=1))[0]
            fm, vm = f"a{len(members)}", f"a{len(members) + 1}"
            members[fm], members[vm] = differs.astype(np.int64), a[differs]
            entry.update(diff_of=base, frames=fm, values=vm)
        else:
            m = f"a{len(members)}"
            members[m] = a
            entry["member"] = m
        manifest[name] = entry
    return manifest, members


def _document(seq: Sequence, editor: Mapping[str, Any] | None, manifest: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "version": VERSION,
        "fps": seq.fps,
        "n_frames": seq.n_frames,
        "text": seq.text,
        "language": seq.language,
        "skeleton": _skeleton_json(seq.skeleton),
        "keyframes": [{"frame": k.frame, "kind": KeyKind(k.kind).value} for k in seq.keyframes],
        "glosses": [
            {"start": g.start, "end": g.end, "gloss": g.gloss, **({"hand": g.hand} if g.hand else {})}
            for g in seq.glosses
        ],
        "meta": _to_json(dict(seq.meta)),
        "editor": _to_json(dict(editor or {})),
        "arrays": manifest,
    }


def write(
    path: str | Path,
    seq: Sequence,
    editor: Mapping[str, Any] | None = None,
    *,
    compress: bool = False,
    media: Iterable[MediaLink] = (),
) -> None:
    """Write the project atomically.

    ``compress=False`` (the default) stores the members uncompressed, because autosave must be
    cheap and deflate buys little on float32 motion. Measured on a 10-minute 25 fps sequence
    (15,000 frames, 2-core VM): stored 29 MB, write ~45 ms, read ~110-160 ms; deflate level 1
    26 MB (-10 %), write ~600 ms, read ~110 ms (``python -m core bench io --minutes 10``).
    """
    path = Path(path)
    if seq.n_frames == 0:
        raise FormatError(path, "nothing to write: the sequence has no frames")
    manifest, members = _encode_arrays(seq)
    document = _document(seq, editor, manifest)
    media = tuple(media)
    if media:
        document["media"] = links_to_json(media, path)
    try:
        doc = json.dumps(document, ensure_ascii=False, allow_nan=False, indent=1)
    except (TypeError, ValueError) as e:
        raise FormatError(path, f"meta or editor data cannot be stored as JSON ({e})") from None
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=method, compresslevel=1 if compress else None) as z:
            z.writestr(JSON_MEMBER, doc.encode("utf-8"))
            # the npz is written straight into the member: no second copy of the arrays in memory
            with z.open(FRAMES_MEMBER, "w", force_zip64=True) as f:
                np.savez(f, **cast("dict[str, Any]", members))  # numpy types **kw as if allow_pickle


def _fail(path: Path, problem: str) -> FormatError:
    return FormatError(path, problem)


def _load_json(path: Path, z: SafeZip) -> dict[str, Any]:
    try:
        raw = z.read(JSON_MEMBER, limit=limits.MAX_TEXT_BYTES)
    except KeyError:
        raise _fail(path, f"not a Signframe project (no {JSON_MEMBER})") from None
    if not limits.json_depth_ok(raw):
        raise _fail(path, f"{JSON_MEMBER} nests deeper than {limits.MAX_JSON_DEPTH} levels")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise _fail(path, f"{JSON_MEMBER} is not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise _fail(path, f"not a Signframe project ({JSON_MEMBER} has no format {FORMAT_NAME!r})")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(path, f"bad project version {version!r}")
    if version > VERSION:
        raise _fail(
            path,
            f"written by a newer Signframe (project version {version}; this build reads "
            f"up to version {VERSION}): update Signframe to open it",
        )
    return doc


def _load_arrays(path: Path, z: SafeZip, manifest: Mapping[str, Any], t: int) -> dict[str, np.ndarray]:
    if not isinstance(manifest, Mapping):
        raise _fail(path, "the array manifest is not a JSON object")
    if z.info(FRAMES_MEMBER) is None:
        raise _fail(path, f"the project has no {FRAMES_MEMBER}")
    npz = nested_zip(z, FRAMES_MEMBER, f"{FRAMES_MEMBER} (an npz inside the project)")

    def member(name: str, key: object) -> np.ndarray:
        if not isinstance(key, str) or npz.info(f"{key}.npy") is None:
            raise _fail(path, f"array {name!r}: member {key!r} is not in {FRAMES_MEMBER}")
        return npz.npy(f"{key}.npy", name)

    out: dict[str, np.ndarray] = {}
    with npz:
        for name, entry in manifest.items():
            if not isinstance(entry, Mapping) or "shape" not in entry or "dtype" not in entry:
                raise _fail(path, f"array {name!r}: bad manifest entry")
            shape = check_manifest_shape(path, name, entry["shape"], t, entry["dtype"], z.budget)
            if "diff_of" in entry or entry.get("sparse"):
                base: np.ndarray | None
                if entry.get("sparse"):
                    try:
                        dt = np.dtype(entry["dtype"])
                        if dt.kind not in "fiub":
                            raise ValueError(dt)
                        base = np.zeros(shape, dt)
                    except (TypeError, ValueError):
                        raise _fail(path, f"array {name!r}: bad dtype {entry['dtype']!r}") from None
                else:
                    base = out.get(entry["diff_of"])
                if base is None or base.shape != shape:
                    raise _fail(path, f"array {name!r} refers to missing or mismatched {entry.get('diff_of')!r}")
                frames, values = member(name, entry["frames"]), member(name, entry["values"])
                if (
                    frames.ndim != 1
                    or frames.dtype.kind not in "iu"
                    or values.shape != (len(frames),) + shape[1:]
                    or values.dtype != base.dtype
                    or (frames.size and (frames.min() < 0 or frames.max() >= t))
                ):
                    raise _fail(path, f"array {name!r}: inconsistent frame differences")
                a = base.copy()
                a[frames] = values
            else:
                values = a = member(name, entry["member"])
            if a.shape != shape or a.dtype.str != entry["dtype"]:
                raise _fail(
                    path, f"array {name!r} is {a.dtype.str} {a.shape}, the manifest says {entry['dtype']} {shape}"
                )
            if a.dtype.kind == "f" and not np.isfinite(values).all():
                raise _fail(path, f"array {name!r} contains NaN or infinite values")
            # only what was stored needs checking: diff arrays share the rest with their base
            if name in ("rotations", "source_rotations") and not _all_rotations(values):
                raise _fail(path, f"array {name!r} holds matrices that are not rotations")
            out[name] = a
    missing = [f for f in FRAME_FIELDS if f not in out and f not in LAYER_FIELDS]
    if missing:
        raise _fail(path, f"missing per-frame arrays: {', '.join(missing)}")
    return out


def _all_rotations(m: np.ndarray, atol: float = 1e-4) -> bool:
    """(..., 3, 3) all orthonormal with det +1 (``sanity.rotations_ok``: element-wise, chunked)."""
    return rotations_ok(m, atol)


def _skeleton(path: Path, s: Any) -> Skeleton:
    try:
        names, parents = tuple(s["names"]), tuple(int(p) for p in s["parents"])
        offsets, tips = np.asarray(s["offsets"], np.float64), np.asarray(s["tips"], np.float64)
        if (
            names == TEMPLATE.names
            and parents == TEMPLATE.parents
            and np.array_equal(offsets, TEMPLATE.offsets)
            and np.array_equal(tips, TEMPLATE.tips)
        ):
            return TEMPLATE
        if not (np.isfinite(offsets).all() and np.isfinite(tips).all()):
            raise ValueError("offsets contain NaN")
        return Skeleton(names, parents, offsets, tips)
    except (KeyError, TypeError, ValueError) as e:
        raise _fail(path, f"bad skeleton ({e})") from None


def read_project(path: str | Path) -> tuple[Sequence, dict[str, Any]]:
    """(sequence, editor metadata) from a project file."""
    path = Path(path)
    with open_zip(path, "Signframe project (a readable zip)") as z:
        try:
            doc = _load_json(path, z)
            t = doc.get("n_frames")
            if not isinstance(t, int) or t <= 0:
                raise _fail(path, f"bad frame count {t!r} (a project needs at least one frame)")
            limits.check_count(path, t, limits.MAX_FRAMES, "frames")
            limits.check_fps(path, doc.get("fps"))  # 1..1000, finite: not 1e300, not Infinity
            arrays = _load_arrays(path, z, doc.get("arrays") or {}, t)
        except FormatError:
            raise
        except (*_ZIP_ERRORS, TypeError, AttributeError, IndexError, OverflowError) as e:
            raise _fail(path, f"damaged project ({type(e).__name__}: {e})") from None
    try:
        keys = tuple(Keyframe(int(k["frame"]), KeyKind(k["kind"])) for k in doc.get("keyframes", []))
        glosses = tuple(
            Segment(int(g["start"]), int(g["end"]), g.get("gloss"), str(g.get("hand") or ""))
            for g in doc.get("glosses", [])
        )
        fps = float(doc["fps"])
        skeleton = _skeleton(path, doc.get("skeleton"))
        base = {k: v for k, v in arrays.items() if not k.startswith("extra:")}
        extra = {k[6:]: v for k, v in arrays.items() if k.startswith("extra:")}
        unknown = set(base) - set(FRAME_FIELDS)
        if unknown:
            raise ValueError(f"unknown per-frame arrays {sorted(unknown)}")
        seq = Sequence(
            fps=fps,
            keyframes=keys,
            glosses=glosses,
            text=str(doc.get("text", "")),
            language=str(doc.get("language", "")),
            skeleton=skeleton,
            extra_frames=extra,
            meta=dict(doc.get("meta") or {}),
            **base,
        )
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError, SequenceError) as e:
        raise _fail(path, f"inconsistent project: {e}") from None
    editor = doc.get("editor") or {}
    if not isinstance(editor, dict):
        raise _fail(path, "editor metadata is not a JSON object")
    _media(path, doc)
    return seq, editor


def _media(path: Path, doc: Mapping[str, Any]) -> tuple[MediaLink, ...]:
    try:
        return parse_links(doc.get("media"), path)
    except ValueError as e:
        raise _fail(path, f"bad media links: {e}") from None


def read_media(path: str | Path) -> tuple[MediaLink, ...]:
    """The project's media links (absolute paths; none for files without any). Whether the media
    files exist is the caller's business: a missing one never stops the document opening."""
    path = Path(path)
    with open_zip(path, "Signframe project (a readable zip)") as z:  # checked like read_project
        return _media(path, _load_json(path, z))


def read(path: str | Path) -> Sequence:
    return read_project(path)[0]

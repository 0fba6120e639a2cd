"""ELAN annotation files (.eaf, EAF 3.0) for sign segments, via ``pympi-ling``.

An .eaf holds annotations on a time line, no motion: ``read`` refuses with a FormatError; use
``read_segments`` / ``read_labels`` / ``read_tiers`` to get segments back, given the frame rate of
the motion they annotate (files written here record it in a header property).

Layout written:
- tier ``sign``: one annotation per sign (both hands), the gloss as its value when known;
- tiers ``sign_left`` / ``sign_right``: written only when per-hand segments are given and the
  two hands' segments differ;
- linguistic type ``gloss`` (time-alignable, no constraint); times in milliseconds; frame f spans
  [f / fps, (f + 1) / fps), so a segment ``start..end`` (inclusive) covers
  ``round(1000 start / fps)`` to ``round(1000 (end + 1) / fps)`` ms;
- header property ``signframe:fps`` (frame rate), so a file read back needs no fps argument.

Reading maps times to the nearest frame boundary, so ms -> frames -> ms is exact for any fps
below 1000.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ..model.sequence import Label, Segment, Sequence, glossed_segments, labels_from_segments, segments_from_labels
from .atomic import atomic_path
from .errors import FormatError

SIGN_TIER = "sign"
HAND_TIERS = {"left": "sign_left", "right": "sign_right"}
LING_TYPE = "gloss"
FPS_PROPERTY = "signframe:fps"
SCHEMA_URL = "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"


def frame_to_ms(frame: int, fps: float) -> int:
    return int(round(1000.0 * frame / fps))


def ms_to_frame(ms: float, fps: float) -> int:
    return int(round(ms * fps / 1000.0))


def _check(segments: Iterable[Segment], path: Path, what: str) -> list[Segment]:
    segs = sorted(segments)
    for a, b in zip(segs, segs[1:]):
        if b.start <= a.end:
            raise FormatError(path, f"{what}: segments {a.start}..{a.end} and {b.start}..{b.end} overlap")
    for s in segs:
        if s.start < 0:
            raise FormatError(path, f"{what}: segment {s.start}..{s.end} starts before frame 0")
    return segs


def write_segments(
    path: str | Path,
    segments: Iterable[Segment],
    fps: float,
    *,
    left: Iterable[Segment] | None = None,
    right: Iterable[Segment] | None = None,
    author: str = "Signframe",
    media: str | None = None,
) -> None:
    """Write sign segments (and per-hand segments where the hands differ) to an EAF 3.0 file."""
    import pympi

    path = Path(path)
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise FormatError(path, f"frame rate must be positive, got {fps}")
    tiers: dict[str, list[Segment]] = {SIGN_TIER: _check(segments, path, SIGN_TIER)}
    if left is not None and right is not None:
        lft, rgt = _check(left, path, "left hand"), _check(right, path, "right hand")
        if [(s.start, s.end) for s in lft] != [(s.start, s.end) for s in rgt]:
            tiers[HAND_TIERS["left"]] = lft
            tiers[HAND_TIERS["right"]] = rgt
    eaf = pympi.Elan.Eaf(author=author)
    eaf.adocument.update({"VERSION": "3.0", "FORMAT": "3.0", "xsi:noNamespaceSchemaLocation": SCHEMA_URL})
    eaf.header = {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"}
    if media:
        eaf.add_linked_file(media)
    eaf.remove_tier("default")
    eaf.remove_linguistic_type("default-lt")
    eaf.add_linguistic_type(LING_TYPE, timealignable=True, graphicreferences=False)
    for tier, segs in tiers.items():
        eaf.add_tier(tier, ling=LING_TYPE)
        for s in segs:
            eaf.add_annotation(tier, frame_to_ms(s.start, fps), frame_to_ms(s.end + 1, fps), s.gloss or "")
    # ELAN numbers new annotations after this one
    n = max((int(a[1:]) for a in eaf.annotations if a[1:].isdigit()), default=0)
    eaf.properties = [("lastUsedAnnotation", n), (FPS_PROPERTY, repr(float(fps)))]
    text = pympi.Elan.to_string(eaf)
    with atomic_path(path) as tmp:
        tmp.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + text, encoding="utf-8")


def _hand_segments(seq: Sequence, side: str) -> list[Segment] | None:
    lab = seq.extra_frames.get(f"labels_{side}")
    return None if lab is None else segments_from_labels(np.asarray(lab))


def sequence_segments(seq: Sequence) -> list[Segment]:
    """The sign segments written to the sign tier (``core.model.sequence.glossed_segments``)."""
    return glossed_segments(seq)


def write(path: str | Path, seq: Sequence, **options) -> None:
    """Write ``seq``'s sign segments (labels + glosses; per-hand tiers from the extra per-frame
    channels ``labels_left`` / ``labels_right`` when present)."""
    path = Path(path)
    if seq.n_frames == 0:
        raise FormatError(path, "the sequence has no frames")
    write_segments(
        path,
        sequence_segments(seq),
        seq.fps,
        left=_hand_segments(seq, "left"),
        right=_hand_segments(seq, "right"),
        **options,
    )


def read(path: str | Path, **options) -> Sequence:
    raise FormatError(
        path,
        "an ELAN .eaf file holds sign segments only, no motion: open the motion "
        "file, and read segments with core.io.eaf.read_segments",
    )


def _load(path: Path):
    import pympi

    if not path.is_file():
        raise FormatError(path, "no such file")
    try:
        return pympi.Elan.Eaf(str(path), suppress_version_warning=True)
    except Exception as e:  # noqa: BLE001 - pympi raises anything from XML and key errors
        raise FormatError(path, f"not a readable ELAN file ({type(e).__name__}: {e})") from None


def _fps(eaf, path: Path, fps: float | None) -> float:
    if fps is not None:
        if not (math.isfinite(fps) and fps > 0):
            raise FormatError(path, f"frame rate must be positive, got {fps}")
        return float(fps)
    for k, v in eaf.properties:
        if k == FPS_PROPERTY:
            try:
                f = float(v)
            except (TypeError, ValueError):
                break
            if math.isfinite(f) and f > 0:
                return f
    raise FormatError(path, "no frame rate recorded in the file: pass the fps of the motion it annotates")


def _tier_segments(eaf, tier: str, fps: float, path: Path) -> list[Segment]:
    try:
        if eaf.tiers[tier][0]:
            data = eaf.get_annotation_data_for_tier(tier)
        else:
            data = [(a, b, v) for a, b, v, *_ in eaf.get_ref_annotation_data_for_tier(tier)]
    except (KeyError, TypeError, ValueError) as e:
        raise FormatError(path, f"tier {tier!r}: unreadable annotations ({e})") from None
    segs = []
    for a, b, value, *_ in data:
        if a is None or b is None:
            raise FormatError(path, f"tier {tier!r}: an annotation without time values")
        first, last = ms_to_frame(a, fps), ms_to_frame(b, fps) - 1
        segs.append(Segment(first, max(first, last), value.strip() or None if isinstance(value, str) else None))
    return sorted(segs)


def read_tiers(path: str | Path, fps: float | None = None) -> dict[str, list[Segment]]:
    """Every tier's annotations as frame segments (tiers with no annotations included, empty)."""
    path = Path(path)
    eaf = _load(path)
    f = _fps(eaf, path, fps)
    return {t: _tier_segments(eaf, t, f, path) for t in eaf.get_tier_names()}


def pick_tier(tiers: Mapping[str, list[Segment]], tier: str | None = None) -> str:
    """``tier`` if given; else ``sign``; else the first non-empty tier whose name mentions a gloss;
    else the first non-empty tier."""
    if tier is not None:
        if tier not in tiers:
            raise KeyError(tier)
        return tier
    if SIGN_TIER in tiers:
        return SIGN_TIER
    names = [t for t, s in tiers.items() if s]
    for t in names:
        if "gloss" in t.lower():
            return t
    if names:
        return names[0]
    raise KeyError("no tier with annotations")


def read_segments(path: str | Path, fps: float | None = None, tier: str | None = None) -> list[Segment]:
    """Segments (frames, ``end`` inclusive, gloss = annotation value) of the sign tier or ``tier``."""
    path = Path(path)
    tiers = read_tiers(path, fps)
    try:
        name = pick_tier(tiers, tier)
    except KeyError as e:
        have = ", ".join(tiers) or "none"
        raise FormatError(path, f"no usable gloss tier ({e.args[0]}; tiers: {have})") from None
    return tiers[name]


def read_labels(path: str | Path, n_frames: int, fps: float | None = None, tier: str | None = None) -> np.ndarray:
    """(n_frames,) uint8 B/I/O labels from a gloss tier (segments past the end are clipped;
    overlapping annotations merge into one sign per onset)."""
    labels = np.zeros(n_frames, np.uint8)
    for s in read_segments(path, fps, tier):
        if s.start >= n_frames:
            continue
        sl = slice(s.start, min(s.end, n_frames - 1) + 1)
        labels[sl] = np.maximum(labels[sl], Label.I)
        labels[s.start] = Label.B
    return labels


__all__ = [
    "read",
    "write",
    "read_segments",
    "read_labels",
    "read_tiers",
    "write_segments",
    "sequence_segments",
    "frame_to_ms",
    "ms_to_frame",
    "labels_from_segments",
]

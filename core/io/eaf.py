"""ELAN annotation files (.eaf, EAF 2.x / 3.0): read with limits, write as ELAN writes them.

An .eaf holds annotations on a time line, no motion: ``read`` refuses with a FormatError; use
``parse`` (the whole document: tiers in milliseconds, media and linked files) or
``read_segments`` / ``read_labels`` / ``read_tiers`` (frame segments, given the frame rate of the
motion they annotate; files written here record it in a header property).

Reading is our own, over expat, with limits, so any input gives a document or a one-line
FormatError quickly: no DTD or entity declarations (no external entities, no entity expansion),
a size, element-count and nesting-depth limit, times in 0..``MAX_MS`` (a time that maps to an
absurd frame is refused), reference annotations resolved iteratively with cycle detection.

Layout written (``write_document``):
- tier ``sign`` (both hands) plus per-hand tiers (``RH-IDgloss`` / ``LH-IDgloss`` by default, or
  the names the annotations were imported from), linguistic type ``gloss`` (time-alignable);
- HEADER: ``MEDIA_DESCRIPTOR`` (MEDIA_URL / RELATIVE_MEDIA_URL / MIME_TYPE / TIME_ORIGIN) per
  media file, ``LINKED_FILE_DESCRIPTOR`` (LINK_URL / RELATIVE_LINK_URL / MIME_TYPE) for the
  motion, properties ``lastUsedAnnotationId`` and ``signframe:fps``;
- times in milliseconds; frame f spans [f / fps, (f + 1) / fps), so a segment ``start..end``
  (inclusive) covers ``round(1000 start / fps)`` to ``round(1000 (end + 1) / fps)`` ms (plus the
  offset of the annotations' time line against the motion's).
- With a ``template`` (the text of the .eaf the annotations came from), everything of it is kept
  (other tiers, their annotations and time slots, vocabularies, locales, licence, properties);
  only the tiers written are replaced, an annotation whose frames did not change keeps its
  milliseconds and its id (so dependent tiers still refer to it).

Reading maps times to the nearest frame boundary, so ms -> frames -> ms is exact for any fps
below 1000.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import numpy as np

from ..model.sequence import Label, Segment, Sequence, glossed_segments, labels_from_segments, segments_from_labels
from .atomic import atomic_path
from .errors import FormatError

SIGN_TIER = "sign"
HAND_TIERS = {"left": "sign_left", "right": "sign_right"}
# what a new per-hand export names its tiers (the corpus convention, e.g. the DGS / NGT corpora)
CORPUS_HAND_TIERS = {"right": "RH-IDgloss", "left": "LH-IDgloss"}
LING_TYPE = "gloss"
FPS_PROPERTY = "signframe:fps"
SCHEMA_URL = "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"

MAX_BYTES = 64 * 1024 * 1024  # a 10-hour corpus file is ~30 MB
MAX_ELEMENTS = 2_000_000
MAX_DEPTH = 32  # ELAN's deepest element is at depth 5
MAX_MS = 24 * 3600 * 1000  # one day: later times are taken for a broken file
MAX_FPS = 1000.0
MAX_REF_CHAIN = 10_000

_CONSTRAINTS = (
    (
        "Time_Subdivision",
        "Time subdivision of parent annotation's time interval, no time gaps allowed within this interval",
    ),
    (
        "Symbolic_Subdivision",
        "Symbolic subdivision of a parent annotation. Annotations refering to the same parent are ordered",
    ),
    ("Symbolic_Association", "1-1 association with a parent annotation"),
    ("Included_In", "Time alignable annotations within the parent annotation's time interval, gaps are allowed"),
)


# --- the document -------------------------------------------------------------------------


@dataclass(frozen=True)
class EafMedia:
    """A MEDIA_DESCRIPTOR: the video (or audio) the annotations are aligned to.

    url: absolute MEDIA_URL (``file:///...``); relative_url: RELATIVE_MEDIA_URL, relative to the
    .eaf (``./clip.mp4``); time_origin_ms: TIME_ORIGIN, where in the media the time line starts."""

    url: str
    relative_url: str = ""
    mime_type: str = "video/mp4"
    time_origin_ms: int | None = None
    extracted_from: str = ""


@dataclass(frozen=True)
class EafLinkedFile:
    """A LINKED_FILE_DESCRIPTOR (a non-media file that belongs to the annotations: the motion)."""

    url: str
    relative_url: str = ""
    mime_type: str = "unknown"
    time_origin_ms: int | None = None
    associated_with: str = ""


@dataclass(frozen=True)
class EafAnnotation:
    """One annotation, times resolved to milliseconds (``end_ms >= start_ms``)."""

    start_ms: int
    end_ms: int
    value: str
    id: str = ""


@dataclass(frozen=True)
class EafTier:
    name: str
    annotations: tuple[EafAnnotation, ...]
    ling_type: str = LING_TYPE
    parent: str | None = None
    participant: str = ""
    time_alignable: bool = True


@dataclass(frozen=True)
class EafDocument:
    """A parsed .eaf: its tiers in file order, media, linked files, header properties, and the
    source text (kept so that writing it back keeps what Signframe does not edit)."""

    tiers: tuple[EafTier, ...]
    media: tuple[EafMedia, ...] = ()
    linked_files: tuple[EafLinkedFile, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()
    text: str = field(default="", repr=False)

    def tier(self, name: str) -> EafTier:
        for t in self.tiers:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def tier_names(self) -> list[str]:
        return [t.name for t in self.tiers]

    @property
    def fps(self) -> float | None:
        for k, v in self.properties:
            if k == FPS_PROPERTY:
                try:
                    f = float(v)
                except ValueError:
                    return None
                return f if math.isfinite(f) and 0 < f <= MAX_FPS else None
        return None


# --- times and frames ---------------------------------------------------------------------


def frame_to_ms(frame: int, fps: float, offset_ms: float = 0.0) -> int:
    return int(round(1000.0 * frame / fps + offset_ms))


def ms_to_frame(ms: float, fps: float, offset_ms: float = 0.0) -> int:
    return int(round((ms - offset_ms) * fps / 1000.0))


def _check_fps(fps: float, path: Path) -> float:
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and 0 < fps <= MAX_FPS):
        raise FormatError(path, f"frame rate must be in (0, {MAX_FPS:g}], got {fps}")
    return float(fps)


def annotation_frames(a: EafAnnotation, fps: float, offset_ms: float = 0.0) -> tuple[int, int]:
    """(first, last) frames, inclusive, of an annotation; at least one frame."""
    first = ms_to_frame(a.start_ms, fps, offset_ms)
    last = ms_to_frame(a.end_ms, fps, offset_ms) - 1
    return first, max(first, last)


# --- safe parsing -------------------------------------------------------------------------


class _Refused(Exception):
    pass


def _parse_xml(data: bytes, path: Path) -> ET.Element:
    """An ElementTree of ``data`` built by expat with no DTD, no entities, bounded size / depth."""
    if len(data) > MAX_BYTES:
        raise FormatError(path, f"file too large for an annotation file ({len(data)} bytes, limit {MAX_BYTES})")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    state = {"depth": 0, "count": 0}

    def refuse(*_args: object) -> int:
        raise _Refused("DTD or entity declarations are not allowed in an annotation file")

    def start(tag: str, attrs: dict[str, str]) -> None:
        state["depth"] += 1
        state["count"] += 1
        if state["depth"] > MAX_DEPTH:
            raise _Refused(f"elements nested deeper than {MAX_DEPTH}")
        if state["count"] > MAX_ELEMENTS:
            raise _Refused(f"more than {MAX_ELEMENTS} elements")
        builder.start(tag, attrs)

    def end(tag: str) -> None:
        state["depth"] -= 1
        builder.end(tag)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
        root = builder.close()
    except _Refused as e:
        raise FormatError(path, str(e)) from None
    except expat.ExpatError as e:
        raise FormatError(path, f"not well-formed XML ({expat.ErrorString(e.code)}, line {e.lineno})") from None
    except (ValueError, TypeError, LookupError, AssertionError, RecursionError, MemoryError) as e:
        # LookupError: an unknown encoding in the XML declaration
        raise FormatError(path, f"not a readable XML file ({type(e).__name__})") from None
    return root


def _int_attr(value: str | None, what: str, path: Path) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        v = int(value.strip())
    except ValueError:
        try:
            f = float(value)
        except ValueError:
            raise FormatError(path, f"{what}: not a number ({value[:40]!r})") from None
        if not math.isfinite(f):
            raise FormatError(path, f"{what}: not a finite time ({value[:40]!r})") from None
        v = int(round(f))
    if not 0 <= v <= MAX_MS:
        raise FormatError(path, f"{what}: time {v} ms outside 0..{MAX_MS} (more than a day)")
    return v


def _slot_times(root: ET.Element, path: Path) -> dict[str, int]:
    """Time slot id -> ms. Unaligned slots (no TIME_VALUE) are interpolated between the aligned
    slots around them in TIME_ORDER, as ELAN places them."""
    order = root.find("TIME_ORDER")
    if order is None:
        raise FormatError(path, "no TIME_ORDER: not an ELAN annotation file")
    ids: list[str] = []
    vals: list[int | None] = []
    seen: set[str] = set()
    for s in order.iter("TIME_SLOT"):
        sid = s.get("TIME_SLOT_ID")
        if not sid:
            raise FormatError(path, "a time slot without TIME_SLOT_ID")
        if sid in seen:
            raise FormatError(path, f"time slot {sid[:40]!r} defined twice")
        seen.add(sid)
        ids.append(sid)
        vals.append(_int_attr(s.get("TIME_VALUE"), f"time slot {sid[:40]!r}", path))
    known = [i for i, v in enumerate(vals) if v is not None]
    out: dict[str, int] = {}
    for i, sid in enumerate(ids):
        v = vals[i]
        if v is None:
            if not known:
                v = 0
            else:
                j = int(np.searchsorted(known, i))
                lo = vals[known[j - 1]] if j > 0 else None
                hi = vals[known[j]] if j < len(known) else None
                a = lo if lo is not None else hi
                b = hi if hi is not None else lo
                assert a is not None and b is not None
                # evenly between the neighbours, by position in the slot list
                ia = known[j - 1] if j > 0 else i
                ib = known[j] if j < len(known) else i
                v = a if ib == ia else int(round(a + (b - a) * (i - ia) / (ib - ia)))
        out[sid] = v
    return out


def _header(root: ET.Element, path: Path):
    head = root.find("HEADER")
    media: list[EafMedia] = []
    linked: list[EafLinkedFile] = []
    props: list[tuple[str, str]] = []
    if head is None:
        return media, linked, props
    units = head.get("TIME_UNITS", "milliseconds")
    if units != "milliseconds":
        raise FormatError(path, f"time units {units[:40]!r} are not supported (ELAN writes milliseconds)")
    for m in head.findall("MEDIA_DESCRIPTOR"):
        media.append(
            EafMedia(
                m.get("MEDIA_URL", ""),
                m.get("RELATIVE_MEDIA_URL", ""),
                m.get("MIME_TYPE", ""),
                _int_attr(m.get("TIME_ORIGIN"), "TIME_ORIGIN", path),
                m.get("EXTRACTED_FROM", ""),
            )
        )
    for m in head.findall("LINKED_FILE_DESCRIPTOR"):
        linked.append(
            EafLinkedFile(
                m.get("LINK_URL", ""),
                m.get("RELATIVE_LINK_URL", ""),
                m.get("MIME_TYPE", ""),
                _int_attr(m.get("TIME_ORIGIN"), "TIME_ORIGIN", path),
                m.get("ASSOCIATED_WITH", ""),
            )
        )
    for p in head.findall("PROPERTY"):
        props.append((p.get("NAME", ""), (p.text or "").strip()))
    return media, linked, props


def _value(a: ET.Element) -> str:
    v = a.find("ANNOTATION_VALUE")
    return "" if v is None or v.text is None else v.text


def _tiers(root: ET.Element, slots: Mapping[str, int], path: Path) -> tuple[EafTier, ...]:
    alignable_types = {
        lt.get("LINGUISTIC_TYPE_ID", ""): lt.get("TIME_ALIGNABLE", "true") != "false"
        for lt in root.findall("LINGUISTIC_TYPE")
    }
    spans: dict[str, tuple[int, int]] = {}  # annotation id -> (start, end) ms
    refs: dict[str, str] = {}  # reference annotation id -> the id it refers to
    raw: list[tuple[ET.Element, list[tuple[str, str, bool]]]] = []  # tier, [(id, value, is_ref)]
    for tier in root.findall("TIER"):
        name = tier.get("TIER_ID")
        if not name:
            raise FormatError(path, "a tier without TIER_ID")
        items: list[tuple[str, str, bool]] = []
        for ann in tier.findall("ANNOTATION"):
            for a in ann:
                aid = a.get("ANNOTATION_ID")
                if not aid:
                    raise FormatError(path, f"tier {name[:40]!r}: an annotation without ANNOTATION_ID")
                if aid in spans or aid in refs:
                    raise FormatError(path, f"annotation id {aid[:40]!r} used twice")
                if a.tag == "ALIGNABLE_ANNOTATION":
                    r1, r2 = a.get("TIME_SLOT_REF1"), a.get("TIME_SLOT_REF2")
                    if r1 is None or r2 is None or r1 not in slots or r2 not in slots:
                        raise FormatError(path, f"annotation {aid[:40]!r} refers to a missing time slot")
                    t1, t2 = slots[r1], slots[r2]
                    if t2 < t1:
                        raise FormatError(path, f"annotation {aid[:40]!r} ends ({t2} ms) before it starts ({t1} ms)")
                    spans[aid] = (t1, t2)
                    items.append((aid, _value(a), False))
                elif a.tag == "REF_ANNOTATION":
                    ref = a.get("ANNOTATION_REF")
                    if not ref:
                        raise FormatError(path, f"reference annotation {aid[:40]!r} without ANNOTATION_REF")
                    refs[aid] = ref
                    items.append((aid, _value(a), True))
        raw.append((tier, items))
    # reference annotations take the span of the alignable annotation their chain ends at
    resolved: dict[str, tuple[int, int]] = dict(spans)
    for aid in refs:
        chain = [aid]
        cur = aid
        while cur not in resolved:
            nxt = refs.get(cur)
            if nxt is None:
                raise FormatError(path, f"reference annotation {cur[:40]!r} refers to a missing annotation")
            if nxt in chain or len(chain) > MAX_REF_CHAIN:
                raise FormatError(path, f"reference annotations form a cycle ({cur[:40]} -> {nxt[:40]})")
            chain.append(nxt)
            cur = nxt
        for c in chain:
            resolved[c] = resolved[cur]
    out = []
    for tier, items in raw:
        name = tier.get("TIER_ID", "")
        # symbolic subdivisions: several annotations referring to one parent share its span evenly
        by_parent: dict[str, list[int]] = {}
        for i, (aid, _, is_ref) in enumerate(items):
            if is_ref:
                by_parent.setdefault(refs[aid], []).append(i)
        anns = []
        for i, (aid, value, is_ref) in enumerate(items):
            a0, a1 = resolved[aid]
            if is_ref:
                sibs = by_parent[refs[aid]]
                if len(sibs) > 1:
                    k, n = sibs.index(i), len(sibs)
                    a0, a1 = a0 + (a1 - a0) * k // n, a0 + (a1 - a0) * (k + 1) // n
            anns.append(EafAnnotation(a0, a1, value, aid))
        anns.sort(key=lambda a: (a.start_ms, a.end_ms))
        lt = tier.get("LINGUISTIC_TYPE_REF", "")
        out.append(
            EafTier(
                name,
                tuple(anns),
                lt,
                tier.get("PARENT_REF"),
                tier.get("PARTICIPANT", ""),
                alignable_types.get(lt, True) and not any(r for _, _, r in items),
            )
        )
    return tuple(out)


def parse_bytes(data: bytes, path: str | Path = "<eaf>") -> EafDocument:
    """Any bytes -> an ``EafDocument`` or a one-line FormatError."""
    path = Path(path)
    root = _parse_xml(data, path)
    if root.tag != "ANNOTATION_DOCUMENT":
        raise FormatError(path, f"not an ELAN annotation file (root element {root.tag[:40]!r})")
    try:
        slots = _slot_times(root, path)
        media, linked, props = _header(root, path)
        tiers = _tiers(root, slots, path)
    except FormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError) as e:
        # any structure the checks above did not foresee is still one line, never a traceback
        raise FormatError(path, f"not a readable ELAN file ({type(e).__name__})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ET.tostring(root, encoding="unicode")
    return EafDocument(tiers, tuple(media), tuple(linked), tuple(props), text)


def parse(path: str | Path) -> EafDocument:
    """Read an .eaf file (any file: a document or a one-line FormatError)."""
    path = Path(path)
    try:
        if not path.is_file():
            raise FormatError(path, "no such file")
        if path.stat().st_size > MAX_BYTES:
            raise FormatError(path, f"file too large for an annotation file (limit {MAX_BYTES} bytes)")
        data = path.read_bytes()
    except OSError as e:
        raise FormatError(path, f"cannot read ({e.strerror or type(e).__name__})") from None
    return parse_bytes(data, path)


# --- tiers as frame segments --------------------------------------------------------------


def tier_segments(
    doc: EafDocument, tier: str, fps: float, offset_ms: float = 0.0, path: str | Path = "<eaf>"
) -> list[Segment]:
    """A tier's annotations as frame segments (``end`` inclusive, gloss = the value or None)."""
    path = Path(path)
    fps = _check_fps(fps, path)
    if not math.isfinite(offset_ms) or abs(offset_ms) > MAX_MS:
        raise FormatError(path, f"offset {offset_ms} ms is not a usable time offset")
    segs = []
    for a in doc.tier(tier).annotations:
        first, last = annotation_frames(a, fps, offset_ms)
        segs.append(Segment(first, last, a.value.strip() or None))
    return sorted(segs, key=lambda s: (s.start, s.end))


_RIGHT = re.compile(r"(^|[^a-z])(rh|right|dh|dominant)([^a-z]|$)|^right|rechts|droite|derech", re.I)
_LEFT = re.compile(r"(^|[^a-z])(lh|left|ndh|non-?dominant)([^a-z]|$)|^left|links|gauche|izquierd", re.I)


def hand_of_tier(name: str) -> str | None:
    """'right' / 'left' for a tier named after one hand (RH-IDgloss, Gloss LH, sign_right,
    ...), else None."""
    n = name.replace("_", " ")
    if _LEFT.search(n) or n.lower().endswith(" left"):
        return "left"
    if _RIGHT.search(n) or n.lower().endswith(" right"):
        return "right"
    return None


@dataclass(frozen=True)
class GlossTiers:
    """Which tiers carry the glosses: the sign tier (both hands) and each hand's, any may be None."""

    sign: str | None = None
    right: str | None = None
    left: str | None = None

    def names(self) -> list[str]:
        return [t for t in (self.sign, self.right, self.left) if t]


def pick_gloss_tiers(doc: EafDocument, tier: str | None = None) -> GlossTiers:
    """``tier`` alone when given; else ``sign`` and / or the per-hand tiers (RH-IDgloss /
    LH-IDgloss, sign_right / sign_left, ...); else the first non-empty tier whose name mentions a
    gloss; else the first non-empty tier. KeyError when nothing fits."""
    names = doc.tier_names
    if tier is not None:
        if tier not in names:
            raise KeyError(tier)
        hand = hand_of_tier(tier)
        return (
            GlossTiers(right=tier) if hand == "right" else GlossTiers(left=tier) if hand == "left" else GlossTiers(tier)
        )
    filled = [t.name for t in doc.tiers if t.annotations]
    glossy = [t for t in filled if "gloss" in t.lower()] + [t for t in filled if t in HAND_TIERS.values()]
    right = next((t for t in glossy if hand_of_tier(t) == "right"), None)
    left = next((t for t in glossy if hand_of_tier(t) == "left"), None)
    sign = SIGN_TIER if SIGN_TIER in names else None
    if sign or right or left:
        return GlossTiers(sign, right, left)
    for t in filled:
        if "gloss" in t.lower():
            return GlossTiers(t)
    if filled:
        return GlossTiers(filled[0])
    raise KeyError("no tier with annotations")


# --- the older segment API (FAST training data, ``segment --out F.eaf``) -------------------


def read_tiers(path: str | Path, fps: float | None = None) -> dict[str, list[Segment]]:
    """Every tier's annotations as frame segments (tiers with no annotations included, empty)."""
    path = Path(path)
    doc = parse(path)
    f = _fps(doc, path, fps)
    return {t.name: tier_segments(doc, t.name, f, 0.0, path) for t in doc.tiers}


def _fps(doc: EafDocument, path: Path, fps: float | None) -> float:
    if fps is not None:
        return _check_fps(fps, path)
    if doc.fps is not None:
        return doc.fps
    raise FormatError(path, "no frame rate recorded in the file: pass the fps of the motion it annotates")


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
        if s.start >= n_frames or s.end < 0:
            continue
        sl = slice(max(0, s.start), min(s.end, n_frames - 1) + 1)
        labels[sl] = np.maximum(labels[sl], Label.I)
        if s.start >= 0:
            labels[s.start] = Label.B
    return labels


def read(path: str | Path, **options) -> Sequence:
    raise FormatError(
        path,
        "an ELAN .eaf file holds sign segments only, no motion: open the motion, then "
        "File > Import annotations (or: python -m core segment MOTION --from-eaf FILE.eaf)",
    )


# --- writing ------------------------------------------------------------------------------


def _check(segments: Iterable[Segment], path: Path, what: str) -> list[Segment]:
    segs = sorted(segments, key=lambda s: (s.start, s.end))
    for a, b in zip(segs, segs[1:]):
        if b.start <= a.end:
            raise FormatError(path, f"{what}: segments {a.start}..{a.end} and {b.start}..{b.end} overlap")
    for s in segs:
        if s.start < 0:
            raise FormatError(path, f"{what}: segment {s.start}..{s.end} starts before frame 0")
    return segs


def _media_el(m: EafMedia) -> ET.Element:
    attrs = {"MEDIA_URL": m.url, "MIME_TYPE": m.mime_type or "unknown"}
    if m.relative_url:
        attrs["RELATIVE_MEDIA_URL"] = m.relative_url
    if m.time_origin_ms:
        attrs["TIME_ORIGIN"] = str(int(m.time_origin_ms))
    if m.extracted_from:
        attrs["EXTRACTED_FROM"] = m.extracted_from
    return ET.Element("MEDIA_DESCRIPTOR", attrs)


def _linked_el(f: EafLinkedFile) -> ET.Element:
    attrs = {"LINK_URL": f.url, "MIME_TYPE": f.mime_type or "unknown"}
    if f.relative_url:
        attrs["RELATIVE_LINK_URL"] = f.relative_url
    if f.time_origin_ms:
        attrs["TIME_ORIGIN"] = str(int(f.time_origin_ms))
    if f.associated_with:
        attrs["ASSOCIATED_WITH"] = f.associated_with
    return ET.Element("LINKED_FILE_DESCRIPTOR", attrs)


def _new_root(author: str) -> ET.Element:
    root = ET.Element(
        "ANNOTATION_DOCUMENT",
        {
            "AUTHOR": author,
            "DATE": "",
            "FORMAT": "3.0",
            "VERSION": "3.0",
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": SCHEMA_URL,
        },
    )
    ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    ET.SubElement(root, "TIME_ORDER")
    ET.SubElement(
        root,
        "LINGUISTIC_TYPE",
        {"GRAPHIC_REFERENCES": "false", "LINGUISTIC_TYPE_ID": LING_TYPE, "TIME_ALIGNABLE": "true"},
    )
    for stereo, desc in _CONSTRAINTS:
        ET.SubElement(root, "CONSTRAINT", {"DESCRIPTION": desc, "STEREOTYPE": stereo})
    return root


_ORDER = ("LICENSE", "HEADER", "TIME_ORDER", "TIER", "LINGUISTIC_TYPE", "LOCALE", "LANGUAGE", "CONSTRAINT")


def _insert_in_order(root: ET.Element, el: ET.Element) -> None:
    """Insert ``el`` after the last child of its kind or of a kind before it (EAF element order)."""
    rank = _ORDER.index(el.tag) if el.tag in _ORDER else len(_ORDER)
    pos = 0
    for i, child in enumerate(list(root)):
        r = _ORDER.index(child.tag) if child.tag in _ORDER else len(_ORDER)
        if r <= rank:
            pos = i + 1
    root.insert(pos, el)


def _num(ident: str, prefix: str) -> int:
    return int(ident[len(prefix) :]) if ident.startswith(prefix) and ident[len(prefix) :].isdigit() else 0


def write_document(
    path: str | Path,
    tiers: Mapping[str, Seq[Segment]],
    fps: float,
    *,
    offset_ms: float = 0.0,
    media: Seq[EafMedia] | None = None,
    linked_file: EafLinkedFile | None = None,
    template: str | None = None,
    author: str = "Signframe",
) -> None:
    """Write frame segments as the named tiers (time-alignable, type ``gloss``).

    media: MEDIA_DESCRIPTORs (replacing the template's when given); linked_file: the motion, as a
    LINKED_FILE_DESCRIPTOR (replacing one with the same URL); template: the text of the .eaf the
    annotations came from: everything else of it is kept (module docstring)."""
    path = Path(path)
    fps = _check_fps(fps, path)
    checked = {name: _check(segs, path, name) for name, segs in tiers.items()}
    if template:
        root = _parse_xml(template.encode("utf-8"), path)
        if root.tag != "ANNOTATION_DOCUMENT":
            raise FormatError(path, "the template is not an ELAN annotation file")
        old = parse_bytes(template.encode("utf-8"), path)
    else:
        root = _new_root(author)
        old = None
    root.set("DATE", _dt.datetime.now(_dt.timezone.utc).astimezone().replace(microsecond=0).isoformat())
    head = root.find("HEADER")
    if head is None:
        head = ET.Element("HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
        _insert_in_order(root, head)
    order = root.find("TIME_ORDER")
    if order is None:
        order = ET.Element("TIME_ORDER")
        _insert_in_order(root, order)

    # header: media first, then linked files, then properties (ELAN's order)
    if media is not None:
        for m in head.findall("MEDIA_DESCRIPTOR"):
            head.remove(m)
    if linked_file is not None:
        for m in head.findall("LINKED_FILE_DESCRIPTOR"):
            if m.get("LINK_URL") == linked_file.url:
                head.remove(m)
    props = head.findall("PROPERTY")
    for p in props:
        head.remove(p)
    new_head = [c for c in head if c.tag == "MEDIA_DESCRIPTOR"]
    new_head += [_media_el(m) for m in media or ()]
    new_head += [c for c in head if c.tag == "LINKED_FILE_DESCRIPTOR"]
    if linked_file is not None:
        new_head.append(_linked_el(linked_file))
    others = [c for c in head if c.tag not in ("MEDIA_DESCRIPTOR", "LINKED_FILE_DESCRIPTOR")]
    for c in list(head):
        head.remove(c)
    for c in new_head + others:
        head.append(c)

    # which annotations and slots survive: everything not on a tier we write
    tier_els = {t.get("TIER_ID"): t for t in root.findall("TIER")}
    written = set(checked)
    kept_ids: set[str] = set()
    for name, t in tier_els.items():
        if name in written:
            continue
        for a in t.iter():
            if a.get("ANNOTATION_ID"):
                kept_ids.add(a.get("ANNOTATION_ID", ""))
    # old annotation (frames) -> (ms, id) on each written tier: unchanged annotations keep both
    previous: dict[str, dict[tuple[int, int], EafAnnotation]] = {}
    if old is not None:
        for old_tier in old.tiers:
            if old_tier.name in written:
                previous[old_tier.name] = {annotation_frames(a, fps, offset_ms): a for a in old_tier.annotations}
    all_ids = [a.get("ANNOTATION_ID", "") for a in root.iter() if a.get("ANNOTATION_ID")]
    next_id = max((_num(i, "a") for i in all_ids), default=0)
    for p in props:
        if p.get("NAME") == "lastUsedAnnotationId" and (p.text or "").strip().isdigit():
            next_id = max(next_id, int((p.text or "0").strip()))
    new_ids: set[str] = set()

    # annotations of the written tiers
    new_slots: list[tuple[int, str]] = []
    slot_ids = {s.get("TIME_SLOT_ID", "") for s in order.findall("TIME_SLOT")}
    next_ts = max((_num(i, "ts") for i in slot_ids), default=0)
    if not any(lt.get("LINGUISTIC_TYPE_ID") == LING_TYPE for lt in root.findall("LINGUISTIC_TYPE")):
        _insert_in_order(
            root,
            ET.Element(
                "LINGUISTIC_TYPE",
                {"GRAPHIC_REFERENCES": "false", "LINGUISTIC_TYPE_ID": LING_TYPE, "TIME_ALIGNABLE": "true"},
            ),
        )
    aligned_types = {
        lt.get("LINGUISTIC_TYPE_ID"): lt.get("TIME_ALIGNABLE", "true") != "false" and not lt.get("CONSTRAINTS")
        for lt in root.findall("LINGUISTIC_TYPE")
    }
    for name, segs in checked.items():
        found = tier_els.get(name)
        if found is None:
            t = ET.Element("TIER", {"LINGUISTIC_TYPE_REF": LING_TYPE, "TIER_ID": name})
            _insert_in_order(root, t)
            tier_els[name] = t
        else:
            t = found
        for c in list(t):
            t.remove(c)
        if not aligned_types.get(t.get("LINGUISTIC_TYPE_REF"), False) or t.get("PARENT_REF"):
            # a dependent tier in the source becomes an independent one: its times are ours now
            t.set("LINGUISTIC_TYPE_REF", LING_TYPE)
            t.attrib.pop("PARENT_REF", None)
        prev = previous.get(name, {})
        # the old annotation each segment continues (same start, same end, else most frames in
        # common) keeps its id: dependent tiers stay attached through renames and boundary moves
        olds = sorted(prev.items())
        old_starts = [f[0] for f, _ in olds]
        for s in segs:
            was = prev.get((s.start, s.end))
            if was is not None:
                t0, t1 = was.start_ms, was.end_ms
            else:
                t0, t1 = frame_to_ms(s.start, fps, offset_ms), frame_to_ms(s.end + 1, fps, offset_ms)
            if t0 < 0:
                raise FormatError(path, f"{name}: segment {s.start}..{s.end} starts before the annotation time line")
            heir, best = was, 0
            if heir is None:
                k = bisect.bisect_right(old_starts, s.end) - 1
                while k >= 0 and olds[k][0][0] >= s.start - 100_000:
                    (a0, a1), cand = olds[k]
                    # the same start wins (a moved end, a merge keeps the first), then the same end
                    ov = min(a1, s.end) - max(a0, s.start) + 1
                    ov += (1 << 40) * (a0 == s.start) + (1 << 39) * (a1 == s.end) if ov > 0 else 0
                    if ov > best:
                        heir, best = cand, ov
                    if a1 < s.start and a0 < s.start - 1000:
                        break
                    k -= 1
            if heir is not None and heir.id and heir.id not in kept_ids and heir.id not in new_ids:
                aid = heir.id
            else:
                next_id += 1
                aid = f"a{next_id}"
            new_ids.add(aid)
            ids = []
            for v in (t0, t1):
                next_ts += 1
                ids.append(f"ts{next_ts}")
                new_slots.append((v, ids[-1]))
            ann = ET.SubElement(t, "ANNOTATION")
            al = ET.SubElement(
                ann, "ALIGNABLE_ANNOTATION", {"ANNOTATION_ID": aid, "TIME_SLOT_REF1": ids[0], "TIME_SLOT_REF2": ids[1]}
            )
            ET.SubElement(al, "ANNOTATION_VALUE").text = s.gloss or ""

    # dependent annotations whose parent is gone go with it (as ELAN deletes them)
    alive = kept_ids | new_ids
    changed = True
    while changed:
        changed = False
        for name, t in tier_els.items():
            if name in written:
                continue
            for ann in list(t.findall("ANNOTATION")):
                ref = ann.find("REF_ANNOTATION")
                if ref is not None and ref.get("ANNOTATION_REF") not in alive:
                    t.remove(ann)
                    alive.discard(ref.get("ANNOTATION_ID", ""))
                    changed = True

    # time slots: those the kept annotations use, in their order, with ours merged in by time
    used: set[str] = set()
    for name, t in tier_els.items():
        if name in written:
            continue
        for a in t.iter("ALIGNABLE_ANNOTATION"):
            used.update((a.get("TIME_SLOT_REF1", ""), a.get("TIME_SLOT_REF2", "")))
    kept_slots = [s for s in order.findall("TIME_SLOT") if s.get("TIME_SLOT_ID") in used]
    for slot in list(order):
        order.remove(slot)
    new_slots.sort(key=lambda v: v[0])
    j = 0
    for slot in kept_slots:
        tv = slot.get("TIME_VALUE")
        if tv is not None and tv.strip().lstrip("-").isdigit():
            while j < len(new_slots) and new_slots[j][0] < int(tv):
                order.append(
                    ET.Element("TIME_SLOT", {"TIME_SLOT_ID": new_slots[j][1], "TIME_VALUE": str(new_slots[j][0])})
                )
                j += 1
        order.append(slot)
    for v, sid in new_slots[j:]:
        order.append(ET.Element("TIME_SLOT", {"TIME_SLOT_ID": sid, "TIME_VALUE": str(v)}))

    # properties: the template's, with the annotation counter and our frame rate updated
    last = max([next_id] + [_num(i, "a") for i in alive])
    keep = [
        (p.get("NAME", ""), p.text or "") for p in props if p.get("NAME") not in ("lastUsedAnnotationId", FPS_PROPERTY)
    ]
    for name_, text in keep + [("lastUsedAnnotationId", str(last)), (FPS_PROPERTY, repr(float(fps)))]:
        ET.SubElement(head, "PROPERTY", {"NAME": name_}).text = text

    ET.indent(root, space="    ")
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_segments(
    path: str | Path,
    segments: Iterable[Segment],
    fps: float,
    *,
    left: Iterable[Segment] | None = None,
    right: Iterable[Segment] | None = None,
    author: str = "Signframe",
    media: Seq[EafMedia] | None = None,
    linked_file: EafLinkedFile | None = None,
) -> None:
    """Write sign segments (and per-hand tiers ``sign_left`` / ``sign_right`` where the two hands'
    segments differ) to an EAF 3.0 file."""
    path = Path(path)
    _check_fps(fps, path)
    tiers: dict[str, list[Segment]] = {SIGN_TIER: _check(segments, path, SIGN_TIER)}
    if left is not None and right is not None:
        lft, rgt = _check(left, path, "left hand"), _check(right, path, "right hand")
        if [(s.start, s.end) for s in lft] != [(s.start, s.end) for s in rgt]:
            tiers[HAND_TIERS["left"]] = lft
            tiers[HAND_TIERS["right"]] = rgt
    write_document(path, tiers, fps, media=media, linked_file=linked_file, author=author)


def _hand_segments(seq: Sequence, side: str) -> list[Segment] | None:
    lab = seq.extra_frames.get(f"labels_{side}")
    return None if lab is None else segments_from_labels(np.asarray(lab))


def sequence_segments(seq: Sequence) -> list[Segment]:
    """The sign segments written to the sign tier (``core.model.sequence.glossed_segments``)."""
    return glossed_segments(seq)


# where an imported .eaf is remembered in ``Sequence.meta`` (JSON: travels in project files)
META_KEY = "eaf"


def sequence_tiers(seq: Sequence) -> tuple[dict[str, list[Segment]], float]:
    """The tiers a sequence exports to and their time offset (ms): the sign tier from the labels
    (glossed), each hand's gloss lane under the tier name it was imported from (else the corpus
    names), and, without hand glosses, ``sign_left`` / ``sign_right`` from per-hand labels."""
    info = seq.meta.get(META_KEY) or {}
    names = dict(info.get("tiers") or {}) if isinstance(info, Mapping) else {}
    offset = float(info.get("offset_ms", 0.0)) if isinstance(info, Mapping) else 0.0
    tiers: dict[str, list[Segment]] = {str(names.get("sign") or SIGN_TIER): sequence_segments(seq)}
    hands = {
        h: [Segment(g.start, g.end, g.gloss) for g in seq.glosses if getattr(g, "hand", "") == h]
        for h in ("right", "left")
    }
    for h in ("right", "left"):
        if hands[h] or names.get(h):
            tiers[str(names.get(h) or CORPUS_HAND_TIERS[h])] = hands[h]
    if not (hands["right"] or hands["left"]):
        left, right = _hand_segments(seq, "left"), _hand_segments(seq, "right")
        if (
            left is not None
            and right is not None
            and [(s.start, s.end) for s in left] != [(s.start, s.end) for s in right]
        ):
            tiers[HAND_TIERS["left"]], tiers[HAND_TIERS["right"]] = left, right
    return tiers, offset


def shifted(seq: Sequence, frames: int) -> Sequence:
    """``seq`` cut to start ``frames`` later (an export of a range): its annotations keep their
    place on ELAN's time line (the time offset grows by those frames)."""
    info = seq.meta.get(META_KEY)
    info = dict(info) if isinstance(info, Mapping) else {}
    info["offset_ms"] = float(info.get("offset_ms", 0.0)) + 1000.0 * frames / seq.fps
    return seq.replace(meta={**dict(seq.meta), META_KEY: info})


def write(
    path: str | Path,
    seq: Sequence,
    *,
    media: Seq[EafMedia] | None = None,
    linked_file: EafLinkedFile | None = None,
    author: str = "Signframe",
    **options,
) -> None:
    """Write ``seq``'s sign segments and gloss lanes (``sequence_tiers``); an .eaf the glosses
    were imported from (kept in ``seq.meta['eaf']``) is the template: nothing of it is lost."""
    path = Path(path)
    if seq.n_frames == 0:
        raise FormatError(path, "the sequence has no frames")
    tiers, offset = sequence_tiers(seq)
    info = seq.meta.get(META_KEY)
    template = info.get("source") if isinstance(info, Mapping) else None
    write_document(
        path,
        tiers,
        seq.fps,
        offset_ms=offset,
        media=media,
        linked_file=linked_file,
        template=template if isinstance(template, str) else None,
        author=author,
    )


@dataclass(frozen=True)
class EafImport:
    """Gloss tiers of an .eaf read for a motion at a frame rate: segments per lane (None: no such
    tier) and what ``meta['eaf']`` keeps (the file's text, the tiers used, the offset)."""

    sign: tuple[Segment, ...] | None
    right: tuple[Segment, ...] | None
    left: tuple[Segment, ...] | None
    meta: Mapping[str, object]


def prepare_import(
    path: str | Path,
    fps: float,
    n_frames: int,
    *,
    tier: str | None = None,
    right: str | None = None,
    left: str | None = None,
    offset_ms: float = 0.0,
) -> EafImport:
    """Read an .eaf's gloss tiers as frame segments for a motion of ``n_frames`` at ``fps``.

    tier: the sign tier (or one hand's, by its name) instead of the automatic choice
    (``pick_gloss_tiers``); right / left: each hand's tier by name. offset_ms: where the motion's
    frame 0 is on the annotations' time line (ELAN ms = 1000 frame / fps + offset)."""
    path = Path(path)
    doc = parse(path)
    have = ", ".join(doc.tier_names) or "none"
    try:
        picked = pick_gloss_tiers(doc, tier) if tier or not (right or left) else GlossTiers(None, right, left)
        if tier and (right or left):
            picked = GlossTiers(picked.sign or None, right or picked.right, left or picked.left)
        for name in picked.names():
            doc.tier(name)
    except KeyError as e:
        raise FormatError(path, f"no tier {e.args[0]!r} to import (tiers: {have})") from None
    fps = _check_fps(fps, path)

    def segs(name: str | None) -> tuple[Segment, ...] | None:
        return None if not name else tuple(tier_segments(doc, name, fps, offset_ms, path))

    sign, rgt, lft = segs(picked.sign), segs(picked.right), segs(picked.left)
    every = (sign or ()) + (rgt or ()) + (lft or ())
    if every and not any(s.end >= 0 and s.start < n_frames for s in every):
        span = f"{frame_to_ms(0, fps, offset_ms)}..{frame_to_ms(n_frames, fps, offset_ms)} ms"
        raise FormatError(path, f"no annotation falls inside the motion ({span}): check the time offset")
    meta = {
        "source": doc.text,
        "file": str(path),
        "tiers": {"sign": picked.sign, "right": picked.right, "left": picked.left},
        "offset_ms": float(offset_ms),
    }
    return EafImport(sign, rgt, lft, meta)


def apply_import(seq: Sequence, imp: EafImport, keys: bool = True):
    """``imp`` onto ``seq``: one edit (``core.model.edits.Change``) and its
    ``core.model.segments_edit.ImportReport``; ``meta['eaf']`` remembers the file so an export
    keeps what Signframe does not edit."""
    from ..model.segments_edit import import_annotations

    meta = dict(seq.meta)
    meta[META_KEY] = dict(imp.meta)
    return import_annotations(seq, sign=imp.sign, right=imp.right, left=imp.left, keys=keys, meta=meta)


def import_onto(
    seq: Sequence,
    path: str | Path,
    *,
    tier: str | None = None,
    right: str | None = None,
    left: str | None = None,
    offset_ms: float = 0.0,
    keys: bool = True,
):
    """Bring an .eaf's gloss tiers onto ``seq`` (``prepare_import`` then ``apply_import``)."""
    imp = prepare_import(path, seq.fps, seq.n_frames, tier=tier, right=right, left=left, offset_ms=offset_ms)
    return apply_import(seq, imp, keys)


__all__ = [
    "EafAnnotation",
    "EafDocument",
    "EafLinkedFile",
    "EafMedia",
    "EafTier",
    "GlossTiers",
    "annotation_frames",
    "frame_to_ms",
    "hand_of_tier",
    "import_onto",
    "prepare_import",
    "apply_import",
    "EafImport",
    "labels_from_segments",
    "ms_to_frame",
    "parse",
    "parse_bytes",
    "pick_gloss_tiers",
    "pick_tier",
    "read",
    "read_labels",
    "read_segments",
    "read_tiers",
    "sequence_segments",
    "sequence_tiers",
    "shifted",
    "tier_segments",
    "write",
    "write_document",
    "write_segments",
]

"""Media links of a document: which video / audio files it is aligned with, and their offsets.

In a project file a link is ``{"kind": "video" | "audio", "path": "clip.mp4", "offset_s": 0.0}``
with the path relative to the project's folder when it can be (so a folder of project + media
moves as one), absolute otherwise. ``parse_links`` validates strictly: the list and each entry's
types, known kinds, a path string without NUL of at most ``MAX_PATH`` characters, a finite offset
within a day, at most ``MAX_LINKS`` entries.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..io.eaf import EafLinkedFile, EafMedia
from .timemap import valid_offset

KINDS = ("video", "audio")
MAX_PATH = 4096
MAX_LINKS = 16
VIDEO_EXTS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg")
AUDIO_EXTS = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus", ".aac")
MIME = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    ".webm": "video/webm",
    ".mpg": "video/mpeg",
    ".mpeg": "video/mpeg",
    ".wav": "audio/x-wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".aac": "audio/aac",
}


@dataclass(frozen=True)
class MediaLink:
    """``path`` absolute; ``offset_s``: media time at document time 0 (``core.media.timemap``)."""

    kind: str
    path: Path
    offset_s: float = 0.0

    def with_offset(self, offset_s: float) -> MediaLink:
        return replace(self, offset_s=valid_offset(offset_s))


def _relative(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return Path(os.path.relpath(path, base)).as_posix()
        except ValueError:  # another drive (Windows)
            pass
    return str(path)


def links_to_json(links: Iterable[MediaLink], project_path: str | Path | None) -> list[dict[str, Any]]:
    """JSON entries with paths relative to the project's folder."""
    base = Path(project_path).resolve().parent if project_path else None
    return [
        {"kind": ln.kind, "path": _relative(Path(ln.path).resolve(), base), "offset_s": float(ln.offset_s)}
        for ln in links
    ]


def parse_links(raw: object, project_path: str | Path | None) -> tuple[MediaLink, ...]:
    """Validated links from a project's ``media`` value (relative paths against its folder).
    Raises ValueError with a one-line reason."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError("media must be a list")
    if len(raw) > MAX_LINKS:
        raise ValueError(f"more than {MAX_LINKS} media links")
    base = Path(project_path).resolve().parent if project_path else Path.cwd()
    out = []
    for i, e in enumerate(raw):
        if not isinstance(e, dict):
            raise ValueError(f"media[{i}] is not an object")
        kind, p = e.get("kind"), e.get("path")
        if kind not in KINDS:
            raise ValueError(f"media[{i}]: unknown kind {kind!r}")
        if not isinstance(p, str) or not p or "\x00" in p or len(p) > MAX_PATH:
            raise ValueError(f"media[{i}]: path must be a non-empty string without NUL, at most {MAX_PATH} chars")
        try:
            off = valid_offset(e.get("offset_s", 0.0))
        except ValueError as err:
            raise ValueError(f"media[{i}]: {err}") from None
        path = Path(p)
        out.append(MediaLink(kind, Path(os.path.normpath(path if path.is_absolute() else base / path)), off))
    return tuple(out)


def beside(motion_path: str | Path) -> MediaLink | None:
    """A video with the motion file's name next to it (``clip.pose`` -> ``clip.mp4``), if any."""
    p = Path(motion_path)
    stem = p.name.split(".")[0]
    for ext in VIDEO_EXTS:
        for cand in (p.with_name(stem + ext), p.with_name(stem + ext.upper())):
            if cand.is_file():
                return MediaLink("video", cand.resolve(), 0.0)
    return None


def first(links: Sequence[MediaLink], kind: str) -> MediaLink | None:
    return next((ln for ln in links if ln.kind == kind), None)


def _url_from(target: Path, eaf_base: Path) -> str:
    """RELATIVE_MEDIA_URL / RELATIVE_LINK_URL as ELAN writes it (``./x.mp4``, ``../media/x.mp4``,
    percent-encoded); the absolute URL where there is no relative path (another drive)."""
    rel = _relative(target, eaf_base)
    if Path(rel).is_absolute():
        return target.as_uri()
    return quote(rel if rel.startswith("../") else "./" + rel, safe="/._-~")


def elan_descriptors(links: Iterable[MediaLink], eaf_path: str | Path) -> list[EafMedia]:
    """ELAN media descriptors for ``links`` seen from the .eaf at ``eaf_path``.

    TIME_ORIGIN is the media time (ms) at annotation time 0, i.e. the link's offset (left out when
    0, as ELAN does); ELAN cannot express a negative origin (media starting after the
    annotations), so it is clamped to 0."""
    base = Path(eaf_path).resolve().parent
    out = []
    for ln in links:
        p = Path(ln.path).resolve()
        mime = MIME.get(p.suffix.lower(), "video/*" if ln.kind == "video" else "audio/*")
        origin = max(0, int(round(ln.offset_s * 1000.0)))
        out.append(EafMedia(p.as_uri(), _url_from(p, base), mime, origin or None))
    return out


def elan_links(
    motion: str | Path | None,
    eaf_path: str | Path,
    links: Sequence[MediaLink] = (),
    *,
    source_file: object = None,
) -> dict[str, Any]:
    """``media`` / ``linked_file`` arguments of ``core.io.eaf.write`` for a document: its media
    ``links`` (else the motion file's sidecar or a video beside it with the same name; for a
    project, also beside the file it was made from, ``source_file``), and the motion itself as
    the linked file."""
    if motion is None:
        return {"media": elan_descriptors(links, eaf_path)} if links else {}
    motion = Path(motion).resolve()
    if not links:
        try:
            links = find_links(motion)
        except ValueError:  # a bad sidecar: export without media rather than fail the export
            links = ()
    if not links and isinstance(source_file, str) and source_file:
        found = beside(motion.with_name(Path(source_file).name))
        links = (found,) if found is not None else ()
    base = Path(eaf_path).resolve().parent
    out: dict[str, Any] = {"linked_file": EafLinkedFile(motion.as_uri(), _url_from(motion, base), "unknown")}
    if links:
        out["media"] = elan_descriptors(links, eaf_path)
    return out


SIDECAR_SUFFIX = ".media.json"
SIDECAR_FORMAT = "signframe-media"


def sidecar_path(motion_path: str | Path) -> Path:
    p = Path(motion_path)
    return p.with_name(p.name + SIDECAR_SUFFIX)


def write_sidecar(motion_path: str | Path, links: Iterable[MediaLink]) -> Path:
    """``clip.pose.media.json`` beside a motion file that has no room for media links (``.pose``):
    the links, paths relative to the motion file's folder. Written atomically."""
    import json

    from ..io.atomic import atomic_path

    out = sidecar_path(motion_path)
    doc = {"format": SIDECAR_FORMAT, "version": 1, "media": links_to_json(links, Path(motion_path))}
    with atomic_path(out) as tmp:
        Path(tmp).write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return out


def read_sidecar(motion_path: str | Path) -> tuple[MediaLink, ...]:
    """The sidecar's links (none when there is no sidecar). Raises ValueError when it is bad."""
    import json

    p = sidecar_path(motion_path)
    if not p.is_file():
        return ()
    if p.stat().st_size > 1_000_000:
        raise ValueError(f"{p}: larger than 1 MB, not a media sidecar")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, OSError) as e:
        raise ValueError(f"{p}: not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != SIDECAR_FORMAT:
        raise ValueError(f"{p}: not a Signframe media sidecar")
    try:
        return parse_links(doc.get("media"), Path(motion_path))
    except ValueError as e:
        raise ValueError(f"{p}: {e}") from None


def find_links(motion_path: str | Path) -> tuple[MediaLink, ...]:
    """The links of a motion file that is not a project: its sidecar's, else a video beside it
    with the same name. Raises ValueError when a sidecar exists but is bad."""
    links = read_sidecar(motion_path)
    if links:
        return links
    found = beside(motion_path)
    return (found,) if found is not None else ()

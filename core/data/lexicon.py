"""The fingerspelling lexicon shipped inside the ``spoken-to-signed`` package (training extra).

About 600 MediaPipe Holistic ``.pose`` clips, one letter each, 19 sign languages, listed in the
package's ``assets/fingerspelling_lexicon/data.csv`` (path, spoken_language, signed_language,
start, end, words, glosses, priority). The package is found without importing it.
"""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from pathlib import Path

LEXICON_SUBDIR = Path("assets") / "fingerspelling_lexicon"


class LexiconNotFound(LookupError):
    """spoken-to-signed is not installed (it is in the ``training`` extra)."""


@dataclass(frozen=True)
class LexiconEntry:
    path: Path  # absolute path of the .pose file
    source: str  # path relative to the lexicon folder, e.g. "ase/fs-sts....pose"
    language: str  # sign language code (ISO 639-3), e.g. "ase"
    spoken: str  # spoken language code, e.g. "en"
    letter: str


def lexicon_dir() -> Path:
    """The lexicon folder of the installed spoken-to-signed package."""
    spec = importlib.util.find_spec("spoken_to_signed")
    if spec is None or not spec.submodule_search_locations:
        raise LexiconNotFound(
            "the spoken-to-signed package is not installed "
            "(pip install 'spoken-to-signed>=0.4,<0.5', the 'training' extra)"
        )
    for loc in spec.submodule_search_locations:
        d = Path(loc) / LEXICON_SUBDIR
        if (d / "data.csv").is_file():
            return d
    raise LexiconNotFound("spoken-to-signed is installed but has no fingerspelling_lexicon/data.csv")


def read_lexicon(folder: Path | None = None) -> list[LexiconEntry]:
    """Entries of data.csv whose .pose file exists, sorted by (language, source)."""
    folder = lexicon_dir() if folder is None else Path(folder)
    out = []
    with open(folder / "data.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rel = row.get("path", "").strip()
            p = folder / rel
            if not rel or not p.is_file():
                continue
            letter = (row.get("words") or row.get("glosses") or "").strip()
            out.append(
                LexiconEntry(
                    p,
                    rel,
                    row.get("signed_language", "").strip() or p.parent.name,
                    row.get("spoken_language", "").strip(),
                    letter,
                )
            )
    out.sort(key=lambda e: (e.language, e.source))
    return out

#!/usr/bin/env python
"""Regenerate the bundled samples in assets/samples/ from the spoken-to-signed lexicon.

    .venv/bin/pip install "spoken-to-signed>=0.4,<0.5"     # the training extra
    .venv/bin/python scripts/make_samples.py

Writes, for each chosen letter clip, a reduced copy of its original ``.pose`` (MediaPipe body,
both hands, the five face-mesh points the IK uses) and the ``.signframe`` converted from that
copy, with the sign's segment, B/I/O labels and onset/mid/offset keys from its signing core; and
``default.signframe``: the word SIGNFRAME fingerspelled in ASL, chained from real letter clips
with synthesised transitions (GENERATED frames) between them. The motion is deterministic (fixed
clips, fixed seed); the zip containers carry write timestamps.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data.chains import FPS, make_chain, prepare  # noqa: E402
from core.data.clips import dominant_side, signing_core  # noqa: E402
from core.data.lexicon import lexicon_dir, read_lexicon  # noqa: E402
from core.data.transitions import build_jitter_bank  # noqa: E402
from core.io import pose_file, project  # noqa: E402
from core.kinematics.landmarks import FACE_MESH_INDEX  # noqa: E402
from core.model.sequence import (  # noqa: E402
    FrameState,
    Segment,
    keyframes_from_segments,
    labels_from_segments,
    new_sequence,
)

OUT = ROOT / "assets" / "samples"
SINGLE = (
    ("ase_letter_Y", "ase", "Y", "American Sign Language letter Y, right hand"),
    ("cse_letter_H", "cse", "H", "Czech Sign Language letter H, two-handed"),
    ("ise_letter_V", "ise", "V", "left-handed signer, letter V"),
)
WORD = ("ase", "SIGNFRAME")
SEED = 3


def entry(entries, language: str, letter: str):
    for e in entries:
        if e.language == language and e.letter == letter:
            return e
    raise SystemExit(f"make_samples: no clip for {language} {letter} in the lexicon")


def reduce_pose(src: Path, dst: Path) -> None:
    """Keep body, hands and the face points we use; write atomically."""
    from pose_format import Pose

    from core.io.atomic import atomic_path

    pose = Pose.read(src.read_bytes())
    names = ["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]
    small = pose.get_components(names, {"FACE_LANDMARKS": [str(i) for i in FACE_MESH_INDEX]})
    with atomic_path(dst) as tmp, open(tmp, "wb") as f:
        small.write(f)


def single(entries, name: str, language: str, letter: str, note: str) -> str:
    e = entry(entries, language, letter)
    pose_path = OUT / f"{name}.pose"
    reduce_pose(e.path, pose_path)
    # the template skeleton keeps the bundled avatars consistent (a fitted one follows each
    # signer's MediaPipe proportions, which can be lopsided: see core/kinematics/skeleton_fit.py)
    seq = pose_file.read(pose_path, fit_skeleton=False)
    dom = dominant_side(seq.valid)
    s, t = signing_core(seq.rotations, seq.valid, dom)
    seg = Segment(s, t, letter)
    seq = seq.replace(
        labels=labels_from_segments([seg], seq.n_frames),
        glosses=(seg,),
        keyframes=tuple(keyframes_from_segments([seg])),
        language=language,
        text=letter,
        meta={**seq.meta, "sample": note, "lexicon_source": e.source},
    )
    project.write(OUT / f"{name}.signframe", seq)
    return f"| `{name}.signframe`, `{name}.pose` | `{e.source}` | {language} | {letter} | {note} |"


def word(entries) -> str:
    from core.data.clips import load_clip

    language, text = WORD
    letters = list(dict.fromkeys(text))
    clips, sources = [], []
    for i, letter in enumerate(letters):
        e = entry(entries, language, letter)
        c, reason = load_clip(e.path)
        if c is None:
            raise SystemExit(f"make_samples: {e.source} unusable: {reason}")
        clips.append(prepare(i, c.rotations, c.valid, c.fps, c.core, c.dominant))
        sources.append(e.source)
    rng = np.random.default_rng(SEED)
    jitter = build_jitter_bank([(c.rotations, c.valid) for c in clips])
    ch = make_chain(clips, rng, jitter, [], order=[letters.index(x) for x in text], mirror_p=0.0, rest_p=1.0)
    glosses = [Segment(s, e, text[k]) for k, (s, e) in enumerate(ch.segments_exact)]
    seq = new_sequence(
        ch.rotations,
        FPS,
        valid=ch.valid,
        labels=ch.labels_exact,
        keyframes=keyframes_from_segments(glosses),
        glosses=glosses,
        text=text,
        language=language,
        meta={
            "sample": f"{text} fingerspelled in ASL: real letter clips, synthesised transitions",
            "lexicon_sources": sources,
            "seed": SEED,
            "generated_frames": "transitions between letters (core.data.transitions)",
        },
    )
    states = np.where(ch.real, FrameState.SOURCE, FrameState.GENERATED).astype(np.uint8)
    seq = seq.replace(base_states=states)
    project.write(OUT / "default.signframe", seq)
    return (
        f"| `default.signframe` | {', '.join(f'`{s}`' for s in sources)} | {language} | {text} | "
        f"{seq.n_frames} frames at {FPS:g} fps; letters are real clips (SOURCE), the movements between "
        f"them are synthesised (GENERATED) |"
    )


def main() -> int:
    entries = read_lexicon()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [single(entries, *s) for s in SINGLE]
    rows.append(word(entries))
    import importlib.metadata as md

    version = md.version("spoken-to-signed")
    (OUT / "SOURCES.md").write_text(
        SOURCES_TEMPLATE.format(version=version, rows="\n".join(rows), lexicon=lexicon_dir().name), encoding="utf-8"
    )
    print(f"wrote {len(rows)} samples to {OUT}")
    return 0


SOURCES_TEMPLATE = """# Bundled samples: sources and licence

All samples are converted from the fingerspelling lexicon shipped in the PyPI package
`spoken-to-signed` {version} (assets/{lexicon}/, MediaPipe Holistic `.pose` files, one letter
per clip), by Amit Moryossef, Mathias Müller et al., ZurichNLP,
<https://github.com/ZurichNLP/spoken-to-signed-translation>, released under the **MIT licence**
(Copyright (c) 2026 ZurichNLP; the licence text ships with the package as
`spoken_to_signed-*.dist-info/licenses/LICENSE`). The package's preprocessing already trimmed,
normalised and anonymised the poses (`remove_appearance`: the signer's body proportions are
replaced by a mean appearance; hands and wrists are kept), so no signer's appearance is stored.

Regenerate with `.venv/bin/python scripts/make_samples.py` (needs the `training` extra).

| Files | Lexicon source | Language | Letters | Notes |
|---|---|---|---|---|
{rows}

- `*.pose`: the original clip reduced with pose-format's `get_components` to the body
  (`POSE_LANDMARKS`), both hands and the face-mesh points 10, 152, 234, 454 and 1 (so the
  bundled file exercises the reduced-layout path); `tests/core/test_ik.py` measures the IK on them.
- `*.signframe`: `python -m core convert X.pose X.signframe --template-skeleton` (IK with
  smoothing, on the template skeleton so every bundled avatar has the same proportions), plus the
  sign's segment (its signing core), B/I/O labels and onset / mid / offset keyframes.
"""

if __name__ == "__main__":
    sys.exit(main())

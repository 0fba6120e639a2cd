"""``python -m core bench eaf``: bringing a 10-minute ELAN file onto a 10-minute motion.

Target: a file with 2,000 annotations (1,000 per hand, a corpus's RH-IDgloss / LH-IDgloss
tiers) imported onto a 10-minute 25 fps motion -- parse, frames, segments per hand, keys by the
policy, one undo step -- in under 1 s; the export back to .eaf is timed too.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..model.rotations import identity
from ..model.sequence import Segment, new_sequence
from . import eaf

TARGET_S = 1.0


def corpus_file(path: Path, minutes: float, annotations: int, fps: float = 25.0) -> None:
    """An ELAN file like a corpus's: per-hand gloss tiers, signs of 8-20 frames with gaps."""
    rng = np.random.default_rng(0)
    t = int(minutes * 60 * fps)
    per_hand = annotations // 2
    step = t / per_hand
    tiers = {}
    for name, shift in (("RH-IDgloss", 0), ("LH-IDgloss", 2)):
        segs = []
        for i in range(per_hand):
            a = int(i * step) + shift
            b = min(a + int(rng.integers(8, 21)), int((i + 1) * step) - 1 + shift, t - 1)
            if b >= a:
                segs.append(Segment(a, b, f"GLOSS-{i % 400}"))
        tiers[name] = segs
    eaf.write_document(path, tiers, fps)


def run(minutes: float = 10.0, annotations: int = 2000, repeat: int = 3) -> dict[str, Any]:
    fps = 25.0
    seq = new_sequence(identity((int(minutes * 60 * fps), 52)), fps)
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "corpus.eaf"
        corpus_file(src, minutes, annotations, fps)
        n = sum(len(t.annotations) for t in eaf.parse(src).tiers)
        imports, exports = [], []
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            change, report = eaf.import_onto(seq, src)
            imports.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            eaf.write(Path(d) / "back.eaf", change.sequence)
            exports.append(time.perf_counter() - t0)
    best = min(imports)
    return {
        "minutes": minutes,
        "frames": seq.n_frames,
        "annotations": n,
        "segments": dict(report.counts),
        "import_s": round(best, 4),
        "export_s": round(min(exports), 4),
        "target_s": TARGET_S,
        "import_vs_target": round(best / TARGET_S, 3),
        "meets_target": best < TARGET_S,
    }

"""FAST sign-segmentation proposals for the editor (lights up when the model is bundled).

Availability is checked without importing torch; running FAST (which does) happens in a
background task, never on the GUI thread.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from core.model.sequence import Sequence

FAST_DIR = Path(__file__).resolve().parents[1] / "assets" / "models" / "fast"


_cache: tuple[float, str | None] = (-1e9, None)


def fast_unavailable_reason() -> str | None:
    """None when FAST can run here, else a one-line reason (the disabled action's tooltip).
    Re-checked at most every two seconds (the menu state is refreshed on every edit)."""
    global _cache
    now = time.monotonic()
    if now - _cache[0] < 2.0:
        return _cache[1]
    _cache = (now, _probe())
    return _cache[1]


def _probe() -> str | None:
    try:
        found = importlib.util.find_spec("core.ml.fast.infer") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return "FAST is not part of this build (core.ml.fast.infer missing)"
    if not (FAST_DIR / "fast.pt").is_file():
        return f"no bundled FAST model in {FAST_DIR}"
    return None


def run_fast(seq: Sequence, progress=None):
    """Labels, segments and keyframes for ``seq`` (a ``core.ml.segmentation.Decoded``)."""
    from core.ml.fast.infer import Segmenter

    segmenter = Segmenter.load(FAST_DIR)
    if progress is not None:
        progress(0.2)
    out = segmenter.segment(seq)
    if progress is not None:
        progress(1.0)
    return out


def fast_probabilities(seq: Sequence, progress=None):
    """FAST's per-frame (T, 3) O / I / B probabilities for ``seq`` and the model's decoding
    defaults (``core.ml.segmentation.DecodeOptions``): the network runs once; re-decoding at
    another sensitivity (``core.ml.segmentation.decode``) needs no torch."""
    from core.ml.fast.infer import Segmenter

    segmenter = Segmenter.load(FAST_DIR)
    if progress is not None:
        progress(0.2)
    probs = segmenter.probs(seq)
    if progress is not None:
        progress(1.0)
    return probs, segmenter.options

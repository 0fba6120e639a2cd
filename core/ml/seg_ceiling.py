"""How well any segmenter can score on a corpus whose onsets are placed at random (numpy only).

The corpus (``core.data.chains``) models co-articulation: a sign's labelled onset starts a random
number of frames before its first real frame, inside the synthetic transition,
``round(c * u * n)`` for a transition of ``n`` frames, ``c`` drawn per chain and ``u`` per sign.
Nothing in the motion says where that frame is, so the one-frame B label can only be guessed.

``oracle_labels`` is a segmenter that is told everything else: which frames are real clip frames,
the length of each transition, and every sign's exact offset. It guesses each onset's overlap as
the most frequent one for that transition length in the training chains (the Bayes choice for the
exact B frame). Its scores are a ceiling for any model that sees only the motion.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

import numpy as np

from ..model.sequence import Segment, labels_from_segments

# (first sign of its chain, transition length before it)
OnsetContext = tuple[bool, int]


def onsets(real: np.ndarray, segments: Iterable[Segment]) -> list[tuple[OnsetContext, int, int, int]]:
    """Per sign: (context, overlap, first real frame, end).

    real: (T,) bool, frame copied from a clip; overlap: frames between the labelled onset and the
    sign's first real frame; the transition length counts the synthetic frames just before it.
    """
    real = np.asarray(real, bool)
    out = []
    for i, s in enumerate(segments):
        r = s.start
        while r <= s.end and not real[r]:
            r += 1
        k = r - 1
        while k >= 0 and not real[k]:
            k -= 1
        out.append(((i == 0, r - 1 - k), r - s.start, r, s.end))
    return out


def overlap_table(chains: Iterable) -> dict[OnsetContext, int]:
    """The most frequent overlap per onset context over ``chains`` (objects with ``real`` and
    ``segments``, e.g. ``core.data.corpus.CorpusChain``)."""
    seen: dict[OnsetContext, Counter] = defaultdict(Counter)
    for ch in chains:
        for ctx, overlap, _, _ in onsets(ch.real, ch.segments):
            seen[ctx][overlap] += 1
    # ties go to the smaller overlap, so the table does not depend on chain order
    return {ctx: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for ctx, c in seen.items()}


def oracle_labels(real: np.ndarray, segments: Iterable[Segment], table: Mapping[OnsetContext, int]) -> np.ndarray:
    """(T,) uint8 labels of the oracle described in the module docstring (unseen context: overlap 0)."""
    segs = [Segment(max(r - table.get(ctx, 0), 0), end) for ctx, _, r, end in onsets(real, segments)]
    return labels_from_segments(segs, len(real))


def label_ceiling(corpus_path, split: str = "test", tolerance: int = 2) -> dict:
    """Scores of the oracle on ``split`` (table from the training chains), as ``seg_metrics``
    pooled scores plus the share of onsets it places on the exact frame."""
    from ..data.corpus import load_corpus
    from . import seg_metrics

    corpus = load_corpus(corpus_path)
    table = overlap_table(corpus.chains_in("train"))
    chains = corpus.chains_in(split)
    pairs, hits, total = [], 0, 0
    for ch in chains:
        pairs.append((np.asarray(ch.labels_exact), oracle_labels(ch.real, ch.segments, table)))
        for ctx, overlap, _, _ in onsets(ch.real, ch.segments):
            hits += int(table.get(ctx, 0) == overlap)
            total += 1
    scores = seg_metrics.evaluate(pairs, tolerance).as_dict()
    return {
        "method": "oracle: sees real frames, transition lengths and offsets; guesses the onset overlap",
        "exact_onset_share": hits / max(total, 1),
        **scores,
    }

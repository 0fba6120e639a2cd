"""Segmentation metrics, as defined by Moryossef et al. 2023 ("Linguistically motivated sign language
segmentation") and used by the SignSparK paper (section 4, Table 1a). numpy only.

- frame F1: F1 of the per-frame labels, macro-averaged over the three classes O, I, B (a class
  absent from both gold and prediction is left out of the average rather than counted as 0).
- segment IoU: intersection over union of the frames covered by any gold segment and the frames
  covered by any predicted segment (segments are ``start..end`` inclusive here).
- segment ratio: number of predicted segments / number of gold segments (1 is ideal).
- boundary F1 (not in Moryossef et al.; added because keyframes sit on boundaries): predicted
  onsets and offsets are matched one-to-one to gold ones of the same kind within ``tolerance``
  frames (closest pairs first); precision, recall and F1 over both kinds together.

Corpus-level figures: frame F1 and IoU are computed on all frames pooled, the segment ratio on
summed counts, boundary F1 on summed matches (``SegScores.pool``).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence as Seq
from dataclasses import asdict, dataclass

import numpy as np

from ..model.sequence import Segment, segments_from_labels


def _segs(x) -> list[Segment]:
    if isinstance(x, np.ndarray):
        return segments_from_labels(x)
    return list(x)


def confusion(gold: np.ndarray, pred: np.ndarray, n_classes: int = 3) -> np.ndarray:
    """(C, C) counts, rows gold, columns predicted."""
    gold = np.asarray(gold, dtype=np.int64)
    pred = np.asarray(pred, dtype=np.int64)
    if gold.shape != pred.shape:
        raise ValueError(f"gold {gold.shape} and prediction {pred.shape} differ in length")
    return np.bincount(gold * n_classes + pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def f1_from_confusion(cm: np.ndarray) -> tuple[float, np.ndarray]:
    """Macro F1 and per-class F1 (NaN for a class absent from gold and prediction)."""
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    denom = 2 * tp + fp + fn
    per = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)
    present = ~np.isnan(per)
    return (float(per[present].mean()) if present.any() else float("nan")), per


def frame_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    """Macro F1 over O / I / B of two (T,) label arrays."""
    return f1_from_confusion(confusion(gold, pred))[0]


def coverage(segments: Iterable[Segment], n_frames: int) -> np.ndarray:
    """(T,) bool: frames inside any segment."""
    m = np.zeros(n_frames, bool)
    for s in segments:
        m[max(s.start, 0) : min(s.end, n_frames - 1) + 1] = True
    return m


def segment_iou(gold, pred, n_frames: int) -> float:
    """IoU of the frames covered by gold and predicted segments (labels arrays or segment lists).
    Both empty: 1."""
    g, p = coverage(_segs(gold), n_frames), coverage(_segs(pred), n_frames)
    union = int((g | p).sum())
    return 1.0 if union == 0 else float((g & p).sum()) / union


def segment_ratio(gold, pred) -> float:
    """#predicted / #gold segments (inf when gold is empty and prediction is not, 1 if both)."""
    ng, np_ = len(_segs(gold)), len(_segs(pred))
    if ng == 0:
        return 1.0 if np_ == 0 else float("inf")
    return np_ / ng


def match_boundaries(gold: Seq[int], pred: Seq[int], tolerance: int) -> int:
    """Number of one-to-one matches between two frame lists within ``tolerance`` frames, closest
    pairs first (greedy on distance: optimal for points on a line up to ties)."""
    gold = sorted(int(g) for g in gold)
    pred = sorted(int(p) for p in pred)
    pairs = (
        sorted((abs(g - p), i, j) for i, g in enumerate(gold) for j, p in enumerate(pred) if abs(g - p) <= tolerance)
        if len(gold) * len(pred) < 250_000
        else None
    )
    if pairs is None:  # very long sequences: a two-pointer sweep (same result without ties)
        i = j = n = 0
        while i < len(gold) and j < len(pred):
            if abs(gold[i] - pred[j]) <= tolerance:
                n += 1
                i += 1
                j += 1
            elif gold[i] < pred[j]:
                i += 1
            else:
                j += 1
        return n
    used_g: set[int] = set()
    used_p: set[int] = set()
    for _, i, j in pairs:
        if i not in used_g and j not in used_p:
            used_g.add(i)
            used_p.add(j)
    return len(used_g)


@dataclass
class SegCounts:
    """Sufficient statistics of one or many sequences (add them up, then ``scores``)."""

    cm: np.ndarray
    inter: int
    union: int
    n_gold: int
    n_pred: int
    b_match: int
    b_gold: int
    b_pred: int

    def __add__(self, o: SegCounts) -> SegCounts:
        return SegCounts(
            self.cm + o.cm,
            self.inter + o.inter,
            self.union + o.union,
            self.n_gold + o.n_gold,
            self.n_pred + o.n_pred,
            self.b_match + o.b_match,
            self.b_gold + o.b_gold,
            self.b_pred + o.b_pred,
        )

    def scores(self) -> SegScores:
        f1, per = f1_from_confusion(self.cm)
        p = self.b_match / self.b_pred if self.b_pred else (1.0 if self.b_gold == 0 else 0.0)
        r = self.b_match / self.b_gold if self.b_gold else (1.0 if self.b_pred == 0 else 0.0)
        bf1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
        return SegScores(
            frame_f1=f1,
            f1_o=float(per[0]),
            f1_i=float(per[1]),
            f1_b=float(per[2]),
            iou=1.0 if self.union == 0 else self.inter / self.union,
            segment_ratio=(self.n_pred / self.n_gold) if self.n_gold else float("nan"),
            boundary_precision=p,
            boundary_recall=r,
            boundary_f1=bf1,
            n_gold=self.n_gold,
            n_pred=self.n_pred,
            frames=int(self.cm.sum()),
        )


@dataclass(frozen=True)
class SegScores:
    frame_f1: float
    f1_o: float
    f1_i: float
    f1_b: float
    iou: float
    segment_ratio: float
    boundary_precision: float
    boundary_recall: float
    boundary_f1: float
    n_gold: int
    n_pred: int
    frames: int

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def counts(gold_labels: np.ndarray, pred_labels: np.ndarray, tolerance: int = 2) -> SegCounts:
    """Statistics of one sequence from its gold and predicted (T,) labels."""
    gold_labels = np.asarray(gold_labels)
    pred_labels = np.asarray(pred_labels)
    t = gold_labels.shape[0]
    gs, ps = segments_from_labels(gold_labels), segments_from_labels(pred_labels)
    g, p = coverage(gs, t), coverage(ps, t)
    m = match_boundaries([s.start for s in gs], [s.start for s in ps], tolerance) + match_boundaries(
        [s.end for s in gs], [s.end for s in ps], tolerance
    )
    return SegCounts(
        confusion(gold_labels, pred_labels),
        int((g & p).sum()),
        int((g | p).sum()),
        len(gs),
        len(ps),
        m,
        2 * len(gs),
        2 * len(ps),
    )


def evaluate(pairs: Iterable[tuple[np.ndarray, np.ndarray]], tolerance: int = 2) -> SegScores:
    """Pooled scores over (gold_labels, pred_labels) pairs."""
    total = None
    for g, p in pairs:
        c = counts(g, p, tolerance)
        total = c if total is None else total + c
    if total is None:
        raise ValueError("nothing to evaluate")
    return total.scores()

"""``python -m core eval fast DATA``: FAST against gold labels, next to a kinematic baseline.

DATA: the training corpus (its held-out ``--split``, test by default), a sequence file / folder
whose gold labels are the files' own labels or a sibling ``NAME.eaf``, or a folder of real ``.pose``
recordings without frame labels (``core.ml.fast.real``: segments per gloss on sentences, isolated
signs found as one sign, rest frames labelled O). Reported (pooled over all
sequences, definitions in ``core.ml.seg_metrics``): frame F1 (macro over O/I/B) of the decoded
labels and of the raw argmax, segment IoU, segment ratio, boundary F1 within ``--tolerance``
frames; the same for the hand-speed baseline (``core.ml.segmentation.speed_minima_labels``, its
threshold tuned on the training languages at training time); and a breakdown by how each
sequence was made (``kind``), e.g. chains with interpolated transitions versus other transitions.

Imports nothing heavy at module level. The flags live in ``core.commands.eval_targets.fast``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


def is_corpus(path: Path) -> bool:
    """A corpus file (``python -m core data build``) rather than a sequence file: sniffed from
    the npz member names."""
    import zipfile

    if path.is_dir() or not path.name.lower().endswith(".npz"):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    return {"format.npy", "chain_offsets.npy", "chain_rot6d.npy"} <= names


TRANSITIONS = ("as-built", "linear-jitter", "ease-out-jitter", "hold-then-move")


@dataclass(frozen=True)
class FastEvalOptions:
    """What ``eval fast`` evaluates and how (the command line's flags, typed)."""

    data: str
    split: str = "test"
    model: str | None = None
    device: str = "cpu"
    tolerance: int = 2
    transitions: str = "as-built"  # one of TRANSITIONS, or "all"
    sensitivity: float | None = None  # None: the model's own decoding options
    min_length: int | None = None
    merge_gap: int | None = None
    half: str | None = None  # real folder: "even" / "odd" file of two
    decode_sweep: bool = False


def load_samples(data: str | Path, split: str = "test", transitions: str | None = None):
    from ...errors import UserError
    from .data import samples_from_corpus, samples_from_files, sequence_files

    data = Path(data)
    if not data.exists():
        raise UserError(f"{data}: no such file or folder")
    if is_corpus(data):
        samples = samples_from_corpus(data, split, transitions)
    else:
        files = sequence_files(data)
        if not files:
            raise UserError(f"{data}: no readable sequence files")
        samples = samples_from_files(files, transitions=transitions)
    samples = [s for s in samples if (s.labels > 0).any()]
    if not samples:
        raise UserError(f"{data}: no sequence with gold sign labels to evaluate against")
    return samples


def _options(ev: FastEvalOptions, seg):
    return seg.options.overridden(ev.sensitivity, ev.min_length, ev.merge_gap)


def evaluate(ev: FastEvalOptions) -> dict[str, Any]:
    """``eval fast``: the JSON-able result (see the module docstring)."""
    from .real import is_real_folder

    if is_real_folder(ev.data):
        return _run_real(ev)
    style = ev.transitions or "as-built"
    if style != "all":
        return _run(ev, style)
    runs = {st: _run(ev, st) for st in TRANSITIONS}
    out = dict(runs["as-built"])
    out["by_transitions"] = {
        st: {"fast": r["fast"], "baseline": r["baseline"], "interpolation_shortcut": r["interpolation_shortcut"]}
        for st, r in runs.items()
    }
    return out


def _run_real(ev: FastEvalOptions) -> dict[str, Any]:
    import torch

    from ...errors import LoadError, UserError
    from . import real as fast_real
    from .infer import Segmenter

    torch.set_num_threads(1)
    try:
        seg = Segmenter.load(ev.model, device=ev.device or "cpu")
    except LoadError as e:
        raise UserError(str(e)) from None
    return fast_real.run(ev.data, seg, _options(ev, seg), half=ev.half, decode_sweep=ev.decode_sweep)


def _run(ev: FastEvalOptions, style: str) -> dict[str, Any]:
    import numpy as np

    from ...errors import LoadError, UserError
    from .. import seg_metrics
    from ..segmentation import decode
    from .data import smoothness_shortcut_labels
    from .infer import Segmenter
    from .train import baseline_labels

    samples = load_samples(ev.data, ev.split or "test", style)
    import torch

    torch.set_num_threads(1)  # fastest for this small network on a shared CPU (see bench fast)
    try:
        seg = Segmenter.load(ev.model, device=ev.device or "cpu")
    except LoadError as e:
        raise UserError(str(e)) from None
    opts = _options(ev, seg)
    tol = int(ev.tolerance or 2)
    probs = seg.probs_many([s.features for s in samples], [s.fps for s in samples])
    pred = [decode(p, opts).labels for p in probs]
    raw = [p.argmax(axis=1).astype(np.uint8) for p in probs]
    threshold = float(seg.config.get("meta", {}).get("baseline_threshold", 1.0))
    base = [baseline_labels(s, threshold) for s in samples]
    sc_th = float(seg.config.get("meta", {}).get("shortcut_threshold", 1e-3))
    shortcut = [smoothness_shortcut_labels(s.features, sc_th) for s in samples]

    def score(labels, subset=None) -> dict:
        idx = range(len(samples)) if subset is None else subset
        return seg_metrics.evaluate(((samples[i].labels, labels[i]) for i in idx), tol).as_dict()

    out: dict[str, Any] = {
        "data": str(ev.data),
        "sequences": len(samples),
        "frames": int(sum(len(s.labels) for s in samples)),
        "languages": sorted({s.language for s in samples if s.language}),
        "sensitivity": opts.sensitivity,
        "tolerance_frames": tol,
        "fast": score(pred),
        "fast_argmax_frame_f1": score(raw)["frame_f1"],
        "baseline": {"method": "hand-speed minima", "threshold": threshold, **score(base)},
        "interpolation_shortcut": {"method": "near-zero jerk = transition", "threshold": sc_th, **score(shortcut)},
        "transitions": style,
    }
    if style == "as-built" and is_corpus(Path(ev.data)):
        from ..seg_ceiling import label_ceiling

        out["real_clips"] = _real_clips(ev, seg, opts, tol)
        out["label_ceiling"] = label_ceiling(ev.data, ev.split or "test", tol)
    kinds = sorted({s.kind for s in samples})
    if len(kinds) > 1:
        out["by_kind"] = {}
        for k in kinds:
            sub = [i for i, s in enumerate(samples) if s.kind == k]
            out["by_kind"][k] = {"sequences": len(sub), "fast": score(pred, sub), "baseline": score(base, sub)}
    return out


def _real_clips(ev: FastEvalOptions, seg, opts, tol) -> dict[str, Any]:
    """Single real lexicon clips of the split (one sign each, no synthetic frame)."""
    import numpy as np

    from .. import seg_metrics
    from ..segmentation import decode
    from .data import clip_samples_from_corpus

    clips = clip_samples_from_corpus(ev.data, ev.split or "test")
    if not clips:
        return {}
    probs = seg.probs_many([c.features for c in clips], [c.fps for c in clips])
    dec = [decode(p, opts) for p in probs]
    n = np.array([len(d.segments) for d in dec])
    res = seg_metrics.evaluate(((c.labels, d.labels) for c, d in zip(clips, dec)), tol).as_dict()
    return {
        "clips": len(clips),
        "exactly_one_sign": round(float(np.mean(n == 1)), 4),
        "no_sign": round(float(np.mean(n == 0)), 4),
        "mean_signs_found": round(float(n.mean()), 3),
        **{k: res[k] for k in ("frame_f1", "iou", "segment_ratio", "boundary_f1")},
    }


def format_text(res: dict[str, Any]) -> str:
    if res.get("kind", "").startswith("real folder"):
        from .real import format_text as real_text

        return real_text(res)
    keys = ("frame_f1", "iou", "segment_ratio", "boundary_f1", "n_gold", "n_pred")
    lines = [f"{res['sequences']} sequences, {res['frames']} frames; tolerance {res['tolerance_frames']} frames"]
    for name in ("fast", "baseline", "interpolation_shortcut"):
        r = res[name]
        lines.append(f"{name:9s} " + "  ".join(f"{k}={r[k]}" for k in keys))
    if res.get("label_ceiling"):
        r = res["label_ceiling"]
        lines.append(
            "ceiling   "
            + "  ".join(f"{k}={r[k]}" for k in keys)
            + f"  (oracle that sees the real frames; onsets exact {r['exact_onset_share']:.3f})"
        )
    if res.get("real_clips"):
        r = res["real_clips"]
        lines.append(
            f"real clips ({r['clips']}, one sign each): exactly one found {r['exactly_one_sign']}, "
            f"mean found {r['mean_signs_found']}, iou {r['iou']}, segment_ratio {r['segment_ratio']}"
        )
    for st, r in res.get("by_transitions", {}).items():
        lines.append(
            f"  transitions {st}: fast "
            + "  ".join(f"{x}={r['fast'][x]}" for x in keys[:4])
            + " | shortcut "
            + "  ".join(f"{x}={r['interpolation_shortcut'][x]}" for x in keys[:2])
        )
    for k, v in res.get("by_kind", {}).items():
        lines.append(
            f"  [{k}] fast "
            + "  ".join(f"{x}={v['fast'][x]}" for x in keys[:4])
            + " | baseline "
            + "  ".join(f"{x}={v['baseline'][x]}" for x in keys[:4])
        )
    return "\n".join(lines)

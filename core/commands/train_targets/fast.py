"""``python -m core train fast``: train FAST on the corpus, then calibrate and test it.

    python -m core train fast --corpus data/corpus.npz --out assets/models/fast --epochs 30 --seed 0
    torchrun --nproc_per_node 4 -m core train fast --corpus ... --device cuda

After training (rank 0 only): the best checkpoint is reloaded, the decoding sensitivity is tuned
on the validation languages, the kinematic baseline's threshold on (a sample of) the training
languages, and both are scored on the test languages; ``metrics.json`` is written beside the
checkpoint and the tuned values go into its ``config.json``.

No torch import at module level (the CLI imports this module to build its parser). The training
itself is ``core.ml.fast.train.train``; this module is the command around it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("--corpus", help="corpus file from `python -m core data build`")
    p.add_argument(
        "--synthetic", type=int, default=0, metavar="N", help="train on N synthetic toy sequences instead (smoke test)"
    )
    p.add_argument("--out", default="assets/models/fast", help="model folder to write")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--steps-per-epoch", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--ctc-weight", type=float, default=0.3)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--train-labels",
        choices=("blurred", "exact"),
        default="exact",
        help="corpus training labels: exact (default; measured better, also on remade transitions) or "
        "blurred by a frame or two; validation and test always use the exact ones",
    )
    p.add_argument(
        "--remake-transitions",
        default="",
        metavar="STYLE[,STYLE]",
        help="also train on a copy of every training chain with its transitions remade in "
        "these styles (core.ml.fast.data.TRANSITION_STYLES); keep one style unseen for the check",
    )
    p.add_argument(
        "--fresh-chains",
        type=float,
        default=0.0,
        metavar="P",
        help="share (0-1) of each batch taken from chains made for each epoch from the corpus's "
        "training-language clips (the corpus builder's make_chain), against overfitting the fixed ones",
    )
    p.add_argument(
        "--fresh-pool",
        type=int,
        default=400,
        metavar="N",
        help="fresh chains made per epoch (and torchrun rank) with --fresh-chains",
    )
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    p.add_argument("--no-progress", action="store_true")


def _at_fps(samples, fps: float):
    """Samples resampled (nearest frame, segments kept) to the model's frame rate."""
    import numpy as np

    from ...ml.fast.infer import resample_index
    from ...ml.fast.train import Sample
    from ...model.sequence import Segment, labels_from_segments, segments_from_labels

    out = []
    for s in samples:
        idx = resample_index(len(s.labels), s.fps, fps)
        if len(idx) == len(s.labels):
            out.append(s)
            continue
        k = (len(idx) - 1) / max(len(s.labels) - 1, 1)
        segs = [
            Segment(int(round(g.start * k)), max(int(round(g.start * k)), int(round(g.end * k))))
            for g in segments_from_labels(s.labels)
        ]
        out.append(
            Sample(s.features[idx], labels_from_segments(segs, len(idx)).astype(np.uint8), s.language, fps, s.kind)
        )
    return out


def run(args) -> int:
    import numpy as np
    import torch

    from ...errors import UserError
    from ...ml import seg_metrics
    from ...ml.fast.infer import CONFIG, Segmenter, save_model
    from ...ml.fast.net import FastConfig
    from ...ml.fast.train import (
        TrainConfig,
        baseline_labels,
        evaluate_model,
        synthetic_samples,
        train,
        tune_baseline,
        tune_sensitivity,
    )

    if not args.corpus and not args.synthetic:
        raise UserError("train fast: give --corpus FILE (or --synthetic N for a smoke run)")
    if not 0.0 <= args.fresh_chains <= 1.0:
        raise UserError(f"--fresh-chains: {args.fresh_chains} is not a share between 0 and 1")
    if args.fresh_chains > 0 and args.fresh_pool < 1:
        raise UserError(f"--fresh-pool: {args.fresh_pool} must be at least 1")
    if args.fresh_chains > 0 and (args.synthetic or not args.corpus):
        raise UserError("--fresh-chains needs --corpus FILE (chains are made from its training clips)")
    t0 = time.time()
    fresh = None
    if args.synthetic:
        tr = synthetic_samples(args.synthetic, seed=args.seed)
        va = synthetic_samples(max(4, args.synthetic // 4), seed=args.seed + 1)
        te = synthetic_samples(max(4, args.synthetic // 4), seed=args.seed + 2, smooth_transitions=False)
        source = f"synthetic toy sequences (n={args.synthetic})"
    else:
        from ...ml.fast.data import TRANSITION_STYLES, samples_from_corpus

        corpus = Path(args.corpus)
        if not corpus.is_file():
            raise UserError(f"{corpus}: no such file")
        bad = [x for x in args.remake_transitions.split(",") if x and x not in TRANSITION_STYLES]
        if bad:
            raise UserError(f"--remake-transitions: unknown style {bad[0]!r} (known: {', '.join(TRANSITION_STYLES)})")
        tr = samples_from_corpus(corpus, "train", exact=args.train_labels == "exact")
        for k, style in enumerate(x for x in args.remake_transitions.split(",") if x):
            tr += samples_from_corpus(
                corpus, "train", transitions=style, seed=args.seed + 1 + k, exact=args.train_labels == "exact"
            )
        va, te = (samples_from_corpus(corpus, s, exact=True) for s in ("val", "test"))
        if not tr:
            raise UserError(f"{corpus}: no training sequences")
        if args.fresh_chains > 0:
            from ...data.corpus import CorpusError
            from ...ml.fast.data import FreshChains

            try:
                fresh = FreshChains(
                    corpus,
                    exact=args.train_labels == "exact",
                    styles=[x for x in args.remake_transitions.split(",") if x],
                )
            except CorpusError as e:
                raise UserError(str(e)) from None
        source = str(corpus)
    tr, va, te = (_at_fps(x, 25.0) for x in (tr, va, te))
    t_data = time.time() - t0
    cfg = TrainConfig(
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        batch_size=args.batch_size,
        lr=args.lr,
        ctc_weight=args.ctc_weight,
        seed=args.seed,
        threads=args.threads,
        fresh_chains=args.fresh_chains,
        fresh_pool=args.fresh_pool,
        model=FastConfig(width=args.width, layers=args.layers),
    )
    langs = {k: sorted({s.language for s in v}) for k, v in (("train", tr), ("val", va), ("test", te))}
    meta = {
        "data": source,
        "languages": langs,
        "command": "python -m core train fast " + " ".join(sys.argv[3:])
        if sys.argv[1:3] == ["train", "fast"]
        else None,
        "seed": args.seed,
    }
    summary = train(
        tr,
        va,
        args.out,
        cfg,
        resume=args.resume,
        device=args.device,
        progress=not args.no_progress,
        meta=meta,
        fresh=fresh,
        log=lambda s: print(s, file=sys.stderr),
    )
    import os

    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    torch.set_num_threads(max(1, args.threads))
    seg = Segmenter.load(args.out, device=args.device)
    probs_va = seg.probs_many([s.features for s in va], [s.fps for s in va]) if va else []
    sens, table = tune_sensitivity(probs_va, va, seg.options) if va else (seg.options.sensitivity, [])
    opts = seg.options.overridden(sensitivity=sens)
    rng = np.random.default_rng(args.seed)
    tune_on = [tr[i] for i in rng.choice(len(tr), size=min(len(tr), 300), replace=False)]
    threshold = tune_baseline(tune_on)
    from ...ml.fast.data import smoothness_shortcut_labels

    shortcut_th = tune_baseline(
        tune_on,
        grid=tuple(10.0 ** np.arange(-5, -0.9, 0.5)),
        labeller=lambda s, th: smoothness_shortcut_labels(s.features, th),
    )
    result = {
        "wall_s_train": summary["wall_s"],
        "wall_s_data": round(t_data, 1),
        "parameters": summary["parameters"],
        "sensitivity": sens,
        "sensitivity_table": table,
        "baseline_threshold": threshold,
        "shortcut_threshold": shortcut_th,
    }
    for name, data in (("val", va), ("test", te)):
        if not data:
            continue
        result[name] = {
            "fast": evaluate_model(seg.model, data, opts),
            "baseline": seg_metrics.evaluate((s.labels, baseline_labels(s, threshold)) for s in data).as_dict(),
            "interpolation_shortcut": seg_metrics.evaluate(
                (s.labels, smoothness_shortcut_labels(s.features, shortcut_th)) for s in data
            ).as_dict(),
        }
        kinds = sorted({s.kind for s in data})
        if len(kinds) > 1:
            result[name]["by_kind"] = {
                k: evaluate_model(seg.model, [s for s in data if s.kind == k], opts) for k in kinds
            }
    cfg_path = Path(args.out) / CONFIG
    full = json.loads(cfg_path.read_text())
    full["meta"].update(
        {
            "baseline_threshold": threshold,
            "shortcut_threshold": shortcut_th,
            "wall_s_train": summary["wall_s"],
            "test": result.get("test", {}).get("fast"),
        }
    )
    save_model(args.out, seg.model, seg.fps, opts, full["meta"])
    from ...io.atomic import atomic_path

    with atomic_path(Path(args.out) / "metrics.json") as tmp:
        tmp.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "sensitivity_table"}, indent=2))
    return 0

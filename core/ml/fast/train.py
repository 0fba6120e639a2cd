"""Training FAST: data, augmentation, losses, the loop (single process or torchrun / DDP).

Samples are (features (T, 2, F) float32, labels (T,) uint8, language, fps). Each step draws one
random crop length for the batch, and for every sample: a speed change (time resampled by a
factor in [0.7, 1.4], segment boundaries mapped so every sign keeps its B), a random crop, at
random one hand stream zeroed (so a missing hand is no cue) or the hands swapped (a mirrored
signer), feature noise and a random rescale of the speed features.

Loss = class-weighted frame cross-entropy + ``ctc_weight`` * sign-level CTC. The CTC reads the
frame posteriors as a two-symbol alphabet, blank = P(O) + P(I) and "sign" = P(B), with one "sign"
token per onset in the crop: it scores the number and order of onsets, not their exact frames
(which is what the segment ratio measures).

Only rank 0 writes files. Resume restores model, optimiser, scheduler and epoch; each epoch's
random streams are seeded from (seed, epoch, rank), so a resumed run continues the same draws.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...model.sequence import Label, Segment, labels_from_segments, segments_from_labels
from .. import seg_metrics
from ..segmentation import DecodeOptions, decode, speed_minima_labels
from .features import HAND_DIM, KIN_DIMS, ROT_DIMS, motion_energy
from .infer import predict_features, save_model
from .net import FastConfig, FastNet, n_parameters


@dataclass
class Sample:
    features: np.ndarray  # (T, 2, F) float32
    labels: np.ndarray  # (T,) uint8
    language: str = ""
    fps: float = 25.0
    kind: str = "chain"  # what made it: "chain", "real", "alt-transitions", ...


@dataclass
class TrainConfig:
    epochs: int = 30
    steps_per_epoch: int = 100
    batch_size: int = 32
    crop_min: int = 96
    crop_max: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.01
    ctc_weight: float = 0.3
    class_weights: tuple[float, float, float] = (1.0, 1.0, 3.0)
    speed_range: tuple[float, float] = (0.7, 1.4)
    hand_drop: float = 0.15
    hand_swap: float = 0.25
    noise: float = 0.02
    seed: int = 0
    threads: int = 1
    fresh_chains: float = 0.0  # share of each batch drawn from chains made for this epoch
    fresh_pool: int = 400  # chains made per epoch (and rank) when fresh_chains > 0
    model: FastConfig = field(default_factory=FastConfig)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "model"}
        d["model"] = self.model.to_dict()
        return d


# --- augmentation --------------------------------------------------------------------------------
def change_speed(features: np.ndarray, labels: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Play ``factor`` times faster: (T, 2, F) linearly resampled to round(T / factor) frames;
    segments mapped to the new time base (each keeps its onset). Speed features are per frame,
    so they scale with the factor."""
    t = features.shape[0]
    n = max(2, int(round(t / factor)))
    src = np.linspace(0, t - 1, n)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, t - 1)
    w = (src - i0).astype(np.float32)[:, None, None]
    out = features[i0] * (1 - w) + features[i1] * w
    out[..., KIN_DIMS] *= factor
    scale = (n - 1) / max(t - 1, 1)
    segs = []
    for s in segments_from_labels(labels):
        a = int(round(s.start * scale))
        b = max(a, int(round(s.end * scale)))
        segs.append(Segment(a, min(b, n - 1)))
    new = labels_from_segments(segs, n)
    # a segment that began before frame 0 (no B in the source) must not gain one
    if labels[0] == Label.I and new[0] == Label.B:
        new[0] = Label.I
    return out.astype(np.float32), new


def augment(sample: Sample, length: int, rng: np.random.Generator, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    f, y = sample.features, sample.labels
    lo, hi = cfg.speed_range
    if hi > lo:
        f, y = change_speed(f, y, float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
    t = f.shape[0]
    if t > length:
        s = int(rng.integers(0, t - length + 1))
        f, y = f[s : s + length], y[s : s + length].copy()
        # a crop that starts mid-sign: its first frame is I, not B (the onset is outside)
    f = f.copy()
    u = rng.random()
    if u < cfg.hand_drop:
        f[:, int(rng.integers(0, 2))] = 0.0
    elif u < cfg.hand_drop + cfg.hand_swap:
        f = f[:, ::-1].copy()
    present = np.abs(f).sum(axis=-1, keepdims=True) > 0
    f[..., ROT_DIMS] += rng.normal(0, cfg.noise, f[..., ROT_DIMS].shape).astype(np.float32)
    f[..., KIN_DIMS] *= np.float32(np.exp(rng.normal(0, 0.15)))
    return f * present, y


def make_batch(samples: Seq[Sample], idx: Seq[int], length: int, rng: np.random.Generator, cfg: TrainConfig):
    xs, ys = [], []
    for i in idx:
        f, y = augment(samples[i], length, rng, cfg)
        xs.append(f)
        ys.append(y)
    n = max(len(y) for y in ys)
    x = np.zeros((len(xs), n, 2, xs[0].shape[-1]), np.float32)
    lab = np.zeros((len(xs), n), np.int64)
    pad = np.ones((len(xs), n), bool)
    for r, (f, y) in enumerate(zip(xs, ys)):
        x[r, : len(y)] = f
        lab[r, : len(y)] = y
        pad[r, : len(y)] = False
    return torch.from_numpy(x), torch.from_numpy(lab), torch.from_numpy(pad)


# --- losses --------------------------------------------------------------------------------------
def fast_loss(
    logits: torch.Tensor, labels: torch.Tensor, pad: torch.Tensor, cfg: TrainConfig
) -> tuple[torch.Tensor, dict[str, float]]:
    """logits (B, T, 3), labels (B, T), pad (B, T) True on padding."""
    w = torch.tensor(cfg.class_weights, dtype=logits.dtype, device=logits.device)
    ce = F.cross_entropy(logits.reshape(-1, 3), labels.reshape(-1), weight=w, reduction="none")
    keep = (~pad).reshape(-1).to(logits.dtype)
    wsum = (w[labels.reshape(-1)] * keep).sum().clamp_min(1.0)
    ce = (ce * keep).sum() / wsum
    loss = ce
    info = {"ce": float(ce.detach())}
    if cfg.ctc_weight > 0:
        logp = F.log_softmax(logits.float(), dim=-1)
        two = torch.stack([torch.logsumexp(logp[..., :2], dim=-1), logp[..., 2]], dim=-1)  # blank, sign
        n_on = (labels == Label.B).sum(dim=1)
        lengths = (~pad).sum(dim=1)
        targets = torch.ones(int(n_on.sum()), dtype=torch.long, device=logits.device)
        ctc = F.ctc_loss(
            two.transpose(0, 1), targets, lengths, n_on, blank=0, reduction="sum", zero_infinity=True
        ) / lengths.sum().clamp_min(1)
        loss = loss + cfg.ctc_weight * ctc
        info["ctc"] = float(ctc.detach())
    return loss, info


# --- evaluation ----------------------------------------------------------------------------------
def evaluate_model(
    model: FastNet,
    samples: Seq[Sample],
    options: DecodeOptions,
    tolerance: int = 2,
    probs: list[np.ndarray] | None = None,
) -> dict[str, Any]:
    """Pooled metrics of the decoded output and of the raw argmax, over ``samples``."""
    if probs is None:
        probs = predict_features(model, [s.features for s in samples])
    dec = [decode(p, options).labels for p in probs]
    raw = [p.argmax(axis=1).astype(np.uint8) for p in probs]
    out = seg_metrics.evaluate(((s.labels, d) for s, d in zip(samples, dec)), tolerance).as_dict()
    out["frame_f1_argmax"] = round(
        seg_metrics.evaluate(((s.labels, r) for s, r in zip(samples, raw)), tolerance).frame_f1, 4
    )
    return out


def tune_sensitivity(
    probs: Seq[np.ndarray],
    samples: Seq[Sample],
    base: DecodeOptions,
    grid: Seq[float] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
) -> tuple[float, list[dict]]:
    """The sensitivity with the best frame F1 + IoU - |log segment ratio| on ``samples``."""
    table = []
    for s in grid:
        opt = DecodeOptions(
            sensitivity=s, min_length=base.min_length, merge_gap=base.merge_gap, peak_radius=base.peak_radius
        )
        sc = seg_metrics.evaluate(((x.labels, decode(p, opt).labels) for x, p in zip(samples, probs)))
        score = sc.frame_f1 + sc.iou - abs(math.log(max(sc.segment_ratio, 1e-3)))
        table.append({"sensitivity": s, "score": round(score, 4), **sc.as_dict()})
    best = max(table, key=lambda r: r["score"])
    return float(best["sensitivity"]), table


def baseline_labels(sample: Sample, threshold: float, smooth: int = 5) -> np.ndarray:
    return speed_minima_labels(motion_energy(sample.features), threshold, smooth)


def tune_baseline(
    samples: Seq[Sample],
    grid: Seq[float] = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4, 1.7, 2.0),
    labeller: Callable[[Sample, float], np.ndarray] | None = None,
) -> float:
    """Threshold of a classical labeller (default: the hand-speed baseline) with the best frame
    F1 + IoU - |log segment ratio| on ``samples``."""
    labeller = labeller or baseline_labels
    best, best_t = -1e9, grid[0]
    for th in grid:
        sc = seg_metrics.evaluate((s.labels, labeller(s, th)) for s in samples)
        score = sc.frame_f1 + sc.iou - abs(math.log(max(sc.segment_ratio, 1e-3)))
        if score > best:
            best, best_t = score, th
    return best_t


# --- the loop ------------------------------------------------------------------------------------
def _dist() -> tuple[int, int, bool]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
        return dist.get_rank(), world, True
    return 0, 1, False


def train(
    train_set: Seq[Sample],
    val_set: Seq[Sample],
    out: str | Path,
    cfg: TrainConfig,
    *,
    resume: bool = False,
    device: str = "cpu",
    log: Callable[[str], None] = print,
    progress: bool = True,
    meta: dict[str, Any] | None = None,
    fresh: Callable[[int, np.random.Generator], Seq[Sample]] | None = None,
) -> dict[str, Any]:
    """Train, validate each epoch, keep the best model (by val frame F1 + IoU) in ``out``.

    ``fresh`` (n, rng) -> n new training samples (e.g. ``fast.data.FreshChains``): with
    ``cfg.fresh_chains`` > 0, every epoch makes a pool of ``cfg.fresh_pool`` of them from a
    generator seeded by (seed, epoch, rank) - so resumed runs and each torchrun rank are
    deterministic, and ranks draw different chains - and that share of each batch comes from
    the pool, the rest from ``train_set``.

    Writes ``out/fast.pt`` + ``config.json`` (best model), ``out/train_state.pt`` (for --resume)
    and ``out/train_log.json``. Returns the summary dict.
    """
    if not 0.0 <= cfg.fresh_chains <= 1.0:
        raise ValueError(f"fresh_chains must be in [0, 1], not {cfg.fresh_chains}")
    if cfg.fresh_chains > 0 and (fresh is None or cfg.fresh_pool < 1):
        raise ValueError("fresh_chains > 0 needs a fresh-sample source and fresh_pool >= 1")
    if cfg.fresh_chains < 1 and not train_set:
        raise ValueError("no training samples")
    from torch.utils.data import DistributedSampler

    rank, world, distributed = _dist()
    if device == "cuda" and distributed:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    torch.set_num_threads(max(1, cfg.threads))
    out = Path(out)
    torch.manual_seed(cfg.seed)
    model = FastNet(cfg.model).to(device)
    net: torch.nn.Module = model
    if distributed:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[torch.cuda.current_device()] if device == "cuda" else None
        )
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = cfg.epochs * cfg.steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, total // 20)) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
    )
    state_path = out / "train_state.pt"
    start_epoch, best, history, wall_before = 0, -1e9, [], 0.0
    if resume and state_path.is_file():
        st = torch.load(state_path, weights_only=True, map_location=device)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        sched.load_state_dict(st["scheduler"])
        start_epoch = int(st["epoch"])
        best = float(st["best"])
        history = json.loads(st["history"])
        wall_before = float(st.get("wall_s", 0.0))
        log(f"resumed from {state_path} at epoch {start_epoch}")
    options = DecodeOptions()
    sampler = (
        DistributedSampler(range(len(train_set)), num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed)
        if distributed
        else None
    )
    t0 = time.time()
    for epoch in range(start_epoch, cfg.epochs):
        rng = np.random.default_rng([cfg.seed, epoch, rank])
        torch.manual_seed(cfg.seed * 1000 + epoch * 10 + rank)
        if sampler is not None:
            sampler.set_epoch(epoch)
            pool = np.array(list(iter(sampler)))
        else:
            pool = np.arange(len(train_set))
        fresh_pool: list[Sample] = []
        t_fresh = time.time()
        if cfg.fresh_chains > 0:
            assert fresh is not None
            fresh_pool = list(fresh(cfg.fresh_pool, np.random.default_rng([cfg.seed, epoch, rank, 1])))
        t_fresh = time.time() - t_fresh
        net.train()
        bar = range(cfg.steps_per_epoch)
        if progress and rank == 0:
            from tqdm import tqdm

            bar = tqdm(bar, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False, dynamic_ncols=True)
        run = {"ce": 0.0, "ctc": 0.0}
        for _ in bar:
            length = int(rng.integers(cfg.crop_min, cfg.crop_max + 1))
            if fresh_pool:
                batch = _mixed_batch(train_set, pool, fresh_pool, rng, cfg)
                x, y, pad = make_batch(batch, range(len(batch)), length, rng, cfg)
            else:  # the draws of a run without fresh chains are unchanged
                idx = rng.choice(pool, size=cfg.batch_size, replace=len(pool) < cfg.batch_size)
                x, y, pad = make_batch(train_set, idx, length, rng, cfg)
            x, y, pad = x.to(device), y.to(device), pad.to(device)
            logits = net(x, pad if pad.any() else None)
            loss, info = fast_loss(logits, y, pad, cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            for k in run:
                run[k] += info.get(k, 0.0) / cfg.steps_per_epoch
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(ce=f"{info['ce']:.3f}", ctc=f"{info.get('ctc', 0):.3f}")
        if rank == 0:
            model.eval()
            val = evaluate_model(model, val_set, options) if val_set else {}
            score = (val.get("frame_f1", 0.0) + val.get("iou", 0.0)) if val else -epoch
            wall = wall_before + time.time() - t0
            history.append(
                {
                    "epoch": epoch + 1,
                    "ce": round(run["ce"], 4),
                    "ctc": round(run["ctc"], 4),
                    "wall_s": round(wall, 1),
                    **{
                        f"val_{k}": v
                        for k, v in val.items()
                        if k in ("frame_f1", "iou", "segment_ratio", "boundary_f1")
                    },
                }
            )
            if fresh_pool:
                history[-1]["fresh_s"] = round(t_fresh, 1)
            log(json.dumps(history[-1]))
            if score > best:
                best = score
                save_model(
                    out, model, _fps(train_set), options, {**(meta or {}), "epoch": epoch + 1, "train": cfg.to_dict()}
                )
            from ...io.atomic import atomic_path

            with atomic_path(state_path) as tmp:
                torch.save(
                    {
                        "model": model.state_dict(),
                        "optimizer": opt.state_dict(),
                        "scheduler": sched.state_dict(),
                        "epoch": epoch + 1,
                        "best": best,
                        "history": json.dumps(history),
                        "wall_s": wall,
                    },
                    tmp,
                )
        if distributed:
            import torch.distributed as dist

            dist.barrier()
    summary = {
        "history": history,
        "best_score": best,
        "parameters": n_parameters(model),
        "wall_s": round(wall_before + time.time() - t0, 1),
    }
    if rank == 0:
        from ...io.atomic import atomic_path

        with atomic_path(out / "train_log.json") as tmp:
            tmp.write_text(json.dumps(summary, indent=2))
    return summary


def _mixed_batch(
    train_set: Seq[Sample], pool: np.ndarray, fresh_pool: Seq[Sample], rng: np.random.Generator, cfg: TrainConfig
) -> list[Sample]:
    """cfg.batch_size samples: a share ``cfg.fresh_chains`` of them (on average, when that share
    of the batch is not a whole number) from ``fresh_pool``, the rest from ``train_set[pool]``."""
    k = cfg.fresh_chains * cfg.batch_size
    n_fresh = int(math.floor(k))
    if k > n_fresh and rng.random() < k - n_fresh:
        n_fresh += 1
    n_fixed = cfg.batch_size - n_fresh if len(pool) else 0
    n_fresh = cfg.batch_size - n_fixed
    idx = rng.choice(pool, size=n_fixed, replace=len(pool) < n_fixed) if n_fixed else []
    jdx = rng.choice(len(fresh_pool), size=n_fresh, replace=len(fresh_pool) < n_fresh)
    return [train_set[int(i)] for i in idx] + [fresh_pool[int(j)] for j in jdx]


def _fps(samples: Seq[Sample]) -> float:
    return float(np.median([s.fps for s in samples])) if samples else 25.0


# --- synthetic data (tests, smoke runs) ----------------------------------------------------------
def synthetic_sample(
    rng: np.random.Generator,
    n_signs: int = 8,
    fps: float = 25.0,
    *,
    hold: tuple[int, int] = (6, 14),
    transition: tuple[int, int] = (4, 10),
    smooth_transitions: bool = True,
) -> tuple[Any, np.ndarray]:
    """A toy signing sequence and its labels: each sign is a handshape + wrist pose held with a
    little tremor, transitions move every joint to the next sign's pose (min-jerk when
    ``smooth_transitions``, else a linear ramp with jerky noise). Returns (Sequence, labels)."""
    from scipy.spatial.transform import Rotation

    from ...model.sequence import new_sequence
    from ...model.template import TEMPLATE

    skel = TEMPLATE
    moving = [
        skel.index(n)
        for n in ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")
    ] + list(range(22, 52))

    def pose() -> np.ndarray:
        return rng.normal(0, 0.5, (len(moving), 3))

    poses = [pose() for _ in range(n_signs + 1)]
    frames, labels = [], []
    cur = poses[0]
    pre = int(rng.integers(*transition))
    for k in range(n_signs):
        tgt = poses[k + 1]
        n_tr = pre if k == 0 else int(rng.integers(*transition))
        for i in range(n_tr):
            u = (i + 1) / (n_tr + 1)
            e = u * u * u * (10 - 15 * u + 6 * u * u) if smooth_transitions else u + rng.normal(0, 0.05)
            frames.append(cur + (tgt - cur) * e)
            labels.append(Label.O)
        n_hold = int(rng.integers(*hold))
        drift = rng.normal(0, 0.02, (len(moving), 3))
        for i in range(n_hold):
            frames.append(tgt + drift * i / n_hold + rng.normal(0, 0.004, tgt.shape))
            labels.append(Label.B if i == 0 else Label.I)
        cur = tgt + drift
    for _ in range(int(rng.integers(*transition))):
        frames.append(cur + rng.normal(0, 0.004, cur.shape))
        labels.append(Label.O)
    t = len(frames)
    rot = np.broadcast_to(np.eye(3, dtype=np.float32), (t, skel.n_joints, 3, 3)).copy()
    aa = np.stack(frames)
    rot[:, moving] = Rotation.from_rotvec(aa.reshape(-1, 3)).as_matrix().reshape(t, len(moving), 3, 3)
    lab = np.array(labels, np.uint8)
    return new_sequence(rot, fps, labels=lab), lab


def synthetic_samples(n: int, seed: int = 0, **kw: Any) -> list[Sample]:
    from .features import hand_features

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        seq, lab = synthetic_sample(rng, n_signs=int(rng.integers(4, 12)), **kw)
        out.append(Sample(hand_features(seq), lab, language=f"toy{i % 4}", fps=seq.fps, kind="synthetic"))
    return out


assert HAND_DIM == FastConfig().in_dim

"""``python -m core train kf2p``: train the bundled KF2P refiner (``core.ml.refiner``); the flags are
``core.commands.train_targets.kf2p``, the run ``run_training(TrainOptions)``.

    python -m core train kf2p --data data/corpus.npz --out assets/models/kf2p --stream both \\
        --minutes 15 --seed 0 --threads 2
    torchrun --nproc_per_node 4 -m core train kf2p --data ... --device cuda   (several GPUs)

Data (``--data``): the corpus built by ``python -m core data build`` (its ``train`` split; ``val``
chooses the strength), a folder of sequence files (any readable format; the language is the
parent folder's name, and whole languages are held out for validation and test), or a clip cache
written by ``--cache``.

Each training sample is a window of a real clip with keys placed the way documents have them:
key spacing 3-24 frames weighted towards 8-16, first key at a random phase, gaps drawn
independently (70 %), or a SOURCE document with one or two regenerated spans (30 %). Augmentation:
mirroring (body: left/right swapped and reflected; hands: either hand, the left one flipped into
the right-hand model), speed 0.8-1.25x, a per-joint pose offset and per-frame jitter.

Losses: the paper's flow + reconstruction + velocity + acceleration terms on the residual (the
official weights, ``core.ml.flow.flow_losses``), plus joint positions and joint velocities through
differentiable forward kinematics of the one-step estimate x1_hat, weighted to the wrists (body)
and the fingertips (hands). Noise: x0 = 0 for half the samples (the deterministic default) and
x0 = s N(0, 1), s ~ U(0.2, 1) for the rest (``variation``).

After training, the strength is chosen per key spacing on the validation split through the
editor's in-betweening path (``calibrate``: lowest MPJPE among the strengths not worse than
SLERP on MPJPE and 2 % better on DTW-JPE / DTW-PA-JPE) and stored in the checkpoint;
``--calibrate-only`` redoes just that. The training state for ``--resume`` lives in
``--state-dir`` (runs/kf2p), outside the model folder.

Several GPUs: under ``torchrun`` (WORLD_SIZE > 1) each rank draws its own samples (a rank-offset
seed, the random-window equivalent of a DistributedSampler), gradients are averaged by DDP
(``find_unused_parameters=True``: the official ``q_ca`` weights get no gradient) and rank 0
writes checkpoints.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .data import Batch, Clips, Sampler, is_clip_cache, load_clips
from .loss import StreamLoss, tensors, training_step

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_OUT = ROOT / "assets" / "models" / "kf2p"
DEFAULT_DATA = ROOT / "data" / "corpus.npz"


@dataclass(frozen=True)
class TrainOptions:
    """One ``train kf2p`` run (the flags of ``core.commands.train_targets.kf2p``, typed)."""

    data: str = str(DEFAULT_DATA)
    out: str = str(DEFAULT_OUT)
    stream: str = "both"  # body | hand | both
    minutes: float | None = None  # wall-clock budget per stream
    iters: int = 4000
    batch: int = 16
    window: int = 64  # multiple of 8
    lr: float = 1e-3
    ema: float = 0.998
    preset: str = "small"
    kind: str = "timing"  # timing | residual
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    resume: bool = False
    state_dir: str = str(ROOT / "runs" / "kf2p")
    save_every: int = 500
    val_batches: int = 6
    cache: str | None = None
    no_progress: bool = False
    half: bool = False
    calibrate_only: bool = False
    no_calibrate: bool = False
    calibrate_spacings: tuple[int, ...] = (4, 6, 8, 10, 12, 14, 16)  # CALIBRATION_SPACINGS


# ---------------------------------------------------------------------------------------------
# Validation: joint-position error vs the baselines, and the strength


def val_batches(
    clips: Clips, stream: str, window: int, n_batches: int, batch: int, seed: int, spacings=(4, 8, 12, 16)
) -> dict[int, list[Batch]]:
    out = {}
    for s in spacings:
        sm = Sampler(clips, stream, window, seed + 1000 * s, augment=False)
        out[s] = [sm.sample(batch, spacing=s, source_doc=0.0) for _ in range(n_batches)]
    return out


def evaluate(
    model,
    loss_fn: StreamLoss,
    batches: dict[int, list[Batch]],
    text_encoder,
    device,
    strengths=(0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5),
    steps: int = 4,
) -> dict[str, Any]:
    """Mean weighted point error (cm) on unobserved frames per spacing: slerp, eased and the
    model at each strength (x0 = 0, Euler, ``steps``)."""
    import torch

    from .. import solver
    from ..refiner import geodesic_fill, refined

    rows: dict[int, dict[str, float]] = {}
    model.eval()
    with torch.no_grad():
        for s, bl in batches.items():
            acc: dict[str, list[float]] = {}
            wsum = 0.0
            for batch in bl:
                d = tensors(batch, device, loss_fn)
                pw = d["pw"]
                if float(pw.sum()) == 0:
                    continue

                def err(rot, d=d, pw=pw):
                    return loss_fn.point_errors(rot, d["gt"], pw)[0]

                slerp = geodesic_fill(d["gt"], d["obs"], eased=False)
                acc.setdefault("slerp", []).append(err(slerp))
                acc.setdefault("eased", []).append(err(d["base"]))
                zeros = torch.zeros_like(d["mask"], dtype=d["base"].dtype)
                text = text_encoder(batch.texts, batch.langs).to(device)

                def vel(x, t, d=d, zeros=zeros, text=text):
                    return model(x, t, zeros, d["mask"], d["ymask"], d["cond"], text)

                x = solver.sample(vel, zeros, d["mask"], zeros, steps, "euler", hit_keys=True)
                for k in strengths:
                    acc.setdefault(f"s{k:g}", []).append(err(refined(d["base"], d["obs"], x, loss_fn.spec, k)))
                wsum += float((pw * loss_fn.w).sum())
            rows[s] = {k: sum(v) / max(wsum, 1e-9) for k, v in acc.items()}
    model.train()
    # strength: lowest mean error over spacings, never worse than SLERP at any spacing
    best, best_err = 0.0, float("inf")
    for k in strengths:
        errs = [r[f"s{k:g}"] for r in rows.values()]
        ok = all(r[f"s{k:g}"] <= r["slerp"] for r in rows.values())
        if ok and np.mean(errs) < best_err:
            best, best_err = k, float(np.mean(errs))
    return {"per_spacing_cm": rows, "strength": best}


# ---------------------------------------------------------------------------------------------
# Strength calibration through the document path (the editor's code path)

CALIBRATION_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0)
CALIBRATION_SPACINGS = (4, 6, 8, 10, 12, 14, 16)
# Calibration rule, on every validation language: never worse than SLERP on MPJPE, at least
# ``margin`` better on the time-warped errors, and within SMOOTH_TOL of it on the smoothness
# errors. Jerk on MediaPipe tracking is mostly the tracker's jitter: at a 1 % tolerance one
# language's +1.9 % jerk switched off a timing correction that halved MPJPE at spacing 14, while
# the corrections the rule must stop add 5-15 % (residual model at full strength; eased SLERP's
# velocity error at spacing 4).
NEVER_WORSE = ("mpjpe",)
SMOOTH = ("velocity_error", "jerk_error")
SMOOTH_TOL = 0.03


def _choose(by_lang: dict[str, dict], grid, spacings, margin: float) -> tuple[list[tuple[int, float]], dict]:
    """Per spacing, the grid value ``g{k}`` with the lowest mean MPJPE ratio to SLERP among those
    that, on *every* validation language, are never worse than SLERP on ``NEVER_WORSE``, within
    ``SMOOTH_TOL`` of it on ``SMOOTH`` and ``margin`` better on DTW-JPE / DTW-PA-JPE (0 if none).
    ``by_lang``: language -> ``kf2p.eval.evaluate`` spacings of one stream."""
    names = ("mpjpe", "dtw_jpe", "dtw_pa_jpe", "velocity_error", "jerk_error")
    table, rows = [], {}
    for sp in spacings:
        langs = [r[str(sp)] for r in by_lang.values() if "mpjpe" in r[str(sp)].get("slerp", {})]
        ok = []
        for k in grid:
            ratios = [{x: row[f"g{k:g}"][x] / row["slerp"][x] for x in names} for row in langs]
            if ratios and all(
                all(r[x] <= 1.0 for x in NEVER_WORSE)
                and all(r[x] <= 1 + SMOOTH_TOL for x in SMOOTH)
                and all(r[x] <= 1 - margin for x in ("dtw_jpe", "dtw_pa_jpe"))
                for r in ratios
            ):
                ok.append((float(np.mean([r["mpjpe"] for r in ratios])), k))
        best = min(ok)[1] if ok else 0.0
        table.append((int(sp), float(best)))
        rows[str(sp)] = {
            "value": best,
            "ratio_vs_slerp": {
                lang: {x: round(r[str(sp)][f"g{best:g}"][x] / r[str(sp)]["slerp"][x], 4) for x in names}
                for lang, r in by_lang.items()
                if "mpjpe" in r[str(sp)].get("slerp", {})
            },
        }
    return table, rows


def calibrate(
    path: Path, val: Clips, grid=CALIBRATION_GRID, spacings=CALIBRATION_SPACINGS, phases: int = 2, margin: float = 0.02
) -> dict[str, Any]:
    """Choose the checkpoint's strengths per key spacing on ``val`` and rewrite it.

    For each spacing: the strength with the lowest MPJPE among those that, on every validation
    language separately (a gain that holds for one signer only is not a gain), are never worse
    than SLERP on MPJPE, within ``SMOOTH_TOL`` of it on velocity and jerk error (stronger
    corrections can buy per-frame accuracy with jerk an animator sees), and at least ``margin``
    better on DTW-JPE and DTW-PA-JPE (a safety margin: unseen languages vary most there); 0 (the
    eased baseline) when none qualifies. Measured through the editor's in-betweening path
    (``core.ml.kf2p.eval``, per run, both key phases).
    A timing model is chosen in two stages: the phase strength with no off-path residual, then
    the residual's strength on top of that table. The tables go into
    ``RefinerSpec.strength_by_gap`` / ``geometry_by_gap``; the uniform fallbacks become their
    values at spacing 8."""
    import tempfile
    from dataclasses import replace

    import torch

    from ..checkpoint import read_torch
    from ..refiner import RefinerNet, load_refiner, save_refiner
    from .eval import evaluate
    from .inbetween import load_inbetweener

    loaded = load_refiner(path)
    spec0 = loaded.model.spec
    stream = spec0.stream
    raw = read_torch(path)
    half = any(v.dtype == torch.float16 for v in raw["state_dict"].values())

    def write(spec, meta, dest) -> None:
        model = RefinerNet(loaded.model.cfg, spec, zero_init=False)
        model.load_state_dict(loaded.model.state_dict())
        save_refiner(dest, model, meta, half=half)

    def stage(option: str, model_path, fixed: dict) -> tuple[list[tuple[int, float]], dict]:
        inbs = {"slerp": load_inbetweener("slerp"), "eased": load_inbetweener("eased")}
        for k in grid:
            inbs[f"g{k:g}"] = load_inbetweener(str(model_path), **fixed, **{option: k})
        by_lang = {
            lang: evaluate(
                val.subset([i for i, x in enumerate(val.language) if x == lang]),
                inbs,
                spacings,
                phases,
                streams=(stream,),
            )[stream]["spacings"]
            for lang in sorted(set(val.language))
        }
        return _choose(by_lang, grid, spacings, margin)

    at8 = lambda table: float(dict(table).get(8, table[len(table) // 2][1]))  # noqa: E731
    rule = (
        f"lowest mean MPJPE ratio to SLERP among strengths that on every validation language have "
        f"MPJPE <= SLERP's, velocity and jerk errors <= {1 + SMOOTH_TOL:g} x SLERP's "
        f"and DTW-JPE, DTW-PA-JPE <= {1 - margin:g} x SLERP's"
    )
    meta = dict(loaded.meta)
    if not spec0.timing:
        table, rows = stage("strength", path, {})
        spec = replace(spec0, strength_by_gap=tuple(table), strength=at8(table))
        meta["calibration"] = {
            "data": "validation split",
            "grid": list(grid),
            "rule": rule,
            "per_spacing": {k: {"strength": v.pop("value"), **v} for k, v in rows.items()},
        }
    else:
        table, rows = stage("strength", path, {"geometry": 0.0})
        spec = replace(spec0, strength_by_gap=tuple(table), strength=at8(table))
        with tempfile.TemporaryDirectory() as tmp:
            staged = Path(tmp) / path.name
            write(spec, {}, staged)
            g_table, g_rows = stage("geometry", staged, {})
        spec = replace(spec, geometry_by_gap=tuple(g_table), geometry=at8(g_table))
        meta["calibration"] = {
            "data": "validation split",
            "grid": list(grid),
            "rule": rule + " (phase first, then the off-path residual)",
            "per_spacing": {
                k: {"strength": rows[k]["value"], "geometry": g_rows[k].pop("value"), **g_rows[k]} for k in rows
            },
        }
    write(spec, meta, path)
    return meta["calibration"]


# ---------------------------------------------------------------------------------------------
# Training loop


def _dist():
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = (
            "nccl"
            if os.environ.get("KF2P_BACKEND", "") == "nccl" or (os.environ.get("LOCAL_RANK") is not None and _cuda())
            else "gloo"
        )
        dist.init_process_group(backend)
    rank = dist.get_rank() if world > 1 else 0
    return world, rank


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _state_scales(sampler: Sampler, device, timing: bool, n: int = 8) -> tuple[float, float | None]:
    """RMS of the training targets on generated frames: (residual radians, phase offset or None)."""
    from ..refiner import default_res_scale

    res, phase = [], []
    for _ in range(n):
        d = tensors(sampler.sample(32, source_doc=0.0), device, timing=timing)
        j = d["res"].shape[1]
        sel = (~d["mask"][:, -j:]) & d["target_ok"][:, -j:]
        res.append(d["res"][sel].cpu().numpy())
        if timing:
            sel = (~d["mask"][:, :-j]) & d["target_ok"][:, :-j]
            phase.append(d["phase"][sel].cpu().numpy())
    return default_res_scale(np.concatenate(res)), (default_res_scale(np.concatenate(phase)) if timing else None)


def train_stream(stream: str, train: Clips, val: Clips, o: TrainOptions, log: list) -> dict[str, Any]:
    import torch
    from torch.nn.parallel import DistributedDataParallel as DDP

    from ..refiner import HashedTextEncoder, RefinerNet, load_refiner, save_refiner

    world, rank = _dist()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if o.device == "cuda" else o.device)
    out = Path(o.out)
    seed = int(o.seed) + (0 if stream == "body" else 1)
    torch.manual_seed(seed + 7919 * rank)
    sampler = Sampler(train, stream, o.window, seed + 7919 * rank)
    text_encoder = HashedTextEncoder()
    state_path = Path(o.state_dir) / f"train_state_{stream}.pt"
    step = 0
    timing = o.kind == "timing"
    if o.resume and state_path.is_file():
        st = torch.load(state_path, weights_only=True, map_location="cpu")
        res_scale, phase_scale = float(st["res_scale"]), st.get("phase_scale")
        phase_scale = None if phase_scale is None else float(phase_scale)
        if (phase_scale is not None) != timing:
            from ...errors import UserError

            raise UserError(
                f"{state_path}: saved for a {'timing' if phase_scale else 'residual'} model, not --kind {o.kind}"
            )
    else:
        res_scale, phase_scale = _state_scales(Sampler(train, stream, o.window, seed, augment=False), "cpu", timing)
    spec_kw = dict(res_scale=res_scale, window=o.window, timing=timing, phase_scale=phase_scale or 0.1)
    model = RefinerNet.create(stream, o.preset, **spec_kw).to(device)
    ema = RefinerNet.create(stream, o.preset, **spec_kw).to(device)
    ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=o.lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(seed + 7919 * rank)
    elapsed0 = 0.0
    if o.resume and state_path.is_file():
        st = torch.load(state_path, weights_only=True, map_location=device)
        model.load_state_dict(st["model"])
        ema.load_state_dict(st["ema"])
        opt.load_state_dict(st["opt"])
        step = int(st["step"])
        elapsed0 = float(st.get("elapsed", 0.0))
        gen.set_state(st["gen"].cpu())
        sampler.rng = np.random.default_rng([seed + 7919 * rank, step])
        if rank == 0:
            print(f"[{stream}] resumed at step {step}", file=sys.stderr)
    net = DDP(model, find_unused_parameters=True) if world > 1 else model
    loss_fn = StreamLoss.for_spec(model.spec, device)
    total_iters = int(o.iters)
    budget = None if o.minutes is None else float(o.minutes) * 60.0
    warmup = 100

    def lr_at(i: int, elapsed: float) -> float:
        # cosine decay over whichever budget (steps or wall time) runs out first
        progress = min(1.0, max(i / total_iters, elapsed / budget if budget else 0.0))
        return o.lr * min(1.0, (i + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * progress))

    bar = None
    if rank == 0 and not o.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=total_iters, initial=step, desc=f"kf2p {stream}", file=sys.stderr, dynamic_ncols=True)
    t0 = time.perf_counter()
    terms: dict[str, float] = {}
    running: dict[str, float] = {}
    while step < total_iters:
        elapsed = elapsed0 + time.perf_counter() - t0
        if budget is not None and elapsed >= budget:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, elapsed)
        batch = sampler.sample(o.batch)
        loss, terms = training_step(net, loss_fn, batch, gen, text_encoder, device)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        decay = min(o.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
        step += 1
        for k, v in terms.items():
            running[k] = 0.98 * running.get(k, v) + 0.02 * v
        if bar is not None:
            bar.update(1)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{running['loss']:.3f}", pos=f"{running['pos_cm']:.3f}")
        if rank == 0 and step % 100 == 0:
            log.append(
                {
                    "stream": stream,
                    "step": step,
                    "elapsed_s": round(elapsed, 1),
                    **{k: round(v, 5) for k, v in running.items()},
                }
            )
        if rank == 0 and (step % o.save_every == 0):
            _save_state(
                state_path, model, ema, opt, step, gen, (res_scale, phase_scale), elapsed0 + time.perf_counter() - t0
            )
    if bar is not None:
        bar.close()
    wall = elapsed0 + time.perf_counter() - t0
    result: dict[str, Any] = {
        "stream": stream,
        "steps": step,
        "wall_s": round(wall, 1),
        "res_scale": res_scale,
        "phase_scale": phase_scale,
        "parameters": model.n_parameters(),
        "final_terms": running,
    }
    if rank == 0:
        _save_state(state_path, model, ema, opt, step, gen, (res_scale, phase_scale), wall)
        vb = val_batches(val, stream, o.window, o.val_batches, 16, o.seed) if len(val) else {}
        if vb:
            ev = evaluate(ema, loss_fn, vb, text_encoder, device)
            result["validation"] = ev
            strength = ev["strength"]
        else:
            strength = 1.0
        final = RefinerNet.create(stream, o.preset, strength=strength, **spec_kw)
        final.load_state_dict(ema.state_dict())
        meta = {
            "stream": stream,
            "steps": step,
            "wall_s": round(wall, 1),
            "seed": o.seed,
            "data": str(o.data),
            "command": " ".join(["python -m core train kf2p"] + sys.argv[3:]),
            "validation": result.get("validation"),
            "threads": o.threads,
        }
        save_refiner(out / f"{stream}.pt", final, meta, half=o.half)
        load_refiner(out / f"{stream}.pt")  # written file must load
    return result


def _save_state(path: Path, model, ema, opt, step, gen, scales, elapsed) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "ema": ema.state_dict(),
            "opt": opt.state_dict(),
            "step": step,
            "gen": gen.get_state(),
            "res_scale": scales[0],
            "phase_scale": scales[1],
            "elapsed": elapsed,
        },
        tmp,
    )
    os.replace(tmp, path)


def run_training(o: TrainOptions) -> int:
    """Train (``python -m core train kf2p``); denormal floats made a body-stream step 10-30x
    slower on this CPU (measured), so they are flushed while it runs."""
    from ..denormals import flushing_denormals

    with flushing_denormals():
        return _train(o)


def _train(o: TrainOptions) -> int:
    """Train the streams of ``o`` (or only calibrate them), write the checkpoints and train_log.json."""
    import torch

    from ...errors import UserError

    if o.threads:
        torch.set_num_threads(int(o.threads))
    np.random.seed(o.seed)
    t0 = time.perf_counter()
    train = load_clips(o.data, "train")
    val = load_clips(o.data, "val")
    if o.cache:
        load_clips(o.data, "all").save(o.cache) if not is_clip_cache(Path(o.data)) else None
    if not len(train):
        raise UserError(f"{o.data}: no training clips")
    print(
        f"kf2p: {len(train)} training clips ({train.n_frames} frames), {len(val)} validation clips "
        f"({val.n_frames} frames), loaded in {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )
    out = Path(o.out)
    out.mkdir(parents=True, exist_ok=True)
    log: list = []
    results = []
    streams = ("body", "hand") if o.stream == "both" else (o.stream,)
    if o.calibrate_only:
        for s in streams:
            cal = calibrate(out / f"{s}.pt", val, spacings=o.calibrate_spacings)
            print(
                f"{s}: strength by spacing "
                + ", ".join(
                    f"{k}: {v['strength']}" + (f"/{v['geometry']}" if "geometry" in v else "")
                    for k, v in cal["per_spacing"].items()
                ),
                file=sys.stderr,
            )
        return 0
    for s in streams:
        results.append(train_stream(s, train, val, o, log))
    world, rank = _dist()
    if rank == 0 and not o.no_calibrate and len(val):
        for r in results:
            r["calibration"] = calibrate(out / f"{r['stream']}.pt", val, spacings=o.calibrate_spacings)
    if rank == 0:
        summary = {
            "data": str(o.data),
            "seed": o.seed,
            "train_clips": len(train),
            "train_frames": train.n_frames,
            "val_clips": len(val),
            "results": results,
            "total_wall_s": round(time.perf_counter() - t0, 1),
            "log": log,
        }
        (out / "train_log.json").write_text(json.dumps(summary, indent=1, default=float))
        for r in results:
            v = r.get("validation")
            msg = f"{r['stream']}: {r['steps']} steps in {r['wall_s']:.0f} s"
            if v:
                msg += f", strength {v['strength']}: " + ", ".join(
                    f"s{s}: slerp {row['slerp']:.3f} eased {row['eased']:.3f} "
                    f"model {row['s' + format(v['strength'], 'g')]:.3f} cm"
                    for s, row in v["per_spacing_cm"].items()
                )
            print(msg, file=sys.stderr)
    if world > 1:
        import torch.distributed as dist

        dist.destroy_process_group()
    return 0

"""``python -m core eval kf2p DATA [--json]``: in-betweening quality against ground truth, next to
SLERP and eased SLERP on the same frames, per key spacing.

(Over 500 lines on purpose: the corpus and the real-folder protocols share the run finding, key
placement, metrics and summaries here, so both report the same figures the same way.)

DATA: the training corpus (its ``--split``, test by default), a clip cache / folder of sequence
files (whole languages held out as in training, ``--split``; ``--split all`` takes everything),
one sequence file (all of it), or a folder of real recordings (``.pose``; ``run_real``: every file,
``--half`` / ``--every`` for subsets, a C2 rotation spline and the monotone cubic as further
baselines, and the tracking-gap protocol ``gap_protocol``).

Protocol. Every stream is evaluated on *runs*: maximal stretches of a clip where the stream's
joints are real (body: shoulders and elbows tracked; hand: all 15 joints of that hand tracked;
both hands, the left one mirrored into the right-hand convention). For each key spacing s and
each phase (keys at p, p+s, p+2s, ... inside the run; ``--phases`` offsets spread over 0..s-1),
every other frame of the run is GENERATED and filled by each method through the same
``KF2PInbetweener`` path, each run as its own sequence (windows of all runs batched together).

Metrics (centimetres; ``core.ml.kf2p.metrics``), on the frames between the first and last key:
- body: points = neck/collar/shoulder/elbow/wrist joints and a point on each hand (middle
  knuckle) with the torso fixed -- the arm chain relative to the torso;
- hands: the 15 joints + 5 fingertips in the wrist's frame -- the hand's own shape;
MPJPE, PA-MPJPE, DTW-JPE and DTW-PA-JPE (over whole runs, keys included, chunks of at most
``--dtw-window`` frames), velocity and jerk errors (per frame), key adherence (largest point error
at the keys, and the largest rotation-matrix entry difference at the keys, all joints). Points
whose rotations are not tracked in a run are left out of that run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SPACINGS = (4, 6, 8, 10, 12, 14, 16)


@dataclass(frozen=True)
class Kf2pEvalOptions:
    """What ``eval kf2p`` evaluates and how (the command line's flags, typed)."""

    data: str
    split: str = "test"
    model: str | None = None  # None: the bundled model
    device: str = "cpu"
    spacings: tuple[int, ...] = DEFAULT_SPACINGS
    phases: int = 2
    steps: int | None = None
    steps_sweep: tuple[int, ...] = ()
    strength: float | None = None
    dtw_window: int = 150
    max_runs: int | None = None
    every: int = 1  # real folder: every n-th file
    half: str | None = None  # real folder: "even" / "odd"
    no_gaps: bool = False
    adapt_steps: int = 0


@dataclass
class Run:
    clip: int
    start: int
    stop: int
    side: str  # "body" | "left" | "right"
    points: np.ndarray  # (P,) bool: points whose rotations are tracked over the whole run


def _core_joints(stream: str) -> list[int]:
    """Joints a run needs tracked throughout. body: shoulders and elbows (our indices; the wrists
    follow hand detection and are checked per point)."""
    return [16, 17, 18, 19] if stream == "body" else list(range(15))


def find_runs(clips, stream: str, min_len: int = 8) -> list[Run]:
    from ..refiner import STREAM_JOINTS, stream_points

    sp = stream_points("body" if stream == "body" else "hand")
    runs = []
    sides = (
        [("body", list(STREAM_JOINTS["body"]))]
        if stream == "body"
        else [("left", list(STREAM_JOINTS["left_hand"])), ("right", list(STREAM_JOINTS["hand"]))]
    )
    for c, v in enumerate(clips.valid):
        for side, joints in sides:
            core = _core_joints(stream) if stream == "body" else joints
            ok = v[:, core].all(axis=1)
            d = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
            for a, b in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]):
                if b - a < min_len:
                    continue
                tracked = v[a:b][:, joints].all(axis=0)  # (n,)
                pts = (tracked[None, :] | ~sp["depends"]).all(axis=1)
                if pts.any():
                    runs.append(Run(c, int(a), int(b), side, pts))
    return runs


def stream_positions(stream: str, rot: np.ndarray, side: str) -> np.ndarray:
    """(T, 52, 3, 3) rotations -> (T, P, 3) evaluation points of the stream, centimetres."""
    from ...kinematics.fk import forward_kinematics
    from ...model.rotations import FLIP_SIGNS
    from ..refiner import STREAM_JOINTS, stream_points

    sp = stream_points("body" if stream == "body" else "hand")
    sk = sp["skeleton"]
    t = rot.shape[0]
    if stream == "body":
        local = rot[:, list(STREAM_JOINTS["body"])]
    else:
        local = rot[:, list(STREAM_JOINTS["left_hand" if side == "left" else "hand"])]
        if side == "left":
            local = local * FLIP_SIGNS
    full = np.concatenate([np.broadcast_to(np.eye(3), (t, sp["n_fixed"], 3, 3)), local], axis=1)
    wr, wp = forward_kinematics(sk, full)
    tips = wp + np.einsum("tjab,jb->tja", wr, sk.tips)
    pts = sp["points"]
    out = np.where(sp["is_tip"][None, :, None], tips[:, pts], wp[:, pts])
    return out * 100.0


def _keys_for(length: int, spacing: int, phase: int) -> np.ndarray:
    return np.arange(phase % spacing, length, spacing)


def _build(clips, runs: list[Run], spacing: int, phase_frac: float):
    """One sequence per run: keys every ``spacing`` frames from phase
    ``round(phase_frac * spacing)``, every other frame GENERATED (frames before the first and
    after the last key are extrapolation: held by every method and not scored).

    Returns [(sequence, ground truth (n, 52, 3, 3), run, keys)]."""
    from ...model.sequence import FrameState, Keyframe, new_sequence

    out = []
    phase = int(round(phase_frac * spacing)) % spacing
    for r in runs:
        rot = np.asarray(clips.rotations[r.clip][r.start : r.stop], np.float32)
        k = _keys_for(len(rot), spacing, phase)
        if len(k) < 2:
            continue
        seq = new_sequence(rot, 25.0, check_rotations=False)
        seq = seq.replace(
            base_states=np.full(len(rot), FrameState.GENERATED, np.uint8), keyframes=tuple(Keyframe(int(f)) for f in k)
        )
        out.append((seq, rot, r, k))
    return out


def _dtw_chunks(pred: np.ndarray, gt: np.ndarray, window: int, pa: bool) -> tuple[float, int]:
    from .metrics import dtw_jpe, dtw_pa_jpe

    total, n = 0.0, 0
    for a in range(0, len(gt), window):
        b = min(len(gt), a + window)
        if b - a < 4:
            continue
        f = dtw_pa_jpe if pa else dtw_jpe
        total += f(pred[a:b], gt[a:b]) * (b - a)
        n += b - a
    return total, n


def run_metrics(
    stream: str,
    pred_rot: np.ndarray,
    gt_rot: np.ndarray,
    run: Run,
    keys: np.ndarray,
    dtw_window: int,
    dtw_pa: bool = True,
) -> dict[str, tuple[float, float]]:
    """Sums and weights of each metric for one run (rotations of the run's frames only);
    ``dtw_pa`` False skips DTW-PA-JPE (a Procrustes fit per alignment: half the cost)."""
    from .metrics import jerk_error, joint_error, pa_mpjpe, velocity_error

    p = stream_positions(stream, pred_rot, run.side)[:, run.points]
    g = stream_positions(stream, gt_rot, run.side)[:, run.points]
    inner = np.zeros(len(g), bool)
    inner[keys[0] : keys[-1] + 1] = True
    inner[keys] = False
    frames = np.nonzero(inner)[0]
    out: dict[str, tuple[float, float]] = {}
    if frames.size:
        out["mpjpe"] = (float(joint_error(p[frames], g[frames]).sum()), float(frames.size))
        out["pa_mpjpe"] = (pa_mpjpe(p[frames], g[frames]) * frames.size, float(frames.size))
    seg = slice(int(keys[0]), int(keys[-1]) + 1)
    m = seg.stop - seg.start
    if m >= 2:
        out["velocity_error"] = (velocity_error(p[seg], g[seg]) * (m - 1), float(m - 1))
    if m >= 4:
        out["jerk_error"] = (jerk_error(p[seg], g[seg]) * (m - 3), float(m - 3))
    s, n = _dtw_chunks(p[seg], g[seg], dtw_window, pa=False)
    if n:
        out["dtw_jpe"] = (s, float(n))
    s, n = _dtw_chunks(p[seg], g[seg], dtw_window, pa=True) if dtw_pa else (0.0, 0)
    if n:
        out["dtw_pa_jpe"] = (s, float(n))
    key_err = float(np.linalg.norm(p[keys] - g[keys], axis=-1).max())
    out["key_adherence"] = (key_err, -1.0)  # a max, not a mean
    out["key_rotation_max_abs"] = (float(np.abs(pred_rot[keys] - gt_rot[keys]).max()), -1.0)
    return out


def _accumulate(acc: dict, metrics: dict) -> None:
    for k, (v, w) in metrics.items():
        if w < 0:
            acc[k] = max(acc.get(k, 0.0), v)
        else:
            s, n = acc.get(k, (0.0, 0.0))
            acc[k] = (s + v, n + w)


def _finish(acc: dict) -> dict[str, float]:
    return {k: (v if not isinstance(v, tuple) else (v[0] / v[1] if v[1] else float("nan"))) for k, v in acc.items()}


def load_eval_clips(data: str | Path, split: str):
    from ...errors import UserError
    from ...io import registry
    from .data import Clips, load_clips, seq_clip

    path = Path(data)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.is_file() and path.suffix != ".npz" or (path.is_file() and not _npz_is_data(path)):
        seq = registry.read(path)
        r, v = seq_clip(seq)
        return Clips([r], [v], [seq.language or ""], [seq.text or ""])
    clips = load_clips(path, split)
    if not len(clips):
        raise UserError(f"{path}: no clips in split {split!r}")
    return clips


def _npz_is_data(path: Path) -> bool:
    from .data import is_clip_cache, is_corpus

    try:
        return is_clip_cache(path) or is_corpus(path)
    except Exception:  # noqa: BLE001
        return False


def timing_oracle(gt: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """(T, J, 3, 3): every joint on its key-to-key geodesic, at the phase where the ground truth
    ``gt`` projects onto it (``refiner.timing_projection``) -- the bound for any in-betweener that
    only changes *when* each joint travels SLERP's path (the bundled model changes that first)."""
    import torch

    from ..refiner import geodesic_fill, timing_projection

    g = torch.from_numpy(np.asarray(gt, np.float64))[None]
    obs = torch.zeros(g.shape[:3], dtype=torch.bool)
    obs[:, keys] = True
    return timing_projection(geodesic_fill(g, obs, eased=True), obs, g)[1][0].numpy().astype(np.float32)


def evaluate(
    clips,
    inbetweeners: dict[str, Any],
    spacings=DEFAULT_SPACINGS,
    phases: int = 2,
    dtw_window: int = 150,
    max_runs: int | None = None,
    streams=("body", "hand"),
    oracle: bool = False,
    dtw_pa: bool = True,
) -> dict[str, Any]:
    """Metrics per stream, spacing and method (``inbetweeners``: name -> KF2PInbetweener);
    ``oracle`` adds the ``timing_oracle`` row (it reads the ground truth: a bound, not a method)."""
    from dataclasses import replace

    out: dict[str, Any] = {}
    for stream in streams:
        # only the evaluated stream's model runs (the other stream's frames are not scored)
        only = {
            name: replace(inb, streams={k: v for k, v in inb.streams.items() if k == stream})
            for name, inb in inbetweeners.items()
        }
        runs = find_runs(clips, stream)
        if max_runs is not None:
            runs = runs[:max_runs]
        res_stream: dict[str, Any] = {
            "runs": len(runs),
            "frames": int(sum(r.stop - r.start for r in runs)),
            "spacings": {},
        }
        for s in spacings:
            accs: dict[str, dict] = {name: {} for name in inbetweeners}
            if oracle:
                accs["timing_oracle"] = {}
            timing = {name: 0.0 for name in inbetweeners}
            for ph in range(phases):
                built = _build(clips, runs, s, ph / max(1, phases))
                if not built:
                    continue
                for name, inb in only.items():
                    t0 = time.perf_counter()
                    filled = inb.fill_all_many([b[0] for b in built], seed=0)
                    timing[name] += time.perf_counter() - t0
                    for f, (_, gt, r, k) in zip(filled, built):
                        _accumulate(accs[name], run_metrics(stream, f.rotations, gt, r, k, dtw_window, dtw_pa))
                if oracle:
                    for _, gt, r, k in built:
                        _accumulate(
                            accs["timing_oracle"],
                            run_metrics(stream, timing_oracle(gt, k), gt, r, k, dtw_window, dtw_pa),
                        )
            row = {name: _finish(a) for name, a in accs.items()}
            for name in accs:
                if name in ("slerp", "eased") or "slerp" not in row or "mpjpe" not in row[name]:
                    continue
                row[name]["ratio_vs_slerp"] = {
                    m: row[name][m] / row["slerp"][m]
                    for m in ("mpjpe", "pa_mpjpe", "dtw_jpe", "dtw_pa_jpe", "velocity_error", "jerk_error")
                    if m in row[name] and row["slerp"].get(m)
                }
                if "eased" in row:
                    row[name]["ratio_vs_eased"] = {
                        m: row[name][m] / row["eased"][m]
                        for m in ("mpjpe", "dtw_jpe")
                        if m in row[name] and row["eased"].get(m)
                    }
            row["fill_seconds"] = {k: round(v, 3) for k, v in timing.items()}
            res_stream["spacings"][str(s)] = row
        out[stream] = res_stream
    return out


def run_eval(ev: Kf2pEvalOptions) -> dict[str, Any]:
    """``eval kf2p``: the JSON-able result (corpus / clip cache / sequence folder, or a real folder)."""
    import torch

    from ...errors import LoadError, UserError
    from .inbetween import load_inbetweener

    spacings = tuple(ev.spacings)
    from ..fast.real import is_real_folder

    torch.set_num_threads(max(1, torch.get_num_threads()))
    real = is_real_folder(ev.data)
    clips = None if real else load_eval_clips(ev.data, ev.split)
    model = ev.model or "bundled"
    opts = {} if ev.strength is None else {"strength": ev.strength}
    try:
        inbs = {"slerp": load_inbetweener("slerp"), "eased": load_inbetweener("eased")}
        if model not in ("slerp", "eased"):
            inbs["model"] = load_inbetweener(model, device=ev.device, steps=ev.steps, **opts)
            if ev.steps_sweep:
                for st in ev.steps_sweep:
                    inbs[f"model_steps{st}"] = load_inbetweener(model, device=ev.device, steps=st, **opts)
    except LoadError as e:
        raise UserError(str(e)) from None
    if real:
        return run_real(ev, inbs.get("model"), model)
    t0 = time.perf_counter()
    res = evaluate(clips, inbs, spacings, ev.phases, ev.dtw_window, ev.max_runs, oracle=True)
    model_inb = inbs.get("model")
    adapt = None
    if ev.adapt_steps and model_inb is not None:
        adapt = adaptation(clips, model_inb, spacings, ev.phases, ev.dtw_window, ev.adapt_steps)
    return {
        "data": str(ev.data),
        "split": ev.split,
        "clips": len(clips),
        "languages": sorted(set(clips.language)),
        "model": model,
        "steps": None if model_inb is None else model_inb.steps,
        "streams_modelled": [] if model_inb is None else sorted(model_inb.streams),
        "units": "cm (velocity / jerk: cm per frame / per frame^3)",
        "spacings": list(spacings),
        "phases": ev.phases,
        "results": res,
        "seconds": round(time.perf_counter() - t0, 1),
        "summary": summarize(res),
        **({"adaptation": adapt} if adapt is not None else {}),
    }


def adaptation(clips, model_inb, spacings, phases: int, dtw_window: int, steps: int) -> dict[str, Any]:
    """Stretch goal: per language (one signer per language in the lexicon), fine-tune the model on
    every other clip (standing in for a document's SOURCE frames) and evaluate both models on the
    remaining clips, which adaptation never saw (the spans being regenerated)."""
    from .adapt import adapt_inbetweener

    per_lang: dict[str, Any] = {}
    totals: dict[str, dict[str, dict[str, list[float]]]] = {}
    for lang in sorted(set(clips.language)):
        idx = [i for i, l in enumerate(clips.language) if l == lang]
        fit, held = clips.subset(idx[0::2]), clips.subset(idx[1::2])
        if not len(held):
            continue
        t0 = time.perf_counter()
        adapted = adapt_inbetweener(model_inb, fit, steps=steps)
        secs = time.perf_counter() - t0
        res = evaluate(held, {"model": model_inb, "adapted": adapted}, spacings, phases, dtw_window)
        per_lang[lang] = {
            "adapt_clips": len(fit),
            "held_out_clips": len(held),
            "adapt_seconds": round(secs, 1),
            "mpjpe_adapted_over_model": {},
        }
        for stream, r in res.items():
            rows = {}
            for sp, row in r["spacings"].items():
                if "mpjpe" not in row.get("model", {}) or "mpjpe" not in row.get("adapted", {}):
                    continue
                rows[sp] = round(row["adapted"]["mpjpe"] / row["model"]["mpjpe"], 4)
                acc = totals.setdefault(stream, {}).setdefault(sp, {"model": [], "adapted": []})
                acc["model"].append(row["model"]["mpjpe"] * r["frames"])
                acc["adapted"].append(row["adapted"]["mpjpe"] * r["frames"])
            per_lang[lang]["mpjpe_adapted_over_model"][stream] = rows
    pooled = {
        stream: {sp: round(sum(v["adapted"]) / sum(v["model"]), 4) for sp, v in rows.items()}
        for stream, rows in totals.items()
    }
    return {"steps": steps, "languages": per_lang, "pooled_mpjpe_adapted_over_model": pooled}


def summarize(res: dict[str, Any]) -> dict[str, Any]:
    """model / slerp MPJPE and DTW-JPE ratios per stream and spacing (the headline numbers)."""
    out: dict[str, Any] = {}
    for stream, r in res.items():
        rows = {}
        for s, row in r["spacings"].items():
            m = row.get("model")
            if not m or "ratio_vs_slerp" not in m:
                continue
            rows[s] = {
                "mpjpe_ratio": round(m["ratio_vs_slerp"].get("mpjpe", float("nan")), 4),
                "dtw_jpe_ratio": round(m["ratio_vs_slerp"].get("dtw_jpe", float("nan")), 4),
                "slerp_mpjpe_cm": round(row["slerp"]["mpjpe"], 4),
                "eased_mpjpe_cm": round(row["eased"]["mpjpe"], 4),
                "model_mpjpe_cm": round(m["mpjpe"], 4),
            }
            if "timing_oracle" in row:
                rows[s]["timing_oracle_mpjpe_ratio"] = round(row["timing_oracle"]["mpjpe"] / row["slerp"]["mpjpe"], 4)
        out[stream] = rows
    return out


def format_text(result: dict[str, Any]) -> str:
    if result.get("kind") == "real folder":
        return format_real(result)
    lines = [
        f"KF2P on {result['data']} ({result['split']}, {result['clips']} clips; model {result['model']}, "
        f"{result['steps']} steps), MPJPE cm / DTW-JPE cm"
    ]
    for stream, r in result["results"].items():
        lines.append(f"[{stream}] {r['runs']} runs, {r['frames']} frames")
        for s, row in r["spacings"].items():
            parts = []
            for name in row:
                if name == "fill_seconds" or "mpjpe" not in row[name]:
                    continue
                parts.append(f"{name} {row[name]['mpjpe']:.3f}/{row[name].get('dtw_jpe', float('nan')):.3f}")
            ratio = row.get("model", {}).get("ratio_vs_slerp", {}).get("mpjpe")
            lines.append(f"  spacing {s:>2}: " + "  ".join(parts) + (f"  (model/slerp {ratio:.3f})" if ratio else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Real signing: a folder of real recordings (``.pose``), no corpus, no language split


REAL_METHODS = ("slerp", "eased", "spline", "pchip")
GAP_RANGE = (2, 12)  # tracking-gap protocol: lengths of the removed stretches, frames


def load_real_clips(data: str | Path, half: str | None = None, every: int = 1):
    """The ``.pose`` files of ``data`` (sorted; ``half`` even / odd: every other one; ``every``:
    every n-th of those) as ``Clips`` (one per file, ``text`` = the file name)."""
    from ...errors import UserError
    from ...io import registry
    from ..fast.real import pose_files
    from .data import Clips, seq_clip

    files = pose_files(data, half)[:: max(1, int(every))]
    if not files:
        raise UserError(f"{data}: no .pose files")
    clips = Clips()
    for f in files:
        r, v = seq_clip(registry.read(f))
        clips.rotations.append(r)
        clips.valid.append(v)
        clips.language.append(Path(data).name)
        clips.text.append(f.name)
    return clips


def tracking_gaps(
    valid: np.ndarray,
    joints,
    rng: np.random.Generator,
    lo: int = GAP_RANGE[0],
    hi: int = GAP_RANGE[1],
    spacing: tuple[int, int] = (8, 24),
) -> list[tuple[int, int]]:
    """Random gaps [a, b) of ``lo``..``hi`` frames inside stretches where all ``joints`` are tracked
    (valid (T, J) bool), each with at least 2 tracked frames on both sides and ``spacing`` frames
    between gaps."""
    ok = valid[:, list(joints)].all(axis=1)
    d = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
    out = []
    for a, b in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]):
        t = a + 2 + int(rng.integers(0, spacing[0]))
        while True:
            g = int(rng.integers(lo, hi + 1))
            if t + g + 2 > b:
                break
            out.append((int(t), int(t + g)))
            t += g + int(rng.integers(*spacing))
    return out


def gap_protocol(clips, inbetweeners: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """ "Keep the recorded motion": remove a hand in random gaps of 2-12 frames where it was
    tracked, fill them (each method, the rest of the recording as context: SOURCE frames, keys on
    the frames either side of each gap), and compare with what was removed. Hand points in the
    wrist's frame (cm), on the removed frames only; binned by gap length."""
    from ...model.sequence import FrameState, Keyframe, new_sequence
    from ..refiner import STREAM_JOINTS

    rng = np.random.default_rng(seed)
    built = []  # (sequence, ground truth, side, gaps)
    for c in range(len(clips)):
        rot, val = clips.rotations[c], clips.valid[c]
        for side, joints in (("left", STREAM_JOINTS["left_hand"]), ("right", STREAM_JOINTS["hand"])):
            gaps = tracking_gaps(val, joints, rng)
            if not gaps:
                continue
            states = np.full(len(rot), FrameState.SOURCE, np.uint8)
            keys = set()
            for a, b in gaps:
                states[a:b] = FrameState.GENERATED
                keys.update((a - 1, b))
            seq = new_sequence(rot, 25.0, valid=val, check_rotations=False)
            seq = seq.replace(base_states=states, keyframes=tuple(Keyframe(int(f)) for f in sorted(keys)))
            built.append((seq, rot, side, gaps))
    bins = {"2-4": (2, 4), "5-8": (5, 8), "9-12": (9, 12)}
    out: dict[str, Any] = {
        "gaps": int(sum(len(b[3]) for b in built)),
        "frames": int(sum(b - a for x in built for a, b in x[3])),
        "methods": {},
    }
    for name, inb in inbetweeners.items():
        filled = inb.fill_all_many([b[0] for b in built], seed=0)
        errs, lens = [], []
        for f, (_, gt, side, gaps) in zip(filled, built):
            frames = np.concatenate([np.arange(a, b) for a, b in gaps])
            p = stream_positions("hand", f.rotations[frames], side)
            g = stream_positions("hand", gt[frames], side)
            e = np.linalg.norm(p - g, axis=-1).mean(axis=1)  # (frames,)
            errs.append(e)
            lens.append(np.concatenate([np.full(b - a, b - a) for a, b in gaps]))
        e, ln = np.concatenate(errs), np.concatenate(lens)
        row = {"mpjpe": float(e.mean())}
        for k, (a, b) in bins.items():
            sel = (ln >= a) & (ln <= b)
            row[f"mpjpe_{k}"] = float(e[sel].mean()) if sel.any() else float("nan")
        out["methods"][name] = row
    if "slerp" in out["methods"]:
        ref = out["methods"]["slerp"]
        for row in out["methods"].values():
            row["ratio_vs_slerp"] = {k: row[k] / ref[k] for k in row if k.startswith("mpjpe") and ref.get(k)}
    return out


def run_real(ev: Kf2pEvalOptions, model_inb, model: str) -> dict[str, Any]:
    """``eval kf2p`` on a folder of real recordings: every file, keys every s frames (the
    corpus protocol) against SLERP, eased SLERP, a C2 rotation spline, the monotone cubic and the
    timing oracle, plus the tracking-gap protocol."""
    from ..baselines import load_baseline

    spacings = tuple(ev.spacings)
    clips = load_real_clips(ev.data, ev.half, ev.every)
    inbs = {n: load_baseline(n) for n in REAL_METHODS}
    if model_inb is not None:
        inbs["model"] = model_inb
    t0 = time.perf_counter()
    # DTW-PA-JPE is left out on real folders: its Procrustes fit per alignment was half the cost
    res = evaluate(clips, inbs, spacings, ev.phases, ev.dtw_window, ev.max_runs, oracle=True, dtw_pa=False)
    gaps = None if ev.no_gaps else gap_protocol(clips, {n: v for n, v in inbs.items() if n != "pchip"}, seed=0)
    return {
        "data": str(ev.data),
        "kind": "real folder",
        "half": ev.half or "all",
        "every": ev.every,
        "split": "all",
        "clips": len(clips),
        "files": list(clips.text),
        "model": model,
        "steps": None if model_inb is None else model_inb.steps,
        "units": "cm (velocity / jerk: cm per frame / per frame^3)",
        "spacings": list(spacings),
        "phases": ev.phases,
        "results": res,
        "summary": summarize_real(res),
        **({"gap_protocol": gaps} if gaps is not None else {}),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def summarize_real(res: dict[str, Any]) -> dict[str, Any]:
    """Per stream and spacing: every method's MPJPE and DTW-JPE ÷ SLERP's and ÷ eased SLERP's."""
    out: dict[str, Any] = {}
    for stream, r in res.items():
        rows = {}
        for s, row in r["spacings"].items():
            sl, ea = row.get("slerp", {}), row.get("eased", {})
            if "mpjpe" not in sl:
                continue
            rows[s] = {"slerp_mpjpe_cm": round(sl["mpjpe"], 4), "slerp_dtw_jpe_cm": round(sl["dtw_jpe"], 4)}
            for name, m in row.items():
                if name in ("slerp", "fill_seconds") or "mpjpe" not in m:
                    continue
                rows[s][name] = {
                    f"{x}_vs_{b}": round(m[x] / ref[x], 4)
                    for x in ("mpjpe", "dtw_jpe")
                    for b, ref in (("slerp", sl), ("eased", ea))
                    if ref.get(x)
                }
        out[stream] = rows
    return out


def format_real(result: dict[str, Any]) -> str:
    lines = [
        f"KF2P on real signing {result['data']} ({result['clips']} files, half {result['half']}; "
        f"model {result['model']}): MPJPE / DTW-JPE ÷ SLERP"
    ]
    for stream, rows in result["summary"].items():
        r = result["results"][stream]
        lines.append(f"[{stream}] {r['runs']} runs, {r['frames']} frames")
        for s, row in rows.items():
            parts = [
                f"{n} {v['mpjpe_vs_slerp']:.3f}/{v['dtw_jpe_vs_slerp']:.3f}"
                for n, v in row.items()
                if isinstance(v, dict)
            ]
            lines.append(f"  s={s:>2} (slerp {row['slerp_mpjpe_cm']:.2f} cm): " + "  ".join(parts))
    g = result.get("gap_protocol")
    if g:
        lines.append(f"tracking gaps ({g['gaps']} gaps, {g['frames']} frames), hand MPJPE cm (÷ SLERP):")
        for n, row in g["methods"].items():
            lines.append(
                f"  {n:8s} {row['mpjpe']:.3f} ({row['ratio_vs_slerp']['mpjpe']:.3f})  "
                + "  ".join(f"{k[6:]}: {row[k]:.3f}" for k in row if k.startswith("mpjpe_"))
            )
    return "\n".join(lines)

"""Calibrate the bundled in-betweener on real signing: per stream and key spacing, the network's
correction at a strength, or the classical method that is best there (``RefinerSpec.fallback_by_gap``),
and the method for gaps inside a recording (``RefinerSpec.record_fallback``).

    python -m core.commands.kf2p_realcal ../shared/realdata/signsuisse_val --half even --every 2 \\
        --out runs/realcal.json [--write assets/models/kf2p]

Real recordings are used here only to choose among a few fixed options (strengths, which classical
method) -- no weight is trained on them (``../shared/realdata/README.md``). Report the other half
(``--half odd``) and other folders with ``python -m core eval kf2p DIR``.

Rule, per stream and spacing, on the calibration files: among eased SLERP, the monotone cubic
(``pchip``), the windowed C2 rotation spline (``spline``) and the network at each strength of
``GRID`` (timing only: the off-path residual is off), keep those whose MPJPE is at least
``MARGIN`` below eased SLERP's, whose DTW-JPE is not above it, and whose velocity and jerk errors
are within ``SMOOTH_TOL`` of it; choose the lowest MPJPE; eased SLERP when none qualifies. Gaps in
a recording (``kf2p.eval.gap_protocol``): the lowest hand MPJPE among eased, pchip, spline and the
network as calibrated, with the same margin.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

GRID = (0.25, 0.5, 0.75)
SPACINGS = (4, 6, 8, 10, 12, 14, 16)
MARGIN = 0.01
SMOOTH_TOL = 0.03
CLASSICAL = ("eased", "pchip", "spline")


def _classical(name: str):
    from ..baselines import fallback_sampler
    from .inbetween import KF2PInbetweener

    if name == "eased":
        return KF2PInbetweener({}, eased=True, name="eased")
    return KF2PInbetweener({"body": fallback_sampler(name, "body"), "hand": fallback_sampler(name, "hand")}, name=name)


def choose(rows: dict[str, Any], candidates) -> tuple[str, dict[str, float]]:
    """``rows``: one spacing of ``kf2p.eval.evaluate`` (method -> metrics). Returns the chosen
    candidate and its ratios to eased SLERP."""
    ea = rows["eased"]
    best, best_m = "eased", 1.0
    for name in candidates:
        if name == "eased" or "mpjpe" not in rows.get(name, {}):
            continue
        r = {x: rows[name][x] / ea[x] for x in ("mpjpe", "dtw_jpe", "velocity_error", "jerk_error")}
        if (
            r["mpjpe"] <= 1 - MARGIN
            and r["dtw_jpe"] <= 1.0
            and r["velocity_error"] <= 1 + SMOOTH_TOL
            and r["jerk_error"] <= 1 + SMOOTH_TOL
            and r["mpjpe"] < best_m
        ):
            best, best_m = name, r["mpjpe"]
    return best, {x: round(rows[best][x] / ea[x], 4) for x in ("mpjpe", "dtw_jpe", "velocity_error", "jerk_error")}


def calibrate(
    data: str, half: str | None, every: int, phases: int = 1, spacings=SPACINGS, model: str = "bundled"
) -> dict[str, Any]:
    from .eval import evaluate, gap_protocol, load_real_clips
    from .inbetween import load_inbetweener

    clips = load_real_clips(data, half, every)
    inbs: dict[str, Any] = {"slerp": load_inbetweener("slerp")}
    inbs.update({n: _classical(n) for n in CLASSICAL})
    for k in GRID:
        inbs[f"model@{k:g}"] = load_inbetweener(model, strength=k, geometry=0.0)
    t0 = time.perf_counter()
    res = evaluate(clips, inbs, spacings, phases, dtw_pa=False)
    out: dict[str, Any] = {
        "data": data,
        "half": half or "all",
        "every": every,
        "files": list(clips.text),
        "grid": list(GRID),
        "margin": MARGIN,
        "smooth_tol": SMOOTH_TOL,
        "choice": {},
        "ratios_vs_eased": {},
    }
    for stream, r in res.items():
        out["choice"][stream], out["ratios_vs_eased"][stream] = {}, {}
        for s, rows in r["spacings"].items():
            name, ratios = choose(rows, [n for n in inbs if n != "slerp"])
            out["choice"][stream][s] = {
                "method": name,
                **ratios,
                "mpjpe_vs_slerp": round(rows[name]["mpjpe"] / rows["slerp"]["mpjpe"], 4),
            }
            out["ratios_vs_eased"][stream][s] = {
                n: round(rows[n]["mpjpe"] / rows["eased"]["mpjpe"], 4)
                for n in rows
                if isinstance(rows[n], dict) and "mpjpe" in rows[n]
            }
    # gaps inside a recording: the network as calibrated above vs the classical methods
    cal = {n: _classical(n) for n in CLASSICAL}
    cal["model"] = calibrated_inbetweener(model, out["choice"])
    gp = gap_protocol(clips, cal)
    best, best_m = "", gp["methods"]["model"]["mpjpe"]
    ea = gp["methods"]["eased"]["mpjpe"]
    for n in CLASSICAL:
        m = gp["methods"][n]["mpjpe"]
        if m < best_m * (1 - MARGIN):
            best, best_m = n, m
    out["gap_protocol"] = {n: round(v["mpjpe"], 4) for n, v in gp["methods"].items()}
    out["record_fallback"] = best
    out["record_vs_eased"] = round(best_m / ea, 4)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def specs_from_choice(spec, choice: dict[str, Any], record: str = ""):
    """The refiner spec with the calibrated tables: per spacing the strength (0 where a classical
    method was chosen) and the method ("" = the network)."""
    rows = sorted((int(s), c["method"]) for s, c in choice.items())
    strength = tuple((s, float(m.split("@")[1]) if m.startswith("model@") else 0.0) for s, m in rows)
    fallback = tuple((s, "" if m.startswith("model@") else m) for s, m in rows)
    at8 = dict(strength).get(8, strength[len(strength) // 2][1])
    return replace(
        spec,
        strength_by_gap=strength,
        strength=at8,
        geometry_by_gap=tuple((s, 0.0) for s, _ in rows),
        geometry=0.0,
        fallback_by_gap=fallback,
        record_fallback=record,
    )


def calibrated_inbetweener(model: str, choice: dict[str, Any], record: str = ""):
    """``model`` with the tables of ``choice`` applied in memory (streams it lacks stay eased)."""
    from .inbetween import RefinerSampler, load_inbetweener

    inb = load_inbetweener(model)
    for stream, sampler in inb.streams.items():
        if isinstance(sampler, RefinerSampler) and stream in choice:
            sampler.spec = specs_from_choice(sampler.spec, choice[stream], record)
            sampler.model.spec = sampler.spec
    return inb


def write(folder: Path, cal: dict[str, Any]) -> None:
    """Rewrite the refiner checkpoints in ``folder`` with the calibrated tables (weights as they were)."""
    import torch

    from ..checkpoint import read_torch
    from ..refiner import RefinerNet, load_refiner, save_refiner

    for stream in cal["choice"]:
        path = folder / f"{stream}.pt"
        loaded = load_refiner(path)
        raw = read_torch(path)
        half = any(v.dtype == torch.float16 for v in raw["state_dict"].values())
        spec = specs_from_choice(loaded.model.spec, cal["choice"][stream], cal["record_fallback"])
        net = RefinerNet(loaded.model.cfg, spec, zero_init=False)
        net.load_state_dict(loaded.model.state_dict())
        meta = dict(loaded.meta)
        meta["real_calibration"] = {
            k: cal[k]
            for k in ("data", "half", "every", "grid", "margin", "smooth_tol", "record_fallback", "record_vs_eased")
        }
        meta["real_calibration"]["choice"] = cal["choice"][stream]
        meta["real_calibration"]["rule"] = __doc__.split("Rule, ")[1].split("\n\n")[0].replace("\n", " ")
        save_refiner(path, net, meta, half=half)

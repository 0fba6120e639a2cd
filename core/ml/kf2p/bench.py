"""``python -m core bench kf2p [--json]``: how long an edit takes to come back regenerated.

A ``--minutes`` long 25 fps sequence (default 1; smooth random motion on every joint, so the
content is the same at every length) gets keys every 6-14 frames (about what FAST proposes: three
per sign) and every other frame GENERATED, filled once. Then keys are moved one at a time by 1-3
frames with the editor's edit (``core.model.edits.move_keys``), and the time from the edited
sequence to the regenerated frames of its dirty span (``KF2PInbetweener.fill_patch``, what the
background service runs) is measured. Reported: median and p95 over the edits, at the default
steps and for a steps sweep; the same for a 10x longer sequence (the cost must not grow with the
length); and one forward pass over a 304-frame window of the bundled network and of the
``official-large`` configuration (835M parameters, random weights) on the same CPU, as a ratio.

Threads: ``--threads`` (default 1, what the editor's worker uses).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

FPS = 25.0


def bench_sequence(minutes: float, seed: int = 0):
    """A filled-in document: smooth motion, keys every 6-14 frames, the rest GENERATED."""
    from ...model.rotations import axis_angle_to_matrix
    from ...model.sequence import FrameState, Keyframe, new_sequence

    t = max(64, int(round(minutes * 60 * FPS)))
    rng = np.random.default_rng(seed)
    # a few sinusoids per joint axis: signing-like speeds (0.3-3 Hz)
    time_s = np.arange(t)[:, None, None] / FPS
    aa = np.zeros((t, 52, 3))
    for _ in range(3):
        f = rng.uniform(0.3, 3.0, (1, 52, 3))
        ph = rng.uniform(0, 2 * np.pi, (1, 52, 3))
        aa += rng.uniform(0.05, 0.25, (1, 52, 3)) * np.sin(2 * np.pi * f * time_s + ph)
    rot = axis_angle_to_matrix(aa).astype(np.float32)
    seq = new_sequence(rot, FPS)
    keys, f = [], 0
    while f < t:
        keys.append(f)
        f += int(rng.integers(6, 15))
    if keys[-1] != t - 1:
        keys.append(t - 1)
    return seq.replace(
        keyframes=tuple(Keyframe(k) for k in keys), base_states=np.full(t, FrameState.GENERATED, np.uint8)
    )


def edit_latencies(inb, seq, n_edits: int, seed: int = 1, key_limit: int | None = None) -> list[float]:
    """ms per edit: move one random inner key by 1-3 frames, regenerate its dirty span.
    ``key_limit``: pick among the first keys only (the same edits on a longer sequence whose
    beginning is the shorter one)."""
    from ...model.edits import EditError, move_keys

    rng = np.random.default_rng(seed)
    keys = seq.key_frames[:key_limit]
    out = []
    tries = 0
    while len(out) < n_edits and tries < 10 * n_edits:
        tries += 1
        i = int(rng.integers(1, len(keys) - 1))
        delta = int(rng.choice([-3, -2, -1, 1, 2, 3]))
        try:
            change = move_keys(seq, [int(keys[i])], delta)
        except EditError:
            continue
        t0 = time.perf_counter()
        inb.fill_patch(change.sequence, change.dirty, None, 0)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def service_latencies(seq, n_edits: int, threads: int, seed: int = 2, key_limit: int | None = None) -> list[float]:
    """Through the editor's background service (``core.jobs``): submit -> result delivered, ms
    (the request is the edited snapshot with its dirty span, as the editor sends it)."""
    import threading

    try:
        from ...jobs import InbetweenRequest, InbetweenService
    except ImportError:
        return []
    from ...model.edits import EditError, move_keys

    done = threading.Event()
    got: list = []

    def on_result(r) -> None:
        got.append(r)
        done.set()

    svc = InbetweenService(on_result, torch_threads=threads, device="cpu")
    rng = np.random.default_rng(seed)
    keys = seq.key_frames[:key_limit]
    out: list[float] = []
    try:
        gen = 0
        while len(out) < n_edits + 3:
            i = int(rng.integers(1, len(keys) - 1))
            try:
                change = move_keys(seq, [int(keys[i])], int(rng.choice([-2, -1, 1, 2])))
            except EditError:
                continue
            gen += 1
            done.clear()
            svc.submit(InbetweenRequest(change.sequence, (change.dirty,), gen, model="bundled"))
            if not done.wait(60):
                break
            r = got[-1]
            if r.error:
                return []
            out.append(r.latency_ms)
    finally:
        svc.close()
    return out[3:]  # the first requests load the model


def _stats(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {
        "median": round(float(np.median(a)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "min": round(float(a.min()), 2),
        "max": round(float(a.max()), 2),
        "n": int(a.size),
    }


def forward_ms(model_fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        model_fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def window_forward_ms(device: str = "cpu", include_large: bool = True, repeat: int = 3) -> dict[str, Any]:
    """One network evaluation over a 304-frame window, batch 1: the bundled refiner (hand) and
    the official-large hand network."""
    import torch

    from ..refiner import RefinerNet, load_refiner
    from ..unet import KF2PNet, UNetConfig, count_parameters
    from .inbetween import BUNDLED_DIR

    t = 304
    out: dict[str, Any] = {"window_frames": t}
    hand = BUNDLED_DIR / "hand.pt"
    net = load_refiner(hand).model if hand.is_file() else RefinerNet.create("hand").eval()
    c = net.spec.channels
    x = torch.zeros(1, c, t, device=device)
    m = torch.zeros(1, c, t, dtype=torch.bool, device=device)
    y = torch.ones(1, 1, t, dtype=torch.bool, device=device)
    cond = torch.zeros(1, net.spec.cond_channels, t, device=device)
    net = net.to(device)
    with torch.no_grad():
        net(x, 0.5, x, m, y, cond)
        out["bundled_ms"] = round(forward_ms(lambda: net(x, 0.5, x, m, y, cond), repeat), 2)
    out["bundled_parameters"] = count_parameters(net)
    if include_large:
        torch.manual_seed(0)
        big = KF2PNet(UNetConfig.preset("official-large", 90), zero_init=False).to(device).eval()
        xb = torch.randn(1, 90, t, device=device)
        mb = torch.zeros(1, 90, t, dtype=torch.bool, device=device)
        with torch.no_grad():
            big(xb, 0.5, xb, mb, y)
            out["official_large_ms"] = round(forward_ms(lambda: big(xb, 0.5, xb, mb, y), max(1, repeat - 1)), 1)
        out["official_large_parameters"] = count_parameters(big)
        out["official_large_over_bundled"] = round(out["official_large_ms"] / out["bundled_ms"], 1)
        del big
    return out


def run(
    model: str | None = None,
    device: str = "cpu",
    threads: int | None = None,
    minutes: float | None = None,
    repeat: int = 3,
    include_large: bool = True,
) -> dict[str, Any]:
    """``bench kf2p``: the JSON-able figures (``model`` None: the bundled one)."""
    import torch

    from ...errors import LoadError, UserError
    from .inbetween import load_inbetweener

    threads = threads or 1
    torch.set_num_threads(threads)
    minutes = minutes if minutes is not None else 1.0
    model = model or "bundled"
    try:
        inb = load_inbetweener(model, device=device)
    except LoadError as e:
        raise UserError(str(e)) from None
    n_edits = max(30, 10 * int(repeat or 3))
    res: dict[str, Any] = {
        "model": model,
        "streams": sorted(inb.streams),
        "steps": inb.steps,
        "device": device,
        "torch_threads": threads,
        "sequence_minutes": minutes,
    }
    long_minutes = 10 * minutes
    limit = None
    for label, m in (("", minutes), ("long_", long_minutes)):
        # the long sequence begins with the short one (same seed): the same edits are timed
        seq = bench_sequence(m)
        if not label:  # a whole-document fill once (an edit's frames do not depend on it)
            t0 = time.perf_counter()
            seq = inb.fill_all(seq)
            res["full_fill_s"] = round(time.perf_counter() - t0, 2)
            base_seq = seq
        if limit is None:
            limit = len(seq.keyframes)
        edit_latencies(inb, seq, 5)  # warm-up
        res[f"{label}edit_latency_ms"] = _stats(edit_latencies(inb, seq, n_edits, key_limit=limit))
        res[f"{label}frames"] = seq.n_frames
        res[f"{label}keys"] = len(seq.keyframes)
        if model == "bundled":
            svc = service_latencies(seq, n_edits, threads, key_limit=limit)
            if svc:
                res[f"{label}service_edit_latency_ms"] = _stats(svc)
    res["long_sequence_minutes"] = long_minutes
    for k in ("edit_latency_ms", "service_edit_latency_ms"):
        if k in res and f"long_{k}" in res:
            for q in ("median", "p95"):
                res[f"long_over_short_{k[:-3]}_{q}"] = round(res[f"long_{k}"][q] / res[k][q], 3)
    if inb.streams:
        sweep = {}
        for st in (1, 2, 4, 8, 16):
            inb_s = load_inbetweener(model, device=device, steps=st)
            sweep[str(st)] = _stats(edit_latencies(inb_s, base_seq, max(10, n_edits // 3)))
        res["steps_sweep_edit_latency_ms"] = sweep
        res["baseline_edit_latency_ms"] = _stats(edit_latencies(load_inbetweener("eased"), base_seq, n_edits))
    res["window_forward"] = window_forward_ms(device, include_large)
    return res

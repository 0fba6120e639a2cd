"""``python -m core bench fast``: FAST throughput, frames of signing per second.

Default workload: ``--minutes`` (60) of 25 fps signing as ~4.4-minute sequences (synthetic motion:
throughput does not depend on what the hands do). Timed end to end from Sequences in memory:
features, batched windowed inference, decoding to segments and keyframes; the network alone is
reported too. ``--folder`` segments the sequence files of a folder instead, including reading
them, with a progress bar.
"""

from __future__ import annotations

import time
from typing import Any


def _workload(minutes: float):
    import numpy as np

    from .train import synthetic_sample

    rng = np.random.default_rng(0)
    total = int(minutes * 60 * 25)
    # one ~4.4-minute sequence, tiled: building many distinct ones would dominate the run time
    seq, _ = synthetic_sample(rng, n_signs=420)
    per = min(seq.n_frames, 5 * 60 * 25)
    seqs, done = [], 0
    base = seq.with_frame_arrays({k: v[:per] for k, v in seq.frame_arrays().items()})
    while done < total:
        n = min(per, total - done)
        seqs.append(base if n == per else base.with_frame_arrays({k: v[:n] for k, v in base.frame_arrays().items()}))
        done += n
    return seqs


def run(
    model: str | None = None,
    device: str = "cpu",
    threads: int | None = None,
    minutes: float | None = None,
    folder: str | None = None,
    repeat: int = 3,
) -> dict[str, Any]:
    """``bench fast``: the JSON-able figures (see the module docstring; ``model`` None: bundled)."""
    import os

    import torch
    from tqdm import tqdm

    from ...errors import LoadError, UserError
    from ..segmentation import decode
    from .features import hand_features
    from .infer import Segmenter

    # one thread by default: the network's matrices are small, and on a shared 2-core machine a
    # second thread cost 4x here (12.8k vs 55.8k frames/s, measured under load)
    torch.set_num_threads(threads or 1)
    try:
        seg = Segmenter.load(model, device=device)
    except LoadError as e:
        raise UserError(str(e)) from None
    out: dict[str, Any] = {
        "device": device,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "window": seg.window,
        "batch_size": seg.batch_size,
    }
    if folder:
        from ...io import registry
        from .data import sequence_files

        files = sequence_files(folder)
        if not files:
            raise UserError(f"{folder}: no readable sequence files")
        t0 = time.perf_counter()
        n = 0
        with tqdm(total=len(files), desc="segment", unit="file") as bar:
            for i in range(0, len(files), 64):
                seqs = [registry.read(p) for p in files[i : i + 64]]
                seg.segment_many(seqs)
                n += sum(s.n_frames for s in seqs)
                bar.update(len(seqs))
        dt = time.perf_counter() - t0
        out.update(
            {
                "files": len(files),
                "frames": n,
                "seconds": round(dt, 3),
                "frames_per_second": round(n / dt),
                "includes": "reading files, features, model, decoding",
            }
        )
        return out
    seqs = _workload(minutes if minutes is not None else 60.0)
    n = sum(s.n_frames for s in seqs)
    best_all = best_net = float("inf")
    with tqdm(total=max(1, repeat) * n, desc="bench fast", unit="frame", unit_scale=True, leave=False) as bar:
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            feats = [hand_features(s) for s in seqs]
            t1 = time.perf_counter()
            probs = seg.probs_many(feats, [s.fps for s in seqs], progress=bar.update)
            t2 = time.perf_counter()
            for p in probs:
                decode(p, seg.options)
            t3 = time.perf_counter()
            best_all = min(best_all, t3 - t0)
            best_net = min(best_net, t2 - t1)
    out.update(
        {
            "frames": n,
            "minutes_of_signing": round(n / 25 / 60, 2),
            "seconds": round(best_all, 3),
            "frames_per_second": round(n / best_all),
            "network_frames_per_second": round(n / best_net),
            "realtime_factor": round(n / 25 / best_all, 1),
            "includes": "features, model, decoding (sequences in memory)",
        }
    )
    return out

"""``python -m core bench [kf2p|fast|import|io|eaf|all] [--json]``: performance figures.

``BENCHES`` maps each target to ``(module, function, requires)``; the function takes the parsed
arguments and returns a JSON-able dict (``core.commands.bench_targets`` turns the flags into the
benchmark's typed parameters); a target runs when its ``requires`` module is in the build (``kf2p``:
``core.ml.kf2p.bench``); ``all`` runs every available target.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..cli import module_available

BENCHES: dict[str, tuple[str, str, str]] = {
    "eaf": ("core.commands.bench_targets", "eaf_import", "core.io.eaf_bench"),
    "fast": ("core.commands.bench_targets", "fast", "core.ml.fast.bench"),
    "import": ("core.commands.bench_targets", "pose_import", "core.kinematics.import_eval"),
    "io": ("core.commands.bench", "bench_io", "core.commands.bench"),
    "kf2p": ("core.commands.bench_targets", "kf2p", "core.ml.kf2p.bench"),
    "media": ("core.commands.bench_targets", "media", "core.media.bench"),
    "pose-ik": ("core.commands.bench_targets", "pose_ik", "core.kinematics.pose_ik_bench"),
}


def add_arguments(p) -> None:
    p.add_argument("target", nargs="?", default="all", choices=sorted(BENCHES) + ["all"])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--model", help="model folder / checkpoint (default: the bundled one)")
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (fast: default 1; kf2p: its own default)"
    )
    p.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="minutes of 25 fps signing to process (fast: default 60; io, import: default 2; media: default 10)",
    )
    p.add_argument(
        "--folder",
        help="fast: segment the sequence files of this folder instead; media: fit the joint overlay to its .pose files",
    )
    p.add_argument("--repeat", type=int, default=3, help="timed repetitions (best is reported)")


def bench_io(args) -> dict[str, Any]:
    """Write and read a synthetic sequence in every format that can do both; frames per second."""
    import tempfile

    import numpy as np

    from ..io import registry
    from ..model.rotations import axis_angle_to_matrix
    from ..model.sequence import new_sequence

    minutes = args.minutes if args.minutes is not None else 2.0
    t = max(2, int(minutes * 60 * 25))
    rng = np.random.default_rng(0)
    rot = axis_angle_to_matrix(rng.normal(0, 0.4, (t, 52, 3))).astype(np.float32)
    seq = new_sequence(rot, 25.0, rng.normal(0, 0.1, (t, 3)))
    out: dict[str, Any] = {"frames": t, "formats": {}}
    exts = {
        "project": ".signframe",
        "signspark": ".signspark.npz",
        "smplx": ".smplx.npz",
        "bvh": ".bvh",
        "fbx": ".fbx",
        "joints": ".joints.npz",
    }
    with tempfile.TemporaryDirectory() as d:
        for fmt in registry.FORMATS:
            ext = exts.get(fmt.name)
            if ext is None or not fmt.writable or not module_available(fmt.module):
                continue
            path = Path(d) / f"bench{ext}"
            row: dict[str, Any] = {}
            try:
                best_w = best_r = float("inf")
                for _ in range(max(1, args.repeat)):
                    t0 = time.perf_counter()
                    registry.write(path, seq)
                    best_w = min(best_w, time.perf_counter() - t0)
                    if fmt.readable and fmt.name != "eaf":
                        t0 = time.perf_counter()
                        registry.read(path)
                        best_r = min(best_r, time.perf_counter() - t0)
                row["write_frames_per_second"] = round(t / best_w)
                row["bytes"] = path.stat().st_size
                row["write_mb_per_second"] = round(path.stat().st_size / best_w / 1e6, 1)
                if best_r < float("inf"):
                    row["read_frames_per_second"] = round(t / best_r)
                    row["read_mb_per_second"] = round(path.stat().st_size / best_r / 1e6, 1)
            except Exception as e:  # noqa: BLE001 - a format's failure is reported, not fatal
                row["error"] = f"{type(e).__name__}: {e}"[:200]
            out["formats"][fmt.name] = row
    return out


def run(args) -> int:
    from ..errors import UserError

    targets = [n for n in sorted(BENCHES) if module_available(BENCHES[n][2])] if args.target == "all" else [args.target]
    results: dict[str, Any] = {}
    for name in targets:
        module, fn, requires = BENCHES[name]
        if not module_available(requires):
            raise UserError(f"bench {name}: not available in this build ({requires} is missing)")
        results[name] = getattr(importlib.import_module(module), fn)(args)
    res = results[targets[0]] if len(targets) == 1 else results
    if args.json:
        json.dump(res, sys.stdout, indent=2)
        print()
    else:
        for name, r in results.items():
            print(f"[{name}]")
            print(json.dumps(r, indent=2))
    return 0

"""The targets of ``python -m core bench``: the parsed flags -> each benchmark's typed function."""

from __future__ import annotations

from typing import Any


def fast(args) -> dict[str, Any]:
    from ..ml.fast.bench import run

    return run(
        model=args.model,
        device=args.device,
        threads=args.threads,
        minutes=args.minutes,
        folder=args.folder,
        repeat=args.repeat,
    )


def kf2p(args) -> dict[str, Any]:
    from ..ml.kf2p.bench import run

    return run(model=args.model, device=args.device, threads=args.threads, minutes=args.minutes, repeat=args.repeat)


def pose_import(args) -> dict[str, Any]:
    from ..kinematics.import_eval import bench

    return bench(minutes=args.minutes, repeat=args.repeat)


def eaf_import(args) -> dict[str, Any]:
    from ..io.eaf_bench import run

    return run(minutes=args.minutes or 10.0, repeat=args.repeat)


def media(args) -> dict[str, Any]:
    from ..media.bench import run

    if args.folder:  # the projected-joint overlay on real recordings instead
        from ..media.overlay import eval_folder

        return {"overlay_fit": eval_folder(args.folder)}
    return run(minutes=args.minutes if args.minutes is not None else 10.0, repeat=args.repeat)


def pose_ik(args) -> dict[str, Any]:
    from ..kinematics.pose_ik_bench import bench

    return bench(repeat=args.repeat)

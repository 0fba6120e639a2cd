"""``eval kf2p``: the flags of ``core.ml.kf2p.eval.run_eval``."""

from __future__ import annotations

from typing import Any

DEFAULT_SPACINGS = (4, 6, 8, 10, 12, 14, 16)  # kf2p.eval.DEFAULT_SPACINGS (torch-free here)


def add_arguments(group) -> None:
    group.add_argument(
        "--spacings",
        default=",".join(map(str, DEFAULT_SPACINGS)),
        help="kf2p: key spacings to evaluate, comma-separated (default 4..16 by 2)",
    )
    group.add_argument("--phases", type=int, default=2, help="kf2p: key phases per spacing (default 2)")
    group.add_argument("--steps", type=int, default=None, help="kf2p: solver steps (default: the model's)")
    group.add_argument(
        "--steps-sweep", default=None, help="kf2p: also evaluate the model at these step counts, e.g. 1,2,4,8,16"
    )
    group.add_argument("--strength", type=float, default=None, help="kf2p: refiner strength override")
    group.add_argument("--dtw-window", type=int, default=150, help="kf2p: DTW chunk length, frames")
    group.add_argument("--max-runs", type=int, default=None, help="kf2p: evaluate at most this many runs per stream")
    group.add_argument("--every", type=int, default=1, help="kf2p on a real folder: every n-th file (quick runs)")
    group.add_argument("--no-gaps", action="store_true", help="kf2p on a real folder: skip the tracking-gap protocol")
    group.add_argument(
        "--adapt-steps",
        type=int,
        default=0,
        help="kf2p: also measure 'adapt to this sequence': per language, fine-tune the model "
        "this many steps on half of the clips and evaluate on the other half",
    )


def parse_spacings(text: str, flag: str = "--spacings") -> tuple[int, ...]:
    """``"4,8,12"`` -> (4, 8, 12); a UserError naming the flag otherwise (each spacing >= 2)."""
    from ...errors import UserError

    try:
        spacings = tuple(int(x) for x in str(text).split(",") if x.strip())
    except ValueError:
        raise UserError(f"{flag} {text!r}: expected integers like 4,8,12") from None
    if not spacings or min(spacings) < 2:
        raise UserError(f"{flag}: each spacing must be >= 2")
    return spacings


def run(args) -> dict[str, Any]:
    spacings = parse_spacings(args.spacings)
    from ...ml.kf2p.eval import Kf2pEvalOptions, run_eval

    sweep = tuple(int(x) for x in args.steps_sweep.split(",")) if args.steps_sweep else ()
    return run_eval(
        Kf2pEvalOptions(
            data=args.data,
            split=args.split,
            model=args.model,
            device=args.device,
            spacings=spacings,
            phases=args.phases,
            steps=args.steps,
            steps_sweep=sweep,
            strength=args.strength,
            dtw_window=args.dtw_window,
            max_runs=args.max_runs,
            every=args.every,
            half=args.half,
            no_gaps=args.no_gaps,
            adapt_steps=args.adapt_steps,
        )
    )


def format_text(result: dict[str, Any]) -> str:
    from ...ml.kf2p.eval import format_text

    return format_text(result)

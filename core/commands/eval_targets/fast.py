"""``eval fast``: the flags of ``core.ml.fast.eval.evaluate``."""

from __future__ import annotations

from typing import Any

TRANSITIONS = ("as-built", "linear-jitter", "ease-out-jitter", "hold-then-move")  # fast.eval.TRANSITIONS


def add_arguments(group) -> None:
    group.add_argument(
        "--transitions",
        choices=TRANSITIONS + ("all",),
        default="as-built",
        help="fast: remake every transition between signs in another style before "
        "evaluating (the interpolation-shortcut check); all: each style in turn",
    )
    group.add_argument("--min-length", type=int, default=None, help="fast: decoding minimum segment length, frames")
    group.add_argument("--merge-gap", type=int, default=None, help="fast: decoding gap merge, frames")
    group.add_argument(
        "--half",
        choices=("even", "odd"),
        default=None,
        help="fast / kf2p on a real folder: every other file (sorted), for calibration / held-out",
    )
    group.add_argument(
        "--decode-sweep", action="store_true", help="fast on a real folder: also score a grid of decoding options"
    )


def run(args) -> dict[str, Any]:
    from ...ml.fast.eval import FastEvalOptions, evaluate

    return evaluate(
        FastEvalOptions(
            data=args.data,
            split=args.split,
            model=args.model,
            device=args.device,
            tolerance=args.tolerance,
            transitions=args.transitions,
            sensitivity=args.sensitivity,
            min_length=args.min_length,
            merge_gap=args.merge_gap,
            half=args.half,
            decode_sweep=args.decode_sweep,
        )
    )


def format_text(result: dict[str, Any]) -> str:
    from ...ml.fast.eval import format_text

    return format_text(result)

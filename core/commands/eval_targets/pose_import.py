"""``eval import``: the flags of ``core.kinematics.import_eval.evaluate_folder``."""

from __future__ import annotations

from typing import Any


def add_arguments(p) -> None:
    p.add_argument("--import-every", type=int, default=1, metavar="K", help="eval import: every K-th file")
    p.add_argument("--import-limit", type=int, default=0, metavar="N", help="eval import: at most N files")
    p.add_argument(
        "--min-confidence",
        type=float,
        default=0.0,
        help="eval import: landmarks at or below this confidence count as not observed",
    )


def run(args) -> dict[str, Any]:
    from ...kinematics.import_eval import evaluate_folder

    return evaluate_folder(
        args.data, every=args.import_every, limit=args.import_limit, min_confidence=args.min_confidence
    )


def format_text(result: dict[str, Any]) -> str:
    from ...kinematics.import_eval import format_text

    return format_text(result)

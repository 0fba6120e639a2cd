"""``python -m core eval fast|kf2p|import|edits DATA [--json]``: metrics against ground truth and baselines.

Each target lives in its own module with ``run(args) -> dict`` (and optionally
``format_text(dict) -> str`` for the human-readable output); ``EVALUATORS`` maps target names to
modules. A target module may also define ``add_arguments(parser)`` to add its own options: it is
imported when the parser is built, so it must not import torch at module level.
"""
from __future__ import annotations

import importlib
import json
import math
import sys

from ..cli import module_available

EVALUATORS: dict[str, str] = {
    "fast": "core.ml.fast_eval",
    "kf2p": "core.ml.kf2p_eval",
    "import": "core.kinematics.import_eval",
    "edits": "core.model.edits_eval",
}


def add_arguments(p) -> None:
    p.add_argument("target", choices=sorted(EVALUATORS), help="which model to evaluate")
    p.add_argument("data", metavar="DATA", help="corpus file, sequence file or folder with gold labels")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--model", help="model folder / checkpoint (default: the bundled one)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--split", default="test", help="corpus split to evaluate on (default test)")
    p.add_argument("--sensitivity", type=float, help="FAST decoding sensitivity (default: the model's)")
    p.add_argument("--tolerance", type=int, default=2, help="boundary tolerance, frames (default 2)")
    for name, module in EVALUATORS.items():
        if module_available(module):
            mod = importlib.import_module(module)
            if hasattr(mod, "add_arguments"):
                mod.add_arguments(p.add_argument_group(name))


def _clean(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def run(args) -> int:
    from ..errors import UserError

    module = EVALUATORS[args.target]
    if not module_available(module):
        raise UserError(f"eval {args.target}: not available in this build ({module} is missing)")
    mod = importlib.import_module(module)
    result = mod.run(args)
    if args.json:
        json.dump(_clean(result), sys.stdout, indent=2)
        print()
    elif hasattr(mod, "format_text"):
        print(mod.format_text(result))
    else:
        print(json.dumps(_clean(result), indent=2))
    return 0

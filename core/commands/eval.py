"""``python -m core eval fast|kf2p|import|edits DATA [--json]``: metrics against ground truth and baselines.

Each target's flags live in ``core.commands.eval_targets.<module>`` with ``run(args) -> dict``
(flags -> the typed evaluation function), ``format_text(dict) -> str`` for the human-readable
output and ``add_arguments(group)`` for its own options (imported when the parser is built, so
nothing heavy at module level). ``EVALUATORS`` maps a target to (flags module, the module that
evaluates); a target whose evaluating module is missing from the build is reported, not run.
"""

from __future__ import annotations

import importlib
import json
import math
import sys

from ..cli import module_available

EVALUATORS: dict[str, tuple[str, str]] = {
    "fast": ("core.commands.eval_targets.fast", "core.ml.fast.eval"),
    "kf2p": ("core.commands.eval_targets.kf2p", "core.ml.kf2p.eval"),
    "import": ("core.commands.eval_targets.pose_import", "core.kinematics.import_eval"),
    "edits": ("core.commands.eval_targets.edits", "core.model.edits_eval"),
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
    for name, (flags, module) in EVALUATORS.items():
        if module_available(module):
            importlib.import_module(flags).add_arguments(p.add_argument_group(name))


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

    flags, module = EVALUATORS[args.target]
    if not module_available(module):
        raise UserError(f"eval {args.target}: not available in this build ({module} is missing)")
    mod = importlib.import_module(flags)
    result = mod.run(args)
    if args.json:
        json.dump(_clean(result), sys.stdout, indent=2)
        print()
    elif hasattr(mod, "format_text"):
        print(mod.format_text(result))
    else:
        print(json.dumps(_clean(result), indent=2))
    return 0

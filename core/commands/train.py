"""``python -m core train fast|kf2p ...``: training (``torchrun`` for several GPUs / machines).

``TRAINERS`` maps a target to (flags module in ``core.commands.train_targets``, the module that
trains); the flags module has ``add_arguments(parser)`` and ``run(args)``. A target whose training
module is missing from the build takes any arguments and is reported, not run.
"""

from __future__ import annotations

import argparse
import importlib

from ..cli import module_available

TRAINERS: dict[str, tuple[str, str]] = {
    "fast": ("core.commands.train_targets.fast", "core.ml.fast.train"),
    "kf2p": ("core.commands.train_targets.kf2p", "core.ml.kf2p.train"),
}


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="target", metavar="TARGET", required=True)
    for name, (flags, module) in TRAINERS.items():
        sp = sub.add_parser(name, help=f"train {name}")
        if module_available(module):
            importlib.import_module(flags).add_arguments(sp)
        else:
            sp.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the trainer")


def run(args) -> int:
    from ..errors import UserError

    flags, module = TRAINERS[args.target]
    if not module_available(module):
        raise UserError(f"train {args.target}: not available in this build ({module} is missing)")
    return int(importlib.import_module(flags).run(args) or 0)

"""``python -m core train fast|kf2p ...``: training (``torchrun`` for several GPUs / machines).

``train fast`` is ``core.ml.fast_cli``; ``train kf2p`` hands its arguments to
``core.ml.kf2p_train.main`` when that module exists (with its own ``add_arguments(parser)`` if it
has one, else the raw argument list). ``TRAINERS`` maps targets to modules; a trainer module is
imported when the parser is built only if it defines ``add_arguments``, so it must not import
torch at module level.
"""
from __future__ import annotations

import argparse
import importlib

from ..cli import module_available

TRAINERS: dict[str, str] = {
    "fast": "core.ml.fast_cli",
    "kf2p": "core.ml.kf2p_train",
}


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="target", metavar="TARGET", required=True)
    for name, module in TRAINERS.items():
        sp = sub.add_parser(name, help=f"train {name}")
        mod = importlib.import_module(module) if module_available(module) else None
        if mod is not None and hasattr(mod, "add_arguments"):
            mod.add_arguments(sp)
            sp.set_defaults(_raw=False)
        else:
            sp.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the trainer")
            sp.set_defaults(_raw=True)


def run(args) -> int:
    from ..errors import UserError

    module = TRAINERS[args.target]
    if not module_available(module):
        raise UserError(f"train {args.target}: not available in this build ({module} is missing)")
    mod = importlib.import_module(module)
    entry = getattr(mod, "main", None) or mod.run
    return int(entry(args.rest if args._raw else args) or 0)

"""``python -m core COMMAND ...``: the batch interface (the command-line contract in README.md).

Each command lives in ``core/commands/<name>.py`` with ``add_arguments(parser)`` and
``run(args) -> int``; modules are imported only when their command runs, so ``info`` never
imports torch. User mistakes print one line on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

from .errors import UserError

COMMANDS: dict[str, str] = {
    "info": "frames, fps, joints, keyframes and segments of a file",
    "convert": "convert between formats (by extension)",
    "segment": "FAST: B/I/O labels, segments and keyframes",
    "inbetween": "KF2P: regenerate the frames between keys",
    "retime": "retime the recorded motion through key time changes (OLD:NEW)",
    "eval": "metrics against ground truth and the SLERP baseline",
    "bench": "performance figures",
    "train": "train kf2p or fast",
    "data": "build the training corpus",
    "track": "video -> MediaPipe .pose (optional 'video' extra)",
}


def module_available(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it): optional parts of a command."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_ in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        try:
            mod = importlib.import_module(f"core.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"core.commands.{name}":
                raise
            p.set_defaults(_missing=name)
            continue
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .io.errors import FormatError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if getattr(args, "_missing", None):
        print(f"python -m core {args._missing}: not available in this build", file=sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except (FormatError, UserError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `python -m core info --json F | head`: quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())

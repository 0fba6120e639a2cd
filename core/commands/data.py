"""``python -m core data build|info``: the training corpus from the fingerspelling lexicon."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")
    b = sub.add_parser("build", help="convert the spoken-to-signed lexicon and build chains")
    b.add_argument("--out", default="data/corpus.npz", help="corpus file to write (default: %(default)s)")
    b.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    b.add_argument("--chains", type=int, default=1000, help="number of chains (default: %(default)s)")
    b.add_argument("--json", action="store_true", help="print the build report as JSON")
    b.add_argument("--quiet", action="store_true", help="no progress bars")
    i = sub.add_parser("info", help="summary of a corpus file")
    i.add_argument("path")
    i.add_argument("--json", action="store_true")


def _progress(quiet: bool):
    if quiet:
        return None
    from tqdm import tqdm

    return lambda it, desc, total: tqdm(it, desc=desc, total=total, file=sys.stderr, leave=False)


def run(args: argparse.Namespace) -> int:
    from ..errors import UserError

    if args.data_command == "build":
        from ..data.corpus import build_corpus
        from ..data.lexicon import LexiconNotFound

        if args.chains < 0:
            raise UserError("--chains must be >= 0")
        try:
            rep = build_corpus(args.out, seed=args.seed, n_chains=args.chains, progress=_progress(args.quiet))
        except LexiconNotFound as e:
            raise UserError(str(e)) from None
        report = {
            "out": args.out,
            "clips": rep.n_clips,
            "dropped": rep.n_dropped,
            "chains": rep.n_chains,
            "chain_frames": rep.chain_frames,
            "split": dict(rep.split),
            "stats": dict(rep.stats),
        }
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            held = {s: [x for x, v in rep.split.items() if v == s] for s in ("val", "test")}
            print(
                f"{args.out}: {rep.n_clips} clips ({rep.n_dropped} dropped), {rep.n_chains} chains, "
                f"{rep.chain_frames} chain frames; val {held['val']}, test {held['test']}"
            )
            print(json.dumps(rep.stats))
        return 0
    if args.data_command == "info":
        from ..data.corpus import CorpusError, load_corpus

        try:
            c = load_corpus(args.path)
        except CorpusError as e:
            raise UserError(str(e)) from None
        info = {
            "clips": len(c.clips),
            "chains": len(c.chains),
            "chain_fps": c.chain_fps,
            "seed": c.seed,
            "languages": {x: c.split[x] for x in c.languages},
            "dropped": len(c.dropped),
            "chain_frames": int(sum(len(ch.labels) for ch in c.chains)),
            "chains_per_split": {s: len(c.chains_in(s)) for s in ("train", "val", "test")},
        }
        print(json.dumps(info, indent=None if not args.json else 2))
        return 0
    raise UserError("python -m core data: choose an action: build or info")

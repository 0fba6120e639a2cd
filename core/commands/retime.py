"""``python -m core retime IN --map OLD:NEW[,OLD:NEW...] --out OUT [--json]``: batch retiming.

Each OLD frame becomes a key if it is not one already (pinning the pose it shows) and moves to
NEW; the recorded motion between the moved keys' unmoved neighbours (other keys, or the
sequence's ends) is re-timed along a monotone C1 time-warp through the (OLD -> NEW) times, the
same edit as dragging keys in the editor (``core.model.edits.retime_keys``). Key poses are kept
exactly; joints with no reliable record in the re-timed frames are filled by eased SLERP. OUT's
format comes from its extension (a ``.signframe`` project keeps the warp as an editable layer).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN", help="file to read (any readable format)")
    parser.add_argument(
        "--map",
        dest="mapping",
        required=True,
        metavar="OLD:NEW[,OLD:NEW...]",
        help="frames to move: OLD frame -> NEW frame, comma-separated",
    )
    parser.add_argument(
        "--out", dest="output", required=True, metavar="OUT", help="file to write (format from its extension)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary")


def parse_map(text: str) -> dict[int, int]:
    from ..errors import UserError

    out: dict[int, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        bits = part.split(":")
        if len(bits) != 2:
            raise UserError(f"--map {text!r}: expected OLD:NEW pairs (e.g. 40:46,80:84)")
        try:
            old, new = int(bits[0]), int(bits[1])
        except ValueError:
            raise UserError(f"--map {part!r}: OLD and NEW must be whole frame numbers") from None
        if old in out:
            raise UserError(f"--map: frame {old} given twice")
        out[old] = new
    if not out:
        raise UserError("--map: no OLD:NEW pair given")
    return out


def run(args: argparse.Namespace) -> int:
    from ..errors import UserError
    from ..io import registry
    from ..jobs.requests import merge_spans
    from ..kinematics.slerp import inbetween_baseline, smoothstep
    from ..model import edits
    from ..model.sequence import FrameState

    src, out = Path(args.input), Path(args.output)
    registry.format_for(out, for_write=True)  # fail on a bad OUT before reading IN
    mapping = parse_map(args.mapping)
    seq = registry.read(src)
    t = seq.n_frames
    bad = [f for f in list(mapping) + list(mapping.values()) if not 0 <= f < t]
    if bad:
        raise UserError(f"{src}: frame {bad[0]} outside 0..{t - 1}")
    try:
        for f in sorted(mapping):
            if seq.key_at(f) is None:
                seq = edits.insert_key(seq, f).sequence
        change = edits.retime_keys(seq, mapping)
    except edits.EditError as e:
        raise UserError(f"{src}: {e}") from None
    new = change.sequence
    for span in merge_spans(new, [change.dirty]):
        new = inbetween_baseline(new, smoothstep, span)
    registry.write(out, new)
    if args.json:
        states = new.states
        print(
            json.dumps(
                {
                    "input": str(src),
                    "output": str(out),
                    "frames": t,
                    "map": {str(k): v for k, v in sorted(mapping.items())},
                    "retimed": list(change.dirty),
                    "warped_frames": int((states == FrameState.WARPED).sum()),
                    "generated_frames": int((states == FrameState.GENERATED).sum()),
                }
            )
        )
    return 0

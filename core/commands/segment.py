"""``python -m core segment IN [--out F.json|F.eaf]``: FAST labels, segments and keyframes.

IN is any readable sequence file, or a folder: then every readable file in it is segmented in
batches (one progress bar) and written to ``--out`` (a folder; default IN) as ``NAME.fast.json``
or ``NAME.eaf`` (``--format``; NAME keeps its extension: ``clip.pose.fast.json``). Without
``--out`` a single file's result is printed as JSON.

``--policy official`` ignores FAST and applies the official SignSparK mode-3 policy to the labels
stored in the file (for SignSparK-record data).

``--from-eaf F.eaf`` brings ELAN's annotations onto the motion IN instead of running FAST: the gloss
tiers (``--tier T``, or ``sign`` / the per-hand tiers such as ``RH-IDgloss`` / ``LH-IDgloss``, found
by name) become segments per hand and keys by the keyframe policy; ``--offset MS`` is where the
motion's first frame lies on ELAN's time line. ``--out`` then takes F.json, F.eaf (the imported
file with the edited tiers written back, nothing else lost) or any writable format (a project).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..errors import LoadError

SKIP_EXT = (".json", ".eaf", ".md", ".txt", ".pt")


def add_arguments(p) -> None:
    from ..ml.segmentation import DecodeOptions

    d = DecodeOptions()
    p.add_argument("input", metavar="IN", help="sequence file (any readable format) or a folder of them")
    p.add_argument("--out", help="F.json or F.eaf (a folder when IN is a folder)")
    p.add_argument("--format", choices=("json", "eaf"), default="json", help="output format for folders")
    p.add_argument(
        "--sensitivity",
        type=float,
        default=None,
        help="0..1: a P(B) peak >= 1 - sensitivity starts a sign; higher finds more signs "
        f"(default: the model's, {d.sensitivity} if it has none)",
    )
    p.add_argument(
        "--min-length", type=int, default=None, help=f"drop signs shorter than this (frames, default {d.min_length})"
    )
    p.add_argument(
        "--merge-gap",
        type=int,
        default=None,
        help=f"close O gaps shorter than this inside a sign (default {d.merge_gap})",
    )
    p.add_argument(
        "--policy",
        choices=("fast", "official"),
        default="fast",
        help="fast: run the model; official: SignSparK mode-3 keyframes from the file's own labels",
    )
    p.add_argument("--model", help="FAST model folder (default: assets/models/fast)")
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (default 1: fastest for this small network)"
    )
    p.add_argument("--batch-files", type=int, default=64, help="files per inference batch (folders)")
    p.add_argument(
        "--from-eaf", metavar="F.eaf", help="import this ELAN file's glosses onto IN instead of running FAST"
    )
    p.add_argument(
        "--tier", help="with --from-eaf: the gloss tier to import (default: sign / RH-IDgloss + LH-IDgloss ...)"
    )
    p.add_argument("--right-tier", help="with --from-eaf: the right hand's gloss tier")
    p.add_argument("--left-tier", help="with --from-eaf: the left hand's gloss tier")
    p.add_argument(
        "--offset",
        type=float,
        default=0.0,
        metavar="MS",
        help="with --from-eaf: ELAN time (ms) of the motion's frame 0",
    )


def result_json(seq, decoded) -> dict[str, Any]:
    """The layout of the command-line contract (README.md)."""
    return {
        "fps": seq.fps,
        "frames": seq.n_frames,
        "labels": [int(v) for v in decoded.labels],
        "segments": [{"start": s.start, "end": s.end, "gloss": s.gloss} for s in decoded.segments],
        "keyframes": [{"frame": k.frame, "kind": k.kind.value} for k in decoded.keyframes],
    }


def _options(args, seg):
    from ..ml.segmentation import DecodeOptions

    base = seg.options if seg is not None else DecodeOptions()
    try:
        return base.overridden(args.sensitivity, args.min_length, args.merge_gap)
    except ValueError as e:
        from ..errors import UserError

        raise UserError(str(e)) from None


def _write(out: Path, seq, decoded) -> None:
    from ..io.atomic import atomic_path
    from ..io.errors import FormatError

    name = out.name.lower()
    if name.endswith(".eaf"):
        from ..io import eaf

        segs = list(decoded.segments)
        # glosses known for this sequence are carried over to the segments they overlap most
        if seq.glosses:
            segs = eaf.sequence_segments(seq.replace(labels=decoded.labels))
        eaf.write_segments(out, segs, seq.fps)
    elif name.endswith(".json"):
        with atomic_path(out) as tmp:
            tmp.write_text(json.dumps(result_json(seq, decoded)))
    else:
        raise FormatError(out, "output must end in .json or .eaf")


def _decode_official(seq):
    import numpy as np

    from ..ml.segmentation import Decoded, official_keyframes, official_segment_bounds
    from ..model.sequence import Keyframe, KeyKind, Segment, labels_from_segments

    segs = tuple(Segment(s, e) for s, e in official_segment_bounds(seq.labels))
    kinds: dict[int, KeyKind] = {}
    for s in segs:
        for f, k in ((s.start, KeyKind.ONSET), ((s.start + s.end) // 2, KeyKind.MID), (s.end, KeyKind.OFFSET)):
            kinds.setdefault(f, k)
    keys = tuple(Keyframe(f, kinds[f]) for f in official_keyframes(seq.labels))
    return Decoded(labels_from_segments(segs, seq.n_frames).astype(np.uint8), segs, keys)


def run(args) -> int:
    from ..errors import UserError
    from ..io import registry

    src = Path(args.input)
    if not src.exists():
        raise UserError(f"{src}: no such file or folder")
    if getattr(args, "from_eaf", None):
        return _from_eaf(args, src)
    seg = None
    if args.policy == "fast":
        import torch

        from ..ml.fast.infer import Segmenter

        torch.set_num_threads(max(1, args.threads))
        try:
            seg = Segmenter.load(args.model, device=args.device)
        except LoadError as e:
            raise UserError(str(e)) from None
    opts = _options(args, seg)

    if src.is_file():
        seq = registry.read(src)
        decoded = _decode_official(seq) if seg is None else seg.segment(seq, opts)
        if args.out:
            _write(Path(args.out), seq, decoded)
            print(f"{src}: {len(decoded.segments)} signs, {len(decoded.keyframes)} keyframes -> {args.out}")
        else:
            json.dump(result_json(seq, decoded), sys.stdout)
            print()
        return 0

    files = sorted(
        p for p in src.iterdir() if p.is_file() and not p.name.startswith(".") and not p.name.lower().endswith(SKIP_EXT)
    )
    readable = []
    for p in files:
        try:
            registry.format_for(p)
            readable.append(p)
        except Exception:  # noqa: BLE001 - not a sequence format: skip it
            continue
    if not readable:
        raise UserError(f"{src}: no readable sequence files in this folder")
    out_dir = Path(args.out) if args.out else src
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = ".eaf" if args.format == "eaf" else ".fast.json"
    from tqdm import tqdm

    n_signs = 0
    failed = 0
    with tqdm(total=len(readable), desc="segment", unit="file", file=sys.stderr) as bar:
        for i in range(0, len(readable), max(1, args.batch_files)):
            chunk, seqs = [], []
            for p in readable[i : i + args.batch_files]:
                try:
                    seqs.append(registry.read(p))
                    chunk.append(p)
                except Exception as e:  # noqa: BLE001 - one bad file must not stop a batch
                    failed += 1
                    print(f"skipped {p}: {e}", file=sys.stderr)
            decs = [_decode_official(s) for s in seqs] if seg is None else seg.segment_many(seqs, opts)
            for p, s, d in zip(chunk, seqs, decs):
                _write(out_dir / (p.name + ext), s, d)
                n_signs += len(d.segments)
            bar.update(len(readable[i : i + args.batch_files]))
    print(f"{len(readable) - failed} files, {n_signs} signs -> {out_dir}")
    return 0 if failed == 0 else 2


def _from_eaf(args, src: Path) -> int:
    """``segment IN --from-eaf F.eaf``: ELAN's glosses onto the motion (no network runs)."""
    from ..errors import UserError
    from ..io import eaf, registry
    from ..ml.segmentation import Decoded

    if not src.is_file():
        raise UserError(f"{src}: --from-eaf needs one motion file, not a folder")
    seq = registry.read(src)
    change, report = eaf.import_onto(
        seq, args.from_eaf, tier=args.tier, right=args.right_tier, left=args.left_tier, offset_ms=args.offset
    )
    new = change.sequence
    decoded = Decoded(new.labels, tuple(eaf.sequence_segments(new)), new.keyframes)
    if not args.out:
        out = result_json(new, decoded)
        out["hands"] = {
            h: [{"start": g.start, "end": g.end, "gloss": g.gloss} for g in new.glosses if g.hand == h]
            for h in ("right", "left")
        }
        json.dump(out, sys.stdout)
        print()
        return 0
    out_path = Path(args.out)
    if out_path.name.lower().endswith(".eaf"):
        from ..media.links import elan_links

        eaf.write(out_path, new, **elan_links(src, out_path))
    elif out_path.name.lower().endswith(".json"):
        _write(out_path, new, decoded)
    else:
        registry.write(out_path, new)
    print(f"{args.from_eaf} -> {src}: {report.summary()} -> {out_path}")
    return 0

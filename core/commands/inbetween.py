"""``python -m core inbetween IN --keys POLICY --out OUT``: KF2P in-betweening of a whole file.

The chosen frames become keys (holding the poses the file has there); every other frame becomes
GENERATED and is filled by the model through the editor's code path
(``core.ml.kf2p.inbetween``). OUT is any writable format, by extension.

POLICY: ``fast`` (the bundled FAST segmenter's onset / midpoint / offset keys), ``every:N`` (every
N-th frame from frame 0, plus the last frame), ``frames:a,b,c`` (exactly those frames).
``--model``: ``slerp`` | ``eased`` | ``bundled`` (default) | a checkpoint file or folder (official
SignSparK ``ema_*.pt`` files, or ours), several paths comma-separated (one body, one hand).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import LoadError


def add_arguments(p) -> None:
    p.add_argument("input", metavar="IN", help="sequence file (any readable format)")
    p.add_argument("--keys", required=True, metavar="POLICY", help="fast | every:N | frames:a,b,c")
    p.add_argument("--out", required=True, metavar="OUT", help="output file (any writable format)")
    p.add_argument("--model", default="bundled", help="slerp | eased | bundled | checkpoint PATH[,PATH]")
    p.add_argument("--steps", type=int, default=None, help="solver steps (default: 2 bundled, 10 official)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (the document's; default 0)")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.add_argument(
        "--variation",
        type=float,
        default=0.0,
        help="bundled refiner: 0 = deterministic mean (default); > 0 adds seeded noise",
    )
    p.add_argument(
        "--strength",
        type=float,
        default=None,
        help="bundled refiner: correction strength (default: the checkpoint's table per gap length)",
    )
    p.add_argument(
        "--geometry",
        type=float,
        default=None,
        help="bundled refiner: strength of the correction off each joint's key-to-key path "
        "(default: --strength, else the checkpoint's table)",
    )
    p.add_argument("--method", choices=("euler", "heun"), default="euler", help="ODE solver")
    text = p.add_argument_group("text (official checkpoints; needs the 'text' extra)")
    text.add_argument(
        "--tokenizer",
        metavar="DIR",
        help="local XLM-R tokenizer folder: condition on text through the checkpoint's M-CLIP (default: the null text)",
    )
    text.add_argument("--text", help="the sentence (default: the sequence's own text)")
    text.add_argument(
        "--language", metavar="TAG", help="language tag of the prompt '<TAG> text' (default: the sequence's language)"
    )


def key_frames(policy: str, seq, device: str = "cpu") -> list:
    """Keyframes chosen by ``policy`` for ``seq`` (ascending, unique, inside the sequence)."""
    from ..model.sequence import Keyframe

    return [k if isinstance(k, Keyframe) else Keyframe(int(k)) for k in _frames(policy, seq, device)]


def _frames(policy: str, seq, device: str) -> list:
    from ..errors import UserError

    t = seq.n_frames
    kind, _, arg = policy.partition(":")
    if kind == "every":
        try:
            n = int(arg)
        except ValueError:
            raise UserError(f"--keys {policy}: expected every:N with an integer N") from None
        if n < 1:
            raise UserError(f"--keys {policy}: N must be >= 1")
        frames = list(range(0, t, n))
        if frames[-1] != t - 1:
            frames.append(t - 1)
        return frames
    if kind == "frames":
        try:
            frames = sorted({int(x) for x in arg.split(",") if x.strip()})
        except ValueError:
            raise UserError(f"--keys {policy}: expected frames:a,b,c with integer frames") from None
        if not frames:
            raise UserError(f"--keys {policy}: no frames given")
        bad = [f for f in frames if not 0 <= f < t]
        if bad:
            raise UserError(f"--keys {policy}: frame {bad[0]} outside 0..{t - 1}")
        return frames
    if kind == "fast" and not arg:
        try:
            from ..ml.fast.infer import Segmenter
        except ImportError as e:
            raise UserError(f"--keys fast: the FAST segmenter is not available in this build ({e})") from None
        try:
            seg = Segmenter.load(None, device=device)
        except LoadError as e:
            raise UserError(f"--keys fast: no usable FAST model ({e})") from None
        frames = sorted(seg.segment(seq).keyframes)
        if not frames:
            raise UserError("--keys fast: FAST found no signs in this sequence; use every:N or frames:...")
        return frames
    raise UserError(f"--keys {policy}: expected fast, every:N or frames:a,b,c")


def run(args) -> int:
    from ..errors import UserError
    from ..io import registry
    from ..model.sequence import FrameState

    src = Path(args.input)
    if not src.is_file():
        raise UserError(f"{src}: no such file")
    registry.format_for(args.out, for_write=True)  # a bad OUT fails before any work
    if args.steps is not None and args.steps < 1:
        raise UserError(f"--steps {args.steps}: must be >= 1")
    if args.variation < 0:
        raise UserError(f"--variation {args.variation}: must be >= 0")
    seq = registry.read(src)
    keys = tuple(key_frames(args.keys, seq, args.device))
    frames = [k.frame for k in keys]
    import numpy as np

    seq = seq.replace(keyframes=keys, base_states=np.full(seq.n_frames, FrameState.GENERATED, np.uint8))
    if args.text is not None or args.language is not None:
        if not args.tokenizer:
            raise UserError("--text / --language need --tokenizer DIR (a local XLM-R tokenizer folder)")
        seq = seq.replace(
            text=seq.text if args.text is None else args.text,
            language=seq.language if args.language is None else args.language,
        )

    from ..ml.kf2p.inbetween import load_inbetweener

    opts = {"variation": args.variation, "method": args.method}
    for name in ("strength", "geometry"):
        if getattr(args, name) is not None:
            opts[name] = getattr(args, name)
    if args.tokenizer:
        opts["tokenizer"] = args.tokenizer
    try:
        inb = load_inbetweener(args.model, device=args.device, steps=args.steps, **opts)
    except LoadError as e:
        raise UserError(str(e)) from None
    out = inb.fill_all(seq, seed=args.seed)
    registry.write(args.out, out)
    streams = ", ".join(sorted(inb.streams)) or "none (baseline)"
    print(
        f"{src}: {len(frames)} keys, {out.n_frames - len(frames)} frames generated "
        f"({inb.name}; modelled streams: {streams}) -> {args.out}"
    )
    return 0

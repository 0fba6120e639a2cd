"""``python -m core convert IN OUT [--fps F] [--range a:b] [--layout ...] [--up ...] [--unit ...]
[--mesh] [--up-axis auto|y|z]``: any readable format to any writable one, chosen by extension.

``--range a:b`` keeps frames a..b-1 (Python slice bounds; either side may be left out) before
``--fps`` resamples. ``--layout``, ``--up``, ``--unit`` and ``--mesh`` go to the writer of OUT;
giving one that OUT's format does not take is an error, not silently ignored. ``--up-axis`` and
the landmark flags go to the reader of IN the same way (an SMPL-X OUT then keeps IN's up axis).
"""

from __future__ import annotations

import argparse
import inspect
import math
from pathlib import Path

# flags handed to the writer under the same name (None: not given)
WRITER_OPTIONS = ("layout", "up", "unit", "mesh", "origin")
# flags handed to the reader of IN (landmark files: how the IK solves them; SMPL-X: the up axis)
READER_OPTIONS = ("smooth", "fit_skeleton", "twist_limit_deg", "up_axis", "min_confidence", "lift_depth")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN", help="file to read")
    parser.add_argument("output", metavar="OUT", help="file to write (format from its extension)")
    parser.add_argument("--fps", type=float, default=None, help="resample to this frame rate")
    parser.add_argument(
        "--range", dest="frame_range", default=None, metavar="A:B", help="keep frames A..B-1 (either side may be empty)"
    )
    parser.add_argument(
        "--layout",
        choices=("amass", "parts"),
        default=None,
        help="SMPL-X .npz layout (default: parts for .smplx.npz, amass otherwise)",
    )
    parser.add_argument("--up", choices=("y", "z"), default=None, help="up axis (BVH / FBX)")
    parser.add_argument("--unit", choices=("m", "cm"), default=None, help="length unit (BVH / FBX)")
    parser.add_argument(
        "--origin",
        choices=("floor", "pelvis"),
        default=None,
        help="BVH / FBX: stand the avatar on the floor (default) or keep the pelvis at the origin",
    )
    parser.add_argument("--mesh", action="store_true", default=None, help="include a skinned mesh (FBX)")
    parser.add_argument(
        "--up-axis",
        dest="up_axis",
        choices=("auto", "y", "z"),
        default=None,
        help="up axis of an SMPL-X IN (default auto: Z-up files such as AMASS are detected "
        "and stood up in Y; an SMPL-X OUT is written back in IN's axis)",
    )
    ik = parser.add_argument_group("landmark input (.pose)")
    ik.add_argument(
        "--no-smooth",
        dest="smooth",
        action="store_false",
        default=None,
        help="no temporal filtering of the landmark jitter (closest fit to the raw landmarks)",
    )
    ik.add_argument(
        "--template-skeleton",
        dest="fit_skeleton",
        action="store_false",
        default=None,
        help="solve onto the template skeleton instead of one fitted to the signer",
    )
    ik.add_argument(
        "--twist-limit",
        dest="twist_limit_deg",
        type=float,
        default=None,
        metavar="DEG",
        help="limit the fingers' knuckle twist to +-DEG degrees (default: free)",
    )
    add_landmark_options(ik)


def add_landmark_options(group) -> None:
    """Reader options of landmark files that ``info`` shares with ``convert``."""
    group.add_argument(
        "--min-confidence",
        dest="min_confidence",
        type=float,
        default=None,
        metavar="C",
        help="landmarks at or below confidence C count as not observed: only their joints are "
        "filled from the real frames around them (default 0)",
    )
    group.add_argument(
        "--no-lift",
        dest="lift_depth",
        action="store_false",
        default=None,
        help="read flat or missing depth as it is instead of lifting it to plausible 3-D",
    )


def parse_range(text: str) -> tuple[int | None, int | None]:
    from ..errors import UserError

    parts = text.split(":")
    if len(parts) != 2:
        raise UserError(f"--range {text!r}: expected A:B (e.g. 10:250, :100, 50:)")
    try:
        a, b = (int(p) if p.strip() else None for p in parts)
    except ValueError:
        raise UserError(f"--range {text!r}: A and B must be whole frame numbers") from None
    return a, b


FLAGS = {
    "smooth": "--no-smooth",
    "fit_skeleton": "--template-skeleton",
    "twist_limit_deg": "--twist-limit",
    "up_axis": "--up-axis",
    "min_confidence": "--min-confidence",
    "lift_depth": "--no-lift",
}


def _options(func, names: tuple[str, ...], fmt, args: argparse.Namespace, path: Path) -> dict:
    """The options among ``names`` the user gave, checked against ``func``'s signature."""
    from ..errors import UserError

    given = {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}
    if not given:
        return {}
    # only options the function names: a catch-all **options does not mean it understands them
    params = {
        n
        for n, p in inspect.signature(func).parameters.items()
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    }
    refused = [k for k in given if k not in params]
    if refused:
        opts = ", ".join(FLAGS.get(k, f"--{k}") for k in refused)
        raise UserError(f"{path}: {opts} does not apply to {fmt.name} files")
    return given


def writer_options(fmt, args: argparse.Namespace, out: Path) -> dict:
    options = _options(fmt.load().write, WRITER_OPTIONS, fmt, args, out)
    if "origin" not in options and "origin" in inspect.signature(fmt.load().write).parameters:
        options["origin"] = "floor"  # exports stand on the floor unless --origin pelvis
    return options


def run(args: argparse.Namespace) -> int:
    from ..errors import UserError
    from ..io import registry
    from ..kinematics.resample import crop, resample

    src, out = Path(args.input), Path(args.output)
    fmt = registry.format_for(out, for_write=True)  # fail on a bad OUT before reading IN
    options = writer_options(fmt, args, out)
    read_options = {}
    if any(getattr(args, k, None) is not None for k in READER_OPTIONS):
        in_fmt = registry.format_for(src)
        read_options = _options(in_fmt.load().read, READER_OPTIONS, in_fmt, args, src)
    seq = registry.read(src, **read_options)
    if args.frame_range is not None:
        a, b = parse_range(args.frame_range)
        try:
            seq = crop(seq, a, b)
        except ValueError as e:
            raise UserError(f"--range {args.frame_range}: {e}") from None
        if out.name.lower().endswith(".eaf"):  # annotation times stay on the media's time line
            from ..io.eaf import shifted

            seq = shifted(seq, a or 0)
    if args.fps is not None:
        if not (math.isfinite(args.fps) and args.fps > 0):
            raise UserError(f"--fps {args.fps:g}: must be positive")
        seq = resample(seq, args.fps)
    if out.name.lower().endswith(".eaf"):  # ELAN: the media the document is aligned with, the motion linked
        from ..io.project import read_media
        from ..media.links import elan_links

        links = read_media(src) if src.name.lower().endswith(".signframe") else ()
        options.update(elan_links(src, out, links, source_file=seq.meta.get("source_file")))
    registry.write(out, seq, **options)
    return 0

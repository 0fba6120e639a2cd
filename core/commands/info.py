"""``python -m core info FILE [--json]``: what a file holds (frames, fps, joints, keys, segments)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="any readable file (.signframe, .npz, .signspark.npz, .bvh, .pose, ...)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (stable keys)")
    from .convert import add_landmark_options

    add_landmark_options(parser.add_argument_group("landmark input (.pose)"))


def _segments(seq) -> list[dict[str, Any]]:
    from ..model.sequence import glossed_segments

    return [{"start": g.start, "end": g.end, "gloss": g.gloss} for g in glossed_segments(seq)]


def describe(path: str | Path, seq, fmt_name: str) -> dict[str, Any]:
    """The JSON object ``info --json`` prints."""
    from ..model.sequence import FrameState

    states = seq.states
    return {
        "file": str(path),
        "format": fmt_name,
        "frames": seq.n_frames,
        "fps": seq.fps,
        "duration_s": seq.duration,
        "joints": seq.n_joints,
        "joint_names": list(seq.skeleton.names),
        "keyframes": [{"frame": k.frame, "kind": k.kind.value} for k in seq.keyframes],
        "segments": _segments(seq),
        "glosses": [{"start": g.start, "end": g.end, "gloss": g.gloss} for g in seq.glosses],
        "labels": seq.labels.astype(int).tolist(),
        "text": seq.text,
        "language": seq.language,
        "states": {
            s.name.lower(): int((states == s).sum())
            for s in (FrameState.KEY, FrameState.SOURCE, FrameState.WARPED, FrameState.GENERATED)
        },
        "valid_fraction": float(seq.valid.mean()) if seq.valid.size else 1.0,
        "extra_channels": {k: list(v.shape[1:]) for k, v in seq.extra_frames.items()},
        "meta": _jsonable(dict(seq.meta)),
    }


def _jsonable(x: Any) -> Any:
    try:
        json.dumps(x)
        return x
    except (TypeError, ValueError):
        if isinstance(x, dict):
            return {str(k): _jsonable(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [_jsonable(v) for v in x]
        return repr(x)


def run(args: argparse.Namespace) -> int:
    from ..io import registry
    from .convert import READER_OPTIONS, _options

    path = Path(args.file)
    fmt = registry.format_for(path)
    seq = registry.read(path, **_options(fmt.load().read, READER_OPTIONS, fmt, args, path) if path.exists() else {})
    info = describe(path, seq, fmt.name)
    if args.json:
        json.dump(info, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    n_sign = len(info["segments"])
    lines = [
        f"{info['file']}: {info['format']}",
        f"  frames     {info['frames']} at {info['fps']:g} fps ({info['duration_s']:.2f} s)",
        f"  joints     {info['joints']}",
        f"  keyframes  {len(info['keyframes'])}"
        + (
            ": "
            + ", ".join(f"{k['frame']} {k['kind']}" for k in info["keyframes"][:12])
            + (" ..." if len(info["keyframes"]) > 12 else "")
            if info["keyframes"]
            else ""
        ),
        f"  segments   {n_sign}"
        + (
            ": "
            + ", ".join(
                f"{s['start']}-{s['end']}" + (f" {s['gloss']}" if s["gloss"] else "") for s in info["segments"][:8]
            )
            + (" ..." if n_sign > 8 else "")
            if n_sign
            else ""
        ),
        "  states     " + ", ".join(f"{k} {v}" for k, v in info["states"].items()),
    ]
    depth = info["meta"].get("depth")
    if isinstance(depth, dict):  # landmark files: what each component's z was, what was lifted
        lifted = set(info["meta"].get("lifted", []))
        lines.append(
            "  depth      "
            + ", ".join(
                f"{k} {v.get('kind')}" + (" (lifted to 3-D)" if k in lifted else "")
                for k, v in depth.items()
                if isinstance(v, dict) and v.get("kind") != "unseen"
            )
        )
        for w in info["meta"].get("warnings", []):
            lines.append(f"  warning    {w}")
    up = info["meta"].get("up_axis_source")
    if up in ("y", "z"):  # SMPL-X files: the axis the file stores bodies along
        lines.append(f"  up axis    {up}" + (" (Z-up source, turned Y-up)" if up == "z" else ""))
    if info["text"] or info["language"]:
        lines.append(f"  text       [{info['language']}] {info['text']}")
    if info["extra_channels"]:
        lines.append("  extra      " + ", ".join(f"{k} {tuple(v)}" for k, v in info["extra_channels"].items()))
    print("\n".join(lines))
    return 0

"""``eval edits DIR``: the known-answer checks of the pure edits (``core.model.edits_eval``) over
the files of a folder. Reading files is why this loop lives here, not in ``core.model``."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def add_arguments(p) -> None:
    p.add_argument(
        "--sign-frames",
        type=int,
        default=12,
        help="edits: length of the fixed 'signs' whose onset / mid / offset are keys (default 12)",
    )
    p.add_argument("--max-files", type=int, default=0, help="edits: stop after this many files (0: all)")


def _files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".pose", ".signframe", ".bvh", ".npz"))


def run(args) -> dict:
    from ...errors import UserError
    from ...io import read
    from ...model.edits_eval import locality, pure_retime, zero_edits

    folder = Path(args.data)
    if not folder.exists():
        raise UserError(f"{folder}: no such file or folder")
    sign_frames = int(args.sign_frames or 12)
    limit = int(args.max_files or 0)
    per_file, skipped = [], []
    for path in _files(folder):
        if limit and len(per_file) >= limit:
            break
        try:
            seq = read(path)
            retime = pure_retime(seq, sign_frames)
        except Exception as e:  # one bad or too short file must not stop the evaluation
            skipped.append({"file": path.name, "reason": f"{type(e).__name__}: {e}".splitlines()[0]})
            continue
        per_file.append(
            {
                "file": path.name,
                "frames": seq.n_frames,
                "retime": retime,
                "zero_edits": zero_edits(seq, sign_frames),
                "locality": locality(seq, sign_frames),
            }
        )
    if not per_file:
        raise UserError(f"{folder}: no file long enough to evaluate ({len(skipped)} skipped)")
    warp = [f["retime"]["warp_cm"] for f in per_file]
    regen = [f["retime"]["regenerate_eased_cm"] for f in per_file]
    return {
        "files": len(per_file),
        "skipped": skipped,
        "sign_frames": sign_frames,
        "pure_retime": {
            "warp_mean_cm": float(np.mean(warp)),
            "warp_max_cm": float(np.max(warp)),
            "regenerate_eased_mean_cm": float(np.mean(regen)),
            "target_cm": 0.3,
            "meets_target": bool(np.mean(warp) <= 0.3),
        },
        "zero_edits_bit_identical": all(all(v for k, v in f["zero_edits"].items()) for f in per_file),
        "locality": {
            "outside_identical": all(f["locality"]["outside_identical"] for f in per_file),
            "key_exact": all(f["locality"]["key_exact"] for f in per_file),
            "no_velocity_jump": all(f["locality"]["no_velocity_jump"] for f in per_file),
            "no_velocity_jump_files": sum(f["locality"]["no_velocity_jump"] for f in per_file),
        },
        "per_file": per_file,
    }


def format_text(r: dict) -> str:
    pr = r["pure_retime"]
    lines = [
        f"{r['files']} files ({len(r['skipped'])} skipped), signs of {r['sign_frames']} frames",
        f"pure retime: warp {pr['warp_mean_cm']:.3f} cm mean (max {pr['warp_max_cm']:.3f}), "
        f"regenerate (eased SLERP) {pr['regenerate_eased_mean_cm']:.3f} cm; target <= {pr['target_cm']} cm: "
        f"{'met' if pr['meets_target'] else 'NOT met'}",
        f"zero edits bit-identical: {r['zero_edits_bit_identical']}",
        f"locality: outside identical {r['locality']['outside_identical']}, key exact "
        f"{r['locality']['key_exact']}, no velocity jump on {r['locality']['no_velocity_jump_files']} "
        f"of {r['files']} files",
    ]
    return "\n".join(lines)

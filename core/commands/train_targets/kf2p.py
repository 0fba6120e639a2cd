"""``train kf2p``: the flags of ``core.ml.kf2p.train.run_training`` (see that module)."""

from __future__ import annotations

import argparse
import dataclasses


def add_arguments(p: argparse.ArgumentParser) -> None:
    # numpy only at kf2p.train's module level (torch is imported where it trains)
    from ...ml.kf2p.train import CALIBRATION_SPACINGS, DEFAULT_DATA, DEFAULT_OUT, ROOT

    p.add_argument(
        "--data",
        default=str(DEFAULT_DATA),
        help="corpus .npz, a folder of sequence files, or a clip cache (default data/corpus.npz)",
    )
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (body.pt, hand.pt, train_log.json)")
    p.add_argument("--stream", choices=("body", "hand", "both"), default="both")
    p.add_argument("--minutes", type=float, default=None, help="wall-clock budget per stream")
    p.add_argument("--iters", type=int, default=4000, help="optimizer steps per stream (upper bound)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--window", type=int, default=64, help="training window, frames (multiple of 8)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--ema", type=float, default=0.998, help="EMA decay of the weights that are saved")
    p.add_argument("--preset", default="small", help="UNet preset (core.ml.unet.PRESETS)")
    p.add_argument(
        "--kind",
        choices=("timing", "residual"),
        default="timing",
        help="timing: retime each joint along its key-to-key path, then correct off it "
        "(default); residual: rotation corrections of the eased baseline only",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: two spin against each other on a busy 2-core machine)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--resume", action="store_true", help="continue from STATE_DIR/train_state_<stream>.pt")
    p.add_argument(
        "--state-dir",
        default=str(ROOT / "runs" / "kf2p"),
        help="resumable training state (optimizer, EMA; default runs/kf2p, kept out of assets/)",
    )
    p.add_argument("--save-every", type=int, default=500, help="steps between resumable checkpoints")
    p.add_argument("--val-batches", type=int, default=6, help="validation batches per key spacing")
    p.add_argument("--cache", help="also write the loaded clips to this .npz (fast reloads)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--half", action="store_true", help="store the final weights as float16")
    p.add_argument(
        "--calibrate-only",
        action="store_true",
        help="do not train: choose the strength table of the checkpoints in OUT on the validation split",
    )
    p.add_argument("--no-calibrate", action="store_true", help="skip the strength calibration after training")
    p.add_argument(
        "--calibrate-spacings",
        default=",".join(map(str, CALIBRATION_SPACINGS)),
        help="key spacings the strength table is chosen at (default 4..16 by 2)",
    )


def _spacings(text: str) -> tuple[int, ...]:
    from ...errors import UserError

    try:
        out = tuple(sorted({int(x) for x in str(text).split(",") if x.strip()}))
    except ValueError:
        raise UserError(f"--calibrate-spacings {text!r}: expected integers like 4,8,12") from None
    if not out or out[0] < 2:
        raise UserError("--calibrate-spacings: each spacing must be >= 2")
    return out


def run(args) -> int:
    import torch

    from ...errors import UserError
    from ...ml.kf2p.train import TrainOptions, run_training

    if args.window % 8:
        raise UserError(f"--window {args.window}: must be a multiple of 8")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {args.device}: CUDA is not available")
    flags = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainOptions)}
    flags["calibrate_spacings"] = _spacings(args.calibrate_spacings)
    return run_training(TrainOptions(**flags))

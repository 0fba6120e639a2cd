"""``python -m core.commands.kf2p_realcal DATA --out CAL.json [--write MODEL_DIR]``: the flags of
``core.ml.kf2p.realcal`` (calibrating the bundled in-betweener on real signing; see that module)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..ml.kf2p import realcal as kf2p_realcal


def main(argv=None) -> int:
    import torch

    p = argparse.ArgumentParser(description=kf2p_realcal.__doc__.split("\n")[0])
    p.add_argument("data")
    p.add_argument("--half", choices=("even", "odd"))
    p.add_argument("--every", type=int, default=1)
    p.add_argument("--phases", type=int, default=1)
    p.add_argument("--model", default="bundled")
    p.add_argument("--out", required=True, help="calibration JSON (written; with --from, read)")
    p.add_argument(
        "--from", dest="from_json", action="store_true", help="reuse the calibration already in --out (only --write it)"
    )
    p.add_argument("--write", help="model folder whose checkpoints get the calibrated tables")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    if a.from_json:
        cal = json.loads(Path(a.out).read_text())
    else:
        cal = kf2p_realcal.calibrate(a.data, a.half, a.every, a.phases, model=a.model)
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(cal, indent=2))
    if a.write:
        kf2p_realcal.write(Path(a.write), cal)
    json.dump({k: cal[k] for k in ("choice", "record_fallback", "gap_protocol", "seconds")}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Seed files for the reader fuzz suite, one or more per format: the bundled samples
(``assets/samples``) and small files written from a generated sequence."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "assets" / "samples"
FORMATS = ("project", "smplx_amass", "smplx_parts", "signspark", "bvh", "joints", "pose", "eaf")
SUFFIX = {
    "project": ".signframe",
    "smplx_amass": ".npz",
    "smplx_parts": ".smplx.npz",
    "signspark": ".signspark.npz",
    "bvh": ".bvh",
    "joints": ".joints.npz",
    "pose": ".pose",
    "eaf": ".eaf",
}


def make_seeds(folder: Path) -> dict[str, list[Path]]:
    """Write the seeds into ``folder``; format -> seed files."""
    from core.io import registry
    from core.io.eaf import write as write_eaf
    from tests.core.helpers_io import edited_sequence, random_sequence

    folder.mkdir(parents=True, exist_ok=True)
    small = random_sequence(24, seed=3)
    edited = edited_sequence(40, seed=4)
    out: dict[str, list[Path]] = {f: [] for f in FORMATS}
    for name in ("default", "cse_letter_H"):
        p = folder / f"{name}.signframe"
        shutil.copyfile(SAMPLES / f"{name}.signframe", p)
        out["project"].append(p)
    p = folder / "edited.signframe"
    registry.write(p, edited)
    out["project"].append(p)
    for fmt in ("smplx_amass", "smplx_parts", "signspark", "bvh", "joints", "eaf"):
        p = folder / f"seed{SUFFIX[fmt]}"
        if fmt == "eaf":
            write_eaf(p, edited)
        else:
            registry.write(p, small)
        out[fmt].append(p)
    p = folder / "seed_z.npz"  # AMASS Z-up, float64 like AMASS: a second AMASS layout seed
    registry.write(p, small, up_axis="z")
    out["smplx_amass"].append(p)
    for name in ("cse_letter_H", "ise_letter_V"):
        p = folder / f"{name}.pose"
        shutil.copyfile(SAMPLES / f"{name}.pose", p)
        out["pose"].append(p)
    assert all(out.values()), {k: len(v) for k, v in out.items()}
    return out


def interesting_numbers() -> list[float]:
    return [0.0, -0.0, 1e-320, 1e-300, -1.0, 1e300, -1e300, 2.5e9, 1e9, float("inf"), float("nan"), 65536.0, 7.0]


def rng_for(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)

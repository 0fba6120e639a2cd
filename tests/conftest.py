"""Shared test helpers: repository paths and the official SignSparK fixtures (read in place)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
OFFICIAL_REF = ROOT.parent / "shared" / "reference" / "signspark-official"


def official_file(name: str) -> Path:
    """Path of an official fixture; skips the test when the reference folder is not beside the repo."""
    path = OFFICIAL_REF / name
    if not path.exists():
        pytest.skip(f"official SignSparK fixture {name} not found at {OFFICIAL_REF} (shared/ is not beside this checkout)")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)

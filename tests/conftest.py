"""Shared test helpers: repository paths and the official SignSparK fixtures.

The small official fixtures the default suite needs live in ``tests/fixtures/official`` (see
docs/official-checkpoints.md); the full-size ones (``-m slow``) are read from a reference folder
beside the checkout when there is one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
OFFICIAL_VENDORED = ROOT / "tests" / "fixtures" / "official"
OFFICIAL_REF = ROOT.parent / "shared" / "reference" / "signspark-official"


def official_path(name: str) -> Path:
    """Where an official fixture is: the vendored copy, else the reference folder beside the
    checkout (which may not exist)."""
    vendored = OFFICIAL_VENDORED / name
    return vendored if vendored.is_file() else OFFICIAL_REF / name


def official_file(name: str) -> Path:
    """Path of an official fixture; skips the test (with the reason) when it is nowhere (the
    full-size files without the reference folder)."""
    path = official_path(name)
    if not path.exists():
        pytest.skip(f"official SignSparK fixture {name} is neither in {OFFICIAL_VENDORED} nor in {OFFICIAL_REF}")
    return path


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module's tests, as the editor's worker runs (two threads spin
    against each other on a busy 2-core machine); restored afterwards."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def _audio_into_a_file() -> Path | None:
    """Sound the tests play goes into a raw file (ALSA's default device, ../shared/ENVIRONMENT.md),
    named by ``SIGNFRAME_TEST_AUDIO_SINK``: set before anything imports sounddevice, since
    PortAudio lists its devices once, at import. None when the machine has no ALSA configuration
    or another one was set."""
    import os
    import tempfile

    if os.environ.get("SIGNFRAME_TEST_AUDIO_SINK"):
        return Path(os.environ["SIGNFRAME_TEST_AUDIO_SINK"])
    if os.environ.get("ALSA_CONFIG_PATH") or not Path("/usr/share/alsa/alsa.conf").is_file():
        return None
    from core.media.drift import file_sink_env

    env, raw = file_sink_env(tempfile.mkdtemp(prefix="signframe-audio-"))
    os.environ.update(env)
    os.environ["SIGNFRAME_TEST_AUDIO_SINK"] = str(raw)
    return raw


AUDIO_SINK = _audio_into_a_file()

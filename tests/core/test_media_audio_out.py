"""Audio through ``sounddevice`` into an ALSA file sink stays locked to the playhead: 60 s of
playback at several speeds, the written sound compared with the playhead's log, drift at most one
video frame (40 ms at 25 fps). The sink has no clock, so a minute takes well under a second."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("av")
if not Path("/usr/share/alsa/alsa.conf").is_file():
    pytest.skip("no ALSA configuration on this machine", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]


def _measure(tmp_path: Path, seconds: float, speed: float, keep_pitch: bool) -> dict:
    from core.media.drift import file_sink_env

    env, raw = file_sink_env(tmp_path)
    code = (
        "import json; from core.media.drift import measure; "
        f"print(json.dumps(measure({str(tmp_path)!r}, {str(raw)!r}, {seconds}, {speed}, {keep_pitch})))"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if p.returncode != 0 and "PortAudio" in p.stderr:
        pytest.skip("PortAudio (libportaudio2) is not installed")
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("speed, keep_pitch", [(1.0, True), (2.0, True), (0.25, True), (0.5, False)])
def test_audio_stays_within_a_frame_of_the_playhead_over_a_minute(tmp_path, speed, keep_pitch):
    r = _measure(tmp_path, 60.0, speed, keep_pitch)
    assert r["samples_written"] >= r["samples_expected"]  # nothing dropped on the way to the device
    assert r["block_checks"] > 2500 and r["poll_checks"] > 5
    assert r["max_drift_ms"] <= r["frame_ms"], r
    assert r["underflows"] == 0

"""Audio through ``sounddevice`` into an ALSA file sink stays locked to the playhead: 60 s of
playback at several speeds, the written sound compared with the playhead's log, drift at most one
video frame (40 ms at 25 fps). The sink has no clock, so a minute takes well under a second; the
output can also hold itself to the wall clock (``pace``), as a sound card would: a few seconds of
that run by default, the full minute with ``-m audio_realtime``."""

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


def _measure(tmp_path: Path, seconds: float, speed: float, keep_pitch: bool, real_time: bool = False) -> dict:
    from core.media.drift import file_sink_env

    env, raw = file_sink_env(tmp_path)
    code = (
        "import json; from core.media.drift import measure; "
        f"print(json.dumps(measure({str(tmp_path)!r}, {str(raw)!r}, {seconds}, {speed}, {keep_pitch}, "
        f"real_time={real_time})))"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
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


def test_paced_playback_runs_in_real_time_and_stays_locked(tmp_path):
    r = _measure(tmp_path, 3.0, 1.0, True, real_time=True)
    assert 2.7 <= r["wall_s"] <= 4.5, r
    assert r["poll_checks"] > 100 and r["max_drift_ms"] <= r["frame_ms"], r
    assert r["underflows"] == 0 and r["render_ms_max"] < r["block_ms"], r


@pytest.mark.audio_realtime
@pytest.mark.parametrize("speed, keep_pitch", [(1.0, True), (0.5, True)])
def test_a_real_time_minute_stays_locked(tmp_path, speed, keep_pitch):
    r = _measure(tmp_path, 60.0, speed, keep_pitch, real_time=True)
    assert r["samples_written"] >= r["samples_expected"] and r["poll_checks"] > 1000
    assert r["max_drift_ms"] <= r["frame_ms"], r
    assert r["underflows"] == 0 and r["render_ms_max"] < r["block_ms"], r

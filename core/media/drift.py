"""Audio-to-playhead drift through the real output path (``sounddevice`` -> PortAudio -> ALSA).

``measure`` plays a ramp whose sample values are their own media time (a 16-bit WAV at 44.1 kHz,
resampled to the 48 kHz device rate on load, as the editor does) and keeps two logs while it
plays: every callback's (output sample index, media time) and the playhead's polls of
``AudioOutput.heard()`` from another thread, as the editor's timer does. The sound actually
written is read back from an ALSA file sink, and for every log entry the media time the written
sample carries is compared with the time the playhead showed: the drift.

The caller sets the sink up before ``sounddevice`` is first imported in the process
(``file_sink_env``): a subprocess with that environment. The sink has no clock (a minute "plays"
in a fraction of a second), so this measures sample accounting, resampling and rendering, not a
sound card's clock; ``real_time=True`` paces the callback to the wall clock (``AudioOutput``'s
``pace``), so the playhead polls see real playback timing (a minute takes a minute).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

RAMP_SPAN_S = 128.0  # ramp value v <-> media time v * RAMP_SPAN_S (16-bit: 4 ms steps)
SOURCE_RATE = 44100
DEVICE_RATE = 48000


def file_sink_env(folder: str | Path) -> tuple[dict[str, str], Path]:
    """(environment additions, raw output path): ALSA's default device writes into a raw file."""
    folder = Path(folder)
    raw = folder / "out.raw"
    conf = folder / "file-sink.conf"
    conf.write_text(f'pcm.!default {{ type file; slave.pcm "null"; file "{raw}"; format "raw" }}\n')
    return {"ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{conf}"}, raw


def measure_in_child(
    folder: str | Path,
    seconds: float = 60.0,
    speed: float = 1.0,
    keep_pitch: bool = True,
    real_time: bool = False,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """``measure`` in a fresh process whose ALSA default device is a file sink in ``folder``
    (PortAudio reads its device list once, so the sink must exist before ``sounddevice`` loads).
    RuntimeError carrying the child's stderr when it fails."""
    env, raw = file_sink_env(folder)
    root = Path(__file__).resolve().parents[2]
    code = (
        "import json; from core.media.drift import measure; "
        f"print(json.dumps(measure({str(folder)!r}, {str(raw)!r}, {seconds}, {speed}, {keep_pitch}, "
        f"real_time={real_time})))"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(root), **env},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    out: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


def measure(
    folder: str | Path,
    raw: str | Path,
    seconds: float = 60.0,
    speed: float = 1.0,
    keep_pitch: bool = True,
    fps: float = 25.0,
    real_time: bool = False,
) -> dict[str, Any]:
    from .audio import load_audio, write_wav
    from .output import AudioOutput

    folder = Path(folder)
    start = 1.0
    span = start + seconds * speed + 2.0
    t = np.arange(int(span * SOURCE_RATE)) / SOURCE_RATE
    wav = write_wav(folder / "ramp.wav", t / RAMP_SPAN_S, SOURCE_RATE)
    audio = load_audio(wav, rate=DEVICE_RATE)
    out = AudioOutput(audio.samples, audio.rate, log=True, pace=real_time)
    polls: list[tuple[float, float]] = []
    total = int(seconds * DEVICE_RATE)
    out.play(start, speed, keep_pitch)
    t0 = time.perf_counter()
    while out.samples_out < total and time.perf_counter() - t0 < seconds * 3 + 10:
        polls.append(out.heard())
        time.sleep(0.0002)
    out.close()
    written = np.fromfile(raw, dtype="<f4")
    # PortAudio primes the device with silence before the first callback's samples: our sample n
    # is the device's sample n + prefill (the ramp starts above zero, so the silence is exact)
    nz = np.flatnonzero(written)
    prefill = int(nz[0]) if nz.size else 0
    written = written[prefill:]
    blocks = [(float(e.sample), e.media_t) for e in out.log or []]

    def drift(entries: list[tuple[float, float]]) -> np.ndarray:
        # (sample index, playhead time) -> written content time - playhead time
        a = np.array([(n, m) for n, m in entries if 0 <= n < len(written) - 1 and n < total], float).reshape(-1, 2)
        content = written[a[:, 0].astype(np.int64)] * RAMP_SPAN_S
        return content - a[:, 1]

    d_blocks, d_polls = drift(blocks), drift(polls)
    both = np.concatenate([d_blocks, d_polls])
    return {
        "seconds": seconds,
        "speed": speed,
        "keep_pitch": keep_pitch,
        "samples_written": int(len(written)),
        "prefill_samples": prefill,
        "samples_expected": total,
        "block_checks": int(len(d_blocks)),
        "poll_checks": int(len(d_polls)),
        "max_drift_ms": round(float(np.abs(both).max()) * 1000, 2) if both.size else None,
        "drift_end_ms": round(float(d_blocks[-1]) * 1000, 2) if d_blocks.size else None,
        "frame_ms": round(1000.0 / float(fps), 2),
        "underflows": out.underflows,
        "render_ms_max": round(out.render_ms_max, 3),
        "block_ms": round(1000.0 * out.blocksize / out.rate, 3),
        "wall_s": round(time.perf_counter() - t0, 2),
    }

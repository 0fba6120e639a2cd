"""Playback with reference video and audio on: ``python -m editor.media_bench [--json]``.

A real window (under Xvfb when there is no display: the command re-runs itself with
``xvfb-run``) plays ``--seconds`` of 25 fps motion with a generated 1280x720 25 fps video (frames
carrying their index, an AAC sound track) attached, its sound played through ``sounddevice``
into an ALSA file sink held to real time (``AudioOutput(pace=True)``; the bench sets the sink up
before sounddevice loads). Reported: frames per second drawn by the viewport and by the video
panel, frames the playback dropped, audio underflows PortAudio reported and the slowest audio
callback against a block's duration, and how far the video frame on screen was from the sound
heard (in video frames) when playback stopped. Then the playhead is dragged with real mouse
events back and forth over 8 s of the timeline (steps of 1-8 frames, as a hand drags; sound
scrubbing on): the time from each mouse move to the requested video frame on screen, after the
first sweep (the cache warm) and on the first sweep (cold).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from editor.bench import report, rerun_on_virtual_display

ROOT = Path(__file__).resolve().parents[1]


def run(seconds: float = 10.0, minutes: float = 1.0) -> dict:
    from core.media.drift import file_sink_env

    sink = tempfile.mkdtemp(prefix="signframe-media-bench-")
    env, _raw = file_sink_env(sink)
    os.environ.update(env)  # before sounddevice loads: the default device writes a file

    from core.media.index_video import write_index_video
    from editor.bench import bench_window, make_app, tiled_demo, wait_until

    app = make_app()

    seq = tiled_demo(minutes)
    video = write_index_video(Path(sink) / "ref.mp4", seq.n_frames, 25, 1280, 720, gop=25, audio_tone_hz=220.0)
    win, _ = bench_window(seq, sink)
    wait_until(app, lambda: win.bridge.results_applied > 0 and not win.bridge.service.busy, 60)
    media = win.media
    assert media.attach("video", video) and media.attach("audio", video)
    media.dock.show()
    wait_until(app, lambda: False, 0.5)
    pb, vp, panel = win.playback, win.viewport, media.panel
    win.doc.set_current_frame(0)
    wait_until(app, lambda: False, 0.2)
    drawn0, painted0 = vp.frames_drawn, panel.view.frames_painted
    panel_frames = [0]
    panel.frameShown.connect(lambda i: panel_frames.__setitem__(0, panel_frames[0] + 1))
    shown0 = 0
    t0 = time.perf_counter()
    pb.play()
    wait_until(app, lambda: False, seconds)
    out_audio = media.player.output
    heard = out_audio.clock() if out_audio is not None else float("nan")
    shown = panel.shown_index
    pb.stop()
    el = time.perf_counter() - t0
    shown_per_s = (panel_frames[0] - shown0) / el
    res = {
        "video_minutes": round(seq.n_frames / 25.0 / 60.0, 2),
        "target_fps": seq.fps,
        "seconds": round(el, 2),
        "viewport_drawn_fps": round((vp.frames_drawn - drawn0) / el, 1),
        "video_panel_drawn_fps": round((panel.view.frames_painted - painted0) / el, 1),
        "video_frames_shown_per_s": round(shown_per_s, 1),
        "frames_shown": pb.frames_shown,
        "frames_dropped": pb.frames_dropped,
        "audio": out_audio is not None,
        "audio_underflows": out_audio.underflows if out_audio else None,
        "audio_callbacks": out_audio.callbacks if out_audio else None,
        "audio_render_ms_max": round(out_audio.render_ms_max, 3) if out_audio else None,
        "audio_block_ms": round(1000 * out_audio.blocksize / out_audio.rate, 2) if out_audio else None,
        "video_vs_audio_frames_at_stop": round(shown - heard * 25.0, 2),
        "video_decoder": {"seeks": media.reader.seeks, "decoded": media.reader.decoded},
        "avatar": vp.avatar.name,
        "display": os.environ.get("DISPLAY", ""),
    }
    res["scrub"] = _scrub(app, win, wait_until)
    res["audio_underflows_after_scrub"] = out_audio.underflows if out_audio else None
    win.close()
    return res


def _scrub(app, win, wait_until) -> dict:
    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from core.media.timemap import video_frame_for_doc_frame
    from editor.timeline import CURVE_Y

    tl, panel, reader = win.timeline, win.media.panel, win.media.reader
    start = 600
    tl.vb.setXRange(start - 20, start + 220, padding=0)
    wait_until(app, lambda: False, 0.3)
    rng = np.random.default_rng(0)
    path, f = [], start
    for sweep in range(4):
        target = start + 200 if sweep % 2 == 0 else start
        while f != target:
            f = min(f + int(rng.integers(1, 9)), target) if target > f else max(f - int(rng.integers(1, 9)), target)
            path.append((sweep, f))
    vpw = tl.plot.viewport()
    y = (CURVE_Y[0] + CURVE_Y[1]) / 2
    QTest.mousePress(vpw, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, tl.lane_point(start, y))
    cold, warm, wrong = [], [], 0
    for sweep, f in path:
        want = video_frame_for_doc_frame(f, win.doc.fps, reader.fps, 0.0, reader.n_frames)
        t0 = time.perf_counter()
        QTest.mouseMove(vpw, tl.lane_point(f, y))
        ok = wait_until(app, lambda want=want: panel.shown_index == want, 5.0)
        dt = (time.perf_counter() - t0) * 1000
        wrong += not ok or win.doc.current_frame != f
        (cold if sweep == 0 else warm).append(dt)
        wait_until(app, lambda: False, 0.012)  # ~60 moves per second at most, as a hand drags
    QTest.mouseRelease(vpw, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, tl.lane_point(path[-1][1], y))

    def stats(xs):
        a = np.asarray(xs)
        med, p95 = float(np.median(a)), float(np.percentile(a, 95))
        return {"median_ms": round(med, 1), "p95_ms": round(p95, 1), "n": len(a)}

    return {"warm": stats(warm), "cold": stats(cold), "missed": int(wrong)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m editor.media_bench", description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--seconds", type=float, default=10.0, help="seconds of playback timed (default 10)")
    p.add_argument("--minutes", type=float, default=1.0, help="length of the motion and its video (default 1)")
    args = p.parse_args(argv)
    code = rerun_on_virtual_display("editor.media_bench", argv)
    if code is not None:
        return code
    out = run(args.seconds, args.minutes)
    report(out, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Editor benchmarks: ``python -m editor.bench [--json] [--model NAME] [--minutes M]``.

Measured in a real window (under Xvfb when there is no display; the command re-runs itself with
``xvfb-run`` then):
- window_up_s: process start -> main window shown with its event loop running (a fresh process);
- drag: a key dragged with real mouse events across a sequence of ``--minutes`` while
  in-betweening runs; the GUI thread's busy time per event (every event the application
  dispatches during the drag, timed in ``QApplication.notify``);
- edit_to_screen_ms: a committed edit in a regenerated sign -> in-betweened frames applied and
  the viewport repainted;
- edit_to_screen_warp_ms: a committed retime of recorded motion (time-warp, closed-form) -> the
  viewport repainted with the warped frames;
- playback: frames drawn per second while playing at the sequence's rate, and frames dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def tiled_demo(minutes: float):
    """A ``minutes``-long sequence: the 10 s demo repeated (4 signs, 12 keys per 10 s)."""
    from editor.demo import demo_sequence

    one = demo_sequence()
    n = max(1, int(round(minutes * 60 / one.duration)))
    arrays = {k: np.concatenate([v] * n) for k, v in one.frame_arrays().items()}
    t = one.n_frames
    keys = [type(k)(k.frame + i * t, k.kind) for i in range(n) for k in one.keyframes]
    glosses = [type(g)(g.start + i * t, g.end + i * t, g.gloss) for i in range(n) for g in one.glosses]
    return one.with_frame_arrays(arrays, keyframes=tuple(keys), glosses=tuple(glosses))


def pct(xs, q) -> float:
    return float(np.percentile(np.asarray(xs, float), q)) if len(xs) else float("nan")


def measure_window_up() -> float:
    code = (
        "import time, sys; t0 = time.perf_counter()\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from PySide6.QtCore import QTimer, QSettings\n"
        "app = QApplication([])\n"
        "from editor.app import load_initial\n"
        "from editor.main_window import MainWindow\n"
        "seq, path, _ = load_initial(None)\n"
        "import tempfile; d = tempfile.mkdtemp()\n"
        "w = MainWindow(seq, path, settings=QSettings(d + '/s.ini', QSettings.Format.IniFormat), recovery_dir=d)\n"
        "w.show()\n"
        "QTimer.singleShot(0, lambda: (print('READY', flush=True), QTimer.singleShot(50, app.quit)))\n"
        "app.exec(); w.ask_save = lambda: 'discard'; w.close()\n"
    )
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    up = float("nan")
    for line in p.stdout:
        if line.startswith("READY"):
            up = time.perf_counter() - t0
    p.wait(60)
    return up


def make_app():
    from PySide6.QtWidgets import QApplication

    class TimedApplication(QApplication):
        def __init__(self, argv) -> None:
            super().__init__(argv)
            self.recording = False
            self.durations: list[float] = []
            self.slow: list[tuple[float, str, str]] = []
            self._depth = 0

        def notify(self, receiver, event) -> bool:
            if not self.recording:
                return super().notify(receiver, event)
            self._depth += 1
            t0 = time.perf_counter()
            try:
                return super().notify(receiver, event)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    d = (time.perf_counter() - t0) * 1e3
                    self.durations.append(d)
                    if d > 16:
                        self.slow.append((d, type(receiver).__name__, str(event.type()).split(".")[-1]))

    return QApplication.instance() or TimedApplication([])


def wait_until(app, cond, timeout: float = 30.0) -> bool:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        app.processEvents()
        if cond():
            return True
        time.sleep(0.001)
    return False


def untrained_refiner_dir() -> str:
    """A folder with a freshly initialised body + hand refiner in the bundled layout (real network
    cost; its output is the eased baseline until trained). Made in a subprocess so this process
    imports torch only where the editor would: in the in-betweening worker."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="signframe-bench-kf2p-")
    code = (
        "import sys; from core.ml.refiner import RefinerNet, save_refiner\n"
        "for s in ('body', 'hand'): save_refiner(f'{sys.argv[1]}/{s}.pt', RefinerNet.create(s))\n"
    )
    subprocess.run([sys.executable, "-c", code, folder], cwd=ROOT, check=True)
    return folder


def register_untrained(folder: str) -> None:
    from core.jobs import ModelSpec, register

    def factory(device, **options):
        from core.ml.kf2p.inbetween import load_inbetweener

        return load_inbetweener(folder, device=device, **options)

    register(ModelSpec("untrained-kf2p", "KF2P refiner (untrained, bench)", factory, uses_torch=True))


def bench_window(seq, folder: str | None = None, **kw):
    """A shown 1280x860 editor window on ``seq`` with its settings and recovery files in a
    private folder (``folder``, else a new temporary one); returns (window, folder)."""
    import tempfile

    from PySide6.QtCore import QSettings

    from editor.main_window import MainWindow

    folder = folder or tempfile.mkdtemp(prefix="signframe-bench-")
    settings = QSettings(os.path.join(folder, "s.ini"), QSettings.Format.IniFormat)
    win = MainWindow(seq, None, settings=settings, recovery_dir=folder, **kw)
    win.ask_save = lambda: "discard"
    win.resize(1280, 860)
    win.show()
    return win, folder


def rerun_on_virtual_display(module: str, argv: list[str] | None) -> int | None:
    """With no display, run ``python -m module argv`` again under ``xvfb-run`` and return its exit
    status; None where there is a display (or no xvfb-run): go on here."""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or not shutil.which("xvfb-run"):
        return None
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable, "-m", module]
    return subprocess.call(cmd + list(argv if argv is not None else sys.argv[1:]), cwd=ROOT)


def report(out: dict, as_json: bool) -> None:
    print(json.dumps(out) if as_json else "\n".join(f"{k}: {v}" for k, v in out.items()))


def run(args) -> dict:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    app = make_app()
    seq = tiled_demo(args.minutes)
    win, tmp = bench_window(seq, autosave_ms=3000)
    if args.model == "untrained-kf2p":
        register_untrained(untrained_refiner_dir())
    if args.model:
        win.set_model(args.model, announce=False)
    bridge, doc, tl = win.bridge, win.doc, win.timeline
    wait_until(app, lambda: bridge.results_applied > 0 and not bridge.service.busy, 60)
    out: dict = {
        "sequence_frames": seq.n_frames,
        "sequence_minutes": round(seq.duration / 60, 2),
        "fps": seq.fps,
        "model": bridge.model,
        "keys": len(seq.keyframes),
    }

    # --- drag: real mouse events on the timeline, a key moved back and forth ------------------
    key = int(seq.key_frames[len(seq.key_frames) // 2])
    tl.vb.setXRange(key - 150, key + 150, padding=0)
    wait_until(app, lambda: False, 0.2)
    vp = tl.plot.viewport()
    keys = seq.key_frames
    lo_k, hi_k = int(keys[keys < key][-1]), int(keys[keys > key][0])
    span = max(1, min(key - lo_k, hi_k - key) - 2)
    path = [key + int(round(span * np.sin(a))) for a in np.linspace(0, 3.5 * np.pi, 120)]
    app.durations.clear()
    app.recording = True
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, tl.frame_x(key))
    results0 = bridge.results_applied
    t_start = time.perf_counter()
    for f in path:
        QTest.mouseMove(vp, tl.frame_x(f))
        wait_until(app, lambda: False, 0.012)  # ~80 mouse events per second, as a hand drags
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, tl.frame_x(path[-1]))
    drag_s = time.perf_counter() - t_start
    wait_until(app, lambda: not bridge.service.busy and not doc.pending, 30)
    app.recording = False
    busy = list(app.durations)
    out["drag"] = {
        "mouse_moves": len(path),
        "seconds": round(drag_s, 2),
        "events": len(busy),
        "gui_busy_ms": {
            "median": round(pct(busy, 50), 3),
            "p95": round(pct(busy, 95), 2),
            "p99": round(pct(busy, 99), 2),
            "max": round(max(busy), 2),
        },
        "events_over_16ms": int(sum(d > 16 for d in busy)),
        "results_during_drag": bridge.results_applied - results0,
        "undo_steps": doc.undo_stack.count(),
    }
    if args.verbose:
        from collections import Counter

        out["drag"]["slow_events"] = Counter(f"{r}:{e}" for _, r, e in app.slow).most_common(8)

    # --- edit -> regenerated frames on screen ----------------------------------------------
    from core.model.sequence import FrameState
    from editor.commands import RetimeKeys, push

    lat, warp_lat = [], []
    mids = [k.frame for k in doc.sequence.keyframes if k.kind.value == "mid"]
    # the demo's signs alternate recorded / regenerated: time both kinds of edit
    recorded = [m for m in mids if doc.sequence.base_states[m - 1] != FrameState.GENERATED][: args.edits]
    regenerated = [m for m in mids if doc.sequence.base_states[m - 1] == FrameState.GENERATED][: args.edits]
    for i, m in enumerate(recorded + regenerated):
        warp = i < len(recorded)
        frame = m + (2 if i % 2 == 0 else -2)
        doc.set_current_frame(frame)
        wait_until(app, lambda: not bridge.service.busy, 10)
        wait_until(app, lambda: False, 0.02)
        t0 = time.perf_counter()
        applied0 = bridge.results_applied
        if push(doc, RetimeKeys(doc, {m: m + 1}, "bench")) is not None:
            continue
        if warp:
            # a retime of recorded motion is final when the edit is applied (the time-warp is
            # closed-form, on the GUI thread): on screen at the first viewport render after it
            ok = wait_until(app, lambda t0=t0: win.viewport.last_paint > t0, 10)
            if ok:
                warp_lat.append((win.viewport.last_paint - t0) * 1e3)
            wait_until(app, lambda applied0=applied0: bridge.results_applied > applied0, 10)
            continue
        # on screen: the first viewport render after the regenerated frames were applied
        ok = wait_until(
            app,
            lambda applied0=applied0: (
                bridge.results_applied > applied0 and win.viewport.last_paint > bridge.last_applied_at
            ),
            10,
        )
        if ok:
            lat.append((win.viewport.last_paint - t0) * 1e3)
    out["edit_to_screen_ms"] = {"n": len(lat), "median": round(pct(lat, 50), 1), "p95": round(pct(lat, 95), 1)}
    out["edit_to_screen_warp_ms"] = {
        "n": len(warp_lat),
        "median": round(pct(warp_lat, 50), 1),
        "p95": round(pct(warp_lat, 95), 1),
    }
    if bridge.last_result is not None:
        out["inbetween_compute_ms_last"] = round(bridge.last_result.compute_ms, 2)
        out["device"] = bridge.last_result.device

    # --- playback -----------------------------------------------------------------------------
    doc.set_current_frame(0)
    wait_until(app, lambda: False, 0.2)
    pb = win.playback
    drawn0 = win.viewport.frames_drawn
    t0 = time.perf_counter()
    pb.play()
    wait_until(app, lambda: False, args.play_seconds)
    pb.stop()
    el = time.perf_counter() - t0
    out["playback"] = {
        "target_fps": seq.fps,
        "seconds": round(el, 2),
        "drawn_fps": round((win.viewport.frames_drawn - drawn0) / el, 1),
        "frames_shown": pb.frames_shown,
        "frames_dropped": pb.frames_dropped,
        "avatar": win.viewport.avatar.name,
        "vertices": win.viewport.avatar.n_vertices,
    }
    win.close()
    if getattr(args, "posing", False):  # viewport posing: IK / gizmo drags, first edit after open
        from .bench_posing import run_drags, run_first_edit

        out["posing"] = run_drags(args.minutes)
        out["posing"]["first_edit"] = run_first_edit(args.minutes, 3)
    if not args.skip_startup:
        out["window_up_s"] = round(statistics.median(measure_window_up() for _ in range(3)), 2)
    out["display"] = os.environ.get("DISPLAY", "")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m editor.bench", description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--model",
        help="in-betweener (registry name, or untrained-kf2p: a fresh bundled-size "
        "refiner, for its cost); default: the editor's choice",
    )
    p.add_argument("--minutes", type=float, default=1.0, help="sequence length for the drag (default 1)")
    p.add_argument("--edits", type=int, default=20, help="edits timed for edit -> screen latency")
    p.add_argument("--play-seconds", type=float, default=4.0)
    p.add_argument("--skip-startup", action="store_true", help="do not time the window start-up")
    p.add_argument("--verbose", action="store_true", help="list the receivers of events over 16 ms")
    p.add_argument("--posing", action="store_true", help="also time pose drags (editor.bench_posing)")
    args = p.parse_args(argv)
    code = rerun_on_virtual_display("editor.bench", argv)
    if code is not None:
        return code
    report(run(args), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

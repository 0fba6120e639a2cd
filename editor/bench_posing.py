"""Posing benchmarks: ``python -m editor.bench_posing [--json] [--minutes 10] [--opens 3]``.

Measured in a real window (re-run under ``xvfb-run`` when there is no display):
- drags: a wrist dragged by arm IK, a fingertip by finger IK, and a gizmo ring turned, each with
  real mouse events on the viewport at a key of a ``--minutes`` document; the GUI thread's busy
  time per event (every event the application dispatches during the drag, as ``editor.bench``);
- first_edit: in a fresh process per run (``--opens``), a ``--minutes`` project file is opened
  and pose edits at keys of regenerated signs are pushed one after another; edit -> the
  in-betweened frames applied and the viewport repainted, the first edit against the median of
  the later ones (target: within 1.5x), with and without the background warm-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

from .bench import ROOT, bench_window, make_app, pct, report, rerun_on_virtual_display, tiled_demo, wait_until


def _drag(app, widget, a, b, steps: int = 80) -> list[float]:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    def pt(x):
        return QPoint(int(round(x[0])), int(round(x[1])))

    a, b = np.asarray(a, float), np.asarray(b, float)
    app.durations.clear()
    app.recording = True
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pt(a))
    for t in np.sin(np.linspace(0, np.pi, steps)):
        QTest.mouseMove(widget, pt(a + t * (b - a)))
        wait_until(app, lambda: False, 0.012)  # ~80 mouse events a second
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pt(b))
    wait_until(app, lambda: False, 0.2)
    app.recording = False
    return list(app.durations)


def _stats(busy: list[float]) -> dict:
    return {
        "events": len(busy),
        "median_ms": round(pct(busy, 50), 2),
        "p95_ms": round(pct(busy, 95), 2),
        "max_ms": round(max(busy), 2) if busy else float("nan"),
        "over_16ms": int(sum(d > 16 for d in busy)),
    }


def run_drags(minutes: float) -> dict:
    from core.kinematics.fk import forward_kinematics
    from core.model import JOINT_INDEX
    from editor.gizmo import rings

    app = make_app()
    seq = tiled_demo(minutes)
    win, _ = bench_window(seq)
    doc, vp, bridge = win.doc, win.viewport, win.bridge
    wait_until(app, lambda: bridge.results_applied > 0 and not bridge.service.busy, 60)
    key = int(seq.key_frames[len(seq.key_frames) // 2])
    doc.set_current_frame(key)
    wait_until(app, lambda: False, 0.3)
    vp.draw_now()

    def world():
        s = doc.sequence
        wr, wp = forward_kinematics(s.skeleton, s.rotations[key : key + 1], s.translation[key : key + 1])
        return wr[0], wp[0]

    out: dict = {"sequence_frames": seq.n_frames, "sequence_minutes": round(seq.duration / 60, 2)}
    right, up, _ = vp.camera_axes()
    _, wp = world()
    w = JOINT_INDEX["right_wrist"]
    a, b = vp.project(np.stack([wp[w], wp[w] + 0.1 * right]))
    n0 = doc.undo_stack.count()
    out["arm_ik_drag"] = _stats(_drag(app, vp.display, a, b))
    out["arm_ik_drag"]["undo_steps"] = doc.undo_stack.count() - n0
    vp.draw_now()
    _, wp = world()
    j3 = JOINT_INDEX["right_index3"]
    a, b = vp.project(np.stack([wp[j3], wp[j3] - 0.015 * up]))
    out["finger_ik_drag"] = _stats(_drag(app, vp.display, a, b))
    doc.set_joint(JOINT_INDEX["head"])
    vp.draw_now()
    frame = vp.pose_tool.gizmo_frame()
    axis = int(np.argmax(np.abs(frame.axes.T @ frame.toward)))
    pts = rings(frame)[axis]
    a, b = vp.project(pts[[0, len(pts) // 4]])
    out["gizmo_drag"] = _stats(_drag(app, vp.display, a, b))
    win.close()
    return out


_FIRST_EDIT = r"""
import sys, time, tempfile, os, json
sys.path.insert(0, sys.argv[1])
import numpy as np
from scipy.spatial.transform import Rotation
from editor.bench import make_app, tiled_demo, wait_until
from editor.bench import bench_window
from editor.demo import demo_sequence
from core.io.project import write
from editor.commands import SetJointRotations, push
if sys.argv[5] == "0":  # the baseline: no warm-up after open
    import editor.warmup
    editor.warmup.warm_up_in_background = lambda seq: None
app = make_app()
big = tiled_demo(float(sys.argv[2]))
d = tempfile.mkdtemp()
write(d + "/big.signframe", big)
win, _ = bench_window(demo_sequence())
doc, bridge, vp = win.doc, win.bridge, win.viewport
wait_until(app, lambda: bridge.results_applied > 0 and not bridge.service.busy, 60)
win.open_file(d + "/big.signframe")
wait_until(app, lambda: doc.n_frames == big.n_frames, 60)
wait_until(app, lambda: False, float(sys.argv[3]))
turn = Rotation.from_euler("x", 5, degrees=True).as_matrix().astype(np.float32)
from core.model.sequence import FrameState
mids = [k.frame for k in doc.sequence.keyframes if k.kind.value == "mid"]
# keys of regenerated signs: an edit there is on screen when the in-betweened frames are
mids = [m for m in mids if doc.sequence.base_states[m - 1] == FrameState.GENERATED][2:2 + int(sys.argv[4])]
lat = []
for m in mids:
    doc.set_current_frame(m - 3)
    wait_until(app, lambda: False, 0.05)
    t0 = time.perf_counter()
    applied0 = bridge.results_applied
    assert push(doc, SetJointRotations(doc, m, [21], (doc.sequence.rotations[m, 21] @ turn)[None])) is None
    wait_until(app, lambda: bridge.results_applied > applied0 and vp.last_paint > bridge.last_applied_at, 20)
    lat.append((vp.last_paint - t0) * 1e3)
win.close()
print("LAT", json.dumps(lat), "MODEL", bridge.model, flush=True)
"""


def run_first_edit(minutes: float, opens: int, edits: int = 8, idle_s: float = 0.5, warm: bool = True) -> dict:
    """Fresh processes: open a file, wait ``idle_s`` (a user's reaction), then time pose edits
    (``warm=False``: without the background warm-up, the baseline)."""
    firsts, laters = [], []
    model = ""
    for _ in range(opens):
        p = subprocess.run(
            [sys.executable, "-c", _FIRST_EDIT, str(ROOT), str(minutes), str(idle_s), str(edits), str(int(warm))],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        line = next((x for x in p.stdout.splitlines() if x.startswith("LAT")), None)
        if line is None:
            raise RuntimeError(f"first-edit run failed: {p.stderr[-500:]}")
        lat = json.loads(line[4:].split(" MODEL ")[0])
        model = line.split(" MODEL ")[-1]
        firsts.append(lat[0])
        laters.append(statistics.median(lat[1:]))
    first, later = statistics.median(firsts), statistics.median(laters)
    return {
        "opens": opens,
        "model": model,
        "warm_up": warm,
        "idle_after_open_s": idle_s,
        "first_edit_to_screen_ms": round(first, 1),
        "later_edits_to_screen_ms": round(later, 1),
        "ratio": round(first / later, 2),
        "firsts_ms": [round(x, 1) for x in firsts],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m editor.bench_posing", description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--minutes", type=float, default=10.0, help="document length (default 10)")
    p.add_argument("--opens", type=int, default=3, help="fresh processes for the first-edit figure")
    p.add_argument("--skip-first-edit", action="store_true")
    args = p.parse_args(argv)
    code = rerun_on_virtual_display("editor.bench_posing", argv)
    if code is not None:
        return code
    t0 = time.perf_counter()
    out = run_drags(args.minutes)
    if not args.skip_first_edit:
        out["first_edit"] = run_first_edit(args.minutes, args.opens)
        out["first_edit_without_warm_up"] = run_first_edit(args.minutes, args.opens, warm=False)
    out["bench_s"] = round(time.perf_counter() - t0, 1)
    report(out, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

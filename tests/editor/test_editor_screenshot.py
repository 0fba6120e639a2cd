"""``python main.py --screenshot``: a real run of the command, then pixel statistics of the PNG."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from core.io import write

ROOT = Path(__file__).resolve().parents[2]


def load_rgb(path: Path) -> np.ndarray:
    from PySide6.QtGui import QImage

    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert not img.isNull()
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def near(img: np.ndarray, rgb, tol: int = 12) -> np.ndarray:
    return (np.abs(img.astype(int) - np.array(rgb)) <= tol).all(-1)


def run_app(args, tmp_path, timeout=120):
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "xcb")
    cmd = [
        sys.executable,
        str(ROOT / "main.py"),
        *args,
        "--settings",
        str(tmp_path / "s.ini"),
        "--recovery-dir",
        str(tmp_path / "rec"),
    ]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_screenshot_shows_the_avatar_and_the_timeline(qapp, tmp_path, demo):
    sample = tmp_path / "demo.signframe"
    write(sample, demo)
    out = tmp_path / "shot.png"
    r = run_app(["--screenshot", str(out), str(sample)], tmp_path)
    assert r.returncode == 0, r.stderr
    img = load_rgb(out)
    h, w, _ = img.shape
    assert w >= 800 and h >= 600
    # viewport: the upper-left block, under the toolbar; the avatar's skin and clothes, not background
    view = img[int(0.12 * h) : int(0.6 * h), int(0.15 * w) : int(0.6 * w)]
    background = near(view, (0x1D, 0x21, 0x27), 6)
    assert 0.05 < 1 - background.mean() < 0.9
    r_, g_, b_ = (view[..., i].astype(int) for i in range(3))
    skin = (r_ > 150) & (r_ > g_ + 20) & (g_ > b_ + 10)
    assert skin.sum() > 300, "no skin-coloured pixels: the avatar is missing"
    assert len(np.unique(view.reshape(-1, 3), axis=0)) > 200  # shaded, not flat
    # timeline: the lower-left block; frame-state colours, key markers and sign boxes
    tl = img[int(0.72 * h) : int(0.97 * h), : int(0.7 * w)]
    assert near(tl, (85, 145, 255), 10).sum() > 500  # GENERATED frames
    assert near(tl, (96, 104, 116), 10).sum() > 500  # SOURCE frames
    assert near(tl, (255, 200, 60), 25).sum() > 20  # KEY frames / mid keys
    assert near(tl, (0xFF, 0x5A, 0x5A), 20).sum() > 20  # the playhead


def test_a_bad_file_exits_2_with_one_line(tmp_path, qapp):
    bad = tmp_path / "x.signframe"
    bad.write_text("nope")
    r = run_app(["--screenshot", str(tmp_path / "o.png"), str(bad)], tmp_path)
    assert r.returncode == 2
    err = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "x.signframe" in err[0]
    assert not (tmp_path / "o.png").exists()


def test_the_window_opens_before_torch_is_imported(tmp_path, qapp):
    code = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from editor.demo import demo_sequence
from editor.main_window import MainWindow
w = MainWindow(demo_sequence(), settings=QSettings({str(tmp_path / "q.ini")!r}, QSettings.Format.IniFormat),
               recovery_dir={str(tmp_path / "rec")!r})
w.show()
shown = 'torch' in sys.modules
QTimer.singleShot(1500, app.quit)
app.exec()
w.ask_save = lambda: 'discard'
w.close()
print(json.dumps({{"torch_at_show": shown}}))
"""
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"torch_at_show": False}

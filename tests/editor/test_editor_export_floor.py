"""The export dialog stands the avatar on the floor by default; unticking keeps the origin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt

from core.io import bvh
from tests.core.test_export_floor import lowest_point
from tests.editor.helpers import settle


def test_export_dialog_floor_option_and_the_exported_height(qtbot, window, tmp_path):
    from editor.dialogs import ExportDialog

    d = ExportDialog(window.doc.n_frames, window.doc.fps, None, Path(tmp_path / "a.bvh"), ".bvh", window)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    assert d.floor.isChecked() and d.options().origin == "floor"
    settle(qtbot, window)
    on = d.options()
    qtbot.mouseClick(d.floor, Qt.MouseButton.LeftButton, pos=QPoint(8, d.floor.height() // 2))
    off = d.options()
    assert off.origin == "pelvis"
    d.close()
    lows = {}
    for name, opts in (("floor", on), ("pelvis", off)):
        out = tmp_path / f"{name}.bvh"
        task = window.export(".bvh", type(opts)(out, 0, 49, opts.fps, "y", "m", False, opts.origin))
        qtbot.waitUntil(lambda task=task: task.finished, timeout=20000)
        assert task.error == ""
        lows[name] = lowest_point(bvh.read(out))
    seq = window.doc.sequence
    assert lows["floor"] > lows["pelvis"] + 0.7  # lifted by the legs' length
    assert np.isfinite(lows["floor"]) and lowest_point(seq.replace()) < -0.7

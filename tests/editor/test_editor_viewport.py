"""The 3D view: onion skin, overlay toggles, camera presets, generated-frame tint, redraws."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from core.kinematics.fk import forward_kinematics
from editor.viewport import GENERATED_TINT


def test_onion_skin_shows_the_previous_and_next_key(qtbot, window):
    vp, doc = window.viewport, window.doc
    doc.set_current_frame(50)  # between keys 40 and 60
    qtbot.keyClick(window, Qt.Key.Key_O)
    assert window.acts["toggle_onion"].isChecked()
    qtbot.waitUntil(lambda: all(g.visible for g in vp.ghosts), timeout=3000)
    vp.draw_now()
    seq = doc.sequence
    for ghost, key in zip(vp.ghosts, (40, 60)):
        r, p = forward_kinematics(seq.skeleton, seq.rotations[key : key + 1], seq.translation[key : key + 1])
        want, _ = vp.avatar.pose(r[0], p[0], seq.rotations[key])
        np.testing.assert_allclose(ghost._bounds[:, 0], want.min(0), atol=1e-5)
        np.testing.assert_allclose(ghost._bounds[:, 1], want.max(0), atol=1e-5)
    qtbot.keyClick(window, Qt.Key.Key_O)
    qtbot.waitUntil(lambda: not any(g.visible for g in vp.ghosts), timeout=3000)


def test_skeleton_toggle_and_camera_presets(qtbot, window):
    vp = window.viewport
    qtbot.keyClick(window, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: not vp.markers.visible, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: vp.markers.visible, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_3)
    side = vp.camera.azimuth
    qtbot.keyClick(window, Qt.Key.Key_1)
    assert abs(((vp.camera.azimuth - side) + 180) % 360 - 180) == 90
    qtbot.keyClick(window, Qt.Key.Key_H)
    wrists = vp._positions[[20, 21]]
    assert np.linalg.norm(np.asarray(vp.camera.center) - wrists.mean(0)) < 0.25
    assert vp.camera.scale_factor < 1.0  # closer than the whole-body view


def test_generated_frames_are_tinted_and_a_frame_change_redraws(qtbot, window):
    vp, doc = window.viewport, window.doc
    doc.set_current_frame(100)  # GENERATED
    qtbot.waitUntil(lambda: vp._tint == GENERATED_TINT, timeout=3000)
    n = vp.frames_drawn
    doc.set_current_frame(150)  # SOURCE
    qtbot.waitUntil(lambda: vp.frames_drawn > n and vp._tint == (0.0, 0.0, 0.0, 0.0), timeout=3000)
    img = vp.display.image
    assert img is not None and img.width() == vp.display.width()

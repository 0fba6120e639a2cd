"""Playback: Space plays at the sequence's frame rate (frames dropped, never drifting), stepping keys."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt


def test_play_for_a_second_follows_the_clock(qtbot, window):
    doc = window.doc
    doc.set_current_frame(0)
    t0 = time.perf_counter()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.playback.playing
    qtbot.wait(1000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    elapsed = time.perf_counter() - t0
    assert not window.playback.playing
    # the frame shown is the clock's frame: however slow the drawing, no drift beyond a frame or two
    assert abs(doc.current_frame - elapsed * doc.fps) <= 3
    assert doc.current_frame >= 0.9 * doc.fps
    assert window.playback.frames_shown > 0
    assert window.viewport.frames_drawn > 0


def test_half_speed_and_looping_in_a_range(qtbot, window):
    doc, pb = window.doc, window.playback
    window.acts["speed_0.5"].trigger()
    assert pb.speed == 0.5
    doc.set_range((100, 109))
    doc.set_current_frame(100)
    t0 = time.perf_counter()
    pb.play()
    qtbot.wait(1100)
    pb.stop()
    elapsed = time.perf_counter() - t0
    assert 100 <= doc.current_frame <= 109  # looped inside the range
    expected = 100 + int(elapsed * doc.fps * 0.5) % 10
    assert min(abs(doc.current_frame - expected), 10 - abs(doc.current_frame - expected)) <= 2


def test_step_and_jump_between_keys(qtbot, window):
    doc = window.doc
    doc.set_current_frame(50)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert doc.current_frame == 51
    qtbot.keyClick(window, Qt.Key.Key_Left)
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert doc.current_frame == 49
    qtbot.keyClick(window, Qt.Key.Key_Up)
    assert doc.current_frame == 60  # next key
    qtbot.keyClick(window, Qt.Key.Key_Up)
    assert doc.current_frame == 75
    qtbot.keyClick(window, Qt.Key.Key_Down)
    assert doc.current_frame == 60
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert doc.current_frame == doc.n_frames - 1
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert doc.current_frame == 0

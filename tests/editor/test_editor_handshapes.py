"""The handshape palette with real clicks: one click sets a hand at the key on screen (mirrored
for the left), one undo step; save the current hand; copy the handshape of another frame."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from core.data.handshapes import bundled_handshapes, hand_slice, read_handshapes
from core.model.rotations import flip_hand


def show_palette(qtbot, window):
    window.handshape_dock.raise_()
    qtbot.waitUntil(lambda: window.handshapes.isVisible(), timeout=3000)
    return window.handshapes


def click_radio(qtbot, radio) -> None:
    """Click on the radio's indicator (its widget may be wider than its text)."""
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))


def click_shape(qtbot, pal, name: str) -> None:
    btn = pal.buttons[name]
    pal.scroll.ensureWidgetVisible(btn)
    qtbot.wait(10)
    qtbot.mouseClick(btn, Qt.MouseButton.LeftButton)


def test_one_click_sets_the_right_hand_at_the_key(qtbot, window):
    doc = window.doc
    doc.set_current_frame(40)
    pal = show_palette(qtbot, window)
    click_radio(qtbot, pal.side_right)
    before = doc.sequence.rotations.copy()
    n = doc.undo_stack.count()
    v = next(s for s in bundled_handshapes() if s.name == "V")
    click_shape(qtbot, pal, "V")
    np.testing.assert_allclose(doc.sequence.rotations[40, hand_slice("right")], v.rotations, atol=1e-6)
    others = np.ones(52, bool)
    others[hand_slice("right")] = False
    np.testing.assert_array_equal(doc.sequence.rotations[40, others], before[40, others])
    assert doc.undo_stack.count() == n + 1
    doc.undo_stack.undo()
    np.testing.assert_array_equal(doc.sequence.rotations, before)


def test_the_left_hand_gets_the_mirror_image_and_thumbnails_differ(qtbot, window):
    doc = window.doc
    doc.set_current_frame(40)
    pal = show_palette(qtbot, window)
    click_radio(qtbot, pal.side_left)
    click_shape(qtbot, pal, "Y")
    y = next(s for s in bundled_handshapes() if s.name == "Y")
    np.testing.assert_allclose(doc.sequence.rotations[40, hand_slice("left")], flip_hand(y.rotations), atol=1e-6)
    a = pal.buttons["B"].icon().pixmap(56, 56).toImage()
    b = pal.buttons["S"].icon().pixmap(56, 56).toImage()
    assert a.size() == b.size() and a != b


def test_off_key_the_palette_edits_nothing(qtbot, window):
    doc = window.doc
    doc.set_current_frame(45)
    assert doc.sequence.key_at(45) is None
    pal = show_palette(qtbot, window)
    before = doc.sequence.rotations.copy()
    click_shape(qtbot, pal, "B")
    np.testing.assert_array_equal(doc.sequence.rotations, before)


def test_save_the_current_hand_and_copy_from_another_frame(qtbot, window, tmp_path):
    doc = window.doc
    pal = show_palette(qtbot, window)
    pal.user_file = tmp_path / "mine.npz"
    doc.set_current_frame(157)
    click_radio(qtbot, pal.side_right)
    qtbot.keyClicks(pal.save_name, "my fist")
    qtbot.mouseClick(pal.save_btn, Qt.MouseButton.LeftButton)
    saved = read_handshapes(tmp_path / "mine.npz")
    assert [s.name for s in saved] == ["my fist"]
    np.testing.assert_allclose(saved[0].rotations, doc.sequence.rotations[157, hand_slice("right")], atol=1e-6)
    assert "my fist" in pal.buttons
    # copy the handshape of frame 157 onto the key at 40
    doc.set_current_frame(40)
    pal.copy_frame.setValue(157)
    qtbot.mouseClick(pal.copy_btn, Qt.MouseButton.LeftButton)
    np.testing.assert_allclose(
        doc.sequence.rotations[40, hand_slice("right")], doc.sequence.rotations[157, hand_slice("right")], atol=1e-6
    )

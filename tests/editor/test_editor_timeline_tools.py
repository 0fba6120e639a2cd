"""Timeline additions with real mouse and keyboard events: frame numbers on the ruler, the
states legend, copy / paste keys in time (one undo step), snapping to keys and the playhead."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from editor.timeline import CURVE_Y, STATE_LEGEND
from tests.editor.test_editor_timeline import drag


def test_the_ruler_shows_frame_numbers_and_times(qtbot, window):
    tl = window.timeline
    tl.vb.setXRange(0, 200, padding=0)
    qtbot.wait(30)
    vals = tl.axis.tickValues(0, 200, tl.axis.width() or 900)
    major_spacing, major = vals[0]
    labels = tl.axis.tickStrings(major, 1.0, major_spacing)
    fps = window.doc.fps
    for v, text in zip(major, labels):
        frame, _, secs = text.partition(" · ")
        assert int(frame) == int(round(v))
        assert abs(float(secs.rstrip("s")) - v / fps) < 0.06


def test_the_states_band_has_a_legend(qtbot, window):
    tl = window.timeline
    assert tl.state_legend.isVisible()
    html = tl.state_legend.textItem.toHtml()
    for _, word in STATE_LEGEND:
        assert word in html


def test_copy_and_paste_keys_in_time_is_one_undo_step(qtbot, window):
    doc = window.doc
    doc.select_keys([40, 60])
    qtbot.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    poses = doc.sequence.rotations[[40, 60]].copy()
    free = [f for f in range(100, doc.n_frames - 21) if not (doc.sequence.key_at(f) or doc.sequence.key_at(f + 20))]
    at = free[0]
    doc.set_current_frame(at)
    n = doc.undo_stack.count()
    n_keys = len(doc.sequence.keyframes)
    qtbot.keyClick(window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    seq = doc.sequence
    assert seq.key_at(at) is not None and seq.key_at(at + 20) is not None
    assert len(seq.keyframes) == n_keys + 2
    np.testing.assert_allclose(seq.rotations[[at, at + 20]], poses, atol=1e-6)
    assert doc.undo_stack.count() == n + 1
    assert sorted(doc.selected_keys) == [at, at + 20]
    doc.undo_stack.undo()
    assert doc.sequence.key_at(at) is None and len(doc.sequence.keyframes) == n_keys
    # pasting past the end refuses, with nothing changed
    doc.set_current_frame(doc.n_frames - 5)
    before = doc.undo_stack.count()
    qtbot.keyClick(window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert doc.undo_stack.count() == before and "Cannot paste" in window.statusBar().currentMessage()


def test_the_playhead_snaps_to_a_key_unless_shift(qtbot, window):
    doc, tl = window.doc, window.timeline
    tl.vb.setXRange(0, 200, padding=0)
    qtbot.wait(30)
    y = (CURVE_Y[0] + CURVE_Y[1]) / 2
    drag(qtbot, tl, 130, 61, y=y)  # key at 60, one frame off: a few pixels here
    assert doc.current_frame == 60
    drag(qtbot, tl, 130, 61, y=y, modifier=Qt.KeyboardModifier.ShiftModifier)
    assert doc.current_frame == 61
    drag(qtbot, tl, 130, 66, y=y)  # far from any key: no snap
    assert doc.current_frame == 66


def test_a_dragged_key_snaps_to_the_playhead(qtbot, window):
    doc, tl = window.doc, window.timeline
    tl.vb.setXRange(0, 200, padding=0)
    doc.set_current_frame(47)
    qtbot.wait(30)
    assert doc.sequence.key_at(40) is not None
    drag(qtbot, tl, 40, 46)  # the key comes within a frame of the playhead
    assert doc.sequence.key_at(47) is not None and doc.sequence.key_at(40) is None


def test_clicking_a_key_puts_the_playhead_on_it_so_the_inspector_edits_what_is_shown(qtbot, window):
    doc, tl, insp = window.doc, window.timeline, window.inspector
    doc.set_current_frame(5)
    qtbot.mouseClick(tl.plot.viewport(), Qt.MouseButton.LeftButton, pos=tl.frame_x(60))
    assert doc.selected_keys == {60} and doc.current_frame == 60
    qtbot.wait(20)
    assert "Key at frame 60" in insp.key_label.text()

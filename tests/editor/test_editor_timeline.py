"""Timeline gestures with real mouse and keyboard events, checked on the document, the undo stack
and the regenerated frames."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from core.model.sequence import FrameState, KeyKind
from editor.timeline import CURVE_Y, SEG_Y, STATE_Y
from tests.editor.helpers import baseline, generated_between, settle


def drag(
    qtbot, tl, x0: float, x1: float, y: float | None = None, steps: int = 8, modifier=Qt.KeyboardModifier.NoModifier
):
    """Press at frame x0, move in steps to frame x1, release (on the key lane unless ``y``)."""
    vp = tl.plot.viewport()
    pt = (lambda f: tl.frame_x(f)) if y is None else (lambda f: tl.lane_point(f, y))
    p0 = pt(x0)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, modifier, p0)
    for i in range(1, steps + 1):
        qtbot.mouseMove(vp, pt(x0 + (x1 - x0) * i / steps))
        qtbot.wait(15)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, modifier, pt(x1))


def neighbours(seq, frame):
    keys = seq.key_frames
    return int(keys[keys < frame][-1]), int(keys[keys > frame][0])


def test_drag_a_key_retimes_it_as_one_undo_step_and_regenerates_the_gap(qtbot, window):
    doc, tl = window.doc, window.timeline
    settle(qtbot, window)
    before = doc.sequence
    key = 97  # the mid key of the second sign, whose frames are GENERATED
    assert before.key_at(key).kind == KeyKind.MID
    lo, hi = neighbours(before, key)
    drag(qtbot, tl, key, key + 6)
    settle(qtbot, window)

    seq = doc.sequence
    assert seq.key_at(key) is None and seq.key_at(key + 6).kind == KeyKind.MID
    np.testing.assert_array_equal(seq.rotations[key + 6], before.rotations[key])  # the pose travelled
    assert doc.undo_stack.count() == 1 and doc.undo_stack.index() == 1  # one merged step for the drag
    assert doc.selected_keys == {key + 6}
    # the gap between the unchanged neighbours is regenerated from the moved key
    gen = generated_between(seq, lo, hi + 1)
    assert gen.size > 20
    want = baseline(seq)
    np.testing.assert_allclose(seq.rotations[gen], want.rotations[gen], atol=1e-5)
    assert not np.allclose(seq.rotations[gen], before.rotations[gen], atol=1e-4)
    # frames outside the neighbours are untouched
    np.testing.assert_array_equal(seq.rotations[:lo], before.rotations[:lo])
    np.testing.assert_array_equal(seq.rotations[hi + 1 :], before.rotations[hi + 1 :])

    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    back = doc.sequence
    assert back.key_at(key).kind == KeyKind.MID and back.key_at(key + 6) is None
    np.testing.assert_allclose(back.rotations, before.rotations, atol=1e-6)
    np.testing.assert_array_equal(back.states, before.states)

    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot, window)
    np.testing.assert_allclose(doc.sequence.rotations, seq.rotations, atol=1e-6)
    assert doc.sequence.key_at(key + 6) is not None


def test_a_drag_cannot_pass_a_neighbouring_key(qtbot, window):
    doc = window.doc
    key = 97
    lo, hi = neighbours(doc.sequence, key)
    drag(qtbot, window.timeline, key, hi + 15)
    settle(qtbot, window)
    assert doc.sequence.key_at(hi - 1) is not None  # clamped next to the fixed key
    assert doc.sequence.key_at(hi) is not None and doc.undo_stack.count() == 1


def test_drag_a_sign_moves_its_three_keys_together(qtbot, window):
    doc = window.doc
    before = doc.sequence
    start, end = 135, 180  # YES
    keys0 = [k for k in before.key_frames.tolist() if start <= k <= end]
    assert len(keys0) == 3
    drag(qtbot, window.timeline, (start + end) / 2, (start + end) / 2 - 5, y=(SEG_Y[0] + SEG_Y[1]) / 2)
    settle(qtbot, window)
    keys1 = [k for k in doc.sequence.key_frames.tolist() if start - 10 <= k <= end]
    assert keys1 == [k - 5 for k in keys0]
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText().startswith("Move sign")


def test_click_select_shift_click_add_and_box_select(qtbot, window):
    doc, tl = window.doc, window.timeline
    vp = tl.plot.viewport()
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=tl.frame_x(40))
    assert doc.selected_keys == {40}
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, tl.frame_x(75))
    assert doc.selected_keys == {40, 75}
    drag(qtbot, tl, 65, 125)  # empty key-lane space: a box
    assert doc.selected_keys == {75, 97, 120}
    assert doc.undo_stack.count() == 0  # selecting is not an edit


def test_scrub_by_click_and_drag(qtbot, window):
    doc, tl = window.doc, window.timeline
    vp = tl.plot.viewport()
    y = (CURVE_Y[0] + CURVE_Y[1]) / 2
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=tl.lane_point(130, y))
    assert doc.current_frame == 130
    drag(qtbot, tl, 130, 60, y=y)
    assert doc.current_frame == 60
    assert abs(tl.playhead.value() - 60) < 1e-9
    assert doc.undo_stack.count() == 0


def test_range_selection_then_keep_source_and_regenerate(qtbot, window):
    doc, tl = window.doc, window.timeline
    settle(qtbot, window)
    drag(qtbot, tl, 100, 110, y=(STATE_Y[0] + STATE_Y[1]) / 2)
    assert doc.range == (100, 110)
    before = doc.sequence
    window.acts["keep_source"].trigger()
    settle(qtbot, window)
    seq = doc.sequence
    assert (seq.states[100:111] != FrameState.GENERATED).all()
    not_key = [f for f in range(100, 111) if seq.key_at(f) is None]
    np.testing.assert_array_equal(seq.rotations[not_key], before.source_rotations[not_key])
    window.acts["regenerate"].trigger()
    settle(qtbot, window)
    seq = doc.sequence
    assert (seq.states[not_key] == FrameState.GENERATED).all()
    np.testing.assert_allclose(seq.rotations[not_key], baseline(seq).rotations[not_key], atol=1e-5)
    assert doc.undo_stack.count() == 2


def test_insert_delete_scale_and_grab_with_the_keyboard(qtbot, window):
    doc = window.doc
    window.activateWindow()
    window.setFocus()
    # I: insert a key at the playhead
    doc.set_current_frame(10)
    qtbot.keyClick(window, Qt.Key.Key_I)
    assert doc.sequence.key_at(10).kind == KeyKind.USER and doc.selected_keys == {10}
    # X: delete the selected key
    qtbot.keyClick(window, Qt.Key.Key_X)
    assert doc.sequence.key_at(10) is None
    # S: scale the first sign's keys by 0.5 around the playhead (typed value, Enter)
    doc.set_current_frame(20)
    doc.select_keys([20, 40, 60])
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert window.timeline.modal is not None
    for ch in "0.5":
        qtbot.keyClicks(window.timeline.plot, ch)
    qtbot.keyClick(window.timeline.plot, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert window.timeline.modal is None
    keys = doc.sequence.key_frames.tolist()
    assert {20, 30, 40} <= set(keys) and 60 not in keys
    assert doc.sequence.key_at(30).kind == KeyKind.MID and doc.sequence.key_at(40).kind == KeyKind.OFFSET
    # G: grab them 3 frames later; Delete removes them again
    doc.select_keys([20, 30, 40])
    qtbot.keyClick(window, Qt.Key.Key_G)
    qtbot.keyClicks(window.timeline.plot, "3")
    qtbot.keyClick(window.timeline.plot, Qt.Key.Key_Enter)
    settle(qtbot, window)
    assert {23, 33, 43} <= set(doc.sequence.key_frames.tolist())
    steps = doc.undo_stack.count()
    assert steps == 4  # insert, delete, scale, grab
    qtbot.keyClick(window, Qt.Key.Key_Delete)
    assert not {23, 33, 43} & set(doc.sequence.key_frames.tolist())
    assert doc.undo_stack.count() == steps + 1


def test_grab_cancelled_with_escape_changes_nothing(qtbot, window):
    doc, tl = window.doc, window.timeline
    before = doc.sequence
    doc.select_keys([75, 97, 120])
    # hover over the timeline so the grab follows the mouse
    vp = tl.plot.viewport()
    qtbot.mouseMove(vp, tl.frame_x(100))
    qtbot.keyClick(window, Qt.Key.Key_G)
    for f in (101, 103, 105):
        qtbot.mouseMove(vp, tl.frame_x(f))
        qtbot.wait(60)
    qtbot.keyClick(tl.plot, Qt.Key.Key_Escape)
    settle(qtbot, window)
    assert tl.modal is None
    assert doc.sequence.key_frames.tolist() == before.key_frames.tolist()
    assert doc.undo_stack.count() == 0 or not doc.undo_stack.canUndo()


def test_wheel_zooms_time_and_right_drag_pans(qtbot, window):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    tl = window.timeline
    vp = tl.plot.viewport()
    (x0, x1), (y0, y1) = tl.vb.viewRange()
    pos = QPointF(tl.frame_x(125))
    ev = QWheelEvent(
        pos,
        QPointF(vp.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(vp, ev)
    (a0, a1), (b0, b1) = tl.vb.viewRange()
    assert a1 - a0 < 0.8 * (x1 - x0)  # zoomed in on time
    assert (b0, b1) == (y0, y1)  # lanes never scale
    vpos = tl.frame_x(125)
    qtbot.mousePress(vp, Qt.MouseButton.RightButton, pos=vpos)
    for dx in range(10, 110, 20):
        qtbot.mouseMove(vp, vpos + QPoint(dx, 0))
        qtbot.wait(10)
    qtbot.mouseRelease(vp, Qt.MouseButton.RightButton, pos=vpos + QPoint(100, 0))
    (c0, c1), _ = tl.vb.viewRange()
    assert c0 < a0 and abs((c1 - c0) - (a1 - a0)) < 1e-6  # panned earlier, same zoom
    assert window.doc.undo_stack.count() == 0


def test_a_key_drag_reports_steps_then_one_finish_and_escape_reports_a_cancel(qtbot, window):
    doc, tl = window.doc, window.timeline
    heard = []
    tl.keysDragged.connect(lambda i, m, t: heard.append(("step", i, dict(m))))
    tl.keysDragFinished.connect(lambda i, m, t: heard.append(("finish", i, dict(m))))
    tl.keysDragCancelled.connect(lambda i, frames: heard.append(("cancel", i, list(frames))))
    drag(qtbot, tl, 97, 100)
    assert heard[-1] == ("finish", heard[0][1], {97: 100})
    assert heard[0][0] == "step" and all(h[0] == "step" and h[1] == heard[0][1] for h in heard[:-1])
    settle(qtbot, window)
    assert doc.sequence.key_at(100) is not None and doc.undo_stack.count() == 1

    heard.clear()
    doc.select_keys([75, 120])
    vp = tl.plot.viewport()
    qtbot.mouseMove(vp, tl.frame_x(90))
    qtbot.keyClick(window, Qt.Key.Key_G)
    qtbot.mouseMove(vp, tl.frame_x(92))
    qtbot.wait(60)
    qtbot.keyClick(tl.plot, Qt.Key.Key_Escape)
    settle(qtbot, window)
    assert [h[0] for h in heard][-1] == "cancel" and heard[-1][2] == [75, 120]
    assert "finish" not in [h[0] for h in heard]
    assert doc.sequence.key_at(75) is not None and doc.sequence.key_at(120) is not None
    assert doc.undo_stack.count() == 1  # the cancelled grab left no step

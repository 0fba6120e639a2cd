"""The linguist's loop in a real window, with real mouse and keyboard events: glosses typed in
place, split / merge / boundary drags as single undo steps, per-hand lanes, the gloss list, ELAN
in through the import dialog and out again, FAST's proposals on opening a bare recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from core.io import eaf
from core.model import segments_edit as se
from core.model.sequence import Segment
from editor.segment_lanes import HAND_Y, SIGN_Y

ELAN = Path(__file__).resolve().parents[1] / "fixtures" / "elan"
MID = (SIGN_Y[0] + SIGN_Y[1]) / 2


def lane(win, hand=""):
    return [(s.start, s.end, s.gloss) for s in se.lane_segments(win.doc.sequence, hand)]


def dclick(qtbot, win, frame, y):
    """A double click as a mouse sends it: press, release, double-click, release (QTest's
    mouseDClick alone sends only the double-click event)."""
    tl = win.timeline
    vp, pos, left = tl.plot.viewport(), tl.lane_point(frame, y), Qt.MouseButton.LeftButton
    qtbot.mouseClick(vp, left, pos=pos)
    qtbot.mouseDClick(vp, left, pos=pos)
    qtbot.mouseRelease(vp, left, pos=pos)


def drag(qtbot, win, f0, f1, y, modifier=Qt.KeyboardModifier.NoModifier, steps=6):
    tl = win.timeline
    vp = tl.plot.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, modifier, tl.lane_point(f0, y))
    for i in range(1, steps + 1):
        qtbot.mouseMove(vp, tl.lane_point(f0 + (f1 - f0) * i / steps, y))
        qtbot.wait(10)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, modifier, tl.lane_point(f1, y))


def proposal_pixels(win) -> int:
    """Pixels of the proposals' colour in the sign lane, on a grab of the timeline."""
    from editor.segment_lanes import PROPOSAL

    tl = win.timeline
    tl.plot.viewport().repaint()
    img = tl.plot.viewport().grab().toImage()
    y0, y1 = sorted((tl.lane_point(0, SIGN_Y[0]).y(), tl.lane_point(0, SIGN_Y[1]).y()))
    want = np.array([PROPOSAL.red(), PROPOSAL.green(), PROPOSAL.blue()])
    n = 0
    for y in range(max(0, y0), min(img.height(), y1)):
        for x in range(0, img.width(), 2):
            c = img.pixelColor(x, y)
            n += int(np.abs(np.array([c.red(), c.green(), c.blue()]) - want).max() < 40)
    return n


def editor_of(win) -> QLineEdit:
    ed = win.linguist.lanes.editor
    assert ed is not None and ed.isVisible()
    return ed


def test_double_click_types_a_gloss_as_one_undo_step(qtbot, window):
    win = window
    before = lane(win)
    count = win.doc.undo_stack.count()
    dclick(qtbot, win, 90, MID)  # THANK-YOU (75..120)
    ed = editor_of(win)
    assert ed.text() == "THANK-YOU" and ed.selectedText() == "THANK-YOU"
    qtbot.keyClicks(ed, "THANKS")
    qtbot.keyClick(ed, Qt.Key.Key_Return)
    after = lane(win)
    assert after[1] == (75, 120, "THANKS") and after[0] == before[0] and after[2:] == before[2:]
    assert win.doc.undo_stack.count() == count + 1
    win.timeline.plot.setFocus()
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert lane(win) == before
    # F2 types the gloss of the sign under the playhead; Enter in the search field jumps to it
    win.doc.set_current_frame(200)
    qtbot.keyClick(win, Qt.Key.Key_F2)
    qtbot.keyClicks(editor_of(win), "LOOK")
    qtbot.keyClick(editor_of(win), Qt.Key.Key_Return)
    assert lane(win)[3] == (195, 235, "LOOK")
    panel = win.linguist.panel
    qtbot.waitUntil(lambda: any("LOOK" in r for r in panel.visible_rows()))
    qtbot.keyClicks(panel.search, "look")
    qtbot.keyClick(panel.search, Qt.Key.Key_Return)
    assert win.doc.current_frame == 195
    win.doc.undo_stack.undo()
    win.timeline.plot.setFocus()
    # Escape cancels
    dclick(qtbot, win, 150, MID)
    qtbot.keyClicks(editor_of(win), "NOPE")
    qtbot.keyClick(editor_of(win), Qt.Key.Key_Escape)
    assert lane(win) == before and win.doc.undo_stack.index() == count


def test_split_and_merge_from_the_keyboard(qtbot, window):
    win = window
    keys = win.doc.sequence.keyframes
    win.doc.set_current_frame(100)
    win.timeline.plot.setFocus()
    qtbot.keyClick(win, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert lane(win)[1:3] == [(75, 99, "THANK-YOU"), (100, 120, None)]
    assert win.doc.sequence.keyframes == keys  # the motion's keys are not touched
    win.doc.set_current_frame(80)
    qtbot.keyClick(win, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert lane(win)[1] == (75, 120, "THANK-YOU")
    qtbot.keyClick(win, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert lane(win)[1] == (75, 180, "THANK-YOU YES")
    stack = win.doc.undo_stack
    for _ in range(3):
        stack.undo()
    assert lane(win)[1:3] == [(75, 120, "THANK-YOU"), (135, 180, "YES")]


def test_boundary_drag_leaves_the_keys_and_shift_takes_the_key(qtbot, window):
    win = window
    keys = win.doc.sequence.key_frames.tolist()
    count = win.doc.undo_stack.count()
    drag(qtbot, win, 121, 128, MID)  # THANK-YOU's end edge (frame 120 ends at x=121)
    assert lane(win)[1] == (75, 127, "THANK-YOU")
    assert win.doc.sequence.key_frames.tolist() == keys
    assert win.doc.undo_stack.count() == count + 1  # the whole drag is one step
    # with Shift the key on the start edge moves with it (the motion is retimed)
    drag(qtbot, win, 135, 140, MID, modifier=Qt.KeyboardModifier.ShiftModifier)
    assert lane(win)[2][0] == 140
    new_keys = win.doc.sequence.key_frames.tolist()
    assert 140 in new_keys and 135 not in new_keys
    win.doc.undo_stack.undo()
    win.doc.undo_stack.undo()
    assert lane(win)[1] == (75, 120, "THANK-YOU") and win.doc.sequence.key_frames.tolist() == keys
    # a drag that comes back to where it started leaves no step
    index = win.doc.undo_stack.index()
    tl, vp = win.timeline, win.timeline.plot.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=tl.lane_point(121, MID))
    for f in (124, 127, 124, 121):
        qtbot.mouseMove(vp, tl.lane_point(f, MID))
        qtbot.wait(10)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=tl.lane_point(121, MID))
    assert lane(win)[1] == (75, 120, "THANK-YOU") and win.doc.undo_stack.index() == index


def test_hand_lanes_gloss_list_and_jump(qtbot, make_window, demo):
    change, _ = se.import_annotations(
        demo, right=[Segment(20, 60, "HELLO"), Segment(75, 120, "THANK-YOU")], left=[Segment(30, 55, "HELLO-B")]
    )
    win = make_window(change.sequence)
    assert win.linguist.lanes.hands["right"].isVisible() and win.linguist.lanes.hands["left"].isVisible()
    ry = sum(HAND_Y["right"]) / 2
    dclick(qtbot, win, 100, ry)
    ed = editor_of(win)
    assert ed.text() == "THANK-YOU"
    ed.selectAll()
    qtbot.keyClicks(ed, "THANKS-RH")
    qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert lane(win, "right")[1] == (75, 120, "THANKS-RH")
    assert (75, 120, "THANK-YOU") in win.timeline.segments.segments  # the sign lane keeps its gloss
    assert lane(win, "left") == [(30, 55, "HELLO-B")]
    qtbot.mouseMove(win.timeline.plot.viewport(), win.timeline.lane_point(98, ry))  # hover: the full gloss
    qtbot.waitUntil(lambda: "THANKS-RH" in win.linguist.lanes.hands["right"].toolTip())
    panel = win.linguist.panel
    qtbot.waitUntil(lambda: any("THANKS-RH" in r for r in panel.visible_rows()))  # the list follows
    qtbot.keyClicks(panel.search, "thanks")
    assert len(panel.visible_rows()) == 1 and "THANKS-RH [RH]" in panel.visible_rows()[0]
    row = next(i for i in range(panel.list.count()) if not panel.list.item(i).isHidden())
    rect = panel.list.visualItemRect(panel.list.item(row))
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.doc.current_frame == 75 and win.linguist.lanes.current == ("right", 75)
    # a boundary in a hand lane
    drag(qtbot, win, 56, 58, sum(HAND_Y["left"]) / 2)
    assert lane(win, "left") == [(30, 57, "HELLO-B")]


def test_import_dialog_then_export_keeps_the_elan_file(qtbot, make_window, demo, tmp_path):
    win = make_window(demo)
    dlg = win.linguist.import_file(ELAN / "fto.eaf")
    qtbot.waitExposed(dlg)
    # choose the tiers with the keyboard: the sign tier is fto-ab, the hands a and b
    for role, name in (("sign", "fto-ab"), ("right", "a"), ("left", "b")):
        combo = dlg.combos[role]
        combo.setFocus()
        while combo.currentText() != name:
            qtbot.keyClick(combo, Qt.Key.Key_Down)
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dlg.isVisible())
    assert [g for *_, g in lane(win)] == ["P_a", "O12_a_b", "G21_b_a", "B_a_b", "G12_a_b", "P_b"]
    assert len(lane(win, "right")) == 3 and len(lane(win, "left")) == 4
    win.doc.undo_stack.undo()
    assert [g for *_, g in lane(win)] == ["HELLO", "THANK-YOU", "YES", "SEE"]
    win.doc.undo_stack.redo()
    out = tmp_path / "out.eaf"
    from editor.dialogs import ExportOptions

    task = win.export(".eaf", ExportOptions(out, 0, win.doc.n_frames - 1, win.doc.fps, "y", "m", False))
    qtbot.waitUntil(lambda: task.finished, timeout=10000)
    src, back = eaf.parse(ELAN / "fto.eaf"), eaf.parse(out)
    assert back.tier_names == src.tier_names
    for t in src.tiers:
        assert [a.value for a in back.tier(t.name).annotations] == [a.value for a in t.annotations]


def test_bad_annotation_file_is_reported_not_raised(qtbot, make_window, tmp_path):
    from tests.editor.conftest import Errors

    errors = Errors()
    win = make_window(errors=errors)
    bad = tmp_path / "bad.eaf"
    bad.write_text("<!DOCTYPE x [<!ENTITY a 'b'>]><ANNOTATION_DOCUMENT/>")
    before = lane(win)
    assert win.linguist.import_file(bad) is None
    assert errors.shown and "bad.eaf" in errors.shown[-1][1] and "\n" not in errors.shown[-1][1]
    assert lane(win) == before


def test_a_bare_recording_opens_with_fast_proposals(qtbot, make_window, demo, tmp_path, monkeypatch):
    import editor.linguist as linguist
    from core.io import registry
    from editor.proposals import fast_unavailable_reason

    if fast_unavailable_reason() is not None:
        pytest.skip(fast_unavailable_reason())
    runs = []
    real = linguist.fast_probabilities
    monkeypatch.setattr(linguist, "fast_probabilities", lambda *a, **k: runs.append(1) or real(*a, **k))
    bare = demo.replace(keyframes=(), labels=np.zeros(demo.n_frames, np.uint8), glosses=())
    path = tmp_path / "bare.signframe"
    registry.write(path, bare)
    win = make_window(demo)  # a document with keys: no proposals
    ling = win.linguist
    assert not ling.proposals and not ling.panel.proposal_box.isVisible()
    win.open_file(path)
    qtbot.waitUntil(lambda: ling._probs is not None, timeout=60000)
    assert ling.panel.proposal_box.isVisible() and ling.proposals
    assert not win.doc.sequence.keyframes and not lane(win)  # proposals are not keys nor signs
    assert proposal_pixels(win) > 50  # drawn in their own colour (dashed outlines)
    slider = ling.panel.sensitivity
    counts = {}
    # Page keys (Home / End are the window's first / last frame shortcuts)
    for key, v in ((Qt.Key.Key_PageDown, 1), (Qt.Key.Key_PageUp, 99)):
        slider.setFocus()
        for _ in range(11):
            qtbot.keyClick(slider, key)
        assert slider.value() == v
        counts[v] = len(ling.proposals)
    assert counts[99] >= counts[1] and runs == [1]  # re-decoded, the network ran once
    first = ling.proposals[0]
    dclick(qtbot, win, (first.start + first.end) / 2, MID)
    assert lane(win)[0][:2] == (first.start, first.end)
    assert {first.start, first.end} <= set(win.doc.sequence.key_frames.tolist())
    n = len(ling.proposals)
    qtbot.mouseClick(ling.panel.accept_all, Qt.MouseButton.LeftButton)
    assert len(lane(win)) == 1 + n and not ling.proposals
    assert proposal_pixels(win) == 0
    win.doc.undo_stack.undo()
    assert len(lane(win)) == 1


def test_opening_an_eaf_imports_it_onto_the_open_motion(qtbot, make_window, demo):
    win = make_window(demo)
    win.open_file(ELAN / "fto.eaf")
    from editor.linguist import ImportDialog

    dlg = win.findChild(ImportDialog, "import-annotations")
    assert dlg is not None and dlg.isVisible() and dlg.tier("sign") == "a"  # the first tier with annotations
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    # 0-1629, 1790-2820, 4280-5800 ms at 25 fps: nearest frame boundaries (70.5 rounds to even)
    assert lane(win) == [(0, 40, "a"), (45, 69, "a"), (107, 144, "a")]
    assert win.doc.sequence.n_frames == demo.n_frames  # still the same motion
    # again with the motion starting 1 s into ELAN's time line, typed into the offset field
    win.doc.undo_stack.undo()
    win.open_file(ELAN / "fto.eaf")
    dlg = [d for d in win.findChildren(ImportDialog) if d.isVisible()][-1]
    dlg.offset.setFocus()
    dlg.offset.selectAll()
    qtbot.keyClicks(dlg.offset, "1000")
    qtbot.keyClick(dlg.offset, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dlg.isVisible())
    # 0-629, 790-1820, 3280-4800 ms: the first annotation starts before the motion and is clipped
    assert lane(win) == [(0, 15, "a"), (20, 45, "a"), (82, 119, "a")]

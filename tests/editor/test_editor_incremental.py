"""What the editor redoes per drag step only in part (lanes, drag steps, painting) must equal
what redoing it all gives."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QGraphicsItem
from scipy.spatial.transform import Rotation

from core.jobs import FramePatch, InbetweenResult
from core.model import edits
from core.model.sequence import FrameState, Label
from editor.bench import tiled_demo
from editor.commands import ApplyProposals, RetimeKeys, SetJointRotations, end_drag, new_drag_id, push
from tests.editor.helpers import settle


def lanes(tl):
    return (list(tl.segments.segments), tl._curve_y.copy(), tl._shown_states.copy(), tl.keys_item.frames.copy())


def test_lanes_after_edits_equal_a_full_rebuild(qtbot, window):
    doc, tl = window.doc, window.timeline
    settle(qtbot, window)

    def same_as_full() -> None:
        part = lanes(tl)
        tl.rebuild()
        full = lanes(tl)
        assert part[0] == full[0] and len(full[0]) > 3
        for a, b in zip(part[1:], full[1:]):
            np.testing.assert_array_equal(a, b)

    seq = doc.sequence
    onset = [k.frame for k in seq.keyframes if k.kind.value == "onset"][1]
    sign = [int(k) for k in seq.key_frames if onset <= k <= onset + 40][:3]
    assert push(doc, RetimeKeys(doc, {f: f - 3 for f in sign}, "Move sign")) is None  # labels warp
    same_as_full()  # at once: before any regenerated frame arrives
    mid = [k.frame for k in doc.sequence.keyframes if k.kind.value == "mid"][0]
    turn = Rotation.from_euler("xyz", [40, -20, 30], degrees=True).as_matrix()[None]
    assert push(doc, SetJointRotations(doc, mid, [doc.joint], turn)) is None  # the curve's joint
    same_as_full()
    lo, hi = 5, 60  # new labels over a range: a sign split in two
    labels = np.zeros(hi - lo, np.uint8)
    labels[3:20], labels[30:50] = Label.I, Label.I
    labels[3], labels[30], labels[40] = Label.B, Label.B, Label.B
    assert push(doc, ApplyProposals(doc, lo, hi, labels, [])) is None
    same_as_full()
    settle(qtbot, window)
    same_as_full()
    doc.undo_stack.undo()
    same_as_full()
    doc.undo_stack.redo()
    settle(qtbot, window)
    same_as_full()


def test_drag_steps_equal_one_edit_from_the_start_and_undo_exactly(qtbot, window):
    doc = window.doc
    settle(qtbot, window)
    start = doc.sequence
    key = [k.frame for k in start.keyframes if k.kind.value == "mid"][2]
    drag = new_drag_id()
    # steps with nothing in between (each starts from the state the last one came from) ...
    for d in (1, 2, 3, 1, -2):
        assert push(doc, RetimeKeys(doc, {key: key + d}, drag_id=drag)) is None
    want = edits.retime_keys(start, {key: key - 2}).sequence
    got = doc.sequence
    for name, a in want.frame_arrays().items():
        np.testing.assert_array_equal(got.frame_arrays()[name], a, err_msg=name)
    assert got.keyframes == want.keyframes and got.glosses == want.glosses
    # ... then generated frames arrive mid-drag, far from the key: the next step keeps them
    gen = np.flatnonzero(got.states == FrameState.GENERATED)
    far = int(gen[gen > key + 60][0])
    junk = np.broadcast_to(np.eye(3, dtype=np.float32), (1,) + got.rotations.shape[1:]).copy()
    result = InbetweenResult(doc.generation, "eased", "cpu", (FramePatch(far, junk, np.zeros((1, 3), np.float32)),))
    assert doc.apply_generated(result)
    assert push(doc, RetimeKeys(doc, {key: key + 4}, drag_id=drag)) is None
    end_drag(doc)
    after = doc.sequence
    np.testing.assert_array_equal(after.rotations[far], junk[0])
    np.testing.assert_array_equal(after.rotations[key + 4], start.rotations[key])
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    back = doc.sequence
    keep = back.states != FrameState.GENERATED
    np.testing.assert_array_equal(back.rotations[keep], start.rotations[keep])
    np.testing.assert_array_equal(back.states, start.states)
    np.testing.assert_array_equal(back.labels, start.labels)
    assert back.keyframes == start.keyframes and back.glosses == start.glosses


def test_painting_what_is_in_view_draws_what_painting_everything_draws(qtbot, make_window):
    window = make_window(tiled_demo(1.0))
    tl = window.timeline
    key = int(window.doc.sequence.key_frames[20])
    window.doc.select_keys([key])
    tl.vb.setXRange(key - 90, key + 90, padding=0)
    qtbot.wait(50)
    tl.plot.viewport().update()
    culled = tl.plot.grab().toImage()
    for item in (tl.keys_item, tl.segments):  # without the flag, the exposed rect is the whole item
        item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, False)
        item.update()
    qtbot.wait(50)
    everything = tl.plot.grab().toImage()
    assert culled == everything

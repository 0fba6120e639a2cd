"""The first edit after opening a long file is in-betweened before the file's backlog: a request
carries only the latest edit's span when the other pending spans add up to a large backlog,
and the backlog is pending again (and sent next) once that result is applied."""

from __future__ import annotations

import queue

import numpy as np
from scipy.spatial.transform import Rotation

from core.jobs.document_link import BACKLOG_FRAMES, DocumentLink, first_spans
from core.model import FrameState, Keyframe, edits, new_sequence
from core.model.document import DocumentModel, EditStep


def long_seq(t: int = 3000):
    rot = Rotation.random(t * 52, random_state=1).as_matrix().reshape(t, 52, 3, 3)
    keys = [Keyframe(k) for k in range(0, t, 20)] + [Keyframe(t - 1)]
    seq = new_sequence(rot, 25.0, np.zeros((t, 3)), keyframes=keys)
    states = np.full(t, FrameState.SOURCE, np.uint8)
    for a in range(0, t - 40, 80):  # every other sign regenerated
        states[a + 1 : a + 20] = FrameState.GENERATED
    return seq.replace(base_states=states)


def test_first_spans_puts_the_latest_edit_ahead_of_a_large_backlog():
    assert first_spans([(0, 60), (10, 30)]) == [(0, 60), (10, 30)]  # small: everything at once
    big = (0, BACKLOG_FRAMES + 1)
    assert first_spans([big, (100, 140)]) == [(100, 140)]
    assert first_spans([big]) == [big]


def test_the_edit_after_open_goes_first_and_the_backlog_follows():
    doc = DocumentModel(long_seq())
    inbox: queue.Queue = queue.Queue()
    link = DocumentLink(doc, inbox.put, model="eased")
    try:
        assert doc.pending == [(0, doc.n_frames)]  # just opened: the whole file
        turn = Rotation.from_euler("z", 20, degrees=True).as_matrix()[None]
        step = EditStep(doc, lambda s: edits.set_joint_rotations(s, 1500, [21], turn), kind="pose")
        step.redo()
        edit_span = doc.pending[-1]
        req = link.submit()
        assert req.spans == (edit_span,)  # only the edit's span
        result = inbox.get(timeout=60)
        assert link.receive(result)
        assert all(p.stop - p.start < 200 for p in result.patches)  # the sign, not the file
        assert doc.pending == [(0, doc.n_frames)]  # the backlog is pending again
        req2 = link.submit()
        assert req2.spans == ((0, doc.n_frames),)
        assert link.receive(inbox.get(timeout=60)) and doc.pending == []
    finally:
        link.close()

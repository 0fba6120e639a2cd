"""The document without Qt: edit -> in-betweening worker -> apply, stale results dropped, a drag
merged into one undo step (the loop the editor runs, driven headless)."""

from __future__ import annotations

import queue

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.jobs.document_link import DocumentLink
from core.kinematics.slerp import inbetween_baseline, smoothstep
from core.model import FrameState, Keyframe, edits, new_sequence
from core.model.document import DocumentModel, EditStep, History
from core.model.events import Event

GEN = FrameState.GENERATED


def make_seq(t: int = 60, keys=(0, 10, 20, 30, 40, 59)):
    """Recorded motion with a stretch to regenerate (frames 10..29) between keys."""
    rng = np.random.default_rng(0)
    rot = Rotation.random(t * 52, random_state=0).as_matrix().reshape(t, 52, 3, 3)
    seq = new_sequence(rot, 25.0, rng.normal(size=(t, 3)) * 0.01, keyframes=[Keyframe(k) for k in keys])
    states = np.full(t, FrameState.SOURCE, np.uint8)
    states[10:30] = GEN
    return seq.replace(base_states=states)


@pytest.fixture
def loop():
    """(document, link, inbox): the real service and the eased model; results wait in ``inbox``
    (the worker's thread) until the test hands them to the document's thread."""
    doc = DocumentModel(make_seq())
    inbox: queue.Queue = queue.Queue()
    link = DocumentLink(doc, inbox.put, model="eased")
    yield doc, link, inbox
    link.close()


def roundtrip(link, inbox) -> bool:
    link.submit()
    return link.receive(inbox.get(timeout=30))


def pose_step(doc, frame: int, degrees: float) -> EditStep:
    turn = Rotation.from_euler("z", degrees, degrees=True).as_matrix()[None]
    joint = doc.joint
    return EditStep(doc, lambda s: edits.set_joint_rotations(s, frame, [joint], turn), kind="pose")


def retime_step(doc, mapping: dict, drag_id: int) -> EditStep:
    m = dict(mapping)
    return EditStep(
        doc, lambda s: edits.retime_keys(s, m), kind="retime", drag_id=drag_id, noop=all(a == b for a, b in m.items())
    )


def test_event_calls_subscribers_in_order_and_forgets_disconnected_ones():
    ev, got = Event(), []
    first = ev.connect(lambda x: got.append(("a", x)))
    ev.connect(lambda x: got.append(("b", x)))
    ev.emit(1)
    ev.disconnect(first)
    ev.emit(2)
    assert got == [("a", 1), ("b", 1), ("b", 2)]


def test_edit_then_worker_then_apply_and_a_stale_result_is_dropped(loop):
    doc, link, inbox = loop
    edited, generated = [], []
    doc.events.sequence_edited.connect(lambda lo, hi: edited.append((lo, hi)))
    doc.events.frames_generated.connect(lambda lo, hi: generated.append((lo, hi)))
    first = doc.sequence
    assert roundtrip(link, inbox) and doc.pending == [] and generated
    want = inbetween_baseline(first, smoothstep)
    np.testing.assert_allclose(doc.sequence.rotations, want.rotations, atol=1e-5)

    history = History()
    assert history.push(pose_step(doc, 20, 40.0)) is None
    assert doc.generation == 1 and len(edited) == 1 and doc.pending == [edited[0]]
    link.submit()
    stale = inbox.get(timeout=30)
    assert stale.generation == 1 and stale.patches
    # a second edit lands before that result reaches the document's thread: it is dropped
    assert history.push(pose_step(doc, 10, -30.0)) is None
    before = doc.sequence
    assert link.receive(stale) is False
    assert doc.sequence is before and link.results_dropped == 1 and len(doc.pending) == 2

    assert roundtrip(link, inbox) and doc.pending == [] and link.results_applied == 2
    got, want = doc.sequence, inbetween_baseline(before, smoothstep)
    gen = got.states == GEN
    assert gen[11:20].all() and gen[21:30].all()
    np.testing.assert_allclose(got.rotations[gen], want.rotations[gen], atol=1e-5)
    # the correction shows at its key; recorded frames are the edit's, not the worker's
    np.testing.assert_array_equal(got.rotations[~gen], before.rotations[~gen])


def test_a_drag_is_one_undo_step_that_undoes_and_redoes_exactly(loop):
    doc, link, inbox = loop
    assert roundtrip(link, inbox)
    start = doc.sequence
    history = History()
    for d in (1, 3, 2):  # a key of recorded motion dragged, in-betweening results arriving between
        assert history.push(retime_step(doc, {40: 40 + d}, drag_id=7)) is None
        assert roundtrip(link, inbox)
    doc.end_drag()
    assert history.count() == 1

    want = edits.retime_keys(start, {40: 42}).sequence
    rec = want.states != GEN

    def same_as(ref) -> None:
        got = doc.sequence
        np.testing.assert_array_equal(got.rotations[rec], ref.rotations[rec])
        for name in ("warp", "states", "labels", "translation"):
            np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)
        assert got.keyframes == ref.keyframes

    same_as(want)
    assert history.undo()
    same_as(start)
    assert history.redo()
    same_as(want)

    # a second drag that comes back to where it started leaves no step
    for d in (2, 0):
        assert history.push(retime_step(doc, {42: 42 + d}, drag_id=8)) is None
    doc.end_drag()
    assert history.count() == 1
    same_as(want)


def test_replacing_the_sequence_asks_for_everything_and_closes_the_drag():
    doc = DocumentModel(make_seq())
    history = History()
    assert history.push(retime_step(doc, {40: 41}, drag_id=3)) is None
    assert doc.open_drag is not None and doc.generation == 1
    heard = []
    doc.events.sequence_replaced.connect(lambda: heard.append("replaced"))
    doc.events.current_frame_changed.connect(lambda f: heard.append(f))
    doc.select_keys([0, 10])
    doc.replace_sequence(make_seq(t=30, keys=(0, 29)), "other.npz")
    assert doc.open_drag is None and doc.generation == 2 and doc.pending == [(0, 30)]
    assert doc.selected_keys == set() and heard == ["replaced", 0] and doc.title == "other.npz"

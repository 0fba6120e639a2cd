"""Fault tests without Qt: kill -9 during a project save, racing edits through the
in-betweening service, random edit / undo sequences restoring the document bit for bit.

Default run: the full 50 kill trials (a forked writer, milliseconds each), 1,000 racing edits,
300 random edit/undo sequences; ``-m fuzz``: 3,000 sequences."""

from __future__ import annotations

import os
import queue
import signal
import threading
import time

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.io import read, write
from core.io.atomic import stale_temps
from core.jobs.document_link import DocumentLink
from core.model import FrameState, Keyframe, KeyKind, edits, new_sequence
from core.model.document import DocumentModel, EditStep, History
from tests.core.helpers_io import random_sequence


# --- kill -9 during a save ------------------------------------------------------------------------
def _fork_writer(target, seq) -> int:
    pid = os.fork()
    if pid == 0:  # the child: save over and over until killed
        try:
            while True:
                write(target, seq)
        finally:
            os._exit(0)
    return pid


def test_kill_9_during_project_save_never_breaks_the_file_and_leaves_no_temp_behind(tmp_path):
    old, new = random_sequence(300, seed=1), random_sequence(300, seed=2)  # ~1.3 MB projects
    target = tmp_path / "work.signframe"
    write(target, old)
    rng = np.random.default_rng(0)
    killed_mid_write = 0
    for trial in range(50):
        pid = _fork_writer(target, new)
        time.sleep(float(rng.uniform(0.0, 0.06)))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        got = read(target)  # never broken: the previous file or the new one, whole
        assert any(np.array_equal(got.rotations, s.rotations) for s in (old, new)), trial
        strays = stale_temps(target)
        killed_mid_write += bool(strays)
        assert all(p.name.startswith(".work.signframe.") for p in strays)
        if trial % 2:  # the next save removes the dead writer's temp file
            write(target, old)
        else:  # so does opening it in the editor (core's part of it)
            from core.io.atomic import remove_stale_temps

            remove_stale_temps(target)
        assert not stale_temps(target) and sorted(p.name for p in tmp_path.iterdir()) == ["work.signframe"]
    assert killed_mid_write >= 5, "the kills never hit a write: the test proves nothing"


def test_atomic_write_fsyncs_the_folder_after_the_rename(tmp_path, monkeypatch):
    import core.io.atomic as atomic

    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append(("fsync", os.path.realpath(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(a, b):
        calls.append(("replace", str(b)))
        return real_replace(a, b)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    monkeypatch.setattr(atomic.os, "replace", replace)
    write(tmp_path / "a.signframe", random_sequence(10, seed=3))
    i = calls.index(("replace", str(tmp_path / "a.signframe")))
    assert ("fsync", str(tmp_path)) in calls[i + 1 :]


# --- racing edits through the in-betweening service ---------------------------------------------
def _recorded(t: int, seed: int):
    rot = Rotation.random(t * 52, random_state=seed).as_matrix().reshape(t, 52, 3, 3)
    rng = np.random.default_rng(seed)
    seq = new_sequence(
        rot, 25.0, rng.normal(size=(t, 3)) * 0.01, keyframes=[Keyframe(k) for k in (0, 10, 20, 30, 40, 59)]
    )
    states = np.full(t, FrameState.SOURCE, np.uint8)
    states[10:30] = FrameState.GENERATED
    states[44:52] = FrameState.GENERATED
    return seq.replace(base_states=states)


def _pose(frame: int, joint: int, degrees: float):
    turn = Rotation.from_euler("xyz", [degrees, -degrees / 2, degrees / 3], degrees=True).as_matrix()[None]
    return lambda s: edits.set_joint_rotations(s, frame, [joint], turn)


def _race(n_edits: int, seed: int, errors: list) -> None:
    """One document edited ``n_edits`` times while its worker regenerates; results handed over
    whenever they arrive (stale ones dropped). Ends settled; compared with a fresh computation."""
    try:
        rng = np.random.default_rng(seed)
        doc = DocumentModel(_recorded(60, seed))
        inbox: queue.Queue = queue.Queue()
        link = DocumentLink(doc, inbox.put, model="eased")
        history = History()
        plan = []
        try:
            for _ in range(n_edits):
                if history.index and rng.random() < 0.15:
                    history.undo()
                    plan.append(("undo",))
                else:
                    frame, joint, deg = (
                        int(rng.choice([10, 20, 30, 40])),
                        int(rng.integers(52)),
                        float(rng.normal(0, 30)),
                    )
                    assert history.push(EditStep(doc, _pose(frame, joint, deg), kind="pose")) is None
                    plan.append(("pose", frame, joint, deg))
                link.submit()
                while True:  # hand over whatever arrived; never wait
                    try:
                        link.receive(inbox.get_nowait())
                    except queue.Empty:
                        break
            deadline = time.monotonic() + 60
            while doc.pending:  # settle: a deadlock fails here, not by hanging the suite
                link.submit()
                left = deadline - time.monotonic()
                assert left > 0, "no result within 60 s: deadlock?"
                link.receive(inbox.get(timeout=left))
            raced = doc.sequence
        finally:
            link.close()
        # the same edits, one fresh computation of every generated frame at the end
        ref_doc = DocumentModel(_recorded(60, seed))
        ref_hist = History()
        for p in plan:
            if p[0] == "undo":
                ref_hist.undo()
            else:
                assert ref_hist.push(EditStep(ref_doc, _pose(*p[1:]), kind="pose")) is None
        ref_doc.invalidate_all()
        ref_box: queue.Queue = queue.Queue()
        ref_link = DocumentLink(ref_doc, ref_box.put, model="eased")
        try:
            while ref_doc.pending:
                ref_link.submit()
                ref_link.receive(ref_box.get(timeout=60))
        finally:
            ref_link.close()
        fresh = ref_doc.sequence
        np.testing.assert_allclose(raced.rotations, fresh.rotations, atol=1e-5)
        np.testing.assert_array_equal(raced.states, fresh.states)
    except BaseException as e:  # reported on the test's thread
        errors.append(e)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_1000_racing_edits_end_equal_to_a_fresh_computation(threads):
    errors: list = []
    workers = [
        threading.Thread(target=_race, args=(1000 // threads, 100 * threads + i, errors)) for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(240)
    assert not any(w.is_alive() for w in workers), "a racing document never settled (deadlock)"
    if errors:
        raise errors[0]


# --- random edit / undo sequences, bit for bit --------------------------------------------------
def _signed_zero_sequence(t: int, seed: int):
    """A sequence whose channels hold -0.0 where an edit may write +0.0."""
    rng = np.random.default_rng(seed)
    rot = np.tile(np.eye(3, dtype=np.float32), (t, 52, 1, 1))
    rot[..., 0, 1] = -0.0
    rot[..., 2, 0] = -0.0
    some = rng.random((t, 52)) < 0.3
    rot[some] = Rotation.random(int(some.sum()), random_state=seed).as_matrix().astype(np.float32)
    tr = rng.normal(size=(t, 3)).astype(np.float32)
    tr[rng.random((t, 3)) < 0.3] = -0.0
    return new_sequence(rot, 25.0, tr, keyframes=[Keyframe(0), Keyframe(t // 2), Keyframe(t - 1)])


def _random_step(doc, rng):
    seq = doc.sequence
    t = seq.n_frames
    keys = [k.frame for k in seq.keyframes]
    op = int(rng.integers(9))
    if op == 0:
        frame = int(rng.choice(keys))
        j = int(rng.integers(52))
        ang = float(rng.choice([0.0, -0.0, rng.normal(0, 40)]))
        m = Rotation.from_euler("z", ang, degrees=True).as_matrix()[None]
        m[np.abs(m) < 1e-12] = -0.0 if rng.random() < 0.5 else 0.0
        return lambda s: edits.set_joint_rotations(s, frame, [j], m)
    if op == 1:
        f = int(rng.integers(t))
        return lambda s: edits.insert_key(s, f)
    if op == 2 and len(keys) > 2:
        f = int(rng.choice(keys[1:-1]))
        return lambda s: edits.delete_keys(s, [f])
    if op == 3 and len(keys) > 2:
        f = int(rng.choice(keys[1:-1]))
        d = int(rng.integers(-3, 4))
        return lambda s: edits.move_keys(s, [f], d)
    if op == 4:
        a = int(rng.integers(t - 1))
        b = int(rng.integers(a, t))
        st = FrameState.GENERATED if rng.random() < 0.5 else FrameState.SOURCE
        return lambda s: edits.set_span_state(s, a, b, st)
    if op == 5:
        a = int(rng.integers(1, t))
        n = int(rng.integers(1, 4))
        return lambda s: edits.insert_frames(s, a, n)
    if op == 6 and t > 12:
        a = int(rng.integers(1, t - 6))
        b = a + int(rng.integers(1, 4))  # drawn now: a redo recomputes the step
        return lambda s: edits.delete_frames(s, a, b)
    if op == 7:  # an edit recomputing a channel as layers do (x + 0.0): -0.0 becomes +0.0
        a = int(rng.integers(t - 1))
        b = int(rng.integers(a + 1, t + 1))

        def recompute(s):
            tr = s.translation.copy()
            tr[a:b] = tr[a:b] + np.float32(0.0)
            return edits._change(s, s.with_frame_arrays({**s.frame_arrays(), "translation": tr}), a, b)

        return recompute
    f = int(rng.choice(keys))
    return lambda s: edits.set_key_kind(s, f, KeyKind.USER)


def _bits(seq) -> dict:
    arrays = {k: np.ascontiguousarray(v).tobytes() for k, v in seq.frame_arrays().items()}
    return {"arrays": arrays, "keys": seq.keyframes, "glosses": seq.glosses}


def _undo_sequences(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for trial in range(n):
        doc = DocumentModel(_signed_zero_sequence(int(rng.integers(16, 30)), seed + trial))
        start = _bits(doc.sequence)
        history = History()
        for _ in range(int(rng.integers(3, 12))):
            r = rng.random()
            if r < 0.2 and history.index:
                history.undo()
            elif r < 0.3:
                history.redo()
            else:
                history.push(EditStep(doc, _random_step(doc, rng), kind=("k", trial, _)))
        top = _bits(doc.sequence)
        top_index = history.index
        while history.undo():
            pass
        assert _bits(doc.sequence) == start, f"trial {trial}: undo did not restore the document bit for bit"
        for _ in range(top_index):
            history.redo()
        assert _bits(doc.sequence) == top, f"trial {trial}: redo did not restore the edited state"


def test_random_edit_undo_sequences_restore_the_document_bit_for_bit():
    _undo_sequences(300, seed=0)


@pytest.mark.fuzz
def test_thousands_of_random_edit_undo_sequences():
    _undo_sequences(3000, seed=10_000)


def test_a_signed_zero_is_restored_by_undo():
    """The smallest reproducer: -0.0 in a channel, an edit writing +0.0 there, then undo."""
    seq = _signed_zero_sequence(16, 1)
    tr = seq.translation.copy()
    tr[3] = -0.0
    seq = seq.replace(translation=tr, source_translation=tr.copy())
    patch = edits.Patch(3, 1, {"translation": np.zeros((1, 3), np.float32)}, seq.keyframes, seq.glosses)
    change = edits.apply_patch(seq, patch)
    assert not np.signbit(change.sequence.translation[3]).any()
    back = edits.apply_patch(change.sequence, change.inverse).sequence
    assert np.signbit(back.translation[3]).all()


def test_undo_history_file_round_trips_patches_exactly(tmp_path):
    from core.io.errors import FormatError
    from core.io.history_file import read_history, write_history
    from core.model import Segment

    seq = _signed_zero_sequence(12, 3)
    p1 = edits.Patch(2, 3, {"translation": seq.translation[2:5].copy()}, seq.keyframes, (Segment(1, 4, "HELLO"),))
    p2 = edits.Patch(0, 1, {"extra:x": np.array([[-0.0, 1.5]], np.float32)}, (Keyframe(3, KeyKind.MID),), ())
    path = tmp_path / "h.npz"
    write_history(path, [p1, p2], "tok")
    back = read_history(path, "tok")
    assert [(p.start, p.n_old, p.keyframes, p.glosses) for p in back] == [
        (p.start, p.n_old, p.keyframes, p.glosses) for p in (p1, p2)
    ]
    for a, b in zip(back, (p1, p2)):
        assert a.arrays.keys() == b.arrays.keys()
        assert all(np.asarray(a.arrays[k]).tobytes() == np.asarray(b.arrays[k]).tobytes() for k in a.arrays)
    with pytest.raises(FormatError, match="another recovery file"):
        read_history(path, "other")

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


# --- the whole undo stack in the history file (done and undone steps, and the index) -----------
def test_the_saved_stack_walks_undo_and_redo_through_the_exact_states(tmp_path):
    """Random edits, undos and redos on the headless model; the stack saved as the editor saves
    it (done steps' inverse patches, undone steps' ``redo_patch``) and read back walks from the
    current state through every state of the live stack, bit for bit (signed zeros included)."""
    from core.io.history_file import read_stack, write_history

    rng = np.random.default_rng(7)
    for trial in range(40):
        doc = DocumentModel(_signed_zero_sequence(int(rng.integers(16, 30)), 500 + trial))
        history = History()
        for _ in range(int(rng.integers(3, 12))):
            history.push(EditStep(doc, _random_step(doc, rng), kind=("k", trial, _)))
            if rng.random() < 0.3:
                history.undo()
        for _ in range(int(rng.integers(0, history.index + 1))):
            history.undo()  # the last undos leave steps to redo
        n, index = len(history.steps), history.index
        patches = [s.inverse for s in history.steps[:index]] + [s.redo_patch for s in history.steps[index:]]
        path = tmp_path / f"h{trial}.npz"
        write_history(path, patches, "tok", index)
        saved = read_stack(path, "tok")
        assert saved.index == index and len(saved.patches) == n
        live = {index: _bits(doc.sequence)}  # the live stack's states, by index
        while history.redo():
            live[history.index] = _bits(doc.sequence)
        while history.undo():
            live[history.index] = _bits(doc.sequence)
        for _ in range(index):
            history.redo()
        assert _bits(doc.sequence) == live[index]
        seq = doc.sequence
        for i, p in enumerate(saved.undone):  # redo from the file
            seq = edits.apply_patch(seq, p).sequence
            assert _bits(seq) == live[index + i + 1], (trial, i)
        seq = doc.sequence
        for i, p in enumerate(reversed(saved.done)):  # undo from the file
            seq = edits.apply_patch(seq, p).sequence
            assert _bits(seq) == live[index - i - 1], (trial, i)


def _history_arrays(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_a_format_1_history_of_done_steps_is_still_read(tmp_path):
    from core.io.history_file import read_history, read_stack, write_history
    from core.io.npzfile import write_npz

    seq = _signed_zero_sequence(12, 3)
    p = edits.Patch(2, 3, {"translation": seq.translation[2:5].copy()}, seq.keyframes, ())
    path = tmp_path / "h.npz"
    write_history(path, [p, p], "tok", 1)
    arrays = _history_arrays(path)
    del arrays["index"]
    arrays["format"] = np.array("signframe-undo-history")  # what the first builds wrote
    write_npz(path, arrays)
    old = read_stack(path, "tok")
    assert old.index == 2 and len(old.undone) == 0  # format 1 held done steps only
    assert np.asarray(old.patches[0].arrays["translation"]).tobytes() == seq.translation[2:5].tobytes()
    assert len(read_history(path, "tok")) == 2


def _damage(arrays: dict, how: str) -> None:
    import json

    manifest = json.loads(str(arrays["manifest"]))
    if how == "index past the end":
        arrays["index"] = np.array(3, np.int64)
    elif how == "negative index":
        arrays["index"] = np.array(-1, np.int64)
    elif how == "float index":
        arrays["index"] = np.array(1.0)
    elif how == "two indices":
        arrays["index"] = np.array([1, 1], np.int64)
    elif how == "no index":
        del arrays["index"]
    elif how == "manifest not a list":
        manifest = {"steps": manifest}
    elif how == "start a bool":
        manifest[0]["start"] = True
    elif how == "start negative":
        manifest[1]["start"] = -4
    elif how == "n_old past the frame limit":
        manifest[0]["n_old"] = 10**9
    elif how == "channel names not strings":
        manifest[0]["arrays"] = [7]
    elif how == "missing channel array":
        del arrays["p1_0"]
    elif how == "channels disagree":
        manifest[1]["arrays"] = ["translation", "rotations"]
        arrays["p1_1"] = np.zeros((5, 52, 3, 3), np.float32)
    elif how == "bad key kind":
        manifest[0]["keyframes"][0][1] = "sideways"
    elif how == "gloss not an object":
        manifest[1]["glosses"] = [[1, 2]]
    elif how == "step not an object":
        manifest[1] = "step"
    arrays["manifest"] = np.array(json.dumps(manifest))


@pytest.mark.parametrize(
    "how,problem",
    [
        ("index past the end", "index 3 is not an integer in 0..2"),
        ("negative index", "index -1 is not"),
        ("float index", "index should be one integer, got float64"),
        ("two indices", "index should be one integer, got int64 array of shape (2,)"),
        ("no index", "missing key 'index'"),
        ("manifest not a list", "undo steps is dict, not a list"),
        ("start a bool", "step 0 start True"),
        ("start negative", "step 1 start -4"),
        ("n_old past the frame limit", "step 0 n_old 1000000000"),
        ("channel names not strings", "step 0 channel names [7]"),
        ("missing channel array", "missing key 'p1_0'"),
        ("channels disagree", "step 1 channels disagree"),
        ("bad key kind", "'sideways' is not a valid KeyKind"),
        ("gloss not an object", "step 1 gloss [1, 2] is not an object"),
        ("step not an object", "step 1 is str, not an object"),
    ],
)
def test_a_damaged_undo_stack_is_a_one_line_error_naming_the_file(tmp_path, how, problem):
    from core.io.errors import FormatError
    from core.io.history_file import read_stack, write_history
    from core.io.npzfile import write_npz
    from core.model import Segment

    seq = _signed_zero_sequence(12, 3)
    p1 = edits.Patch(2, 3, {"translation": seq.translation[2:5].copy()}, seq.keyframes, ())
    p2 = edits.Patch(0, 1, {"translation": seq.translation[:1].copy()}, (), (Segment(1, 4, "HI"),))
    path = tmp_path / "stack.history.npz"
    write_history(path, [p1, p2], "tok", 1)
    assert read_stack(path, "tok").index == 1  # intact, it reads
    arrays = _history_arrays(path)
    _damage(arrays, how)
    write_npz(path, arrays)
    with pytest.raises(FormatError) as e:
        read_stack(path, "tok")
    msg = str(e.value)
    assert msg.startswith(str(path)) and problem in msg and "\n" not in msg, msg


def test_an_undo_stack_over_the_step_limit_is_refused(tmp_path, monkeypatch):
    from core.io import limits
    from core.io.errors import FormatError
    from core.io.history_file import read_stack, write_history

    seq = _signed_zero_sequence(12, 3)
    p = edits.Patch(2, 3, {"translation": seq.translation[2:5].copy()}, seq.keyframes, ())
    path = tmp_path / "h.npz"
    write_history(path, [p] * 4, "tok", 2)
    assert len(read_stack(path, "tok").patches) == 4
    monkeypatch.setattr(limits, "MAX_UNDO_STEPS", 3)
    with pytest.raises(FormatError, match="4 undo steps, more than the 3"):
        read_stack(path, "tok")
    with pytest.raises(ValueError, match="index 5 outside 0..4"):
        write_history(path, [p] * 4, "tok", 5)

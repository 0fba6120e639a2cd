"""Recovery under faults: kill -9 of an editing session (recovery offered, at most 3 s of edits
lost, undo history kept), kill -9 after undos (the whole stack back: done and undone steps, the
same index, the exact states), one recovery file per open document, the undo history restored
in the window, a bad history never stopping recovery, and every open path showing the one-line
error in a dialog with the document untouched."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from core.io import read, write
from tests.editor.helpers import settle

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "samples" / "default.signframe"  # 126 frames: 12 s of key insertions


def _kill_session(tmp_path: Path, rng: np.random.Generator) -> None:
    folder = tmp_path / "recovery"
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", OPENBLAS_NUM_THREADS="1")
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.editor.autosave_child", str(SAMPLE), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    edits: list[float] = []
    saves = 0
    kill_after = float(rng.uniform(3.0, 6.0))
    try:
        t_ready = None
        deadline = time.monotonic() + 60
        assert child.stdout is not None
        while True:  # never block: a silent child fails the test, not the suite
            assert time.monotonic() < deadline, "the editing session never got going"
            ready, _, _ = select.select([child.stdout], [], [], 0.5)
            if ready:
                line = child.stdout.readline()
                assert line, "the editing session died by itself"
                msg = json.loads(line)
                t_ready = msg["t"] if "ready" in msg else t_ready
                if "edit" in msg:
                    edits.append(msg["t"])
                saves += "saved" in msg
            if t_ready is not None and time.time() - t_ready > kill_after:
                break
        t_kill = time.time()
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    from core.io.history_file import history_path, read_history
    from core.io.project import read_project
    from editor.autosave import pending_recoveries

    found = pending_recoveries(folder)
    assert saves >= 1 and len(found) == 1, (saves, found)  # recovery offered: the session is gone
    rec, editor = found[0]
    got, meta = read_project(rec)
    original = read(SAMPLE)
    n_done = got.keyframes.__len__() - len(original.keyframes)
    assert 1 <= n_done <= len(edits)
    lost = edits[n_done:]
    assert not lost or t_kill - lost[0] <= 3.0, f"{len(lost)} edits over {t_kill - lost[0]:.2f} s lost"
    patches = read_history(history_path(rec), meta["history_token"])
    assert len(patches) == n_done  # the undo history came through whole
    from core.model.edits import apply_patch

    seq = got
    for p in reversed(patches):
        seq = apply_patch(seq, p).sequence
    assert seq.keyframes == original.keyframes
    np.testing.assert_array_equal(seq.rotations, original.rotations)


def test_kill_9_of_an_editing_session_loses_at_most_3_s_and_keeps_the_undo_history(tmp_path):
    _kill_session(tmp_path, np.random.default_rng(0))


@pytest.mark.fuzz
@pytest.mark.parametrize("trial", range(5))
def test_kill_9_of_an_editing_session_repeated(tmp_path, trial):
    _kill_session(tmp_path, np.random.default_rng(100 + trial))


def _recover(win, folder: Path, qtbot) -> None:
    """Start-up's recovery offer for ``folder``, answered "Recover" as a user clicks it."""
    from editor import app as app_module

    def accept_box():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.buttons()[0].click()  # "Recover"
        else:
            QTimer.singleShot(50, accept_box)

    QTimer.singleShot(50, accept_box)
    with qtbot.waitSignal(win.fileOpened, timeout=10000):
        app_module._offer_recovery(win, folder)
    from PySide6.QtTest import QTest

    win.activateWindow()  # the shortcuts go to the active window
    assert QTest.qWaitForWindowActive(win)


def _undo_stack_session(tmp_path: Path, n: int, k: int) -> tuple[Path, dict[int, str], int]:
    """A child session does ``n`` steps (one undone and replaced on the way), undoes ``k`` of
    them, and is killed with -9 once that state is autosaved. Returns the recovery folder, the
    digest of the document at every index of the stack at the kill, and the index then."""
    from core.io.project import read_project
    from tests.editor.autosave_child import state_digest

    folder = tmp_path / "recovery"
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", OPENBLAS_NUM_THREADS="1")
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.editor.autosave_child", str(SAMPLE), str(folder), str(n), str(k)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    states: dict[int, str] = {}
    index = count = -1
    t_last = None
    rec = None
    done = False
    try:
        deadline = time.monotonic() + 60
        assert child.stdout is not None
        while True:  # never block: a silent child fails the test, not the suite
            assert time.monotonic() < deadline, "the editing session never saved its last state"
            ready, _, _ = select.select([child.stdout], [], [], 0.5)
            if not ready:
                continue
            line = child.stdout.readline()
            assert line, "the editing session died by itself"
            msg = json.loads(line)
            if "ready" in msg:
                states[0] = msg["digest"]
                rec = Path(msg["ready"])
                assert msg["digest"] == state_digest(read(SAMPLE))
            elif "action" in msg:
                index, count = msg["index"], msg["count"]
                if msg["action"] == "undo":  # undo brings back the very state of that index
                    assert states[index] == msg["digest"], index
                else:  # a new step drops whatever had been undone past it
                    states = {i: d for i, d in states.items() if i < index}
                    states[index] = msg["digest"]
                t_last = msg["t"]
            elif "done" in msg:
                assert (index, count) == (n - k, n)
                done = True
            elif "saved" in msg and done:
                saved, meta = read_project(rec)
                if state_digest(saved) == states[n - k] and meta.get("history_index") == n - k:
                    assert msg["t"] - t_last <= 3.0  # saved at most 2.5 s after the last change
                    break
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    return folder, states, index


def _check_recovered_stack(qtbot, win, states: dict[int, str], n: int, k: int) -> None:
    """The recovered window holds the state at the kill, n - k steps to undo and k to redo, and
    walks the exact states: redo all, then undo all (Ctrl+Shift+Z / Ctrl+Z as a user types)."""
    from tests.editor.autosave_child import state_digest

    doc, stack = win.doc, win.doc.undo_stack
    assert state_digest(doc.sequence) == states[n - k]
    assert (stack.index(), stack.count()) == (n - k, n)  # n - k undoable, k redoable
    for i in range(n - k + 1, n + 1):
        qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        assert stack.index() == i and state_digest(doc.sequence) == states[i], i
    assert not stack.canRedo()
    for i in range(n - 1, -1, -1):
        qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert stack.index() == i and state_digest(doc.sequence) == states[i], i
    assert not stack.canUndo()
    original = read(SAMPLE)  # and, outside the digests, every array bit for bit
    got = doc.sequence.frame_arrays()
    for name, a in original.frame_arrays().items():
        assert a.dtype == got[name].dtype and a.tobytes() == got[name].tobytes(), name
    assert doc.sequence.keyframes == original.keyframes


def _kill_with_undone_steps(qtbot, make_window, tmp_path: Path, n: int, k: int) -> None:
    folder, states, index = _undo_stack_session(tmp_path, n, k)
    win = make_window()
    win.bridge.hold()  # no in-betweening: the walk must meet the crashed session's states exactly
    win.bridge.wait_idle()
    _recover(win, folder, qtbot)
    _check_recovered_stack(qtbot, win, states, n, k)


def test_kill_9_after_undo_brings_back_the_whole_undo_stack(qtbot, make_window, tmp_path):
    _kill_with_undone_steps(qtbot, make_window, tmp_path, 5, 2)


@pytest.mark.fuzz
@pytest.mark.parametrize("n,k", [(2, 1), (3, 0), (8, 5), (12, 11)])
def test_kill_9_after_undo_repeated(qtbot, make_window, tmp_path, n, k):
    _kill_with_undone_steps(qtbot, make_window, tmp_path, n, k)


def _insert_keys(win, frames) -> None:
    from PySide6.QtTest import QTest

    win.activateWindow()  # window shortcuts go to the active window
    QTest.qWaitForWindowActive(win)
    for f in frames:
        win.doc.set_current_frame(f)
        QTest.keyClick(win, Qt.Key.Key_I)  # the Insert key shortcut, as a user presses it
        assert win.doc.sequence.key_at(f) is not None


def test_two_editors_never_share_a_recovery_file(qtbot, make_window, tmp_path):
    from editor.autosave import pending_recoveries

    a, b = make_window(autosave_ms=100), make_window(autosave_ms=100)
    assert a.autosave.path != b.autosave.path
    for w, f in ((a, 7), (b, 9)):
        with qtbot.waitSignal(w.autosave.saved, timeout=10000):
            _insert_keys(w, [f])
    assert a.autosave.path.is_file() and b.autosave.path.is_file()
    assert pending_recoveries(tmp_path / "recovery") == []  # both editors are running: nothing offered
    assert a.save_to(tmp_path / "a.signframe")  # A saves: its recovery file goes, B's stays
    assert not a.autosave.path.exists() and b.autosave.path.is_file()
    # B dies without closing (its lock goes with the process): its work is offered, A's is not
    os.close(b.autosave._lock_fd)
    b.autosave._lock_fd = None
    found = pending_recoveries(tmp_path / "recovery")
    assert [p for p, _ in found] == [b.autosave.path]
    assert read(found[0][0]).key_at(9) is not None


def test_recovery_restores_the_undo_history(qtbot, make_window, tmp_path, demo):
    crashed = make_window(autosave_ms=100)
    start = crashed.doc.sequence
    _insert_keys(crashed, [7, 13])
    with qtbot.waitSignal(crashed.autosave.saved, timeout=10000):
        pass
    assert crashed.doc.undo_stack.count() == 2
    os.close(crashed.autosave._lock_fd)  # the crash: the lock is gone, the files stay
    crashed.autosave._lock_fd = None
    rec = crashed.autosave.path
    crashed.hide()  # gone from the screen; its files stay as a crash leaves them

    win = make_window()
    _recover(win, rec.parent, qtbot)
    doc = win.doc
    assert doc.sequence.key_at(7) is not None and doc.sequence.key_at(13) is not None
    assert doc.undo_stack.count() == 2 and win.isWindowModified()  # 2 steps -> 2 steps
    after = doc.sequence
    win.acts["undo"].trigger()  # Edit > Undo
    win.acts["undo"].trigger()
    assert doc.sequence.keyframes == start.keyframes
    np.testing.assert_array_equal(doc.sequence.rotations, start.rotations)
    win.acts["redo"].trigger()
    win.acts["redo"].trigger()
    assert doc.sequence.keyframes == after.keyframes
    np.testing.assert_array_equal(doc.sequence.rotations, after.rotations)
    # once this window has its own recovery file, the dead session's files are gone
    with qtbot.waitSignal(win.autosave.saved, timeout=10000):
        win.autosave.save_now()
    assert not rec.exists() and win.autosave.path.is_file()


def _saved_stack(win):
    from core.io.history_file import history_path, read_stack
    from core.io.project import read_project

    _, meta = read_project(win.autosave.path)
    return read_stack(history_path(win.autosave.path), meta["history_token"])


def test_an_undo_or_redo_alone_is_autosaved_with_the_stack_index(qtbot, make_window):
    win = make_window(autosave_ms=100)
    _insert_keys(win, [7, 13])
    qtbot.waitUntil(lambda: win.autosave.path.is_file() and _saved_stack(win).index == 2, timeout=10000)
    with qtbot.waitSignal(win.autosave.saved, timeout=10000):
        qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # only an undo
    saved = _saved_stack(win)
    assert (saved.index, len(saved.patches)) == (1, 2)  # one done, one to redo
    assert read(win.autosave.path).key_at(13) is None and read(win.autosave.path).key_at(7) is not None
    with qtbot.waitSignal(win.autosave.saved, timeout=10000):
        qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert _saved_stack(win).index == 2 and read(win.autosave.path).key_at(13) is not None


@pytest.mark.parametrize("damage", ["garbage", "index past the end", "does not fit"])
def test_a_bad_undo_history_never_stops_the_recovery_of_the_document(qtbot, make_window, tmp_path, damage):
    """The document comes back without undo history, and the status bar says so once."""
    from core.io.history_file import history_path, write_history
    from core.io.npzfile import write_npz
    from core.model.edits import Patch

    crashed = make_window(autosave_ms=100)
    _insert_keys(crashed, [7, 13])
    qtbot.waitUntil(lambda: crashed.autosave.path.is_file() and _saved_stack(crashed).index == 2, timeout=10000)
    crashed.autosave.wait()
    os.close(crashed.autosave._lock_fd)  # the crash: the lock is gone, the files stay
    crashed.autosave._lock_fd = None
    crashed.hide()
    rec = crashed.autosave.path
    hp = history_path(rec)
    from core.io.project import read_project

    _, meta = read_project(rec)
    if damage == "garbage":
        hp.write_bytes(b"PK\x03\x04 not a history at all" * 20)
    elif damage == "index past the end":
        with np.load(hp, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["index"] = np.array(9, np.int64)
        write_npz(hp, arrays)
    else:  # readable, but a patch past the recovered document's end
        seq = read(rec)
        bad = Patch(seq.n_frames + 50, 1, {}, seq.keyframes, seq.glosses)
        write_history(hp, [bad], meta["history_token"], 0)
    expected = read(rec)

    win = make_window()
    messages: list[str] = []
    win.statusBar().messageChanged.connect(messages.append)
    _recover(win, rec.parent, qtbot)
    doc = win.doc
    assert doc.sequence.keyframes == expected.keyframes and doc.sequence.key_at(13) is not None
    assert doc.sequence.rotations.tobytes() == expected.rotations.tobytes()
    assert doc.undo_stack.count() == 0 and win.isWindowModified()  # recovered, no history
    said = [m for m in messages if "without undo history" in m]
    assert len(said) == 1 and hp.name in said[0] and "\n" not in said[0], messages


# --- every open path: a one-line error in a dialog, the document untouched ---------------------
def _hostile(tmp_path: Path, kind: str) -> Path:
    from tests.core.test_hostile_files import patch_zip

    if kind == "encrypted":
        p = tmp_path / "locked.signframe"
        write(p, read(SAMPLE))
        p.write_bytes(patch_zip(p.read_bytes(), encrypted=True))
    elif kind == "deep_bvh":
        p = tmp_path / "deep.bvh"
        p.write_text(
            "HIERARCHY\nROOT r\n{\nOFFSET 0 0 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n"
            + "JOINT j\n{\nOFFSET 0 1 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n" * 1000
        )
    elif kind == "fifo":
        p = tmp_path / "x.bvh"
        os.mkfifo(p)
    else:
        p = tmp_path / "zero.npz"
        p.symlink_to("/dev/zero")
    return p


def _watch_for_error_box(seen: list) -> None:
    box = QApplication.activeModalWidget()
    if isinstance(box, QMessageBox):
        seen.append((box.windowTitle(), box.text()))
        box.done(QMessageBox.StandardButton.Ok)
    else:
        QTimer.singleShot(30, lambda: _watch_for_error_box(seen))


@pytest.mark.parametrize("kind", ["encrypted", "deep_bvh", "fifo", "dev_zero"])
@pytest.mark.parametrize("how", ["menu", "recent", "drop"])
def test_every_open_path_shows_the_error_and_keeps_the_document(qtbot, make_window, tmp_path, kind, how):
    from editor.dialogs import show_error

    win = make_window(errors=show_error)  # the real message box
    settle(qtbot, win)
    doc = win.doc
    _insert_keys(win, [5])  # unsaved work that must survive
    before = (doc.sequence.rotations.copy(), doc.sequence.keyframes, doc.path, doc.undo_stack.count(), doc.modified)
    bad = _hostile(tmp_path, kind)
    win.ask_save = lambda: "discard"  # replacing the document would be allowed; the read fails first
    seen: list = []
    QTimer.singleShot(30, lambda: _watch_for_error_box(seen))
    if how == "menu":
        from PySide6.QtWidgets import QFileDialog

        orig = QFileDialog.getOpenFileName
        QFileDialog.getOpenFileName = staticmethod(lambda *a, **k: (str(bad), ""))
        try:
            qtbot.keyClick(win, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
        finally:
            QFileDialog.getOpenFileName = orig
    elif how == "recent":
        win.settings.setValue("files/recent", [str(bad)])
        win.files.build_recent_menu()
        win.files.recent_menu.actions()[0].trigger()
    else:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(bad))])
        ev = QDropEvent(
            QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )
        win.dropEvent(ev)
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    title, text = seen[0]
    assert title == "Cannot open file" and bad.name in text and "\n" not in text, text
    np.testing.assert_array_equal(doc.sequence.rotations, before[0])
    assert (doc.sequence.keyframes, doc.path, doc.undo_stack.count(), doc.modified) == before[1:]


def test_a_killed_autosave_leaves_no_temp_file_past_the_next_start(qtbot, make_window, tmp_path):
    folder = tmp_path / "recovery"
    folder.mkdir()
    dead = folder / ".recovery-1-abc.signframe.99999999.k2j4x8aa.tmp"  # pid 99999999: no such process
    dead.write_bytes(b"half a project")
    mine = folder / f".recovery-1-abc.signframe.{os.getpid()}.q9w8e7rr.tmp"  # a running writer's
    mine.write_bytes(b"being written")
    make_window()
    assert not dead.exists() and mine.exists()


@pytest.mark.parametrize("kind", ["encrypted", "deep_bvh", "fifo", "dev_zero"])
def test_a_hostile_file_on_the_command_line_gives_the_error_for_the_start_dialog(tmp_path, kind):
    from editor.app import load_initial

    bad = _hostile(tmp_path, kind)
    seq, path, error = load_initial(str(bad))
    assert seq is None and path is None and bad.name in error and "\n" not in error


def _hostile_named(tmp_path: Path, kind: str, name: str) -> Path:
    p = tmp_path / name
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "dev_zero":
        p.symlink_to("/dev/zero")
    else:
        p.write_bytes(b"\x00\xffPK\x03\x04<?xml" * 50)
    return p


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "garbage"])
@pytest.mark.parametrize("name", ["notes.eaf", "clip.mp4", "voice.wav"])
def test_import_and_attach_paths_show_the_error_and_keep_the_document(qtbot, make_window, tmp_path, kind, name):
    """Dropping an annotation file (imported onto the document) or a video / audio file
    (attached to it): a hostile one gives the one-line error in a dialog and changes nothing."""
    from editor.dialogs import show_error

    win = make_window(errors=show_error)
    settle(qtbot, win)
    doc = win.doc
    _insert_keys(win, [5])
    before = (doc.sequence.rotations.copy(), doc.sequence.keyframes, doc.sequence.glosses, doc.undo_stack.count())
    links = tuple(win.media.links)
    bad = _hostile_named(tmp_path, kind, name)
    seen: list = []
    QTimer.singleShot(30, lambda: _watch_for_error_box(seen))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(bad))])
    ev = QDropEvent(
        QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    win.dropEvent(ev)
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    title, text = seen[0]
    assert title.startswith(("Cannot import", "Cannot attach")) and bad.name in text and "\n" not in text, seen
    np.testing.assert_array_equal(doc.sequence.rotations, before[0])
    assert (doc.sequence.keyframes, doc.sequence.glosses, doc.undo_stack.count()) == before[1:]
    assert tuple(win.media.links) == links

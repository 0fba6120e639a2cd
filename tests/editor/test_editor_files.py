"""Files: open a sample, a corrupt file, save, autosave and recovery, export, recent files, drop."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from core.io import read, write
from core.model.sequence import KeyKind
from tests.editor.helpers import settle


@pytest.fixture
def sample(tmp_path, demo):
    path = tmp_path / "sample.signframe"
    write(path, demo)
    return path


def test_open_a_sample_shows_it_and_in_betweens_it(qtbot, window, sample):
    doc = window.doc
    with qtbot.waitSignal(window.fileOpened, timeout=10000):
        window.open_file(sample)
    settle(qtbot, window)
    want = read(sample)
    assert doc.path == sample and doc.n_frames == want.n_frames
    assert [k.frame for k in doc.sequence.keyframes] == [k.frame for k in want.keyframes]
    assert window.windowTitle().startswith("sample.signframe") and not window.isWindowModified()
    assert doc.undo_stack.count() == 0
    assert window.settings.value("files/recent", [], list)[0] == str(sample)
    assert window.bridge.results_applied >= 1 and "idle" in window.st_inbetween.text()
    # an edit marks the title unsaved; saving clears it and writes what the document holds
    doc.set_current_frame(3)
    window.acts["insert_key"].trigger()
    assert window.isWindowModified()
    out = sample.with_name("saved.signframe")
    assert window.save_to(out)
    assert not window.isWindowModified() and window.windowTitle().startswith("saved.signframe")
    back = read(out)
    assert back.key_at(3).kind == KeyKind.USER
    np.testing.assert_array_equal(back.rotations, doc.sequence.rotations)


def test_a_corrupt_file_shows_an_error_dialog_and_keeps_the_document(qtbot, make_window, tmp_path):
    from editor.dialogs import show_error

    win = make_window(errors=show_error)  # the real message box
    doc = win.doc
    settle(qtbot, win)
    before = (doc.sequence.rotations.copy(), doc.sequence.keyframes, doc.path, doc.undo_stack.count())
    bad = tmp_path / "broken.signframe"
    bad.write_bytes(b"PK\x03\x04 this is not a project at all" * 10)
    seen = []

    def close_box():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append((box.windowTitle(), box.text()))
            box.done(QMessageBox.StandardButton.Ok)
        else:
            QTimer.singleShot(50, close_box)

    QTimer.singleShot(50, close_box)
    task = win.open_file(bad)
    qtbot.waitUntil(lambda: task.finished, timeout=10000)
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    title, text = seen[0]
    assert title == "Cannot open file" and "broken.signframe" in text
    np.testing.assert_array_equal(doc.sequence.rotations, before[0])
    assert (doc.sequence.keyframes, doc.path, doc.undo_stack.count()) == before[1:]
    assert win.windowTitle().startswith("Untitled")


def test_autosave_writes_a_recovery_file_and_saving_removes_it(qtbot, make_window, tmp_path):
    win = make_window(autosave_ms=150)
    doc = win.doc
    doc.set_current_frame(7)
    win.acts["insert_key"].trigger()
    with qtbot.waitSignal(win.autosave.saved, timeout=10000):
        pass
    rec = win.autosave.path
    assert rec.is_file() and rec.parent == tmp_path / "recovery"
    got = read(rec)
    assert got.key_at(7) is not None
    np.testing.assert_array_equal(got.rotations, doc.sequence.rotations)
    assert win.save_to(tmp_path / "done.signframe")
    assert not rec.exists()


def test_recovery_is_offered_at_the_next_start(qtbot, make_window, tmp_path, demo):
    from core.model.edits import insert_key
    from editor import app as app_module

    # a session that died: its recovery file is still there
    rec_dir = tmp_path / "recovery"
    crashed = insert_key(demo, 11).sequence
    write(rec_dir / "recovery.signframe", crashed, editor={"recovery_of": str(tmp_path / "work.signframe")})

    win = make_window()
    answered = []

    def accept_box():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            answered.append(box.text())
            box.buttons()[0].click()  # "Recover"
        else:
            QTimer.singleShot(50, accept_box)

    QTimer.singleShot(50, accept_box)
    with qtbot.waitSignal(win.fileOpened, timeout=10000):
        app_module._offer_recovery(win, rec_dir)
    assert "work.signframe" in answered[0]
    assert win.doc.sequence.key_at(11) is not None
    assert win.doc.path == tmp_path / "work.signframe" and win.isWindowModified()
    assert win.doc.undo_stack.count() == 0  # the recovered edit is data, not history


@pytest.mark.parametrize("ext", [".joints.npz", ".bvh"])
def test_export_writes_the_selected_range(qtbot, window, tmp_path, ext):
    from editor.dialogs import ExportOptions

    settle(qtbot, window)
    out = tmp_path / f"out{ext}"
    task = window.export(ext, ExportOptions(out, 20, 69, window.doc.fps, "y", "m", False))
    qtbot.waitUntil(lambda: task.finished, timeout=20000)
    assert task.error == "" and out.is_file()
    if ext == ".joints.npz":
        with np.load(out, allow_pickle=False) as z:
            assert z["positions"].shape[0] == 50
            assert float(z["fps"]) == pytest.approx(window.doc.fps)


def test_drop_a_file_opens_it(qtbot, window, sample):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample))])
    ev = QDropEvent(
        QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    with qtbot.waitSignal(window.fileOpened, timeout=10000):
        window.dropEvent(ev)
    assert window.doc.path == sample


def test_models_and_fast_show_why_they_are_disabled(window):
    from core.jobs import available_models
    from editor.proposals import fast_unavailable_reason

    for spec, reason in available_models(window.bridge.options):
        act = window.model_actions[spec.name]
        assert act.isEnabled() == (reason is None)
        if reason:
            assert act.toolTip() == reason
    assert window.model_actions[window.bridge.model].isChecked()
    reason = fast_unavailable_reason()
    assert window.acts["accept_fast"].isEnabled() == (reason is None)
    if reason:
        assert window.acts["accept_fast"].toolTip() == reason


def test_help_lists_the_blender_shortcuts():
    from editor.actions import shortcut_rows

    rows = {(text, keys) for _, text, keys in shortcut_rows()}
    for text, key in [
        ("Play / pause", "Space"),
        ("Insert key", "I"),
        ("Delete keys", "X, Delete"),
        ("Grab (move in time)", "G"),
        ("Scale around playhead", "S"),
        ("Undo", "Ctrl+Z"),
    ]:
        assert (text, key) in rows

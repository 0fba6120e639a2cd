"""The main window: viewport on top, timeline below, inspector and undo-history docks, status bar;
menus, toolbar and shortcuts from the action table; files, export, recovery, live in-betweening.
"""
from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QSplitter,
                               QUndoView)

from core.jobs import model_spec
from core.model.sequence import FrameState, Keyframe, Sequence, segments_from_labels

from . import actions as action_table
from .autosave import Autosaver
from .bridge import InbetweenBridge
from .commands import (ApplyProposals, DeleteKeys, InsertKey, RetimeKeys, SetSpanState, end_drag, push)
from .dialogs import ErrorReporter, ExportDialog, HelpDialog, ModelSettingsDialog, show_error
from .document import Document
from .inspector import Inspector
from .playback import Playback
from .proposals import fast_unavailable_reason, run_fast
from .tasks import Task
from .timeline import Timeline
from .viewport import Viewport

log = logging.getLogger(__name__)
OPEN_FILTER = ("Motion and projects (*.signframe *.npz *.pose *.bvh *.eaf);;Signframe project (*.signframe);;"
               "SMPL-X / SignSparK (*.npz);;MediaPipe pose (*.pose);;BVH (*.bvh);;All files (*)")
MAX_RECENT = 8
RETIME_THROTTLE_MS = 40


class MainWindow(QMainWindow):
    """Signals: fileOpened(path), firstResultShown() (the first in-betweening result is drawn)."""

    fileOpened = Signal(str)
    firstResultShown = Signal()

    def __init__(self, sequence: Sequence, path: str | Path | None = None, *, settings: QSettings | None = None,
                 error_reporter: ErrorReporter | None = None, smplx_dir: str | None = None,
                 recovery_dir: str | Path | None = None, autosave_ms: int = 3000) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.report_error: ErrorReporter = error_reporter or show_error
        self.ask_save: Callable[[], str] = self._ask_save
        self.setObjectName("signframe-main")
        self.setAcceptDrops(True)
        self.doc = Document(sequence, path, self)
        self._first_result = False
        self._tasks: list[Task] = []

        # central: viewport over timeline
        smplx_dir = smplx_dir or (self.settings.value("models/smplx_dir", "", str) or None)
        self.viewport = Viewport(self, smplx_dir=smplx_dir)
        self.timeline = Timeline(self)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("central-splitter")
        split.addWidget(self.viewport)
        split.addWidget(self.timeline)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([560, 240])
        self.splitter = split
        self.setCentralWidget(split)

        # docks
        self.inspector = Inspector(self)
        self.inspector_dock = QDockWidget("Inspector", self)
        self.inspector_dock.setObjectName("inspector-dock")
        self.inspector_dock.setWidget(self.inspector)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector_dock)
        self.undo_view = QUndoView(self.doc.undo_stack)
        self.undo_view.setEmptyLabel("Opened")
        self.history_dock = QDockWidget("History", self)
        self.history_dock.setObjectName("history-dock")
        self.history_dock.setWidget(self.undo_view)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_dock)
        self.resizeDocks([self.inspector_dock], [330], Qt.Orientation.Horizontal)

        # services
        options = {"checkpoint": self.settings.value("models/official_checkpoint", "", str)}
        self.bridge = InbetweenBridge(self.doc, model="eased", options=options, parent=self)
        self.bridge.hold()  # released once the window is on screen (showEvent)
        self.playback = Playback(self.doc, self)
        self.autosave = Autosaver(self.doc, recovery_dir, idle_ms=autosave_ms, parent=self)

        # actions, menus, toolbar
        self.acts, self.menus, self.toolbar = action_table.build_actions(self, self._handler)
        self._build_recent_menu()
        self._build_model_menu()
        self._status_bar()

        # wiring
        self.viewport.set_document(self.doc)
        self.timeline.set_document(self.doc)
        self.inspector.set_document(self.doc)
        self.viewport.jointPicked.connect(self.doc.set_joint)
        self.timeline.retimeRequested.connect(self._on_retime)
        self.timeline.modalChanged.connect(lambda text: self.statusBar().showMessage(text))
        self.inspector.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.bridge.stateChanged.connect(self._on_inbetween_state)
        self.bridge.finished.connect(self._on_inbetween_result)
        self.playback.playingChanged.connect(self._on_playing)
        self.doc.currentFrameChanged.connect(self._update_frame_status)
        self.doc.modifiedChanged.connect(self._update_title)
        self.doc.pathChanged.connect(self._update_title)
        self.doc.selectionChanged.connect(self._update_enabled)
        self.doc.sequenceEdited.connect(lambda lo, hi: self._update_enabled())
        self.doc.undo_stack.canUndoChanged.connect(self.acts["undo"].setEnabled)
        self.doc.undo_stack.canRedoChanged.connect(self.acts["redo"].setEnabled)
        self.autosave.failed.connect(lambda e: self.statusBar().showMessage(f"Autosave failed: {e}", 8000))
        self._retime_pending: tuple | None = None
        self._retime_timer = QTimer(self)
        self._retime_timer.setSingleShot(True)
        self._retime_timer.timeout.connect(self._flush_retime)

        self.resize(1280, 860)
        self.restoreGeometry(self.settings.value("window/geometry", b"", bytes) or b"")
        self.restoreState(self.settings.value("window/state", b"", bytes) or b"")
        self._choose_initial_model()
        self._update_title()
        self._update_frame_status(self.doc.current_frame)
        self._update_enabled()
        self.viewport.view_front()
        self._shown = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown:
            self._shown = True
            # in-betweening starts once the window is up: a torch model is created (and torch
            # imported) in the worker then, never on this thread and never before the window shows
            QTimer.singleShot(50, self._start_inbetweening)

    def _start_inbetweening(self) -> None:
        self.bridge.reset_timing()
        self.bridge.release()

    def _handler(self, name: str):
        return getattr(self, f"act_{name}", None)

    # --- status bar --------------------------------------------------------------------------
    def _status_bar(self) -> None:
        sb = self.statusBar()
        self.st_frame = QLabel()
        self.st_time = QLabel()
        self.st_fps = QLabel()
        self.st_device = QLabel("device: cpu")
        self.st_inbetween = QLabel("in-between: idle")
        for w in (self.st_frame, self.st_time, self.st_fps, self.st_device, self.st_inbetween):
            w.setContentsMargins(8, 0, 8, 0)
            sb.addPermanentWidget(w)

    def _update_frame_status(self, frame: int) -> None:
        seq = self.doc.sequence
        self.st_frame.setText(f"frame {frame} / {seq.n_frames - 1}")
        self.st_time.setText(f"{frame / seq.fps:.2f} s / {seq.duration:.2f} s")
        if not self.playback.playing:
            self.st_fps.setText(f"{seq.fps:g} fps")

    def _on_inbetween_state(self, state: str) -> None:
        lat = self.bridge.last_latency_ms
        name = model_spec(self.bridge.model).label
        extra = f" · last {lat:.0f} ms" if lat is not None and state == "idle" else ""
        self.st_inbetween.setText(f"in-between: {state} · {name}{extra}")
        self.st_inbetween.setToolTip(state)

    def _on_inbetween_result(self, result, applied: bool) -> None:
        self.st_device.setText(f"device: {result.device}")
        if result.error:
            self.statusBar().showMessage(f"In-betweening failed: {result.error}", 10000)
        if applied and not self._first_result:
            self._first_result = True
            # the viewport redraws on the next event-loop turn: announce after it has painted
            QTimer.singleShot(0, lambda: QTimer.singleShot(0, self.firstResultShown.emit))
        self._on_inbetween_state("idle" if not self.bridge.running else "running")

    def _on_playing(self, playing: bool) -> None:
        self.acts["play"].setText("&Pause" if playing else "&Play / pause")
        if not playing:
            pb = self.playback
            if pb.frames_shown:
                el = pb.clock.nsecsElapsed() / 1e9
                self.st_fps.setText(f"{pb.frames_shown / max(el, 1e-6):.1f} fps shown · {pb.frames_dropped} dropped")
        else:
            self.st_fps.setText(f"playing {self.playback.speed:g}× at {self.doc.fps:g} fps")

    def _update_title(self, *args) -> None:
        self.setWindowTitle(f"{self.doc.title}[*] — Signframe")
        self.setWindowModified(self.doc.modified)

    def _update_enabled(self) -> None:
        doc = self.doc
        sel = bool(doc.selected_keys)
        a = self.acts
        a["delete_keys"].setEnabled(sel or doc.sequence.key_at(doc.current_frame) is not None)
        for n in ("grab", "scale", "nudge_left", "nudge_right"):
            a[n].setEnabled(sel)
        a["regenerate"].setEnabled(doc.range is not None)
        a["keep_source"].setEnabled(doc.range is not None)
        a["undo"].setEnabled(doc.undo_stack.canUndo())
        a["redo"].setEnabled(doc.undo_stack.canRedo())
        reason = fast_unavailable_reason()
        a["accept_fast"].setEnabled(reason is None)
        a["accept_fast"].setToolTip(reason or "Replace labels and keys in the selected range (or everywhere) "
                                    "by FAST's proposals (Ctrl+F)")

    # --- models -------------------------------------------------------------------------------
    def _build_model_menu(self) -> None:
        menu = self.menus["In-between"]
        menu.setToolTipsVisible(True)
        first = menu.actions()[0] if menu.actions() else None
        self.model_group = QActionGroup(self)
        self.model_actions: dict[str, QAction] = {}
        header = QAction("Model", self)
        header.setEnabled(False)
        menu.insertAction(first, header)
        for spec, reason in self.bridge.models():
            act = QAction(spec.label, self)
            act.setCheckable(True)
            act.setObjectName(f"model_{spec.name}")
            act.setEnabled(reason is None)
            act.setToolTip(reason or spec.description)
            act.triggered.connect(lambda checked=False, n=spec.name: self.set_model(n))
            self.model_group.addAction(act)
            menu.insertAction(first, act)
            self.model_actions[spec.name] = act
        menu.insertSeparator(first)

    def _choose_initial_model(self) -> None:
        usable = [s.name for s, r in self.bridge.models() if r is None]
        wanted = self.settings.value("models/inbetweener", "", str)
        for name in ([wanted] if wanted else []) + ["bundled", "eased"]:
            if name in usable:
                self.set_model(name, announce=False)
                return

    def set_model(self, name: str, announce: bool = True) -> None:
        reason = self.bridge.set_model(name)
        if reason:
            self.statusBar().showMessage(f"{model_spec(name).label}: {reason}", 8000)
            return
        if name in self.model_actions:
            self.model_actions[name].setChecked(True)
        self.settings.setValue("models/inbetweener", name)
        self._on_inbetween_state("running")
        if announce:
            self.statusBar().showMessage(f"In-betweening with {model_spec(name).label}", 4000)

    # --- files ----------------------------------------------------------------------------------
    def act_open(self) -> None:
        start = str(self.doc.path.parent) if self.doc.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open", start, OPEN_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path, *, recovery_of: str | None = None) -> Task | None:
        """Read ``path`` in the background; the document changes only when the read succeeds."""
        if not self._confirm_discard():
            return None
        path = Path(path)

        def work(progress, cancelled):
            from core.io import read
            from core.io.registry import format_for

            editor = {}
            if format_for(path).name == "project":
                from core.io.project import read_project

                seq, editor = read_project(path)
            else:
                seq = read(path)
            return seq, editor

        task = Task(work, f"Opening {path.name}…", self)
        task.done.connect(lambda res, err: self._opened(path, res, err, recovery_of))
        self._tasks.append(task)
        return task.start()

    def _opened(self, path: Path, result, error: str, recovery_of: str | None) -> None:
        if error:
            self.report_error(self, "Cannot open file", error)
            return
        seq, editor = result
        self.playback.stop()
        self.doc.replace_sequence(seq, recovery_of if recovery_of is not None else path)
        if isinstance(editor.get("seed"), int):
            self.doc.seed = editor["seed"]
        if isinstance(editor.get("playhead"), int):
            self.doc.set_current_frame(editor["playhead"])
        if recovery_of is not None:
            # recovered work is unsaved work: mark it modified until the user saves
            self.doc.path = Path(recovery_of) if recovery_of else None
            self.doc.undo_stack.resetClean()
            self.doc.pathChanged.emit()
            self._update_title()
        else:
            self._add_recent(path)
        self.timeline.zoom_all()
        self.fileOpened.emit(str(path))
        self.statusBar().showMessage(f"Opened {path.name}: {seq.n_frames} frames at {seq.fps:g} fps, "
                                     f"{len(seq.keyframes)} keys", 6000)

    def act_save(self) -> bool:
        if self.doc.path is None or self.doc.path.suffix != ".signframe":
            return self.act_save_as()
        return self.save_to(self.doc.path)

    def act_save_as(self) -> bool:
        base = self.doc.path.with_suffix(".signframe") if self.doc.path else Path.home() / "untitled.signframe"
        path, _ = QFileDialog.getSaveFileName(self, "Save project", str(base), "Signframe project (*.signframe)")
        if not path:
            return False
        if not path.endswith(".signframe"):
            path += ".signframe"
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        from core.io import write

        try:
            write(path, self.doc.sequence, editor=self._editor_meta())
        except Exception as e:
            self.report_error(self, "Cannot save", str(e))
            return False
        self.doc.mark_saved(path)
        self._add_recent(path)
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def _editor_meta(self) -> dict:
        return {"seed": self.doc.seed, "playhead": self.doc.current_frame, "model": self.bridge.model}

    # --- export -------------------------------------------------------------------------------
    def act_export_bvh(self) -> None:
        self.export(".bvh")

    def act_export_fbx(self) -> None:
        self.export(".fbx")

    def act_export_npz(self) -> None:
        self.export(".npz")

    def act_export_joints(self) -> None:
        self.export(".joints.npz")

    def act_export_eaf(self) -> None:
        self.export(".eaf")

    def export(self, extension: str, options=None) -> Task | None:
        """Ask for the options (unless given) and write in the background with progress."""
        doc = self.doc
        if options is None:
            stem = doc.path.name.split(".")[0] if doc.path else "untitled"
            folder = doc.path.parent if doc.path else Path.home()
            dlg = ExportDialog(doc.n_frames, doc.fps, doc.range, folder / f"{stem}{extension}", extension, self)
            if dlg.exec() != ExportDialog.DialogCode.Accepted:
                return None
            options = dlg.options()
        seq = doc.sequence

        def work(progress, cancelled):
            from core.io import write
            from core.io.registry import format_for
            from core.kinematics.resample import crop, resample

            out = crop(seq, options.start, options.end + 1)
            if abs(options.fps - out.fps) > 1e-6:
                out = resample(out, options.fps)
            fn = format_for(options.path, for_write=True).load().write
            accepted = inspect.signature(fn).parameters
            kw = {k: v for k, v in (("up", options.up), ("unit", options.unit), ("mesh", options.mesh),
                                    ("progress", progress)) if k in accepted}
            if "mesh" in kw and not options.mesh:
                kw.pop("mesh")
            write(options.path, out, **kw)
            return options.path

        task = Task(work, f"Exporting {options.path.name}…", self, show_after_ms=150)
        task.done.connect(lambda res, err: self.report_error(self, "Export failed", err) if err
                          else self.statusBar().showMessage(f"Exported {res}", 6000))
        self._tasks.append(task)
        return task.start()

    # --- recent files, drag and drop ------------------------------------------------------------
    def _recent(self) -> list[str]:
        v = self.settings.value("files/recent", [], list) or []
        return [str(p) for p in v if p]

    def _add_recent(self, path: Path) -> None:
        items = [str(path)] + [p for p in self._recent() if p != str(path)]
        self.settings.setValue("files/recent", items[:MAX_RECENT])
        self._build_recent_menu()

    def _build_recent_menu(self) -> None:
        file_menu = self.menus["File"]
        if not hasattr(self, "recent_menu"):
            self.recent_menu = file_menu.addMenu("Open &Recent")
            file_menu.insertMenu(self.acts["save"], self.recent_menu)
        self.recent_menu.clear()
        for p in self._recent():
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda checked=False, p=p: self.open_file(p))
        self.recent_menu.setEnabled(bool(self._recent()))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_file(files[0])

    # --- closing --------------------------------------------------------------------------------
    def _ask_save(self) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes",
                          f"Save the changes to {self.doc.title}?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        r = box.exec()
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            QMessageBox.StandardButton(r), "cancel")

    def _confirm_discard(self) -> bool:
        if not self.doc.modified:
            return True
        answer = self.ask_save()
        if answer == "save":
            return self.act_save()
        return answer == "discard"

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_discard():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        self.playback.stop()
        self.bridge.shutdown()
        self.autosave.timer.stop()
        self.autosave.discard()  # closed cleanly: nothing to recover
        self.viewport.shutdown()
        event.accept()

    def act_quit(self) -> None:
        self.close()

    # --- edit -----------------------------------------------------------------------------------
    def act_undo(self) -> None:
        self.doc.undo_stack.undo()

    def act_redo(self) -> None:
        self.doc.undo_stack.redo()

    def act_select_all(self) -> None:
        self.doc.select_keys(self.doc.key_frames().tolist())

    def act_select_none(self) -> None:
        self.doc.select_keys([])
        self.doc.set_range(None)

    def act_select_sign(self) -> None:
        f = self.doc.current_frame
        for s in segments_from_labels(self.doc.sequence.labels):
            if s.start <= f <= s.end:
                self.doc.select_keys([k for k in self.doc.key_frames().tolist() if s.start <= k <= s.end])
                return

    def _push(self, cmd) -> bool:
        reason = push(self.doc, cmd)
        if reason:
            self.statusBar().showMessage(f"Cannot {cmd.text().lower()}: {reason}", 6000)
            return False
        return True

    def act_insert_key(self) -> None:
        f = self.doc.current_frame
        if self.doc.sequence.key_at(f) is not None:
            self.statusBar().showMessage(f"Frame {f} is already a key", 3000)
            return
        if self._push(InsertKey(self.doc, f)):
            self.doc.select_keys([f])

    def act_delete_keys(self) -> None:
        keys = sorted(self.doc.selected_keys)
        if not keys and self.doc.sequence.key_at(self.doc.current_frame) is not None:
            keys = [self.doc.current_frame]
        if keys:
            self._push(DeleteKeys(self.doc, keys))

    def act_grab(self) -> None:
        if not self.timeline.begin_grab():
            self.statusBar().showMessage("Select keys first (click, shift-click or drag a box)", 3000)

    def act_scale(self) -> None:
        if not self.timeline.begin_scale():
            self.statusBar().showMessage("Select keys first (click, shift-click or drag a box)", 3000)

    def _nudge(self, delta: int) -> None:
        keys = sorted(self.doc.selected_keys)
        if keys and self._push(RetimeKeys(self.doc, {k: k + delta for k in keys}, "Nudge keys")):
            self.doc.select_keys([k + delta for k in keys])

    def act_nudge_left(self) -> None:
        self._nudge(-1)

    def act_nudge_right(self) -> None:
        self._nudge(1)

    def act_regenerate(self) -> None:
        if self.doc.range:
            self._push(SetSpanState(self.doc, *self.doc.range, FrameState.GENERATED))

    def act_keep_source(self) -> None:
        if self.doc.range:
            self._push(SetSpanState(self.doc, *self.doc.range, FrameState.SOURCE))

    def _on_retime(self, drag_id: int, mapping: dict, finished: bool, text: str) -> None:
        """Timeline drags: a throttled stream of merged undo steps, the last on release."""
        if text == "cancel":
            # back to the start: merged into the open step, which then disappears (obsolete)
            mapping = {a: a for a in mapping}
            text = "Cancel"
            finished = True
        self._retime_pending = (drag_id, dict(mapping), text)
        if finished:
            self._flush_retime()
            end_drag(self.doc)
        elif not self._retime_timer.isActive():
            self._retime_timer.start(RETIME_THROTTLE_MS)

    def _flush_retime(self) -> None:
        self._retime_timer.stop()
        if self._retime_pending is None:
            return
        drag_id, mapping, text = self._retime_pending
        self._retime_pending = None
        od = self.doc.open_drag
        if all(a == b for a, b in mapping.items()) and (od is None or od.drag_id != drag_id):
            return  # nothing moved yet
        if self._push(RetimeKeys(self.doc, mapping, text, drag_id=drag_id)):
            self.doc.select_keys(mapping.values())

    def act_accept_fast(self) -> Task | None:
        reason = fast_unavailable_reason()
        if reason:
            self.statusBar().showMessage(f"FAST is not available: {reason}", 6000)
            return None
        seq = self.doc.sequence
        lo, hi = (self.doc.range[0], self.doc.range[1] + 1) if self.doc.range else (0, seq.n_frames)

        def work(progress, cancelled):
            return run_fast(seq, progress=progress)

        task = Task(work, "Segmenting with FAST…", self, show_after_ms=150)
        task.done.connect(lambda res, err: self._fast_done(res, err, lo, hi))
        self._tasks.append(task)
        return task.start()

    def _fast_done(self, decoded, error: str, lo: int, hi: int) -> None:
        if error:
            self.report_error(self, "FAST failed", error)
            return
        keys = [Keyframe(k.frame, k.kind) for k in decoded.keyframes if lo <= k.frame < hi]
        self._push(ApplyProposals(self.doc, lo, hi, np.asarray(decoded.labels)[lo:hi], keys))

    # --- view -----------------------------------------------------------------------------------
    def act_view_front(self) -> None:
        self.viewport.view_front()

    def act_view_side(self) -> None:
        self.viewport.view_side()

    def act_view_hands(self) -> None:
        self.viewport.view_hands()

    def act_toggle_skeleton(self, on: bool) -> None:
        self.viewport.set_skeleton_visible(on)

    def act_toggle_onion(self, on: bool) -> None:
        self.viewport.set_onion(on)

    def act_toggle_mesh(self, on: bool) -> None:
        self.viewport.set_mesh_visible(on)

    def act_zoom_all(self) -> None:
        self.timeline.zoom_all()

    def act_reset_layout(self) -> None:
        for dock in (self.inspector_dock, self.history_dock):
            dock.setFloating(False)
            dock.show()
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.toolbar.show()
        self.splitter.setSizes([560, 240])

    # --- playback -------------------------------------------------------------------------------
    def act_play(self) -> None:
        self.playback.toggle()

    def act_step_back(self) -> None:
        self.playback.step(-1)

    def act_step_forward(self) -> None:
        self.playback.step(1)

    def act_next_key(self) -> None:
        self.playback.jump_key(1)

    def act_prev_key(self) -> None:
        self.playback.jump_key(-1)

    def act_first_frame(self) -> None:
        self.playback.home()

    def act_last_frame(self) -> None:
        self.playback.end()

    def act_loop(self, on: bool) -> None:
        self.playback.loop = bool(on)

    def __getattr__(self, name: str):
        # speed_<x> entries of the action table
        if name.startswith("act_speed_"):
            speed = float(name[len("act_speed_"):])
            return lambda checked=False: self.playback.set_speed(speed)
        raise AttributeError(name)

    # --- in-between -----------------------------------------------------------------------------
    def act_reroll(self) -> None:
        seed = self.doc.reroll()
        self.statusBar().showMessage(f"New seed {seed}: regenerating", 3000)

    def act_model_settings(self) -> None:
        dlg = ModelSettingsDialog(self.settings.value("models/official_checkpoint", "", str),
                                  self.settings.value("models/smplx_dir", "", str), self)
        if dlg.exec() == ModelSettingsDialog.DialogCode.Accepted:
            self.settings.setValue("models/official_checkpoint", dlg.checkpoint.text())
            self.settings.setValue("models/smplx_dir", dlg.smplx.text())
            self.bridge.options["checkpoint"] = dlg.checkpoint.text()
            for spec, reason in self.bridge.models():
                act = self.model_actions.get(spec.name)
                if act is not None:
                    act.setEnabled(reason is None)
                    act.setToolTip(reason or spec.description)

    # --- help -----------------------------------------------------------------------------------
    def act_help(self) -> None:
        HelpDialog(action_table.shortcut_rows(), self).exec()

    def act_about(self) -> None:
        QMessageBox.about(self, "About Signframe",
                          "<b>Signframe</b><br>Keyframe editor for 3D sign-language animation.<br>"
                          "In-betweening after SignSparK (KF2P), sign segmentation after FAST.")


__all__ = ["MainWindow"]

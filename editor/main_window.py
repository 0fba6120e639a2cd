"""The main window: viewport on top, timeline below, inspector and undo-history docks, status bar;
menus, toolbar and shortcuts from the action table. The work behind the actions lives in three
controllers the window wires: files (``FileController``), keys and ranges (``KeysController``),
playback (``PlaybackController``); the window itself keeps the view, model and help actions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QSplitter, QUndoView

from core.jobs import model_spec
from core.model.sequence import Sequence

from . import actions as action_table
from .autosave import Autosaver
from .bridge import InbetweenBridge
from .dialogs import ErrorReporter, HelpDialog, ModelSettingsDialog, show_error
from .document import Document
from .file_controller import FileController
from .inspector import Inspector
from .keys_controller import KeysController
from .linguist import LinguistController
from .media_controller import MediaController
from .playback_controller import PlaybackController
from .tasks import Task
from .timeline import Timeline
from .viewport import Viewport

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Signals: fileOpened(path), firstResultShown() (the first in-betweening result is drawn).

    ``ask_save() -> "save" | "discard" | "cancel"`` answers "unsaved changes" (a dialog; scripts
    and tests replace it)."""

    fileOpened = Signal(str)
    firstResultShown = Signal()

    def __init__(
        self,
        sequence: Sequence,
        path: str | Path | None = None,
        *,
        settings: QSettings | None = None,
        error_reporter: ErrorReporter | None = None,
        smplx_dir: str | None = None,
        recovery_dir: str | Path | None = None,
        autosave_ms: int = 2500,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.report_error: ErrorReporter = error_reporter or show_error
        self.setObjectName("signframe-main")
        self.setAcceptDrops(True)
        self.doc = Document(sequence, path, self)
        self._first_result = False

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
        from .handshape_palette import HandshapePalette

        user_shapes = Path(self.settings.fileName()).parent / "handshapes.npz"
        self.handshapes = HandshapePalette(self, user_file=user_shapes)
        self.handshape_dock = QDockWidget("Handshapes", self)
        self.handshape_dock.setObjectName("handshape-dock")
        self.handshape_dock.setWidget(self.handshapes)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.handshape_dock)
        self.tabifyDockWidget(self.inspector_dock, self.handshape_dock)
        self.inspector_dock.raise_()

        # services and controllers
        options = {"checkpoint": self.settings.value("models/official_checkpoint", "", str)}
        self.bridge = InbetweenBridge(self.doc, model="eased", options=options, parent=self)
        self.bridge.hold()  # released once the window is on screen (showEvent)
        self.autosave = Autosaver(self.doc, recovery_dir, idle_ms=autosave_ms, parent=self)
        self.files = FileController(self)
        self.keys = KeysController(self)
        self.play = PlaybackController(self)
        self.linguist = LinguistController(self)
        self.playback = self.play.playback
        self.ask_save: Callable[[], str] = self.files.ask_save

        # actions, menus, toolbar
        self._handlers = self._collect_handlers()
        self.acts, self.menus, self.toolbar = action_table.build_actions(self, self._handlers.get)
        self.files.build_recent_menu(self.menus["File"], self.acts["save"])
        self._build_model_menu()
        self.media = MediaController(self)  # reference video / audio: dock, lane, File menu entries
        self._status_bar()

        # wiring
        self.viewport.set_document(self.doc)
        self.timeline.set_document(self.doc)
        self.inspector.set_document(self.doc)
        self.handshapes.set_document(self.doc)
        self.handshapes.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.viewport.pose_tool.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.viewport.jointPicked.connect(self.doc.set_joint)
        self.timeline.modalChanged.connect(lambda text: self.statusBar().showMessage(text))
        self.inspector.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.bridge.stateChanged.connect(self._on_inbetween_state)
        self.bridge.finished.connect(self._on_inbetween_result)
        self.doc.currentFrameChanged.connect(self._update_frame_status)
        self.doc.modifiedChanged.connect(self._update_title)
        self.doc.pathChanged.connect(self._update_title)
        self.doc.selectionChanged.connect(self._update_enabled)
        self.doc.sequenceEdited.connect(lambda lo, hi: self._update_enabled())
        self.doc.undo_stack.canUndoChanged.connect(self.acts["undo"].setEnabled)
        self.doc.undo_stack.canRedoChanged.connect(self.acts["redo"].setEnabled)
        self.autosave.failed.connect(lambda e: self.statusBar().showMessage(f"Autosave failed: {e}", 8000))

        self.resize(1280, 860)
        self.restoreGeometry(self.settings.value("window/geometry", b"", bytes) or b"")
        self.restoreState(self.settings.value("window/state", b"", bytes) or b"")
        self._choose_initial_model()
        self._update_title()
        self._update_frame_status(self.doc.current_frame)
        self._update_enabled()
        self.viewport.view_front()
        self._shown = False

    def _collect_handlers(self) -> dict[str, Callable]:
        """Action name -> slot: ``act_<name>`` of the window or a controller, and the speeds."""
        out: dict[str, Callable] = dict(self.play.speed_handlers())
        for spec in action_table.ACTIONS:
            for owner in (self, self.files, self.keys, self.play, self.linguist):
                fn = getattr(owner, f"act_{spec.name}", None)
                if fn is not None:
                    out.setdefault(spec.name, fn)
                    break
        return out

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
        self.linguist.start()

    # --- the controllers' entry points used by scripts and tests --------------------------------
    def open_file(self, path: str | Path, *, recovery_of: str | None = None) -> Task | None:
        return self.files.open_file(path, recovery_of=recovery_of)

    def save_to(self, path: Path) -> bool:
        return self.files.save_to(path)

    def export(self, extension: str, options=None) -> Task | None:
        return self.files.export(extension, options)

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
        self.play.fps_label = self.st_fps

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

    def _update_title(self, *args) -> None:
        self.setWindowTitle(f"{self.doc.title}[*] — Signframe")
        self.setWindowModified(self.doc.modified)

    def _update_enabled(self) -> None:
        self.keys.update_enabled(self.acts)

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

    def act_reroll(self) -> None:
        seed = self.doc.reroll()
        self.statusBar().showMessage(f"New seed {seed}: regenerating", 3000)

    def act_model_settings(self) -> None:
        dlg = ModelSettingsDialog(
            self.settings.value("models/official_checkpoint", "", str),
            self.settings.value("models/smplx_dir", "", str),
            self,
        )
        if dlg.exec() == ModelSettingsDialog.DialogCode.Accepted:
            self.settings.setValue("models/official_checkpoint", dlg.checkpoint.text())
            self.settings.setValue("models/smplx_dir", dlg.smplx.text())
            self.bridge.options["checkpoint"] = dlg.checkpoint.text()
            for spec, reason in self.bridge.models():
                act = self.model_actions.get(spec.name)
                if act is not None:
                    act.setEnabled(reason is None)
                    act.setToolTip(reason or spec.description)

    # --- drag and drop, closing -------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            if not self.media.attach_dropped(files[0]):  # a video or audio file is attached instead
                self.open_file(files[0])

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        self.playback.stop()
        self.media.shutdown()
        self.bridge.shutdown()
        self.autosave.timer.stop()
        self.autosave.discard()  # closed cleanly: nothing to recover
        self.viewport.shutdown()
        event.accept()

    def act_quit(self) -> None:
        self.close()

    # --- view -------------------------------------------------------------------------------------
    def act_copy_keys(self) -> None:
        from .key_clipboard import KeyClipboard

        if not hasattr(self, "key_clipboard"):
            self.key_clipboard = KeyClipboard()
        n = self.key_clipboard.copy(self.doc, self.doc.selected_keys)
        self.statusBar().showMessage(f"Copied {n} key{'s' if n != 1 else ''}" if n else "Select keys to copy", 4000)

    def act_paste_keys(self) -> None:
        clip = getattr(self, "key_clipboard", None)
        frames, why = clip.paste(self.doc, self.doc.current_frame) if clip else ([], "nothing copied")
        self.statusBar().showMessage(f"Cannot paste: {why}" if why else f"Pasted {len(frames)} keys", 5000)
        if frames:
            self.doc.select_keys(frames)

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
        for dock in (self.inspector_dock, self.history_dock, self.linguist.dock):
            dock.setFloating(False)
            dock.show()
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.toolbar.show()
        self.splitter.setSizes([560, 240])

    # --- help -------------------------------------------------------------------------------------
    def act_help(self) -> None:
        HelpDialog(action_table.shortcut_rows(), self).exec()

    def act_about(self) -> None:
        QMessageBox.about(
            self,
            "About Signframe",
            "<b>Signframe</b><br>Keyframe editor for 3D sign-language animation.<br>"
            "In-betweening after SignSparK (KF2P), sign segmentation after FAST.",
        )


__all__ = ["MainWindow"]

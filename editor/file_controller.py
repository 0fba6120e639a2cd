"""Files: open (in the background), save, save as, export with progress, recent files, and the
"unsaved changes" question. The main window wires its actions here."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from .dialogs import ExportDialog
from .tasks import Task

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from .main_window import MainWindow

OPEN_FILTER = (
    "Motion and projects (*.signframe *.npz *.pose *.bvh *.eaf);;Signframe project (*.signframe);;"
    "SMPL-X / SignSparK (*.npz);;MediaPipe pose (*.pose);;BVH (*.bvh);;All files (*)"
)
MAX_RECENT = 8


class FileController(QObject):
    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.doc = win.doc
        self.recent_menu: QMenu | None = None
        self._tasks: list[Task] = []

    def _status(self, text: str, ms: int) -> None:
        self.win.statusBar().showMessage(text, ms)

    # --- open -----------------------------------------------------------------------------------
    def act_open(self) -> None:
        start = str(self.doc.path.parent) if self.doc.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self.win, "Open", start, OPEN_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path, *, recovery_of: str | None = None) -> Task | None:
        """Read ``path`` in the background; the document changes only when the read succeeds."""
        if Path(path).suffix.lower() == ".eaf":  # annotations, no motion: onto the open one
            self.win.linguist.import_file(path)
            return None
        if not self.confirm_discard():
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

        task = Task(work, f"Opening {path.name}…", self.win)
        task.done.connect(lambda res, err: self._opened(path, res, err, recovery_of))
        self._tasks.append(task)
        return task.start()

    def _opened(self, path: Path, result, error: str, recovery_of: str | None) -> None:
        win, doc = self.win, self.doc
        if error:
            win.report_error(win, "Cannot open file", error)
            return
        seq, editor = result
        win.playback.stop()
        doc.replace_sequence(seq, recovery_of if recovery_of is not None else path)
        if isinstance(editor.get("seed"), int):
            doc.seed = editor["seed"]
        if isinstance(editor.get("playhead"), int):
            doc.set_current_frame(editor["playhead"])
        if recovery_of is not None:
            from .recovery_history import restore_history

            _, history_problem = restore_history(doc, path, editor)  # the crashed session's undo stack
            win.autosave.adopt(path)  # its files go once this document has its own
            # recovered work is unsaved work: mark it modified until the user saves
            doc.path = Path(recovery_of) if recovery_of else None
            doc.undo_stack.resetClean()
            doc.pathChanged.emit()
        else:
            self.add_recent(path)
            from core.io.atomic import remove_stale_temps

            remove_stale_temps(path)  # temp files a killed save left beside it
        win.timeline.zoom_all()
        win.fileOpened.emit(str(path))
        self._status(f"Opened {path.name}: {seq.n_frames} frames at {seq.fps:g} fps, {len(seq.keyframes)} keys", 6000)
        if recovery_of is not None and history_problem:  # said once; the recovered document stands
            self._status(history_problem, 15000)

    # --- save -----------------------------------------------------------------------------------
    def act_save(self) -> bool:
        if self.doc.path is None or self.doc.path.suffix != ".signframe":
            return self.act_save_as()
        return self.save_to(self.doc.path)

    def act_save_as(self) -> bool:
        base = self.doc.path.with_suffix(".signframe") if self.doc.path else Path.home() / "untitled.signframe"
        path, _ = QFileDialog.getSaveFileName(self.win, "Save project", str(base), "Signframe project (*.signframe)")
        if not path:
            return False
        if not path.endswith(".signframe"):
            path += ".signframe"
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        from core.io import write

        try:
            write(path, self.doc.sequence, editor=self.editor_meta(), media=self.win.media.links)
        except Exception as e:
            self.win.report_error(self.win, "Cannot save", str(e))
            return False
        self.doc.mark_saved(path)
        self.add_recent(path)
        self._status(f"Saved {path}", 4000)
        return True

    def editor_meta(self) -> dict:
        return {"seed": self.doc.seed, "playhead": self.doc.current_frame, "model": self.win.bridge.model}

    # --- export ---------------------------------------------------------------------------------
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
            dlg = ExportDialog(doc.n_frames, doc.fps, doc.range, folder / f"{stem}{extension}", extension, self.win)
            if dlg.exec() != ExportDialog.DialogCode.Accepted:
                return None
            options = dlg.options()
        seq = doc.sequence
        motion = doc.path
        links = self.win.media.links

        def work(progress, cancelled):
            from core.io import write
            from core.io.registry import format_for
            from core.kinematics.resample import crop, resample
            from core.media.links import elan_links

            out = crop(seq, options.start, options.end + 1)
            if abs(options.fps - out.fps) > 1e-6:
                out = resample(out, options.fps)
            fn = format_for(options.path, for_write=True).load().write
            accepted = inspect.signature(fn).parameters
            kw = {
                k: v
                for k, v in (
                    ("up", options.up),
                    ("unit", options.unit),
                    ("mesh", options.mesh),
                    ("progress", progress),
                )
                if k in accepted
            }
            if "mesh" in kw and not options.mesh:
                kw.pop("mesh")
            if "linked_file" in accepted:  # ELAN: the attached media (or a video beside), the motion
                from core.io.eaf import shifted

                kw.update(elan_links(motion, options.path, links, source_file=seq.meta.get("source_file")))
                out = shifted(out, options.start) if options.start else out  # times stay the video's
            if "origin" in accepted:  # stand on the floor unless the dialog keeps the origin
                kw["origin"] = getattr(options, "origin", "floor")
            write(options.path, out, **kw)
            return options.path

        task = Task(work, f"Exporting {options.path.name}…", self.win, show_after_ms=150)
        task.done.connect(
            lambda res, err: (
                self.win.report_error(self.win, "Export failed", err) if err else self._status(f"Exported {res}", 6000)
            )
        )
        self._tasks.append(task)
        return task.start()

    # --- recent files -----------------------------------------------------------------------------
    def recent(self) -> list[str]:
        v = self.win.settings.value("files/recent", [], list) or []
        return [str(p) for p in v if p]

    def add_recent(self, path: Path) -> None:
        items = [str(path)] + [p for p in self.recent() if p != str(path)]
        self.win.settings.setValue("files/recent", items[:MAX_RECENT])
        self.build_recent_menu()

    def build_recent_menu(self, file_menu: QMenu | None = None, before: QAction | None = None) -> None:
        """The File menu's "Open Recent" (created in ``file_menu`` before ``before`` the first time)."""
        if self.recent_menu is None:
            if file_menu is None:
                return
            self.recent_menu = file_menu.addMenu("Open &Recent")
            file_menu.insertMenu(before, self.recent_menu)
        self.recent_menu.clear()
        for p in self.recent():
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda checked=False, p=p: self.open_file(p))
        self.recent_menu.setEnabled(bool(self.recent()))

    # --- unsaved changes --------------------------------------------------------------------------
    def ask_save(self) -> str:
        """ "save", "discard" or "cancel", from a dialog."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved changes",
            f"Save the changes to {self.doc.title}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            self.win,
        )
        r = box.exec()
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            QMessageBox.StandardButton(r), "cancel"
        )

    def confirm_discard(self) -> bool:
        """True when the document may be replaced or closed (saved first if the user asks)."""
        if not self.doc.modified:
            return True
        answer = self.win.ask_save()  # replaceable on the window (scripts, tests)
        if answer == "save":
            return self.act_save()
        return answer == "discard"

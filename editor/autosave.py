"""Autosave to a recovery file a few seconds after the last change, and recovery at next start.

The recovery file is a normal project (``core.io.write`` to ``.signframe``, atomic) plus the
original path in its editor metadata. It is written from a snapshot on a background thread (a
``Sequence`` is immutable), deleted when the document is saved or closed cleanly, and offered at
the next start when it is still there (the editor crashed or was killed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from .document import Document

log = logging.getLogger(__name__)
RECOVERY_NAME = "recovery.signframe"


def default_recovery_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".signframe") / "recovery"


class Autosaver(QObject):
    """Signals: saved(path) after a recovery file is written (GUI thread), failed(message)."""

    saved = Signal(str)
    failed = Signal(str)
    _done = Signal(str, str)

    def __init__(
        self, doc: Document, folder: str | Path | None = None, idle_ms: int = 3000, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.doc = doc
        self.folder = Path(folder) if folder else default_recovery_dir()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(idle_ms)
        self.timer.timeout.connect(self.save_now)
        self._thread: threading.Thread | None = None
        self.last_write_ms: float | None = None
        self.media_links: Callable[[], tuple] = tuple  # the document's media links (MediaController sets it)
        self._done.connect(self._finished)
        doc.sequenceEdited.connect(lambda lo, hi: self.timer.start())
        doc.modifiedChanged.connect(self._on_modified)

    @property
    def path(self) -> Path:
        return self.folder / RECOVERY_NAME

    def _on_modified(self, modified: bool) -> None:
        if not modified:  # saved, or undone back to the saved state
            self.timer.stop()
            self.discard()

    def save_now(self) -> None:
        if not self.doc.modified:
            return
        if self._thread is not None and self._thread.is_alive():
            self.timer.start()  # a write is still running: try again after the next idle period
            return
        seq = self.doc.sequence
        editor = {
            "recovery_of": str(self.doc.path) if self.doc.path else None,
            "saved_at": time.time(),
            "seed": self.doc.seed,
            "playhead": self.doc.current_frame,
        }
        path = self.path
        media = tuple(self.media_links())

        def work() -> None:
            t0 = time.perf_counter()
            try:
                from core.io import write

                path.parent.mkdir(parents=True, exist_ok=True)
                write(path, seq, editor=editor, media=media)
                self.last_write_ms = (time.perf_counter() - t0) * 1e3
                self._done.emit(str(path), "")
            except Exception as e:  # never let autosave take the editor down
                log.exception("autosave failed")
                self._done.emit(str(path), f"{type(e).__name__}: {e}")

        self._thread = threading.Thread(target=work, name="signframe-autosave", daemon=True)
        self._thread.start()

    def _finished(self, path: str, error: str) -> None:
        if error:
            self.failed.emit(error)
        else:
            self.saved.emit(path)

    def wait(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def discard(self) -> None:
        self.wait()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("cannot remove %s: %s", self.path, e)


def pending_recovery(folder: str | Path | None = None) -> tuple[Path, dict] | None:
    """(recovery file, its editor metadata) when an unsaved session was left behind."""
    path = (Path(folder) if folder else default_recovery_dir()) / RECOVERY_NAME
    if not path.is_file():
        return None
    try:
        from core.io.project import read_project

        _, editor = read_project(path)
    except Exception as e:
        log.warning("recovery file %s unreadable (%s)", path, e)
        return path, {}
    return path, editor

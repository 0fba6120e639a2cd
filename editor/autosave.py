"""Autosave to a recovery file shortly after a change, and recovery at next start.

Each open document has its own recovery file, ``recovery-<pid>-<random>.signframe`` (a normal
project, ``core.io.write``, atomic, the original path in its editor metadata), and beside it
its undo stack (``core.io.history_file``: done and undone steps, and the index) and a lock file
the running editor holds (``fcntl.flock``; released by the kernel when the process dies, however
it dies). So two editors never share a recovery file, a clean close of one never deletes the
other's, and at start only the files of editors that are gone are offered.

A write happens at most ``idle_ms`` after the first unsaved change (not after the last one: a
user who keeps editing must not lose more than that); an undo or redo counts as a change, since
the stack's index is saved too. It is made from a snapshot on a
background thread (a ``Sequence`` and the patches are immutable), and deleted when the document
is saved or closed cleanly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from .document import Document

try:  # POSIX; elsewhere a recovery file counts as abandoned when its pid is gone
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
RECOVERY_NAME = "recovery.signframe"  # the single shared file of older builds (still offered)
RECOVERY_GLOB = "recovery-*.signframe"


def default_recovery_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".signframe") / "recovery"


def lock_path(recovery: Path) -> Path:
    return recovery.with_name(recovery.name + ".lock")


def _in_use(recovery: Path) -> bool:
    """Whether a running editor holds ``recovery``'s lock."""
    lock = lock_path(recovery)
    if fcntl is None:
        try:
            pid = int(recovery.name.split("-")[1])
            os.kill(pid, 0)
        except (IndexError, ValueError, ProcessLookupError):
            return False
        except OSError:
            return True
        return True
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False  # no lock file: its editor is gone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock we took
    return False


def recovery_files(recovery: Path) -> list[Path]:
    from core.io.history_file import history_path

    return [recovery, history_path(recovery), lock_path(recovery)]


class Autosaver(QObject):
    """Signals: saved(path) after a recovery file is written (GUI thread), failed(message)."""

    saved = Signal(str)
    failed = Signal(str)
    _done = Signal(str, str)

    def __init__(
        self, doc: Document, folder: str | Path | None = None, idle_ms: int = 2500, parent: QObject | None = None
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
        self._name = f"recovery-{os.getpid()}-{uuid.uuid4().hex[:10]}.signframe"
        self._lock_fd: int | None = None
        self.adopted: list[Path] = []  # a dead editor's recovery files this document took over
        self._done.connect(self._finished)
        doc.sequenceEdited.connect(self._on_edit)
        doc.modifiedChanged.connect(self._on_modified)
        doc.undo_stack.indexChanged.connect(lambda _i: self._on_edit(0, 0))  # undo / redo: new index
        self._clean_stale_temps()

    @property
    def path(self) -> Path:
        return self.folder / self._name

    def _clean_stale_temps(self) -> None:
        from core.io.atomic import remove_stale_temps

        for p in remove_stale_temps(self.folder, any_target=True):
            log.info("removed %s (an interrupted write)", p)

    def _on_edit(self, lo: int, hi: int) -> None:
        if not self.timer.isActive():  # bounded: at most idle_ms after the first unsaved change
            self.timer.start()

    def _on_modified(self, modified: bool) -> None:
        if not modified:  # saved, or undone back to the saved state
            self.timer.stop()
            self.discard()

    def _take_lock(self) -> None:
        if self._lock_fd is not None or fcntl is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path(self.path), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(FileNotFoundError):
                lock_path(self.path).unlink()
            os.close(self._lock_fd)
            self._lock_fd = None

    def adopt(self, recovery: str | Path) -> None:
        """Take over a dead editor's recovery file: it is deleted once this document has its
        own recovery file or is saved."""
        self.adopted.append(Path(recovery))

    def save_now(self) -> None:
        if not self.doc.modified:
            return
        if self._thread is not None and self._thread.is_alive():
            self.timer.start()  # a write is still running: try again shortly
            return
        from .recovery_history import stack_patches

        seq = self.doc.sequence
        patches, index = stack_patches(self.doc.undo_stack)
        token = uuid.uuid4().hex
        editor: dict[str, Any] = {
            "recovery_of": str(self.doc.path) if self.doc.path else None,
            "saved_at": time.time(),
            "seed": self.doc.seed,
            "playhead": self.doc.current_frame,
            "history_token": token,
            "history_steps": len(patches),
            "history_index": index,
        }
        path = self.path
        media = tuple(self.media_links())
        try:
            self._take_lock()
        except OSError as e:
            self._finished(str(path), f"cannot lock the recovery file ({e})")
            return

        def work() -> None:
            t0 = time.perf_counter()
            try:
                from core.io import write
                from core.io.history_file import history_path, write_history

                path.parent.mkdir(parents=True, exist_ok=True)
                write_history(history_path(path), patches, token, index)  # first: the project names it
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
            return
        self._drop_adopted()
        self.saved.emit(path)

    def _drop_adopted(self) -> None:
        for old in self.adopted:
            for p in recovery_files(old):
                with contextlib.suppress(OSError):
                    p.unlink()
        self.adopted.clear()

    def wait(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def discard(self) -> None:
        """Delete this document's recovery files (and adopted ones): saved or closed cleanly."""
        self.wait()
        for p in recovery_files(self.path)[:2]:
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            except OSError as e:
                log.warning("cannot remove %s: %s", p, e)
        self._release_lock()
        self._drop_adopted()


def pending_recoveries(folder: str | Path | None = None) -> list[tuple[Path, dict]]:
    """(recovery file, its editor metadata) for every unsaved session left behind by an editor
    that is no longer running, newest first. Files of running editors are never listed."""
    folder = Path(folder) if folder else default_recovery_dir()
    try:
        from core.io.atomic import remove_stale_temps

        remove_stale_temps(folder, any_target=True)
        found = [p for p in folder.glob(RECOVERY_GLOB) if p.is_file()]
    except OSError:
        return []
    legacy = folder / RECOVERY_NAME
    if legacy.is_file():
        found.append(legacy)
    out = []
    for path in found:
        if path != legacy and _in_use(path):
            continue
        try:
            from core.io.project import read_project

            _, editor = read_project(path)
        except Exception as e:
            log.warning("recovery file %s unreadable (%s)", path, e)
            editor = {}
        out.append((path, editor))
    out.sort(key=lambda pe: pe[1].get("saved_at") or 0.0, reverse=True)
    return out


def pending_recovery(folder: str | Path | None = None) -> tuple[Path, dict] | None:
    """The newest unsaved session left behind (``pending_recoveries``), or None."""
    found = pending_recoveries(folder)
    return found[0] if found else None

"""Video frames decoded off the GUI thread: the latest request wins, and while nothing is asked the
thread reads ahead of the last frame asked for (playback and forward scrubbing then find their
frames decoded). The GUI thread shows what ``VideoReader.cached_frame`` already has at once and
gets the rest through ``ready(index, image)``, queued to it.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from core.io.errors import FormatError
from core.media.video import VideoReader

READ_AHEAD = 12  # frames decoded past the last request while idle (half a second at 25 fps)


class FrameFetcher(QObject):
    """Signals: ready(index, image (H, W, 3) uint8); failed(message)."""

    ready = Signal(int, object)
    failed = Signal(str)

    def __init__(self, reader: VideoReader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self._cond = threading.Condition()
        self._want: int | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="signframe-video", daemon=True)
        self._thread.start()

    def request(self, i: int) -> None:
        with self._cond:
            self._want = int(i)
            self._cond.notify()

    def _next(self, last: int | None) -> tuple[int, bool] | None:
        """(frame, asked) to decode next: the newest request, else the next frame to read ahead."""
        with self._cond:
            while True:
                if self._stop:
                    return None
                if self._want is not None:
                    i, self._want = self._want, None
                    return i, True
                if last is not None:
                    for k in range(last + 1, min(last + 1 + READ_AHEAD, self.reader.n_frames)):
                        if not self.reader.cached(k):
                            return k, False
                self._cond.wait()

    def _run(self) -> None:
        asked_last: int | None = None
        while True:
            job = self._next(asked_last)
            if job is None:
                return
            i, asked = job
            try:
                img = self.reader.frame(i)
            except Exception as e:  # noqa: BLE001 - a bad file must not end the thread (or the editor)
                if asked:
                    self.failed.emit(str(e) if isinstance(e, FormatError) else f"{self.reader.path}: {e}")
                asked_last = None
                continue
            if asked:
                asked_last = i
                self.ready.emit(i, img)

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(5.0)
        self.reader.close()

"""A headless editing session for the kill -9 test: a Document with its Autosaver, one undoable
edit (a key insertion) every 100 ms, each printed as a JSON line with its wall time.

``python -m tests.editor.autosave_child SAMPLE RECOVERY_DIR`` (QT_QPA_PLATFORM=offscreen)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication([])
    from core.io import read
    from editor.autosave import Autosaver
    from editor.commands import InsertKey, push
    from editor.document import Document

    sample, folder = Path(sys.argv[1]), Path(sys.argv[2])
    doc = Document(read(sample), sample)
    auto = Autosaver(doc, folder)  # the editor's default interval
    have = set(doc.sequence.key_frames.tolist())
    frames = [f for f in range(1, doc.n_frames - 1) if f not in have]
    state = {"i": 0}

    def say(**kw) -> None:
        print(json.dumps(dict(kw, t=time.time())), flush=True)

    def tick() -> None:
        i = state["i"]
        if i >= len(frames):
            return
        assert push(doc, InsertKey(doc, frames[i])) is None
        state["i"] = i + 1
        say(edit=i, frame=frames[i])

    auto.saved.connect(lambda p: say(saved=p))
    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(100)
    say(ready=str(auto.path))
    app.exec()


if __name__ == "__main__":
    main()

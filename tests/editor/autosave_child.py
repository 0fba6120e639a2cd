"""A headless editing session for the kill -9 tests: a Document with its Autosaver, one undoable
edit (a key insertion) every 100 ms, each printed as a JSON line with its wall time.

``python -m tests.editor.autosave_child SAMPLE RECOVERY_DIR [N K]`` (QT_QPA_PLATFORM=offscreen).
With N and K: N insertions, one undo and one more insertion (the new step replaces the undone
one, as in any editor), then K undos, then nothing until killed; every line carries the stack's
index and count and ``state_digest`` of the document after that action."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path


def state_digest(seq) -> str:
    """SHA-256 over every bit of a sequence's frames, keys and glosses (bitwise: -0.0 != +0.0)."""
    h = hashlib.sha256()
    for name, a in sorted(seq.frame_arrays().items()):
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    h.update(repr((seq.keyframes, seq.glosses)).encode())
    return h.hexdigest()


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
    if len(sys.argv) > 4:
        n, k = int(sys.argv[3]), int(sys.argv[4])
        plan = ["insert"] * n + ["undo", "insert"] + ["undo"] * k
    else:
        plan = ["insert"] * len(frames)
    state = {"i": 0, "key": 0}
    stack = doc.undo_stack

    def say(**kw) -> None:
        print(json.dumps(dict(kw, t=time.time())), flush=True)

    def tick() -> None:
        i = state["i"]
        if i >= len(plan):
            return
        if plan[i] == "insert":
            assert push(doc, InsertKey(doc, frames[state["key"]])) is None
            state["key"] += 1
        else:
            stack.undo()
        state["i"] = i + 1
        say(edit=i, action=plan[i], index=stack.index(), count=stack.count(), digest=state_digest(doc.sequence))
        if state["i"] == len(plan):
            say(done=True)

    auto.saved.connect(lambda p: say(saved=p))
    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(100)
    say(ready=str(auto.path), digest=state_digest(doc.sequence))
    app.exec()


if __name__ == "__main__":
    main()

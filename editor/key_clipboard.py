"""Copy and paste keys in time: Ctrl+C takes the selected keys (kind and whole pose, spacing
kept), Ctrl+V puts them at the playhead (the first copied key there). Existing keys at the
target frames take the pasted pose; other frames become new keys. One paste is one undo step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.model.sequence import KeyKind

from .commands import InsertKey, SetJointRotations


@dataclass(frozen=True, eq=False)
class CopiedKey:
    offset: int  # frames after the first copied key
    kind: KeyKind
    pose: np.ndarray  # (J, 3, 3) float32


class KeyClipboard:
    def __init__(self) -> None:
        self.keys: tuple[CopiedKey, ...] = ()

    def copy(self, doc, frames) -> int:
        """Copy the keys at ``frames``; returns how many."""
        seq = doc.sequence
        frames = sorted(int(f) for f in frames if seq.key_at(int(f)) is not None)
        if not frames:
            return 0
        first = frames[0]
        self.keys = tuple(
            CopiedKey(f - first, seq.key_at(f).kind, seq.rotations[f].astype(np.float32).copy()) for f in frames
        )
        return len(self.keys)

    def paste(self, doc, at: int) -> tuple[list[int], str | None]:
        """Paste at frame ``at``: (frames pasted, None) or ([], why not)."""
        if not self.keys:
            return [], "nothing copied"
        n = doc.n_frames
        targets = [at + k.offset for k in self.keys]
        if targets[0] < 0 or targets[-1] >= n:
            return [], f"the keys would run past the sequence (frames {targets[0]}-{targets[-1]} of 0-{n - 1})"
        stack = doc.undo_stack
        count = stack.count()
        stack.beginMacro(f"Paste {len(self.keys)} key{'s' if len(self.keys) != 1 else ''} at {at}")
        try:
            for k, f in zip(self.keys, targets):
                if doc.sequence.key_at(f) is not None:
                    cmd = SetJointRotations(doc, f, list(range(doc.sequence.n_joints)), k.pose, f"Paste pose at {f}")
                else:
                    cmd = InsertKey(doc, f, k.kind, k.pose, "Paste key")
                cmd.prepare()
                stack.push(cmd)
        except Exception as e:  # an edit that cannot apply: nothing of the paste stays
            stack.endMacro()
            if stack.count() > count:
                stack.undo()
            return [], str(e)
        stack.endMacro()
        return targets, None

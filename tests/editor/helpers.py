"""Helpers shared by the editor tests."""

from __future__ import annotations

import numpy as np


def settle(qtbot, win, timeout=10000) -> None:
    """Wait until every edit has been in-betweened and applied on the GUI thread."""
    qtbot.waitUntil(
        lambda: not win.doc.pending and not win.bridge.running and not win.bridge.service.busy, timeout=timeout
    )
    qtbot.wait(20)


def baseline(seq):
    """What the eased-SLERP in-betweener must produce for ``seq`` (computed by core, not the editor)."""
    from core.kinematics.slerp import inbetween_baseline, smoothstep

    return inbetween_baseline(seq, smoothstep)


def generated_between(seq, lo, hi):
    """Indices of GENERATED frames in [lo, hi)."""
    from core.model.sequence import FrameState

    s = seq.states
    return np.array([f for f in range(lo, hi) if s[f] == FrameState.GENERATED])

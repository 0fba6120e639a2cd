"""The one drag throttle: the newest step wins, at most one per interval, flush applies at once."""

from __future__ import annotations

from editor.throttle import DragThrottle


def test_newest_step_wins_and_flush_applies_the_last_at_once(qtbot):
    th = DragThrottle(interval_ms=40)
    done = []
    for i in range(5):
        th.step(lambda i=i: done.append(i))
    assert done == []  # nothing before the interval
    qtbot.waitUntil(lambda: done == [4], timeout=2000)
    th.step(lambda: done.append(5))
    th.step(lambda: done.append(6))
    th.flush()  # the gesture ended: the waiting step now, once
    assert done == [4, 6]
    qtbot.wait(80)
    th.flush()
    assert done == [4, 6]

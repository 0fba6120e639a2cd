"""The inspector reads a shoulder as flexion / abduction / twist (from the hanging arm) and edits
it within the shoulder's limits, one undo step per change."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.kinematics.anatomy import SHOULDER_TWIST, joint_params, limit_violations, to_params
from core.model import JOINT_INDEX


@pytest.mark.parametrize("side", ["left", "right"])
def test_inspector_reads_and_edits_a_shoulder_anatomically(qtbot, window, side):
    doc, insp = window.doc, window.inspector
    doc.set_current_frame(97)
    j = JOINT_INDEX[f"{side}_shoulder"]
    doc.set_joint(j)
    qtbot.wait(20)
    assert [s.name.text() for s in insp.angles] == ["Flexion", "Abduction", "Twist"]
    assert "anatomical" in insp.joint_label.text()
    sk = doc.sequence.skeleton
    jp = joint_params(sk, j)
    before = to_params(jp, doc.sequence.rotations[97, j])
    for s, v in zip(insp.angles, before):
        assert s.value_label.text() == f"{v:.1f}°"
    n_undo = doc.undo_stack.count()
    insp.angles[0].slider.setFocus()
    qtbot.keyClick(insp.angles[0].slider, Qt.Key.Key_PageUp)  # one page: 1 degree of flexion
    after = to_params(jp, doc.sequence.rotations[97, j])
    assert after[0] == pytest.approx(round(before[0], 1) + 1.0, abs=0.06)
    np.testing.assert_allclose(after[1:], before[1:], atol=0.06)
    assert doc.undo_stack.count() == n_undo + 1
    # the twist slider spans the shoulder's twist range (external .. internal rotation)
    lo, hi = SHOULDER_TWIST
    assert (insp.angles[2].slider.minimum(), insp.angles[2].slider.maximum()) == (int(lo * 10), int(hi * 10))
    assert limit_violations(sk, doc.sequence.rotations[97], [j]) == []
    doc.undo_stack.undo()
    np.testing.assert_allclose(to_params(jp, doc.sequence.rotations[97, j]), before, atol=1e-3)

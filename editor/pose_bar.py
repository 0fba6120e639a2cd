"""The viewport's posing bar: gizmo on / off, its frame (local / parent), an axis constraint for
free drags, "hold wrist" for arm IK, and numeric entry (turn the selected joint N degrees about
an axis: one undo step)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QWidget


class PoseBar(QWidget):
    def __init__(self, viewport) -> None:
        super().__init__(viewport)
        self.vp = viewport
        tool = viewport.pose_tool
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        self.gizmo = QCheckBox("Gizmo")
        self.gizmo.setChecked(tool.gizmo_on)
        self.gizmo.setToolTip("Rotate rings on the selected joint (drag a ring, or inside the outer ring)")
        self.gizmo.toggled.connect(self._on_gizmo)
        self.frame = QComboBox()
        self.frame.addItems(["Local", "Parent"])
        self.frame.setToolTip("Gizmo axes: the joint's own frame or its parent's")
        self.frame.currentTextChanged.connect(self._on_frame)
        self.constraint = QComboBox()
        self.constraint.addItems(["Free", "X", "Y", "Z"])
        self.constraint.setToolTip(
            "A drag inside the outer ring turns freely or about one axis (X, Y, Z while dragging)"[:200]
        )
        self.constraint.currentTextChanged.connect(lambda t: tool.set_constraint(None if t == "Free" else t.lower()))
        self.hold = QCheckBox("Hold wrist")
        self.hold.setChecked(tool.hold_wrist)
        self.hold.setToolTip(
            "Dragging a wrist keeps the hand's orientation in the world (off: the hand follows the forearm)"
        )
        self.hold.toggled.connect(lambda on: setattr(tool, "hold_wrist", bool(on)))
        self.axis = QComboBox()
        self.axis.addItems(["X", "Y", "Z"])
        self.degrees = QDoubleSpinBox()
        self.degrees.setRange(-360.0, 360.0)
        self.degrees.setDecimals(1)
        self.degrees.setSuffix("°")
        self.degrees.setValue(15.0)
        self.apply = QPushButton("Rotate")
        self.apply.setToolTip("Turn the selected joint at this key by the angle about the axis")
        self.apply.clicked.connect(lambda: tool.rotate_numeric(self.axis.currentText().lower(), self.degrees.value()))
        for w in (self.gizmo, self.frame, QLabel("Constrain"), self.constraint, self.hold):
            lay.addWidget(w)
        lay.addStretch(1)
        for w in (QLabel("Turn"), self.degrees, QLabel("about"), self.axis, self.apply):
            lay.addWidget(w)

    def _on_gizmo(self, on: bool) -> None:
        self.vp.pose_tool.gizmo_on = bool(on)
        self.vp.refresh()

    def _on_frame(self, text: str) -> None:
        self.vp.pose_tool.frame_mode = text.lower()
        self.vp.refresh()

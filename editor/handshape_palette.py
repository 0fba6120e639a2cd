"""The handshape palette: named handshapes from recorded hands as thumbnail buttons; one click
puts the shape on the left or right hand at the key on screen (mirrored for the left), one
undo step. The current hand can be saved as a user handshape, and "copy from frame N" takes the
hand of another frame.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.data.handshapes import (
    Handshape,
    bundled_handshapes,
    hand_of,
    hand_slice,
    read_handshapes,
    save_user_handshape,
)
from core.io.errors import FormatError
from core.kinematics.fk import forward_kinematics
from core.model.skeleton import N_BODY, N_HAND
from core.model.template import TEMPLATE

from .commands import SetJointRotations, push

log = logging.getLogger(__name__)
THUMB = 56
COLUMNS = 4


def thumbnail(shape: Handshape, size: int = THUMB) -> QPixmap:
    """The right hand's bones seen from the back of the hand, tilted so curls show."""
    rot = np.tile(np.eye(3), (TEMPLATE.n_joints, 1, 1))
    rot[hand_slice("right")] = shape.rotations
    wr, wp = forward_kinematics(TEMPLATE, rot[None])
    wrist = TEMPLATE.index("right_wrist")
    hand = list(range(N_BODY + N_HAND, N_BODY + 2 * N_HAND))
    pts = {j: wp[0, j] for j in [wrist] + hand}
    tips = {j: wp[0, j] + wr[0, j] @ TEMPLATE.tips[j] for j in hand if not TEMPLATE.children(j)}
    # view: fingers (-x in the T pose) point up the image, the back of the hand (+y) toward us,
    # tilted 35 degrees so that flexion toward the palm reads as shortening and a bend
    t = np.radians(35.0)
    view = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, np.cos(t), np.sin(t)]])
    view[1] = np.cos(t) * view[1] - np.sin(t) * np.array([0.0, 1.0, 0.0])

    def px(p: np.ndarray) -> QPointF:
        q = view @ (p - pts[wrist])
        s = size / 0.24
        return QPointF(size / 2 + s * q[0], size * 0.86 + s * q[1])

    img = QPixmap(size, size)
    img.fill(QColor("#262b33"))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(QPen(QColor("#e8c9a8"), 2.2))
    for j in hand:
        parent = TEMPLATE.parents[j]
        p.drawLine(px(pts[parent]), px(pts[j]))
        if j in tips:
            p.drawLine(px(pts[j]), px(tips[j]))
    p.end()
    return img


class HandshapePalette(QWidget):
    """Signals: message(text) for the status bar."""

    message = Signal(str)

    def __init__(self, parent: QWidget | None = None, user_file: str | Path | None = None) -> None:
        super().__init__(parent)
        self.doc = None
        self.user_file = Path(user_file) if user_file else None
        self.shapes: list[Handshape] = []
        self.buttons: dict[str, QToolButton] = {}
        try:
            self.shapes = bundled_handshapes()
        except FormatError as e:  # a damaged install: the palette is empty, the editor runs
            log.warning("%s", e)
            self.message.emit(str(e))
        self.side_left = QRadioButton("Left hand")
        self.side_right = QRadioButton("Right hand")
        self.side_right.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.side_left)
        group.addButton(self.side_right)
        sides = QHBoxLayout()
        sides.addWidget(self.side_left)
        sides.addWidget(self.side_right)

        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(3)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)

        self.save_name = QLineEdit()
        self.save_name.setPlaceholderText("Name for the current hand")
        self.save_btn = QPushButton("Save hand")
        self.save_btn.setToolTip("Save the selected side's hand at the frame on screen as a user handshape")
        self.save_btn.clicked.connect(self.save_current)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_name, 1)
        save_row.addWidget(self.save_btn)

        self.copy_frame = QSpinBox()
        self.copy_frame.setRange(0, 0)
        self.copy_btn = QPushButton("Copy handshape from frame")
        self.copy_btn.setToolTip("Give the key on screen the selected side's handshape of frame N")
        self.copy_btn.clicked.connect(lambda: self.copy_from_frame(self.copy_frame.value()))
        copy_row = QHBoxLayout()
        copy_row.addWidget(self.copy_btn, 1)
        copy_row.addWidget(self.copy_frame)

        lay = QVBoxLayout(self)
        lay.addLayout(sides)
        lay.addWidget(scroll, 1)
        lay.addLayout(save_row)
        lay.addLayout(copy_row)
        if self.user_file is not None and self.user_file.exists():
            try:
                self.shapes += read_handshapes(self.user_file, user=True)
            except FormatError as e:  # a bad user file is reported, never fatal
                log.warning("%s", e)
        self._fill()

    def _fill(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.buttons.clear()
        for i, s in enumerate(self.shapes):
            b = QToolButton()
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.setIcon(QIcon(thumbnail(s)))
            b.setIconSize(QSize(THUMB, THUMB))
            b.setText(s.label if len(s.label) <= 10 else s.name.replace("_", " "))
            b.setToolTip(f"{s.label}\n{s.provenance}")
            b.clicked.connect(lambda _=False, name=s.name: self.apply(name))
            self.grid.addWidget(b, i // COLUMNS, i % COLUMNS)
            self.buttons[s.name] = b

    # --- document ---------------------------------------------------------------------------
    def set_document(self, doc) -> None:
        self.doc = doc
        self.copy_frame.setRange(0, max(doc.n_frames - 1, 0))
        doc.sequenceReplaced.connect(lambda: self.copy_frame.setRange(0, max(doc.n_frames - 1, 0)))
        doc.jointChanged.connect(self._follow_joint)

    def _follow_joint(self, j: int) -> None:
        """Selecting a joint of one hand (or its wrist) points the palette at that hand."""
        if N_BODY <= j < N_BODY + N_HAND or j == 20:
            self.side_left.setChecked(True)
        elif N_BODY + N_HAND <= j < N_BODY + 2 * N_HAND or j == 21:
            self.side_right.setChecked(True)

    @property
    def side(self) -> str:
        return "left" if self.side_left.isChecked() else "right"

    def _key(self) -> int | None:
        doc = self.doc
        if doc is None:
            return None
        f = doc.current_frame
        if doc.sequence.key_at(f) is None:
            self.message.emit("Move the playhead onto a key (or press I) to set a handshape")
            return None
        return f

    def _set_hand(self, rotations: np.ndarray, text: str) -> bool:
        key = self._key()
        if key is None:
            return False
        joints = list(range(hand_slice(self.side).start, hand_slice(self.side).stop))
        reason = push(self.doc, SetJointRotations(self.doc, key, joints, rotations, f"{text} at {key}"))
        if reason:
            self.message.emit(f"Cannot edit: {reason}")
        return reason is None

    # --- actions ------------------------------------------------------------------------------
    def apply(self, name: str) -> bool:
        shape = next((s for s in self.shapes if s.name == name), None)
        if shape is None:
            return False
        return self._set_hand(shape.for_side(self.side), f"Handshape {shape.label} on {self.side} hand")

    def copy_from_frame(self, frame: int) -> bool:
        doc = self.doc
        if doc is None or not 0 <= frame < doc.n_frames:
            return False
        rot = doc.sequence.rotations[frame, hand_slice(self.side)].copy()
        return self._set_hand(rot, f"{self.side.capitalize()} handshape of frame {frame}")

    def save_current(self) -> Handshape | None:
        doc = self.doc
        name = self.save_name.text().strip()
        if doc is None or not name:
            self.message.emit("Type a name for the handshape first")
            return None
        if self.user_file is None:
            self.message.emit("No place to keep user handshapes")
            return None
        f = doc.current_frame
        rot = hand_of(doc.sequence.rotations[f], self.side)
        try:
            shape = save_user_handshape(self.user_file, name, rot, "right", f"saved from frame {f}, {self.side} hand")
        except (OSError, FormatError) as e:
            self.message.emit(f"Cannot save the handshape: {e}")
            return None
        self.shapes = [s for s in self.shapes if not (s.user and s.name == name)] + [shape]
        self._fill()
        self.save_name.clear()
        self.message.emit(f"Saved handshape {name!r}")
        return shape

"""The inspector dock: the key under the playhead, its kind, the joint tree and the pose controls.

Finger joints get flexion / spread sliders bounded by anatomical limits, other joints three
angles (flexion / abduction / twist where anatomy has them: shoulders, elbows, wrists, spine).
Every change is an undo command (a slider drag is one merged step) and regenerates the
frames around the key. Copy / paste a pose or one hand, mirror a hand, reset to rest, and
"regenerate from keys" / "keep recording (warp)" for the selected frame range live here too.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.model.sequence import FrameState, KeyKind
from core.model.skeleton import FINGERS, N_BODY, N_HAND

from . import pose_controls as pc
from .commands import SetJointRotations, SetKeyKind, SetSpanState, end_drag, new_drag_id, push
from .document import Document
from .throttle import DragThrottle

SLIDER_SCALE = 10  # slider units per degree


class AngleSlider(QWidget):
    """A labelled slider in degrees; reports (value, dragging) and knows its drag gestures."""

    changed = Signal(float)
    pressed = Signal()
    released = Signal()

    def __init__(self, name: str, lo: float, hi: float) -> None:
        super().__init__()
        self.name = QLabel(name)
        self.name.setMinimumWidth(56)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.value_label = QLabel("0.0°")
        self.value_label.setMinimumWidth(48)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.name)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.value_label)
        self.set_range(lo, hi)
        self._quiet = False
        self.slider.valueChanged.connect(self._on_value)
        self.slider.sliderPressed.connect(self.pressed)
        self.slider.sliderReleased.connect(self.released)

    def set_range(self, lo: float, hi: float) -> None:
        # a new range clamps the value and emits valueChanged: that is display, not an edit
        quiet, self._quiet = getattr(self, "_quiet", False), True
        self.slider.setRange(int(lo * SLIDER_SCALE), int(hi * SLIDER_SCALE))
        self._quiet = quiet
        self.setToolTip(f"{lo:g}° .. {hi:g}°")

    def set_value(self, deg: float) -> None:
        self._quiet = True
        self.slider.setValue(int(round(deg * SLIDER_SCALE)))
        self._quiet = False
        self.value_label.setText(f"{deg:.1f}°")

    def value(self) -> float:
        return self.slider.value() / SLIDER_SCALE

    def _on_value(self, v: int) -> None:
        self.value_label.setText(f"{v / SLIDER_SCALE:.1f}°")
        if not self._quiet:
            self.changed.emit(v / SLIDER_SCALE)


class Inspector(QWidget):
    """Signals: message(text) for the status bar (an edit that could not apply)."""

    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc: Document | None = None
        self.clipboard_pose: np.ndarray | None = None
        self.clipboard_hand: tuple[str, np.ndarray] | None = None
        self._drag_id: int | None = None
        self.throttle = DragThrottle(parent=self)
        self._refresh_pending = False

        self.key_label = QLabel("—")
        self.key_label.setWordWrap(True)
        self.kind = QComboBox()
        for k in KeyKind:
            self.kind.addItem(k.value, k)
        self.kind.activated.connect(self._on_kind)

        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setMinimumHeight(160)
        self.tree.currentItemChanged.connect(self._on_tree)
        self._items: dict[int, QTreeWidgetItem] = {}

        self.joint_label = QLabel("No joint selected — click one in the view or pick it here")
        self.joint_label.setWordWrap(True)
        self.flex = AngleSlider("Flexion", -20, 110)
        self.spread = AngleSlider("Spread", -30, 50)
        self.angles = [AngleSlider(f"{a} angle", *pc.ANGLE_RANGE) for a in "XYZ"]
        for s in [self.flex, self.spread, *self.angles]:
            s.changed.connect(self._on_slider)
            s.pressed.connect(self._begin_drag)
            s.released.connect(self._end_drag)

        pose_box = QGroupBox("Pose at key")
        pl = QVBoxLayout(pose_box)
        pl.addWidget(self.joint_label)
        for s in [self.flex, self.spread, *self.angles]:
            pl.addWidget(s)
        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        specs = [
            ("reset_joint", "Reset joint", "Put the selected joint back to its rest pose", self.reset_joint),
            ("reset_hand", "Reset hand", "Flat hand: every finger joint of that hand to rest", self.reset_hand),
            ("copy_pose", "Copy pose", "Copy the whole pose at this key", self.copy_pose),
            ("paste_pose", "Paste pose", "Paste the copied pose onto this key", self.paste_pose),
            ("copy_hand", "Copy hand", "Copy the selected hand's shape", self.copy_hand),
            (
                "paste_hand",
                "Paste hand",
                "Paste the copied handshape onto the selected hand (mirrored if needed)",
                self.paste_hand,
            ),
            ("mirror_lr", "Mirror L → R", "Give the right hand the left hand's shape", lambda: self.mirror("left")),
            ("mirror_rl", "Mirror R → L", "Give the left hand the right hand's shape", lambda: self.mirror("right")),
        ]
        for i, (name, text, tip, fn) in enumerate(specs):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(fn)
            grid.addWidget(b, i // 2, i % 2)
            self.buttons[name] = b
        pl.addLayout(grid)

        span_box = QGroupBox("Frame range")
        sl = QVBoxLayout(span_box)
        self.range_label = QLabel("Drag in the timeline's state band to select frames")
        self.range_label.setWordWrap(True)
        row = QHBoxLayout()
        self.regen = QPushButton("Regenerate from keys")
        self.regen.setToolTip(
            "Frames in the range become GENERATED: the in-betweener fills them from the keys "
            "(the recording there is set aside, not lost)"
        )
        self.regen.clicked.connect(lambda: self.set_span(FrameState.GENERATED))
        self.keep = QPushButton("Keep recording (warp)")
        self.keep.setToolTip(
            "Frames in the range show the recording again, re-timed with the keys and "
            "carrying their corrections (the default wherever a recording exists)"
        )
        self.keep.clicked.connect(lambda: self.set_span(FrameState.SOURCE))
        row.addWidget(self.regen)
        row.addWidget(self.keep)
        sl.addWidget(self.range_label)
        sl.addLayout(row)

        key_form = QFormLayout()
        key_form.addRow(self.key_label)
        key_form.addRow("Kind", self.kind)
        lay = QVBoxLayout(self)
        lay.addLayout(key_form)
        lay.addWidget(self.tree, 1)
        lay.addWidget(pose_box)
        lay.addWidget(span_box)

    # --- document ---------------------------------------------------------------------------
    def set_document(self, doc: Document) -> None:
        self.doc = doc
        self._fill_tree()
        doc.currentFrameChanged.connect(lambda f: self.refresh())
        # edits and selection changes come in bursts during a drag: one refresh per loop turn
        doc.sequenceEdited.connect(lambda lo, hi: self._schedule_refresh())
        # off a key the inspector reads the frame on screen, which the in-betweener may rewrite
        # after an edit, an undo or a redo
        doc.framesGenerated.connect(lambda lo, hi: lo <= doc.current_frame < hi and self._schedule_refresh())
        doc.sequenceReplaced.connect(self._on_replaced)
        doc.selectionChanged.connect(self._schedule_refresh)
        doc.jointChanged.connect(self._on_joint)
        self.refresh()

    def _on_replaced(self) -> None:
        self._fill_tree()
        self.refresh()

    def _fill_tree(self) -> None:
        self.tree.clear()
        self._items.clear()
        sk = self.doc.sequence.skeleton
        body_root = QTreeWidgetItem(["Body"])
        self.tree.addTopLevelItem(body_root)
        for j in range(min(N_BODY, sk.n_joints)):
            p = sk.parents[j]
            item = QTreeWidgetItem([sk.names[j].replace("_", " ")])
            item.setData(0, Qt.ItemDataRole.UserRole, j)
            (self._items.get(p) or body_root).addChild(item)
            self._items[j] = item
        for side, start in (("left", N_BODY), ("right", N_BODY + N_HAND)):
            if sk.n_joints < start + N_HAND:
                continue
            hand = QTreeWidgetItem([f"{side.capitalize()} hand"])
            self.tree.addTopLevelItem(hand)
            for fi, finger in enumerate(FINGERS):
                fitem = QTreeWidgetItem([finger])
                hand.addChild(fitem)
                for k in range(3):
                    j = start + 3 * fi + k
                    item = QTreeWidgetItem([f"{finger} {k + 1}"])
                    item.setData(0, Qt.ItemDataRole.UserRole, j)
                    fitem.addChild(item)
                    self._items[j] = item
        self.tree.expandItem(body_root)
        for j in (0, 3, 6, 9):  # the spine chain open down to the collars, neck and arms
            if j in self._items:
                self.tree.expandItem(self._items[j])

    def _on_tree(self, item, prev) -> None:
        if item is None:
            return
        j = item.data(0, Qt.ItemDataRole.UserRole)
        if j is not None and self.doc is not None:
            self.doc.set_joint(int(j))

    def _on_joint(self, j: int) -> None:
        item = self._items.get(j)
        if item is not None and self.tree.currentItem() is not item:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)
            self.tree.blockSignals(False)
        self.refresh()

    # --- display ----------------------------------------------------------------------------
    def _schedule_refresh(self) -> None:
        if not self._refresh_pending:
            self._refresh_pending = True
            QTimer.singleShot(0, self.refresh)

    def refresh(self) -> None:
        self._refresh_pending = False
        doc = self.doc
        if doc is None:
            return
        seq = doc.sequence
        key = doc.current_key()
        f = doc.current_frame
        state = FrameState(int(seq.states[f])).name
        if key is not None:
            k = seq.key_at(key)
            self.key_label.setText(f"<b>Key at frame {key}</b> ({key / seq.fps:.2f} s)")
            self.kind.setEnabled(True)
            self.kind.setCurrentIndex(list(KeyKind).index(k.kind))
        else:
            self.key_label.setText(f"Frame {f} is {state}: no key here. Press <b>I</b> to pin it as a key.")
            self.kind.setEnabled(False)
        editable = key is not None
        j = doc.joint
        fj = pc.finger_joint(seq.skeleton, j) if j >= 0 else None
        for s in (self.flex, self.spread):
            s.setVisible(fj is not None)
        for s in self.angles:
            s.setVisible(j >= 0 and fj is None)
        frame = key if key is not None else f
        if j >= 0:
            r = seq.rotations[frame, j]
            name = seq.skeleton.names[j].replace("_", " ")
            if fj is not None:
                flex, spread, _ = pc.finger_params(seq.skeleton, j, r)
                fmin, fmax, smin, smax = fj.limits
                self.flex.set_range(fmin, fmax)
                self.spread.set_range(smin, smax)
                self.flex.set_value(flex)
                self.spread.set_value(spread)
                self.joint_label.setText(f"<b>{name}</b>: flexion {fmin:g}..{fmax:g}°, spread {smin:g}..{smax:g}°")
            else:
                # anatomical readouts (flexion / abduction / twist) where the joint has them
                names, values, ranges = pc.body_readout(seq.skeleton, j, r)
                for s, n, a, (lo, hi) in zip(self.angles, names, values, ranges):
                    s.name.setText(n)
                    s.set_range(lo, hi)
                    s.set_value(float(a))
                what = "three angles (intrinsic XYZ)" if names[0].endswith("angle") else "anatomical angles"
                self.joint_label.setText(f"<b>{name}</b>: {what}")
        else:
            self.joint_label.setText("No joint selected — click one in the view or pick it here")
        for s in [self.flex, self.spread, *self.angles]:
            s.setEnabled(editable)
            s.setToolTip("" if editable else "Move the playhead onto a key (or press I) to edit its pose")
        hand = self._hand_side()
        for name, b in self.buttons.items():
            ok = editable
            if name == "reset_joint":
                ok = ok and j >= 0
            if name in ("reset_hand", "copy_hand"):
                ok = ok and hand is not None
            if name == "paste_pose":
                ok = ok and self.clipboard_pose is not None
            if name == "paste_hand":
                ok = ok and hand is not None and self.clipboard_hand is not None
            b.setEnabled(ok)
        if doc.range:
            a, b = doc.range
            self.range_label.setText(f"Frames {a}–{b} ({(b - a + 1) / seq.fps:.2f} s)")
        else:
            self.range_label.setText("Drag in the timeline's state band to select frames")
        self.regen.setEnabled(doc.range is not None)
        self.keep.setEnabled(doc.range is not None)

    def _hand_side(self) -> str | None:
        j = self.doc.joint if self.doc else -1
        if N_BODY <= j < N_BODY + N_HAND or j == 20:
            return "left"
        if N_BODY + N_HAND <= j < N_BODY + 2 * N_HAND or j == 21:
            return "right"
        return None

    # --- edits --------------------------------------------------------------------------------
    def _push(self, cmd) -> bool:
        reason = push(self.doc, cmd)
        if reason:
            self.message.emit(f"Cannot edit: {reason}")
            return False
        return True

    def _begin_drag(self) -> None:
        self._drag_id = new_drag_id()

    def _end_drag(self) -> None:
        self.throttle.flush()  # the drag's last value, at once
        self._drag_id = None
        end_drag(self.doc)

    def _on_slider(self, value: float) -> None:
        doc = self.doc
        key = doc.current_key() if doc else None
        j = doc.joint if doc else -1
        if key is None or j < 0:
            return
        sk = doc.sequence.skeleton
        fj = pc.finger_joint(sk, j)
        if fj is not None:
            _, _, twist = pc.finger_params(sk, j, doc.sequence.rotations[key, j])
            flex, spread = pc.clamp_finger(fj, self.flex.value(), self.spread.value())
            r = pc.finger_rotation(sk, j, flex, spread, twist)
        else:
            r = pc.body_from_readout(sk, j, [s.value() for s in self.angles])
        name = sk.names[j].replace("_", " ")
        cmd = SetJointRotations(doc, key, [j], r[None], f"Pose {name} at {key}", drag_id=self._drag_id)
        if self._drag_id is None:  # a click or a key on the slider: one edit, now
            self._push(cmd)
        else:  # a slider drag: its steps go through the one drag throttle
            self.throttle.step(lambda: self._push(cmd))

    def set_finger(self, joint: int, flex: float, spread: float | None = None) -> bool:
        """Set a finger joint at the current key (what the sliders do; used by scripts and tests)."""
        doc = self.doc
        key = doc.current_key()
        if key is None:
            return False
        sk = doc.sequence.skeleton
        fj = pc.finger_joint(sk, joint)
        f0, s0, twist = pc.finger_params(sk, joint, doc.sequence.rotations[key, joint])
        flex, spread = pc.clamp_finger(fj, flex, s0 if spread is None else spread)
        r = pc.finger_rotation(sk, joint, flex, spread, twist)
        return self._push(SetJointRotations(doc, key, [joint], r[None], f"Pose {sk.names[joint]} at {key}"))

    def _on_kind(self, index: int) -> None:
        key = self.doc.current_key()
        if key is not None:
            self._push(SetKeyKind(self.doc, key, self.kind.itemData(index)))

    def reset_joint(self) -> None:
        key, j = self.doc.current_key(), self.doc.joint
        if key is not None and j >= 0:
            self._push(
                SetJointRotations(
                    self.doc,
                    key,
                    [j],
                    np.eye(3, dtype=np.float32)[None],
                    f"Reset {self.doc.sequence.skeleton.names[j]}",
                )
            )

    def reset_hand(self) -> None:
        key, side = self.doc.current_key(), self._hand_side()
        if key is not None and side:
            joints = pc.hand_joints(side)
            self._push(
                SetJointRotations(
                    self.doc,
                    key,
                    joints,
                    np.tile(np.eye(3, dtype=np.float32), (len(joints), 1, 1)),
                    f"Reset {side} hand",
                )
            )

    def copy_pose(self) -> None:
        key = self.doc.current_key()
        if key is not None:
            self.clipboard_pose = self.doc.sequence.rotations[key].copy()
            self.message.emit(f"Copied the pose at frame {key}")
            self.refresh()

    def paste_pose(self) -> None:
        key = self.doc.current_key()
        if key is not None and self.clipboard_pose is not None:
            self._push(
                SetJointRotations(
                    self.doc, key, list(range(self.doc.sequence.n_joints)), self.clipboard_pose, f"Paste pose at {key}"
                )
            )

    def copy_hand(self) -> None:
        key, side = self.doc.current_key(), self._hand_side()
        if key is not None and side:
            self.clipboard_hand = (side, self.doc.sequence.rotations[key, pc.hand_joints(side)].copy())
            self.message.emit(f"Copied the {side} hand at frame {key}")
            self.refresh()

    def paste_hand(self) -> None:
        key, side = self.doc.current_key(), self._hand_side()
        if key is None or not side or self.clipboard_hand is None:
            return
        src_side, rot = self.clipboard_hand
        if src_side != side:
            from core.model.rotations import flip_hand

            rot = flip_hand(rot).astype(np.float32)
        self._push(SetJointRotations(self.doc, key, pc.hand_joints(side), rot, f"Paste {side} hand at {key}"))

    def mirror(self, source: str) -> None:
        key = self.doc.current_key()
        if key is None:
            return
        joints, rot = pc.mirrored_hand(self.doc.sequence.rotations[key], source)
        target = "right" if source == "left" else "left"
        self._push(SetJointRotations(self.doc, key, joints, rot, f"Mirror {source} hand onto {target} at {key}"))

    def set_span(self, state: FrameState) -> None:
        if self.doc.range:
            a, b = self.doc.range
            self._push(SetSpanState(self.doc, a, b, state))

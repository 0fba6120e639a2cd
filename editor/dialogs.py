"""Dialogs: errors, the keyboard help, export options, recovery, model settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ErrorReporter = Callable[[QWidget, str, str], None]


def show_error(parent: QWidget, title: str, text: str) -> None:
    """The default error reporter: a modal message box."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("signframe-error")
    box.exec()


class HelpDialog(QDialog):
    """Every shortcut of the action table, grouped by menu."""

    def __init__(self, rows: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(520, 560)
        table = QTableWidget(len(rows), 3)
        table.setHorizontalHeaderLabels(["Menu", "Action", "Shortcut"])
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(22)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for i, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(i, c, QTableWidgetItem(text))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        note = QLabel(
            "Blender habits: Space plays, I inserts a key, X / Delete deletes, G grabs and S scales "
            "the selected keys (move the mouse, click or Enter to confirm, Esc to cancel, or type a "
            "number), arrows step frames, Up / Down jump between keys."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(note)
        lay.addWidget(table)
        lay.addWidget(buttons)


@dataclass(frozen=True)
class ExportOptions:
    path: Path
    start: int
    end: int  # inclusive
    fps: float
    up: str  # "y" / "z"
    unit: str  # "m" / "cm"
    mesh: bool
    origin: str = "floor"  # "floor": the avatar stands on the ground; "pelvis": pelvis at the origin


class ExportDialog(QDialog):
    """Path, frame range, frame rate, up axis, unit and mesh for one export."""

    def __init__(
        self,
        n_frames: int,
        fps: float,
        selection: tuple[int, int] | None,
        default_path: Path,
        extension: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.extension = extension
        self.path = QLineEdit(str(default_path))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.range = QComboBox()
        self.range.addItem(f"Whole sequence (0–{n_frames - 1})", (0, n_frames - 1))
        if selection:
            self.range.addItem(f"Selected range ({selection[0]}–{selection[1]})", selection)
            self.range.setCurrentIndex(1)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(1.0, 240.0)
        self.fps.setDecimals(3)
        self.fps.setValue(fps)
        self.up = QComboBox()
        self.up.addItem("Y up (Maya, Unity, Unreal via FBX)", "y")
        self.up.addItem("Z up (Blender)", "z")
        self.unit = QComboBox()
        self.unit.addItem("metres", "m")
        self.unit.addItem("centimetres", "cm")
        self.floor = QCheckBox("Stand the avatar on the floor (off: pelvis at the origin)")
        self.floor.setChecked(True)
        self.floor.setEnabled(extension in (".bvh", ".fbx"))
        self.mesh = QCheckBox("Include the avatar mesh (FBX)")
        self.mesh.setEnabled(extension == ".fbx")
        spatial = extension in (".bvh", ".fbx")
        self.up.setEnabled(spatial)
        self.unit.setEnabled(spatial)
        form = QFormLayout()
        form.addRow("File", row)
        form.addRow("Frames", self.range)
        form.addRow("Frame rate", self.fps)
        form.addRow("Up axis", self.up)
        form.addRow("Unit", self.unit)
        form.addRow("", self.mesh)
        form.addRow("", self.floor)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(), f"*{self.extension}")
        if path:
            self.path.setText(path)

    def options(self) -> ExportOptions:
        start, end = self.range.currentData()
        return ExportOptions(
            Path(self.path.text()),
            int(start),
            int(end),
            float(self.fps.value()),
            self.up.currentData(),
            self.unit.currentData(),
            self.mesh.isChecked(),
            "floor" if self.floor.isChecked() else "pelvis",
        )


def ask_recover(parent: QWidget, path: Path, original: str | None) -> bool:
    what = f"“{Path(original).name}”" if original else "an untitled document"
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Recover unsaved work?",
        f"Signframe found unsaved changes to {what} from a session that did not close cleanly.",
        QMessageBox.StandardButton.NoButton,
        parent,
    )
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(recover)
    box.exec()
    return box.clickedButton() is recover


class ModelSettingsDialog(QDialog):
    """Where the official KF2P checkpoint and the SMPL-X model folder are."""

    def __init__(self, checkpoint: str, smplx_dir: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.checkpoint = QLineEdit(checkpoint)
        self.smplx = QLineEdit(smplx_dir)
        b1, b2 = QPushButton("Browse…"), QPushButton("Browse…")
        b1.clicked.connect(lambda: self._pick_file(self.checkpoint))
        b2.clicked.connect(lambda: self._pick_dir(self.smplx))
        form = QFormLayout()
        r1, r2 = QHBoxLayout(), QHBoxLayout()
        r1.addWidget(self.checkpoint, 1)
        r1.addWidget(b1)
        r2.addWidget(self.smplx, 1)
        r2.addWidget(b2)
        form.addRow("Official KF2P checkpoint (ema_*.pt)", r1)
        form.addRow("SMPL-X model folder (restart to apply)", r2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def _pick_file(self, edit: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Checkpoint", edit.text(), "PyTorch checkpoints (*.pt *.pth)")
        if path:
            edit.setText(path)

    def _pick_dir(self, edit: QLineEdit) -> None:
        path = QFileDialog.getExistingDirectory(self, "SMPL-X model folder", edit.text())
        if path:
            edit.setText(path)


__all__ = [
    "show_error",
    "HelpDialog",
    "ExportDialog",
    "ExportOptions",
    "ask_recover",
    "ModelSettingsDialog",
    "ErrorReporter",
]

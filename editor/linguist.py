"""The linguist's loop in the editor: ELAN annotations in (File › Import annotations), glosses and
segments edited directly (inline gloss editing, split, merge, boundary drags, per-hand lanes: see
``editor.segment_lanes``), a gloss list that searches and jumps to a sign, and FAST's proposals
shown on opening a recording without keys, accepted per sign or all at once, with a live
sensitivity control that re-decodes the cached network output (the network runs once).

Every change is one undo command (``editor.segment_commands``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from core.model import segments_edit as se
from core.model.sequence import Segment

from .commands import EditCommand, end_drag, push
from .proposals import fast_probabilities, fast_unavailable_reason
from .segment_commands import (
    AcceptSegments,
    ImportAnnotations,
    MergeSegments,
    MoveBoundary,
    RenameGloss,
    SplitSegment,
)
from .segment_lanes import SegmentLanes
from .tasks import Task

if TYPE_CHECKING:
    from .main_window import MainWindow

LANE_TAG = {"": "", "right": "RH", "left": "LH"}
NONE = "(none)"


class ImportDialog(QDialog):
    """Which tiers carry the glosses (sign, right hand, left hand) and the time offset."""

    def __init__(self, parent: QWidget, path: Path, doc, fps: float) -> None:
        from core.io import eaf

        super().__init__(parent)
        self.setObjectName("import-annotations")
        self.setWindowTitle(f"Import annotations from {path.name}")
        self.path = path
        picked = eaf.pick_gloss_tiers(doc) if any(t.annotations for t in doc.tiers) else eaf.GlossTiers()
        form = QFormLayout(self)
        self.combos: dict[str, QComboBox] = {}
        for role, label, value in (
            ("sign", "Sign tier (both hands)", picked.sign),
            ("right", "Right hand tier", picked.right),
            ("left", "Left hand tier", picked.left),
        ):
            c = QComboBox(self)
            c.setObjectName(f"tier-{role}")
            c.addItem(NONE)
            for t in doc.tiers:
                c.addItem(f"{t.name}", t.name)
                c.setItemData(c.count() - 1, f"{len(t.annotations)} annotations", Qt.ItemDataRole.ToolTipRole)
            if value:
                c.setCurrentIndex(c.findData(value))
            self.combos[role] = c
            form.addRow(label, c)
        self.offset = QDoubleSpinBox(self)
        self.offset.setObjectName("offset")
        self.offset.setRange(-86_400_000.0, 86_400_000.0)
        self.offset.setDecimals(0)
        self.offset.setSuffix(" ms")
        self.offset.setToolTip(
            "Where the motion's first frame lies on ELAN's time line (video and landmarks may start apart)"
        )
        form.addRow("Motion starts at", self.offset)
        form.addRow(QLabel(f"{fps:g} fps: ELAN's milliseconds are rounded to the nearest frame."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def tier(self, role: str) -> str | None:
        data = self.combos[role].currentData()
        return str(data) if data else None


class GlossPanel(QWidget):
    """Every sign's gloss in time order, with its lane; typing filters, clicking jumps."""

    jumpTo = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        # FAST's proposals: what is shown, the live sensitivity, accept all / dismiss
        self.proposal_box = QWidget(self)
        pl = QVBoxLayout(self.proposal_box)
        pl.setContentsMargins(0, 0, 0, 0)
        self.proposal_label = QLabel("", self.proposal_box)
        self.proposal_label.setWordWrap(True)
        pl.addWidget(self.proposal_label)
        row = QHBoxLayout()
        row.addWidget(QLabel("Sensitivity", self.proposal_box))
        self.sensitivity = QSlider(Qt.Orientation.Horizontal, self.proposal_box)
        self.sensitivity.setObjectName("fast-sensitivity")
        self.sensitivity.setRange(1, 99)
        self.sensitivity.setToolTip(
            "Higher finds more signs: FAST's output is re-decoded at once, the network does not rerun"
        )
        row.addWidget(self.sensitivity)
        pl.addLayout(row)
        row2 = QHBoxLayout()
        self.accept_all = QPushButton("Accept all", self.proposal_box)
        self.accept_all.setObjectName("accept-all-proposals")
        self.dismiss = QPushButton("Dismiss", self.proposal_box)
        self.dismiss.setObjectName("dismiss-proposals")
        row2.addWidget(self.accept_all)
        row2.addWidget(self.dismiss)
        pl.addLayout(row2)
        self.proposal_box.hide()
        lay.addWidget(self.proposal_box)
        self.search = QLineEdit(self)
        self.search.setObjectName("gloss-search")
        self.search.setPlaceholderText("Search glosses…")
        self.search.setClearButtonEnabled(True)
        lay.addWidget(self.search)
        self.list = QListWidget(self)
        self.list.setObjectName("gloss-list")
        lay.addWidget(self.list)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._jump_first)
        self.list.itemActivated.connect(self._jump)
        self.list.itemClicked.connect(self._jump)
        self._rows: list[tuple[str, Segment]] = []
        self._fps = 25.0

    def set_segments(self, lanes: dict[str, list[Segment]], fps: float) -> None:
        rows = sorted(
            ((h, s) for h, segs in lanes.items() for s in segs),
            key=lambda r: (r[1].start, ("", "right", "left").index(r[0])),
        )
        if rows == self._rows and fps == self._fps:
            return
        self._rows, self._fps = rows, fps
        self.list.setUpdatesEnabled(False)
        self.list.clear()
        for h, s in rows:
            t = s.start / fps
            tag = f" [{LANE_TAG[h]}]" if h else ""
            item = QListWidgetItem(f"{int(t // 60):02d}:{t % 60:04.1f}  {s.gloss or '—'}{tag}")
            item.setData(Qt.ItemDataRole.UserRole, (h, s.start))
            self.list.addItem(item)
        self._filter(self.search.text())
        self.list.setUpdatesEnabled(True)

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i, (_, s) in enumerate(self._rows):
            self.list.item(i).setHidden(bool(needle) and needle not in (s.gloss or "").lower())

    def _jump_first(self) -> None:
        for i in range(self.list.count()):
            if not self.list.item(i).isHidden():
                self.list.setCurrentRow(i)
                self._jump(self.list.item(i))
                return

    def _jump(self, item: QListWidgetItem) -> None:
        h, start = item.data(Qt.ItemDataRole.UserRole)
        self.jumpTo.emit(h, int(start))

    def visible_rows(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count()) if not self.list.item(i).isHidden()]


class LinguistController(QObject):
    """Wires the lanes, the gloss panel and FAST's proposals to the document."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.doc = win.doc
        self.lanes = SegmentLanes(win.timeline)
        self.panel = GlossPanel()
        self.dock = QDockWidget("Glosses", win)
        self.dock.setObjectName("glosses-dock")
        self.dock.setWidget(self.panel)
        win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self._tasks: list[Task] = []
        self._probs: np.ndarray | None = None
        self._options = None
        self._probs_generation = -1
        self._origins: dict[int, int | None] = {}
        self._last_frame: int | None = None
        self.lanes.glossEdited.connect(self._on_gloss_edited)
        self.lanes.boundaryDragged.connect(self._on_boundary)
        self.lanes.proposalActivated.connect(self.accept_proposal)
        self.panel.jumpTo.connect(self.jump_to)
        self.panel.sensitivity.valueChanged.connect(lambda v: self.redecode())
        self.panel.accept_all.clicked.connect(self.act_accept_all_proposals)
        self.panel.dismiss.clicked.connect(self.dismiss_proposals)
        # the list follows edits a moment later: a boundary drag does not rebuild it per mouse move
        self._panel_timer = QTimer(self)
        self._panel_timer.setSingleShot(True)
        self._panel_timer.setInterval(120)
        self._panel_timer.timeout.connect(self._refresh_panel)
        self.doc.sequenceEdited.connect(lambda lo, hi: self._panel_timer.start())
        self.doc.sequenceReplaced.connect(self._on_replaced)
        self.lanes.set_document(self.doc)
        self._refresh_panel()

    def start(self) -> None:
        """The window is up: a recording opened with it gets FAST's proposals too."""
        self._propose_if_bare()

    def _status(self, text: str, ms: int = 6000) -> None:
        self.win.statusBar().showMessage(text, ms)

    def push(self, cmd: EditCommand) -> bool:
        reason = push(self.doc, cmd)
        if reason:
            self._status(f"Cannot {cmd.text().lower()}: {reason}")
            return False
        return True

    def _refresh_panel(self) -> None:
        self._panel_timer.stop()
        seq = self.doc.sequence
        self.panel.set_segments(self.lanes.shown_lanes(), seq.fps)

    def _on_replaced(self) -> None:
        self._probs = None
        self._set_proposals([])
        self._refresh_panel()
        self._propose_if_bare()

    # --- gestures -> undo commands ----------------------------------------------------------
    def _on_gloss_edited(self, hand: str, start: int, text: str) -> None:
        self.push(RenameGloss(self.doc, hand, start, text))

    def _on_boundary(self, drag_id: int, hand: str, start: int, side: str, frame: int, move_key: bool, done: bool):
        if drag_id not in self._origins:  # the boundary before the drag, from the document
            seg = next((s for s in self.lanes.lane(hand) if s.start == start), None)
            origin = None if seg is None else (seg.start if side == "start" else seg.end)
            self._origins = {drag_id: origin}
            self._last_frame = origin
        if frame != self._last_frame:  # the release repeats the last step: nothing new to push
            self.push(MoveBoundary(self.doc, hand, start, side, frame, move_key, drag_id, self._origins[drag_id]))
            self._last_frame = frame
        if done:
            end_drag(self.doc)

    def jump_to(self, hand: str, start: int) -> None:
        self.doc.set_current_frame(start)
        self.lanes.set_current((hand, start))
        vb = self.win.timeline.vb
        (x0, x1), _ = vb.viewRange()
        if not x0 <= start <= x1:
            w = x1 - x0
            vb.setXRange(start - w / 2, start + w / 2, padding=0)

    def _lane_here(self) -> str:
        cur = self.lanes.current
        return cur[0] if cur is not None else ""

    def act_split_sign(self) -> None:
        self.push(SplitSegment(self.doc, self._lane_here(), self.doc.current_frame))

    def act_merge_sign(self) -> None:
        hand = self._lane_here()
        seg = se.segment_at(self.doc.sequence, self.doc.current_frame, hand)
        if seg is None:
            self._status("Put the playhead in a sign (or pick one) to merge it with the next")
            return
        self.push(MergeSegments(self.doc, hand, seg.start))

    def act_edit_gloss(self) -> None:
        hand = self._lane_here()
        seg = se.segment_at(self.doc.sequence, self.doc.current_frame, hand)
        if seg is None:
            self._status("Put the playhead in a sign to type its gloss")
            return
        self.lanes.begin_edit(hand, seg)

    def act_boundary_keys(self, on: bool) -> None:
        self.lanes.move_keys = bool(on)

    # --- ELAN in ----------------------------------------------------------------------------
    def act_import_annotations(self) -> None:
        start = str(self.doc.path.parent) if self.doc.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self.win, "Import annotations", start, "ELAN (*.eaf);;All files (*)")
        if path:
            self.import_file(path)

    def import_file(self, path: str | Path) -> ImportDialog | None:
        """Read ``path`` and ask which tiers to bring in (the dialog opens; OK imports)."""
        from core.io import eaf
        from core.io.errors import FormatError

        path = Path(path)
        try:
            doc = eaf.parse(path)
        except FormatError as e:
            self.win.report_error(self.win, "Cannot import annotations", str(e))
            return None
        dlg = ImportDialog(self.win, path, doc, self.doc.fps)
        dlg.accepted.connect(lambda: self._import_chosen(dlg))
        dlg.open()
        return dlg

    def _import_chosen(self, dlg: ImportDialog) -> None:
        from core.io import eaf
        from core.io.errors import FormatError

        seq = self.doc.sequence
        try:
            imp = eaf.prepare_import(
                dlg.path,
                seq.fps,
                seq.n_frames,
                tier=dlg.tier("sign"),
                right=dlg.tier("right"),
                left=dlg.tier("left"),
                offset_ms=dlg.offset.value(),
            )
        except FormatError as e:
            self.win.report_error(self.win, "Cannot import annotations", str(e))
            return
        cmd = ImportAnnotations(self.doc, imp, dlg.path.name)
        if self.push(cmd) and cmd.report is not None:
            self._set_proposals([])
            self._status(f"Imported {dlg.path.name}: {cmd.report.summary()}", 8000)

    # --- FAST's proposals -------------------------------------------------------------------
    def _propose_if_bare(self) -> Task | None:
        seq = self.doc.sequence
        if seq.keyframes or se.lane_segments(seq, "") or fast_unavailable_reason() is not None:
            return None
        return self.propose()

    def propose(self) -> Task | None:
        """Run FAST once in the background; its proposals then show in the sign lane."""
        reason = fast_unavailable_reason()
        if reason:
            self._status(f"FAST is not available: {reason}")
            return None
        seq = self.doc.sequence
        generation = self.doc.generation

        def work(progress, cancelled):
            return fast_probabilities(seq, progress)

        task = Task(work, "FAST is proposing signs…", self.win, show_after_ms=800)
        task.done.connect(lambda res, err: self._probs_done(res, err, seq))
        self._tasks.append(task)
        self._probs_generation = generation
        return task.start()

    def _probs_done(self, result, error: str, seq) -> None:
        if error:
            self._status(f"FAST failed: {error}", 8000)
            return
        if self.doc.sequence.n_frames != seq.n_frames:
            return  # another file is open now
        self._probs, self._options = result
        self.panel.sensitivity.blockSignals(True)
        self.panel.sensitivity.setValue(int(round(self._options.sensitivity * 100)))
        self.panel.sensitivity.blockSignals(False)
        self.redecode()

    @property
    def proposals(self) -> list[Segment]:
        return self.lanes.proposals

    def redecode(self) -> None:
        """Decode the cached probabilities at the slider's sensitivity (no network run)."""
        if self._probs is None or self._options is None:
            return
        from core.ml.segmentation import decode

        opts = self._options.overridden(self.panel.sensitivity.value() / 100.0, None, None)
        decoded = decode(self._probs, opts)
        have = se.lane_segments(self.doc.sequence, "")
        props = [s for s in decoded.segments if not any(h.start <= s.end and s.start <= h.end for h in have)]
        self._set_proposals(props)

    def _set_proposals(self, props: list[Segment]) -> None:
        self.lanes.set_proposals(props)
        box, label = self.panel.proposal_box, self.panel.proposal_label
        if self._probs is None:
            box.hide()
            return
        box.show()
        label.setText(
            f"FAST proposes {len(props)} signs (dashed in the sign lane): double-click one to accept it, "
            "or accept them all."
        )
        self.panel.accept_all.setEnabled(bool(props))

    def accept_proposal(self, start: int) -> None:
        prop = next((p for p in self.proposals if p.start == start), None)
        if prop is None:
            return
        if self.push(AcceptSegments(self.doc, [prop], f"Accept proposed sign {prop.start}-{prop.end}")):
            self._set_proposals([p for p in self.proposals if p is not prop])

    def act_accept_all_proposals(self) -> None:
        props = list(self.proposals)
        if not props:
            self._status("No proposals to accept")
            return
        if self.push(AcceptSegments(self.doc, props, f"Accept {len(props)} proposed signs")):
            self._set_proposals([])

    def dismiss_proposals(self) -> None:
        self._probs = None
        self._set_proposals([])

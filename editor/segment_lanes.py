"""Segment lanes on the timeline, edited as a linguist does: double-click a sign to type its
gloss in place, drag a sign's edge to move its boundary (the keys stay; with Shift the key on
that edge moves too), one lane per hand when the hands' glosses differ, FAST's proposals drawn
as dashed outlines in the sign lane (double-click one to accept it).

The lanes never change the document: they emit signals that ``editor.linguist`` turns into undo
commands. The sign lane's boxes are the timeline's own (``SegmentBand``); an invisible item over
them takes the gestures above, and lets every other gesture through to the timeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QLineEdit

from core.model import segments_edit as se
from core.model.sequence import Segment

from .commands import new_drag_id

if TYPE_CHECKING:
    from .document import Document
    from .timeline import Timeline

SIGN_Y = (3.1, 3.9)  # the timeline's segment band (editor.timeline.SEG_Y)
HAND_Y = {"right": (4.52, 4.96), "left": (4.04, 4.48)}
Y_WITH_HANDS = 5.0
EDGE_PX = 6.0  # how near an edge a press must be to grab it
HAND_COLOR = {"right": "#8a5cc7", "left": "#c77a3a", "": "#3a6fb0"}
PROPOSAL = QColor(255, 214, 102)
HINT = "No signs yet: Ctrl+F asks FAST for proposals, File › Import annotations brings ELAN's glosses"


class LaneItem(pg.GraphicsObject):
    """One lane: paints its segments (hand lanes) or the proposals and selection (sign lane) and
    takes double-clicks and edge drags."""

    def __init__(self, lanes: SegmentLanes, hand: str, y: tuple[float, float]) -> None:
        super().__init__()
        self.lanes = lanes
        self.hand = hand
        self.y = y
        self.n_frames = 1
        self.segments: list[Segment] = []
        self._starts = np.zeros(0, np.int64)
        self._ends = np.zeros(0, np.int64)
        self._rect = QRectF(0, y[0], 1, y[1] - y[0])
        # (start, side, drag id, last frame, move key): fixed when the drag starts
        self._drag: tuple[int, str, int, int, bool] | None = None
        self._press_shift = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setAcceptHoverEvents(True)  # the full gloss as a tooltip: boxes elide long ones
        self.setZValue(5)

    def set_segments(self, segments: list[Segment], n_frames: int) -> None:
        if n_frames != self.n_frames:
            self.prepareGeometryChange()
            self._rect = QRectF(0, self.y[0], max(n_frames, 1), self.y[1] - self.y[0])
            self.n_frames = n_frames
        self.segments = segments
        self._starts = np.array([s.start for s in segments], np.int64)
        self._ends = np.array([s.end for s in segments], np.int64)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    # --- painting --------------------------------------------------------------------------
    def paint(self, p: QPainter, opt=None, *args) -> None:
        tr = p.transform()
        ex = opt.exposedRect if opt is not None else self._rect
        p.resetTransform()  # device pixels: text does not scale with zoom
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        y0 = tr.map(QPointF(0, self.y[1])).y()
        y1 = tr.map(QPointF(0, self.y[0])).y()
        top, bottom = min(y0, y1), max(y0, y1)
        font = QFont()
        font.setPointSizeF(8.5)
        p.setFont(font)
        current = self.lanes.current
        if self.hand:
            color = QColor(HAND_COLOR[self.hand])
            for i in np.flatnonzero((self._ends + 1 >= ex.left()) & (self._starts <= ex.right())).tolist():
                s = self.segments[i]
                r = self._box(tr, s, top, bottom)
                sel = current == (self.hand, s.start)
                p.setPen(QPen(QColor("#ffffff") if sel else color.lighter(150), 2 if sel else 1))
                p.setBrush(QBrush(color))
                p.drawRoundedRect(r, 3, 3)
                self._text(p, r, s.gloss or "")
        else:
            for s in self.lanes.proposals:
                if s.end + 1 < ex.left() or s.start > ex.right():
                    continue
                r = self._box(tr, s, top, bottom)
                fill = QColor(PROPOSAL)
                fill.setAlpha(40)
                p.setBrush(QBrush(fill))
                p.setPen(QPen(PROPOSAL, 1.5, Qt.PenStyle.DashLine))
                p.drawRoundedRect(r, 3, 3)
                self._text(p, r, "proposed", PROPOSAL)
            if current is not None and current[0] == "":
                for s in self.segments:
                    if s.start == current[1]:
                        p.setBrush(Qt.BrushStyle.NoBrush)
                        p.setPen(QPen(QColor("#ffffff"), 2))
                        p.drawRoundedRect(self._box(tr, s, top, bottom), 3, 3)
            if not self.segments and not self.lanes.proposals:
                p.setPen(QColor("#8a939e"))
                x = max(tr.map(QPointF(0, 0)).x(), tr.map(QPointF(ex.left(), 0)).x()) + 60
                p.drawText(QRectF(x, top, 2000, bottom - top), Qt.AlignmentFlag.AlignVCenter, HINT)

    @staticmethod
    def _box(tr, s: Segment, top: float, bottom: float) -> QRectF:
        x0 = tr.map(QPointF(s.start, 0)).x()
        x1 = tr.map(QPointF(s.end + 1, 0)).x()
        return QRectF(x0 + 0.5, top + 1, max(x1 - x0 - 1, 1.0), bottom - top - 2)

    @staticmethod
    def _text(p: QPainter, r: QRectF, text: str, color: QColor | None = None) -> None:
        if r.width() > 24 and text:
            p.setPen(color or QColor("#e8edf2"))
            elided = p.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(r.width() - 8))
            p.drawText(r.adjusted(5, 0, -3, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)

    # --- gestures --------------------------------------------------------------------------
    def segment_at(self, x: float) -> Segment | None:
        i = int(np.searchsorted(self._starts, x, side="right")) - 1
        if i >= 0 and x < self._ends[i] + 1:
            return self.segments[i]
        return None

    def edge_near(self, scene_pos) -> tuple[Segment, str] | None:
        """The segment edge within ``EDGE_PX`` of a scene position: (segment, 'start' | 'end')."""
        vb = self.lanes.tl.vb
        x = vb.mapSceneToView(scene_pos).x()
        px = abs(vb.mapSceneToView(scene_pos + QPointF(EDGE_PX, 0)).x() - x)
        best = None
        for s in self.segments:
            if s.start - px > x or s.end + 1 + px < x:
                continue
            for side, ex in (("start", s.start), ("end", s.end + 1)):
                d = abs(ex - x)
                if d <= px and (best is None or d < best[0]):
                    best = (d, s, side)
        return None if best is None else (best[1], best[2])

    def hoverMoveEvent(self, ev) -> None:
        seg = self.segment_at(ev.pos().x())
        tip = ""
        if seg is not None:
            fps = self.lanes.doc.fps if self.lanes.doc is not None else 25.0
            lane = {"": "sign", "right": "right hand", "left": "left hand"}[self.hand]
            tip = f"{seg.gloss or '(no gloss)'} — {lane}, frames {seg.start}-{seg.end} ({seg.start / fps:.2f} s)"
        elif not self.hand and (prop := self.lanes.proposal_at(ev.pos().x())) is not None:
            tip = f"Proposed by FAST: frames {prop.start}-{prop.end}; double-click to accept"
        if tip != self.toolTip():
            self.setToolTip(tip)

    def mousePressEvent(self, ev) -> None:
        # the modifiers held when the button went down decide what a drag does
        self._press_shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        ev.ignore()  # no grab: pyqtgraph turns the press into click and drag events

    def mouseClickEvent(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        x = self.lanes.tl.vb.mapSceneToView(ev.scenePos()).x()
        seg = self.segment_at(x)
        if ev.double():
            if seg is not None:
                ev.accept()
                self.lanes.begin_edit(self.hand, seg)
                return
            prop = self.lanes.proposal_at(x) if not self.hand else None
            if prop is not None:
                ev.accept()
                self.lanes.proposalActivated.emit(prop.start)
                return
        self.lanes.set_current((self.hand, seg.start) if seg is not None else None)
        if seg is not None:
            self.lanes.segmentClicked.emit(self.hand, seg.start)
        if self.hand:
            ev.accept()
            self.lanes.tl.scrub_to(x)
        else:
            ev.ignore()  # the timeline selects the sign's keys / scrubs

    def mouseDragEvent(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            hit = self.edge_near(ev.buttonDownScenePos())
            if hit is None:
                ev.ignore()  # not on an edge: the timeline's drag (move the sign's keys, scrub)
                return
            seg, side = hit
            shift = self._press_shift or bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            last = seg.start if side == "start" else seg.end
            self._drag = (seg.start, side, new_drag_id(), last, shift or self.lanes.move_keys)
            self.lanes.set_current((self.hand, seg.start))
        if self._drag is None:
            ev.ignore()
            return
        ev.accept()
        start, side, drag_id, last, move_key = self._drag
        x = self.lanes.tl.vb.mapSceneToView(ev.scenePos()).x()
        frame = int(round(x)) if side == "start" else int(round(x)) - 1
        if frame != last or ev.isFinish():
            self.lanes.boundaryDragged.emit(drag_id, self.hand, start, side, frame, move_key, ev.isFinish())
            self._drag = (start, side, drag_id, frame, move_key)
        if ev.isFinish():
            self._drag = None


class _EditorKeys(QObject):
    """Esc cancels the inline gloss editor (Enter and leaving it commit)."""

    def __init__(self, lanes: SegmentLanes) -> None:
        super().__init__(lanes)
        self.lanes = lanes

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Type.KeyPress and ev.key() == Qt.Key.Key_Escape:
            self.lanes.end_edit(commit=False)
            return True
        return False


class SegmentLanes(QObject):
    """The lanes of one timeline. Signals:
    glossEdited(hand, start, text): the inline editor committed a gloss.
    boundaryDragged(drag_id, hand, start, side, frame, move_key, finished): an edge drag's step.
    segmentClicked(hand, start); proposalActivated(start): a proposal was double-clicked.
    """

    glossEdited = Signal(str, int, str)
    boundaryDragged = Signal(int, str, int, str, int, bool, bool)
    segmentClicked = Signal(str, int)
    proposalActivated = Signal(int)
    currentChanged = Signal()

    def __init__(self, timeline: Timeline) -> None:
        super().__init__(timeline)
        self.tl = timeline
        self.doc: Document | None = None
        self.proposals: list[Segment] = []
        self.current: tuple[str, int] | None = None
        self.move_keys = False  # boundaries take their key along (the Shift modifier does too)
        self.sign = LaneItem(self, "", SIGN_Y)
        self.hands = {h: LaneItem(self, h, y) for h, y in HAND_Y.items()}
        timeline.vb.addItem(self.sign)
        self._labels = {}
        for h, item in self.hands.items():
            timeline.vb.addItem(item)
            item.hide()
            label = pg.TextItem(f"{h} hand", color="#6b7480", anchor=(0, 0))
            label.setPos(0, HAND_Y[h][1] - 0.02)
            label.setZValue(-2)
            label.hide()
            timeline.vb.addItem(label)
            self._labels[h] = label
        timeline.vb.sigXRangeChanged.connect(self._place_labels)
        self.editor: QLineEdit | None = None
        self._editing: tuple[str, int] | None = None
        self._editor_keys = _EditorKeys(self)
        self._with_hands = False
        self._cache: tuple[object, dict[str, list[Segment]]] | None = None

    def set_document(self, doc: Document) -> None:
        self.doc = doc
        doc.sequenceEdited.connect(lambda lo, hi: self.refresh())
        doc.sequenceReplaced.connect(self._on_replaced)
        self.refresh()

    def _on_replaced(self) -> None:
        self.end_edit(commit=False)
        self.current = None
        self.proposals = []
        self.refresh()

    # --- what the lanes show ---------------------------------------------------------------
    def shown_lanes(self) -> dict[str, list[Segment]]:
        """The lanes of the current sequence (computed once per edit)."""
        seq = self.doc.sequence if self.doc is not None else None
        if seq is None:
            return {}
        if self._cache is None or self._cache[0] is not seq:
            lanes = {"": se.lane_segments(seq, "")}
            if se.hands_differ(seq):
                lanes.update({h: se.lane_segments(seq, h) for h in self.hands})
            self._cache = (seq, lanes)
        return self._cache[1]

    def refresh(self) -> None:
        if self.doc is None:
            return
        seq = self.doc.sequence
        t = seq.n_frames
        lanes = self.shown_lanes()
        self.sign.set_segments(lanes[""], t)
        with_hands = len(lanes) > 1
        for h, item in self.hands.items():
            item.set_segments(lanes.get(h, []), t)
            item.setVisible(with_hands)
            self._labels[h].setVisible(with_hands)
        if with_hands != self._with_hands:
            self._with_hands = with_hands
            top = Y_WITH_HANDS if with_hands else SIGN_Y[1] + 0.1
            self.tl.vb.setLimits(yMin=0.0, yMax=top)
            self.tl.vb.setYRange(0.0, top, padding=0)
        if self.current is not None and not any(s.start == self.current[1] for s in self.lane(self.current[0])):
            self.current = None
            self.currentChanged.emit()

    def lane(self, hand: str) -> list[Segment]:
        return self.sign.segments if hand == "" else self.hands[hand].segments

    def set_proposals(self, proposals: list[Segment]) -> None:
        self.proposals = list(proposals)
        self.sign.update()

    def proposal_at(self, x: float) -> Segment | None:
        for s in self.proposals:
            if s.start <= x < s.end + 1:
                return s
        return None

    def set_current(self, current: tuple[str, int] | None) -> None:
        if current != self.current:
            self.current = current
            self.sign.update()
            for item in self.hands.values():
                item.update()
            self.currentChanged.emit()

    def _place_labels(self, *args) -> None:
        x0 = self.tl.vb.viewRange()[0][0]
        for label in self._labels.values():
            label.setPos(x0, label.pos().y())

    # --- the inline gloss editor ------------------------------------------------------------
    def begin_edit(self, hand: str, seg: Segment) -> QLineEdit:
        """Open a line editor over the segment, holding its gloss, all selected."""
        self.end_edit(commit=False)
        self.set_current((hand, seg.start))
        y0, y1 = SIGN_Y if hand == "" else HAND_Y[hand]
        view = self.tl.plot
        a = view.mapFromScene(self.tl.vb.mapViewToScene(QPointF(seg.start, y1)))
        b = view.mapFromScene(self.tl.vb.mapViewToScene(QPointF(seg.end + 1, y0)))
        ed = QLineEdit(view)
        ed.setObjectName("gloss-editor")
        ed.setText(seg.gloss or "")
        ed.selectAll()
        ed.setGeometry(min(a.x(), b.x()), min(a.y(), b.y()), max(abs(b.x() - a.x()), 120), max(abs(b.y() - a.y()), 22))
        ed.returnPressed.connect(lambda: self.end_edit(commit=True))
        ed.editingFinished.connect(lambda: self.end_edit(commit=True))
        ed.installEventFilter(self._editor_keys)
        ed.show()
        ed.setFocus(Qt.FocusReason.MouseFocusReason)
        self.editor = ed
        self._editing = (hand, seg.start)
        return ed

    def end_edit(self, commit: bool) -> None:
        ed, editing = self.editor, self._editing
        if ed is None or editing is None:
            return
        self.editor = self._editing = None
        text = ed.text()
        ed.hide()
        ed.deleteLater()
        self.tl.plot.setFocus()
        if commit:
            old = next((s.gloss or "" for s in self.lane(editing[0]) if s.start == editing[1]), None)
            if old is not None and text.strip() != old:
                self.glossEdited.emit(editing[0], editing[1], text)

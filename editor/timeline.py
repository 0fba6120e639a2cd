"""The keyframe timeline (pyqtgraph): ruler, sign segments, key markers, frame states, playhead.

Lanes, bottom to top (view y units): a curve of the selected joint's rotation, the frame-state
band (KEY / SOURCE / GENERATED), the key markers (shaped by kind), the sign segments with glosses.
The top axis is the ruler: frame numbers and seconds.

Gestures (left button): click a key to select it (shift adds); drag a key to retime the
selection (snapped to frames, clamped so keys never pass a fixed key); drag empty key-lane space
to box-select; drag a sign in the segment band to move its keys together; click or drag
anywhere else to scrub; drag in the state band to select a frame range. Wheel zooms time,
middle / right drag pans. G (grab) and S (scale around the playhead) are modal as in Blender:
move the mouse, click or Enter to confirm, Esc or right click to cancel, or type a number.

Key moves leave as signals, as pyqtgraph's own items report their drags: ``keysDragged``
(a live step), ``keysDragFinished`` (the last step, to commit) and ``keysDragCancelled`` (the keys
go back to where the gesture started). The timeline never changes the sequence itself (the keys
controller pushes undo commands). A gesture's state is a typed object (``ScrubDrag``,
``BoxDrag``, ``RangeDrag``, ``KeysDrag``, ``ModalGesture``) that the timeline owns while it lasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QApplication, QGraphicsItem, QVBoxLayout, QWidget

from core.model.edits import shift_limits
from core.model.sequence import FrameState, KeyKind, Label, segments_from_labels

from .commands import new_drag_id
from .document import Document
from .timeline_snap import snap_delta, snap_frame

SEG_Y = (3.1, 3.9)
KEY_Y = 2.5
KEY_LANE = (2.05, 2.95)
STATE_Y = (1.45, 1.95)
CURVE_Y = (0.1, 1.3)
Y_RANGE = (0.0, 4.0)

STATE_RGBA = {
    FrameState.GENERATED: (85, 145, 255, 255),
    FrameState.SOURCE: (96, 104, 116, 255),
    FrameState.KEY: (255, 200, 60, 255),
    FrameState.WARPED: (64, 190, 160, 255),
}
# the states band's legend, in the band's order of importance (docs/representation.md)
STATE_LEGEND = (
    (FrameState.KEY, "key"),
    (FrameState.SOURCE, "recorded"),
    (FrameState.WARPED, "warped"),
    (FrameState.GENERATED, "generated"),
)
_STATE_LUT = np.array([STATE_RGBA[FrameState(s)] for s in range(len(FrameState))], np.uint8)


def state_legend_html() -> str:
    """The legend of the states band: a coloured square and a word per state."""
    return "&nbsp;&nbsp;".join(
        f'<span style="color: rgb{STATE_RGBA[s][:3]}">&#9632;</span>&nbsp;{word}' for s, word in STATE_LEGEND
    )


KEY_COLOR = {KeyKind.ONSET: "#6fdc8c", KeyKind.MID: "#ffd166", KeyKind.OFFSET: "#ef7d6d", KeyKind.USER: "#c9a7ff"}
SELECTED = "#ffffff"
BG = "#191c21"
SIGN_COLORS = ["#2f5d73", "#3b5f45", "#5b4a6e", "#6a553a"]


@dataclass
class ScrubDrag:
    """Dragging the playhead."""


@dataclass
class BoxDrag:
    """Box-selecting keys from view x ``x0``."""

    x0: float


@dataclass
class RangeDrag:
    """Selecting a frame range in the states band from view x ``x0``."""

    x0: float


@dataclass
class KeysDrag:
    """Keys moved together by the mouse, by a delta clamped to [lo, hi] (``shift_limits``)."""

    frames: list[int]
    x0: float
    lo: int
    hi: int
    drag_id: int
    text: str
    delta: int = 0


@dataclass
class ModalGesture:
    """G (grab) or S (scale around ``pivot``) following the mouse or a typed value."""

    kind: Literal["grab", "scale"]
    frames: list[int]
    x0: float
    pivot: float
    drag_id: int
    mapping: dict[int, int]
    typed: str = ""
    lo: int = 0  # grab: the delta range (``shift_limits``)
    hi: int = 0


Drag = ScrubDrag | BoxDrag | RangeDrag | KeysDrag


def _curve_values(r: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rotations -> (n,) curve heights: the rotation angle, square-root scaled."""
    cos = np.clip((np.trace(r, axis1=1, axis2=2) - 1) / 2, -1, 1)
    deg = np.degrees(np.arccos(cos))
    return CURVE_Y[0] + (CURVE_Y[1] - CURVE_Y[0]) * np.clip(deg / 180.0, 0, 1) ** 0.5


class TimeAxis(pg.AxisItem):
    """Frame ticks labelled in seconds (m:ss.s past a minute)."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.fps = 25.0
        self.show_frames = True

    def _seconds(self, v: float, spacing: float) -> str:
        s = v / self.fps
        if abs(s) < 1e-9:
            s = 0.0
        if abs(s) >= 60:
            return f"{int(s // 60)}:{s % 60:04.1f}"
        return f"{s:.2f}s" if spacing / self.fps < 0.1 else f"{s:.1f}s"

    def tickValues(self, minVal, maxVal, size):
        # ticks on round times: choose a spacing in seconds that gives ~8-12 labels
        span_s = max((maxVal - minVal) / self.fps, 1e-6)
        steps = [0.04, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600]
        px_per_s = size / span_s
        major = next((s for s in steps if s * px_per_s >= (110 if self.show_frames else 70)), steps[-1])
        minor = major / 5 if major >= 0.2 else major / 2
        out = []
        for spacing in (major, minor):
            start = np.ceil(minVal / self.fps / spacing) * spacing
            vals = np.arange(start, maxVal / self.fps + 1e-9, spacing) * self.fps
            out.append((spacing * self.fps, list(vals)))
        return out

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            if self.show_frames:  # the frame number, then the time
                out.append(f"{int(round(v))} · {self._seconds(v, spacing)}")
                continue
            s = v / self.fps
            if abs(s) < 1e-9:
                s = 0.0  # no "-0.0s"
            if abs(s) >= 60:
                out.append(f"{int(s // 60)}:{s % 60:04.1f}")
            else:
                out.append(f"{s:.2f}s" if spacing / self.fps < 0.1 else f"{s:.1f}s")
        return out


class SegmentBand(pg.GraphicsObject):
    """Sign segments (from B/I/O labels) as rounded boxes with their glosses."""

    def __init__(self) -> None:
        super().__init__()
        self.segments: list[tuple[int, int, str | None]] = []
        self._ends = np.zeros((2, 0), np.int64)  # (2, S) starts and ends, to find the visible ones
        self.n_frames = 1
        self._rect = QRectF(0, SEG_Y[0], 1, SEG_Y[1] - SEG_Y[0])
        # paint() gets the exposed rect: only the signs in view are drawn (240 at 10 minutes)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def set_segments(self, segments, n_frames: int) -> None:
        segments = list(segments)
        if segments == self.segments and n_frames == self.n_frames:
            return
        if n_frames != self.n_frames:
            self.prepareGeometryChange()
            self._rect = QRectF(0, SEG_Y[0], max(n_frames, 1), SEG_Y[1] - SEG_Y[0])
        self.segments = segments
        self._ends = np.array([(a, b) for a, b, _ in segments], np.int64).reshape(-1, 2).T
        self.n_frames = n_frames
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, opt=None, *args) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        tr = p.transform()
        ex = opt.exposedRect if opt is not None else self._rect
        p.resetTransform()  # draw in device pixels: text must not scale with zoom
        h0 = tr.map(QPointF(0, SEG_Y[1])).y()
        h1 = tr.map(QPointF(0, SEG_Y[0])).y()
        top, bottom = min(h0, h1), max(h0, h1)
        font = QFont()
        font.setPointSizeF(8.5)
        p.setFont(font)
        starts, ends = self._ends
        for i in np.flatnonzero((ends + 1 >= ex.left()) & (starts <= ex.right())).tolist():
            a, b, gloss = self.segments[i]
            x0 = tr.map(QPointF(a, 0)).x()
            x1 = tr.map(QPointF(b + 1, 0)).x()
            r = QRectF(x0 + 0.5, top + 1, max(x1 - x0 - 1, 1.0), bottom - top - 2)
            c = QColor(SIGN_COLORS[i % len(SIGN_COLORS)])
            p.setPen(QPen(c.lighter(150), 1))
            p.setBrush(QBrush(c))
            p.drawRoundedRect(r, 3, 3)
            onset = QRectF(x0 + 0.5, top + 1, max(min(4.0, r.width()), 1.0), bottom - top - 2)
            p.fillRect(onset, QColor("#6fdc8c"))  # the B frame
            if r.width() > 24:
                p.setPen(QColor("#e8edf2"))
                text = gloss if gloss else f"sign {i + 1}"
                p.drawText(
                    r.adjusted(7, 0, -3, 0),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                    p.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(r.width() - 10)),
                )


class KeyMarkers(pg.GraphicsObject):
    """Key markers shaped by kind, painted in device pixels (cheap to move: no per-spot pixmaps,
    so a drag only repaints). Mouse events pass through to the view box."""

    SIZE = 6.5

    def __init__(self) -> None:
        super().__init__()
        self.frames = np.zeros(0)
        self.kinds: list[KeyKind] = []
        self.selected = np.zeros(0, bool)
        self.n_frames = 1
        self._rect = QRectF(0, KEY_LANE[0], 1, KEY_LANE[1] - KEY_LANE[0])
        self._brush = {k: QBrush(QColor(c)) for k, c in KEY_COLOR.items()}
        self._sel_brush = QBrush(QColor(SELECTED))
        self._pen = QPen(QColor("#101214"), 1)
        self._sel_pen = QPen(QColor("#ff9f1c"), 2)
        # paint() gets the exposed rect: only the keys in view are drawn (720 at 10 minutes)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def set_keys(self, frames: np.ndarray, kinds: list, selected: np.ndarray, n_frames: int) -> None:
        if n_frames != self.n_frames:
            self.prepareGeometryChange()
            self._rect = QRectF(-1, KEY_LANE[0], n_frames + 2, KEY_LANE[1] - KEY_LANE[0])
        self.frames, self.kinds, self.selected, self.n_frames = frames, kinds, selected, n_frames
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, opt=None, *args) -> None:
        from PySide6.QtGui import QPolygonF

        tr = p.transform()
        ex = opt.exposedRect if opt is not None else self._rect
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        y = tr.map(QPointF(0, KEY_Y)).y()
        sx, dx = tr.m11(), tr.dx()  # view x -> device x (no rotation in a view box)
        margin = 2 * self.SIZE / max(abs(sx), 1e-9)  # a marker reaches this far past its frame
        frames = np.asarray(self.frames, float)
        for i in np.flatnonzero((frames >= ex.left() - margin) & (frames <= ex.right() + margin)).tolist():
            kind, sel = self.kinds[i], bool(self.selected[i])
            x = sx * frames[i] + dx
            r = self.SIZE * (1.3 if sel else 1.0)
            p.setBrush(self._sel_brush if sel else self._brush[kind])
            p.setPen(self._sel_pen if sel else self._pen)
            if kind == KeyKind.ONSET:
                p.drawPolygon(QPolygonF([QPointF(x - r, y - r), QPointF(x + r, y), QPointF(x - r, y + r)]))
            elif kind == KeyKind.OFFSET:
                p.drawPolygon(QPolygonF([QPointF(x + r, y - r), QPointF(x - r, y), QPointF(x + r, y + r)]))
            elif kind == KeyKind.MID:
                p.drawPolygon(
                    QPolygonF([QPointF(x, y - r * 1.2), QPointF(x + r, y), QPointF(x, y + r * 1.2), QPointF(x - r, y)])
                )
            else:
                p.drawEllipse(QPointF(x, y), r * 0.85, r * 0.85)


class TimelineView(pg.ViewBox):
    """The ViewBox that turns mouse gestures into timeline actions (see module docstring)."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__(enableMenu=False)
        self.tl = timeline
        self.setMouseEnabled(x=True, y=False)

    def mouseClickEvent(self, ev) -> None:
        tl = self.tl
        if tl.modal is not None:
            ev.accept()
            tl.finish_modal(ev.button() == Qt.MouseButton.LeftButton)
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        pos = self.mapSceneToView(ev.scenePos())
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        key = tl.key_near(ev.scenePos()) if KEY_LANE[0] - 0.3 <= pos.y() <= KEY_LANE[1] + 0.3 else None
        if key is not None:
            if shift and key in tl.doc.selected_keys:  # shift-click toggles, as in Blender
                tl.doc.select_keys(tl.doc.selected_keys - {key})
            else:
                tl.doc.select_keys([key], add=shift)
                if not shift:  # the clicked key is on screen, so the inspector edits what is seen
                    tl.doc.set_current_frame(key)
            return
        seg = tl.segment_at(pos) if SEG_Y[0] <= pos.y() <= SEG_Y[1] else None
        if seg is not None:
            keys = [int(k) for k in tl.doc.key_frames() if seg[0] <= k <= seg[1]]
            tl.doc.select_keys(keys, add=shift)
            return
        if not shift:
            tl.doc.select_keys([])
        if STATE_Y[0] <= pos.y() <= STATE_Y[1]:
            tl.doc.set_range(None)
        tl.scrub_to(pos.x())

    def mouseDragEvent(self, ev, axis=None) -> None:
        tl = self.tl
        if ev.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton):
            ev.accept()
            dx = self.mapSceneToView(ev.scenePos()).x() - self.mapSceneToView(ev.lastScenePos()).x()
            self.translateBy(x=-dx)
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        if ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos())
            key = tl.key_near(ev.buttonDownScenePos()) if KEY_LANE[0] - 0.3 <= start.y() <= KEY_LANE[1] + 0.3 else None
            seg = tl.segment_at(start) if SEG_Y[0] <= start.y() <= SEG_Y[1] else None
            if axis is None and key is not None:
                if key not in tl.doc.selected_keys:
                    tl.doc.select_keys([key], add=bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier))
                tl.begin_move(sorted(tl.doc.selected_keys), start.x(), "Retime keys")
            elif axis is None and seg is not None:
                keys = [int(k) for k in tl.doc.key_frames() if seg[0] <= k <= seg[1]]
                tl.doc.select_keys(keys)
                tl.begin_move(keys, start.x(), "Move sign")
            elif axis is None and KEY_LANE[0] <= start.y() <= KEY_LANE[1]:
                tl.begin_box(start.x())
            elif axis is None and STATE_Y[0] <= start.y() <= STATE_Y[1]:
                tl.begin_range(start.x())
            else:
                tl.begin_scrub()
        x = self.mapSceneToView(ev.scenePos()).x()
        tl.drag_to(x, finished=ev.isFinish())

    def wheelEvent(self, ev, axis=None) -> None:
        super().wheelEvent(ev, axis=0)


class _ModalKeys(QObject):
    """While G / S is active: Enter confirms, Esc cancels, digits type a value."""

    def __init__(self, tl: Timeline) -> None:
        super().__init__(tl)
        self.tl = tl

    def eventFilter(self, obj, ev) -> bool:
        if self.tl.modal is None:
            return False
        if ev.type() == QEvent.Type.ShortcutOverride:
            ev.accept()
            return True
        if ev.type() == QEvent.Type.KeyPress:
            return self.tl.modal_key(ev)
        return False


class Timeline(QWidget):
    """Signals:
    keysDragged(drag_id, mapping {old: new}, text): a step of a key drag (live preview).
    keysDragFinished(drag_id, mapping, text): the drag's last step: commit it.
    keysDragCancelled(drag_id, frames): the drag was cancelled: the keys go back to ``frames``.
    modalChanged(text): the G / S status line ("" when it ends).
    """

    keysDragged = Signal(int, object, str)
    keysDragFinished = Signal(int, object, str)
    keysDragCancelled = Signal(int, object)
    modalChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc: Document | None = None
        self.axis = TimeAxis("top")
        self.vb = TimelineView(self)
        self.plot = pg.PlotWidget(viewBox=self.vb, axisItems={"top": self.axis}, background=BG)
        pi = self.plot.getPlotItem()
        pi.hideAxis("left")
        pi.hideAxis("bottom")
        pi.showAxis("top")
        pi.setMenuEnabled(False)
        pi.hideButtons()
        self.axis.setPen(pg.mkPen("#8a94a0"))
        self.axis.setTextPen(pg.mkPen("#c8d0da"))
        self.vb.setYRange(*Y_RANGE, padding=0)
        self.vb.setLimits(yMin=Y_RANGE[0], yMax=Y_RANGE[1])
        self.plot.setMinimumHeight(150)

        # lanes
        self.state_img = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.state_img)
        self.segments = SegmentBand()
        self.vb.addItem(self.segments)
        # clipped to the view: a repaint strokes the frames in view, not all 15,000 of 10 minutes
        self.curve = pg.PlotDataItem(
            pen=pg.mkPen("#7fb0ff", width=1.2),
            clipToView=True,
            autoDownsample=True,
            downsampleMethod="peak",
            skipFiniteCheck=True,
        )
        self.vb.addItem(self.curve)
        self.range_item = pg.LinearRegionItem(
            movable=False, brush=pg.mkBrush(255, 255, 255, 28), pen=pg.mkPen(255, 255, 255, 90)
        )
        self.range_item.setZValue(-5)
        self.range_item.hide()
        self.vb.addItem(self.range_item)
        self.keys_item = KeyMarkers()
        self.keys_item.setZValue(10)
        self.vb.addItem(self.keys_item)
        self.box_item = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(120, 170, 255, 50), pen=pg.mkPen("#78aaff"))
        self.box_item.hide()
        self.vb.addItem(self.box_item)
        self.playhead = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#ff5a5a", width=2))
        self.playhead.setZValue(20)
        self.vb.addItem(self.playhead)
        self._lane_labels: list[pg.TextItem] = []
        for y, text in (
            (SEG_Y[1] - 0.02, "signs"),
            (KEY_LANE[1] - 0.02, "keys"),
            (STATE_Y[1] + 0.38, "states"),
            (CURVE_Y[1], "joint"),
        ):
            label = pg.TextItem(text, color="#6b7480", anchor=(0, 0))
            label.setPos(0, y)
            label.setZValue(-2)
            self.vb.addItem(label)
            self._lane_labels.append(label)
        # the states band's legend, at the right end of its lane
        self.state_legend = pg.TextItem(
            html=f'<span style="color: #8a939e; font-size: 8pt">{state_legend_html()}</span>', anchor=(1, 0)
        )
        self.state_legend.setPos(0, STATE_Y[1] + 0.38)
        self.state_legend.setZValue(-2)
        self.vb.addItem(self.state_legend)
        self.vb.sigXRangeChanged.connect(self._place_lane_labels)
        # every lane item lets the mouse through: the view box interprets all gestures
        for item in (
            self.state_img,
            self.segments,
            self.curve,
            self.range_item,
            self.keys_item,
            self.box_item,
            self.playhead,
        ):
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            item.setAcceptHoverEvents(False)

        self._drag: Drag | None = None
        self.modal: ModalGesture | None = None
        # what the lanes show, kept to redraw only what an edit changed
        self._shown_states: np.ndarray | None = None
        self._labels: np.ndarray | None = None
        self._spans: list[tuple[int, int]] = []  # sign segments (start, end) from the labels
        self._glosses: tuple | None = None
        self._keys: tuple | None = None  # (keyframes tuple, (K,) int64 frames, kinds)
        self._curve_y: np.ndarray | None = None
        self._curve_joint = -1
        self._preview: dict[int, int] | None = None
        self._mouse_x = 0.0
        self.plot.scene().sigMouseMoved.connect(self._on_hover)
        self._modal_keys = _ModalKeys(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)

    # --- document ---------------------------------------------------------------------------
    def set_document(self, doc: Document) -> None:
        self.doc = doc
        doc.sequenceEdited.connect(self._on_edited)
        doc.sequenceReplaced.connect(self._on_replaced)
        doc.selectionChanged.connect(self._update_keys)
        doc.currentFrameChanged.connect(self._move_playhead)
        doc.jointChanged.connect(lambda j: self._update_curve())
        doc.framesGenerated.connect(self._update_curve)
        self._on_replaced()

    def _on_replaced(self) -> None:
        self.axis.fps = self.doc.fps
        t = self.doc.n_frames
        self.vb.setLimits(xMin=-0.05 * t - 5, xMax=t * 1.05 + 5, minXRange=8)
        self.vb.setXRange(-0.5, t - 0.5, padding=0.01)
        self.rebuild()

    def rebuild(self) -> None:
        """Redraw every lane from the document."""
        self._shown_states = self._labels = self._curve_y = None
        self._on_edited(0, self.doc.n_frames)

    def _on_edited(self, lo: int, hi: int) -> None:
        """An edit changed frames [lo, hi): lanes redo the part that changed (a drag on a
        10-minute document sends one of these every 40 ms)."""
        doc = self.doc
        seq = doc.sequence
        states = seq.states
        old = self._shown_states
        if old is None or old.shape != states.shape or not np.array_equal(old, states):
            rgba = _STATE_LUT[states]
            self.state_img.setImage(rgba[None], autoLevels=False)
            self.state_img.setRect(QRectF(-0.5, STATE_Y[0], seq.n_frames, STATE_Y[1] - STATE_Y[0]))
            self._shown_states = states
        self._update_segments()
        self._update_keys()
        self._update_curve(lo, hi)
        self._move_playhead(doc.current_frame)
        if doc.range:
            self.range_item.setRegion((doc.range[0] - 0.5, doc.range[1] + 0.5))
            self.range_item.show()
        else:
            self.range_item.hide()

    def _update_segments(self) -> None:
        """Sign segments from the labels, re-read only around the frames whose label changed."""
        seq = self.doc.sequence
        labels, old = seq.labels, self._labels
        if old is None or old.shape != labels.shape:
            self._spans = [(s.start, s.end) for s in segments_from_labels(labels)]
        elif labels is not old:
            diff = np.flatnonzero(old != labels)
            if diff.size:
                # reading labels restarts at every O frame: re-read from the O before the first
                # change to the O after the last one (both the old and new labels are O there)
                t = len(labels)
                before = np.flatnonzero(labels[: diff[0]] == Label.O)
                after = np.flatnonzero(labels[diff[-1] + 1 :] == Label.O)
                w0 = int(before[-1]) + 1 if before.size else 0
                w1 = int(diff[-1]) + 1 + int(after[0]) if after.size else t
                window = [(s.start + w0, s.end + w0) for s in segments_from_labels(labels[w0:w1])]
                self._spans = (
                    [sp for sp in self._spans if sp[1] < w0] + window + [sp for sp in self._spans if sp[0] >= w1]
                )
        self._labels = labels
        if labels is old and seq.glosses is self._glosses:
            return
        self._glosses = seq.glosses
        signs = [g for g in seq.glosses if not g.hand]  # each hand's glosses have their own lane
        glosses = {(g.start, g.end): g.gloss for g in signs}
        by_start = {g.start: g.gloss for g in signs}
        items = [(a, b, glosses.get((a, b), by_start.get(a))) for a, b in self._spans]
        if not items and signs:
            items = [(g.start, g.end, g.gloss) for g in signs]
        self.segments.set_segments(items, seq.n_frames)

    def _key_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """((K,) float shown positions (a drag's preview applied), (K,) int64 key frames)."""
        frames = self._key_table()[1]
        pos = frames.astype(float)
        if self._preview:
            src = np.fromiter(self._preview.keys(), np.int64, len(self._preview))
            dst = np.fromiter(self._preview.values(), float, len(self._preview))
            i = np.clip(np.searchsorted(frames, src), 0, max(len(frames) - 1, 0))
            hit = frames[i] == src if len(frames) else np.zeros(0, bool)
            pos[i[hit]] = dst[hit]
        return pos, frames

    def _key_table(self) -> tuple:
        """(keyframes, (K,) int64 frames, [kind]) of the document, rebuilt when the keys change."""
        keys = self.doc.sequence.keyframes
        if self._keys is None or self._keys[0] is not keys:
            self._keys = (keys, np.array([k.frame for k in keys], np.int64), [k.kind for k in keys])
        return self._keys

    def _update_keys(self) -> None:
        if self.doc is None:
            return
        pos, frames = self._key_positions()
        sel = self.doc.selected_keys
        selected = np.isin(frames, np.fromiter(sel, np.int64, len(sel))) if sel else np.zeros(len(frames), bool)
        self.keys_item.set_keys(pos, self._key_table()[2], selected, self.doc.n_frames)
        if self.doc.range:
            self.range_item.setRegion((self.doc.range[0] - 0.5, self.doc.range[1] + 0.5))
            self.range_item.show()
        else:
            self.range_item.hide()

    def _update_curve(self, lo: int | None = None, hi: int | None = None) -> None:
        """The joint's rotation angle per frame; with [lo, hi) only those frames are recomputed."""
        doc = self.doc
        if doc is None or doc.joint < 0:
            self.curve.setData([], [])
            self._curve_y = None
            return
        rot = doc.sequence.rotations
        t, y = rot.shape[0], self._curve_y
        if lo is None or y is None or len(y) != t or self._curve_joint != doc.joint:
            y = _curve_values(rot[:, doc.joint])
        else:
            lo, hi = max(0, int(lo)), min(t, int(hi))
            if hi <= lo:
                return
            y = y.copy()
            y[lo:hi] = _curve_values(rot[lo:hi, doc.joint])
        self._curve_y, self._curve_joint = y, doc.joint
        self.curve.setData(np.arange(t), y)

    def _move_playhead(self, frame: int) -> None:
        self.playhead.setValue(frame)

    def _place_lane_labels(self, *args) -> None:
        x0 = self.vb.viewRange()[0][0]
        for item in self._lane_labels:
            item.setPos(x0, item.pos().y())
        self.state_legend.setPos(self.vb.viewRange()[0][1], self.state_legend.pos().y())

    # --- hit tests --------------------------------------------------------------------------
    def key_near(self, scene_pos, px: float = 8.0) -> int | None:
        """The key frame whose marker is within ``px`` pixels of ``scene_pos`` horizontally."""
        pos, frames = self._key_positions()
        if not len(pos):
            return None
        x = self.vb.mapSceneToView(scene_pos).x()
        per_px = self.vb.viewPixelSize()[0]
        d = np.abs(pos - x) / max(per_px, 1e-9)
        i = int(np.argmin(d))
        return int(frames[i]) if d[i] <= px else None

    def segment_at(self, pos) -> tuple[int, int] | None:
        x = pos.x()
        for a, b, _ in self.segments.segments:
            if a - 0.5 <= x <= b + 0.5:
                return a, b
        return None

    # --- gestures -----------------------------------------------------------------------------
    def scrub_to(self, x: float) -> None:
        self.doc.set_current_frame(int(round(x)))

    def begin_scrub(self) -> None:
        self._drag = ScrubDrag()

    def begin_box(self, x: float) -> None:
        self._drag = BoxDrag(x)
        self.box_item.setRegion((x, x))
        self.box_item.show()

    def begin_range(self, x: float) -> None:
        self._drag = RangeDrag(x)

    def allowed_shift(self, frames: list[int]) -> tuple[int, int]:
        """The range of deltas that moves ``frames`` together without passing a fixed key."""
        return shift_limits(self.doc.key_frames(), frames, self.doc.n_frames)

    def begin_move(self, frames: list[int], x0: float, text: str) -> None:
        if not frames:
            self._drag = ScrubDrag()
            return
        lo, hi = self.allowed_shift(frames)
        self._drag = KeysDrag(list(frames), x0, lo, hi, new_drag_id(), text)

    def _emit_keys(self, drag_id: int, mapping: dict[int, int], text: str, finished: bool) -> None:
        """Show ``mapping`` as a preview (none once finished) and report the step."""
        self._preview = None if finished else dict(mapping)
        self._update_keys()
        (self.keysDragFinished if finished else self.keysDragged).emit(drag_id, mapping, text)

    def drag_to(self, x: float, finished: bool) -> None:
        d = self._drag
        if d is None:
            return
        free = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier)
        if isinstance(d, ScrubDrag):
            self.scrub_to(x if free else snap_frame(x, self.doc.key_frames(), self.vb.viewPixelSize()[0]))
        elif isinstance(d, BoxDrag):
            a, b = sorted((d.x0, x))
            self.box_item.setRegion((a, b))
            if finished:
                self.box_item.hide()
                sel = [int(k) for k in self.doc.key_frames() if a <= k <= b]
                self.doc.select_keys(sel)
        elif isinstance(d, RangeDrag):
            a, b = sorted((int(round(d.x0)), int(round(x))))
            a, b = max(0, a), min(self.doc.n_frames - 1, b)
            self.doc.set_range((a, b))
        elif isinstance(d, KeysDrag):
            delta = int(round(x - d.x0))
            if not free:  # the grabbed key snaps to the playhead
                anchor = min(d.frames, key=lambda f: abs(f - d.x0))
                delta = snap_delta(delta, d.frames, anchor, self.doc.current_frame, self.vb.viewPixelSize()[0])
            delta = int(np.clip(delta, d.lo, d.hi))
            if delta != d.delta or finished:
                d.delta = delta
                self._emit_keys(d.drag_id, {f: f + delta for f in d.frames}, d.text, finished)
        if finished:
            self._drag = None
            self._preview = None

    # --- modal grab / scale (G / S) -------------------------------------------------------------
    def begin_grab(self) -> bool:
        return self._begin_modal("grab")

    def begin_scale(self) -> bool:
        return self._begin_modal("scale")

    def _begin_modal(self, kind: Literal["grab", "scale"]) -> bool:
        if self.doc is None or not self.doc.selected_keys or self.modal is not None:
            return False
        frames = sorted(self.doc.selected_keys)
        m = ModalGesture(
            kind, frames, self._mouse_x, float(self.doc.current_frame), new_drag_id(), {f: f for f in frames}
        )
        if kind == "grab":
            m.lo, m.hi = self.allowed_shift(frames)
        self.modal = m
        self.plot.installEventFilter(self._modal_keys)
        self.plot.setFocus()
        self.plot.grabKeyboard()
        self.modalChanged.emit(self._modal_text())
        return True

    def _modal_text(self) -> str:
        m = self.modal
        if m is None:
            return ""
        if m.kind == "grab":
            a, b = next(iter(m.mapping.items()))
            return f"Grab: {b - a:+d} frames {m.typed}  (click/Enter confirm, Esc cancel)"
        return f"Scale around frame {int(m.pivot)}: x{self._factor():.2f} {m.typed}  (click/Enter, Esc)"

    def _factor(self) -> float:
        m = self.modal
        if m.typed:
            try:
                return float(m.typed)
            except ValueError:
                return 1.0
        ref = m.x0 - m.pivot
        if abs(ref) < 1e-6:
            ref = 1.0 if m.x0 >= m.pivot else -1.0
        return (self._mouse_x - m.pivot) / ref

    def _modal_mapping(self) -> dict[int, int]:
        m = self.modal
        if m.kind == "grab":
            delta = int(float(m.typed)) if m.typed not in ("", "-", ".") else int(round(self._mouse_x - m.x0))
            delta = int(np.clip(delta, m.lo, m.hi))
            return {f: f + delta for f in m.frames}
        k = self._factor()
        t = self.doc.n_frames
        return {f: int(np.clip(np.rint(m.pivot + (f - m.pivot) * k), 0, t - 1)) for f in m.frames}

    def _modal_update(self, finished: bool = False) -> None:
        m = self.modal
        mapping = self._modal_mapping()
        if mapping != m.mapping or finished:
            m.mapping = mapping
            if len(set(mapping.values())) == len(mapping):
                self._emit_keys(m.drag_id, mapping, "Grab keys" if m.kind == "grab" else "Scale keys", finished)
            else:  # two keys on one frame: preview it, report nothing
                self._preview = None if finished else dict(mapping)
                self._update_keys()
        self.modalChanged.emit(self._modal_text())

    def finish_modal(self, confirm: bool) -> None:
        m = self.modal
        if m is None:
            return
        if confirm:
            self._modal_update(finished=True)
        else:
            self.keysDragCancelled.emit(m.drag_id, list(m.frames))
        self.modal = None
        self._preview = None
        self.plot.releaseKeyboard()
        self.plot.removeEventFilter(self._modal_keys)
        self._update_keys()
        self.modalChanged.emit("")

    def modal_key(self, ev) -> bool:
        key = ev.key()
        m = self.modal
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finish_modal(True)
        elif key == Qt.Key.Key_Escape:
            self.finish_modal(False)
        elif key == Qt.Key.Key_Backspace:
            m.typed = m.typed[:-1]
            self._modal_update()
        elif ev.text() and ev.text() in "0123456789.-":
            m.typed += ev.text()
            self._modal_update()
        return True

    def _on_hover(self, scene_pos) -> None:
        self._mouse_x = self.vb.mapSceneToView(scene_pos).x()
        if self.modal is not None:
            self._modal_update()

    # --- view -------------------------------------------------------------------------------
    def zoom_all(self) -> None:
        self.vb.setXRange(-0.5, self.doc.n_frames - 0.5, padding=0.01)

    def frame_x(self, frame: float) -> QPoint:
        """Pixel position in ``plot.viewport()`` of a frame on the key lane (scripts and tests)."""
        scene = self.vb.mapViewToScene(QPointF(frame, KEY_Y))
        return self.plot.mapFromScene(scene)

    def lane_point(self, frame: float, y: float) -> QPoint:
        return self.plot.mapFromScene(self.vb.mapViewToScene(QPointF(frame, y)))

"""The keyframe timeline (pyqtgraph): ruler, sign segments, key markers, frame states, playhead.

Lanes, bottom to top (view y units): a curve of the selected joint's rotation, the frame-state
band (KEY / SOURCE / GENERATED), the key markers (shaped by kind), the sign segments with glosses.
The top axis is the ruler, in seconds.

Gestures (left button): click a key to select it (shift adds); drag a key to retime the
selection (snapped to frames, clamped so keys never pass a fixed key); drag empty key-lane space
to box-select; drag a sign in the segment band to move its keys together; click or drag
anywhere else to scrub; drag in the state band to select a frame range. Wheel zooms time,
middle / right drag pans. G (grab) and S (scale around the playhead) are modal as in Blender:
move the mouse, click or Enter to confirm, Esc or right click to cancel, or type a number.

Edits leave as ``retimeRequested(drag_id, mapping, finished, text)``; the timeline never
changes the sequence itself (the main window pushes undo commands).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QBrush
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.model.sequence import FrameState, KeyKind, segments_from_labels

from .commands import new_drag_id
from .document import Document

SEG_Y = (3.1, 3.9)
KEY_Y = 2.5
KEY_LANE = (2.05, 2.95)
STATE_Y = (1.45, 1.95)
CURVE_Y = (0.1, 1.3)
Y_RANGE = (0.0, 4.0)

STATE_RGBA = {FrameState.GENERATED: (85, 145, 255, 255), FrameState.SOURCE: (96, 104, 116, 255),
              FrameState.KEY: (255, 200, 60, 255)}
KEY_COLOR = {KeyKind.ONSET: "#6fdc8c", KeyKind.MID: "#ffd166", KeyKind.OFFSET: "#ef7d6d", KeyKind.USER: "#c9a7ff"}
SELECTED = "#ffffff"
BG = "#191c21"
SIGN_COLORS = ["#2f5d73", "#3b5f45", "#5b4a6e", "#6a553a"]


class TimeAxis(pg.AxisItem):
    """Frame ticks labelled in seconds (m:ss.s past a minute)."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.fps = 25.0

    def tickValues(self, minVal, maxVal, size):
        # ticks on round times: choose a spacing in seconds that gives ~8-12 labels
        span_s = max((maxVal - minVal) / self.fps, 1e-6)
        steps = [0.04, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600]
        px_per_s = size / span_s
        major = next((s for s in steps if s * px_per_s >= 70), steps[-1])
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
        self.n_frames = 1
        self._rect = QRectF(0, SEG_Y[0], 1, SEG_Y[1] - SEG_Y[0])

    def set_segments(self, segments, n_frames: int) -> None:
        self.prepareGeometryChange()
        self.segments = list(segments)
        self.n_frames = n_frames
        self._rect = QRectF(0, SEG_Y[0], max(n_frames, 1), SEG_Y[1] - SEG_Y[0])
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, *args) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        tr = p.transform()
        p.resetTransform()  # draw in device pixels: text must not scale with zoom
        h0 = tr.map(QPointF(0, SEG_Y[1])).y()
        h1 = tr.map(QPointF(0, SEG_Y[0])).y()
        top, bottom = min(h0, h1), max(h0, h1)
        font = QFont()
        font.setPointSizeF(8.5)
        p.setFont(font)
        for i, (a, b, gloss) in enumerate(self.segments):
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
                p.drawText(r.adjusted(7, 0, -3, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                           p.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(r.width() - 10)))


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

    def set_keys(self, frames: np.ndarray, kinds: list, selected: np.ndarray, n_frames: int) -> None:
        if n_frames != self.n_frames:
            self.prepareGeometryChange()
            self._rect = QRectF(-1, KEY_LANE[0], n_frames + 2, KEY_LANE[1] - KEY_LANE[0])
        self.frames, self.kinds, self.selected, self.n_frames = frames, kinds, selected, n_frames
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, *args) -> None:
        from PySide6.QtGui import QPolygonF

        tr = p.transform()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        y = tr.map(QPointF(0, KEY_Y)).y()
        for x_view, kind, sel in zip(self.frames, self.kinds, self.selected):
            x = tr.map(QPointF(float(x_view), 0)).x()
            r = self.SIZE * (1.3 if sel else 1.0)
            p.setBrush(self._sel_brush if sel else self._brush[kind])
            p.setPen(self._sel_pen if sel else self._pen)
            if kind == KeyKind.ONSET:
                p.drawPolygon(QPolygonF([QPointF(x - r, y - r), QPointF(x + r, y), QPointF(x - r, y + r)]))
            elif kind == KeyKind.OFFSET:
                p.drawPolygon(QPolygonF([QPointF(x + r, y - r), QPointF(x - r, y), QPointF(x + r, y + r)]))
            elif kind == KeyKind.MID:
                p.drawPolygon(QPolygonF([QPointF(x, y - r * 1.2), QPointF(x + r, y), QPointF(x, y + r * 1.2),
                                         QPointF(x - r, y)]))
            else:
                p.drawEllipse(QPointF(x, y), r * 0.85, r * 0.85)


class TimelineView(pg.ViewBox):
    """The ViewBox that turns mouse gestures into timeline actions (see module docstring)."""

    def __init__(self, timeline: "Timeline") -> None:
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

    def __init__(self, tl: "Timeline") -> None:
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
    """Signals: retimeRequested(drag_id, mapping {old: new}, finished, text)."""

    retimeRequested = Signal(int, object, bool, str)
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
        self.curve = pg.PlotDataItem(pen=pg.mkPen("#7fb0ff", width=1.2))
        self.vb.addItem(self.curve)
        self.range_item = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(255, 255, 255, 28),
                                              pen=pg.mkPen(255, 255, 255, 90))
        self.range_item.setZValue(-5)
        self.range_item.hide()
        self.vb.addItem(self.range_item)
        self.keys_item = KeyMarkers()
        self.keys_item.setZValue(10)
        self.vb.addItem(self.keys_item)
        self.box_item = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(120, 170, 255, 50),
                                            pen=pg.mkPen("#78aaff"))
        self.box_item.hide()
        self.vb.addItem(self.box_item)
        self.playhead = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#ff5a5a", width=2))
        self.playhead.setZValue(20)
        self.vb.addItem(self.playhead)
        self._lane_labels: list[pg.TextItem] = []
        for y, text in ((SEG_Y[1] - 0.02, "signs"), (KEY_LANE[1] - 0.02, "keys"), (STATE_Y[1] + 0.38, "states"),
                        (CURVE_Y[1], "joint")):
            label = pg.TextItem(text, color="#6b7480", anchor=(0, 0))
            label.setPos(0, y)
            label.setZValue(-2)
            self.vb.addItem(label)
            self._lane_labels.append(label)
        self.vb.sigXRangeChanged.connect(self._place_lane_labels)
        # every lane item lets the mouse through: the view box interprets all gestures
        for item in (self.state_img, self.segments, self.curve, self.range_item, self.keys_item, self.box_item,
                     self.playhead):
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            item.setAcceptHoverEvents(False)

        self._drag: dict | None = None
        self.modal: dict | None = None
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
        doc.sequenceEdited.connect(lambda lo, hi: self.rebuild())
        doc.sequenceReplaced.connect(self._on_replaced)
        doc.selectionChanged.connect(self._update_keys)
        doc.currentFrameChanged.connect(self._move_playhead)
        doc.jointChanged.connect(lambda j: self._update_curve())
        doc.framesGenerated.connect(lambda lo, hi: self._update_curve())
        self._on_replaced()

    def _on_replaced(self) -> None:
        self.axis.fps = self.doc.fps
        t = self.doc.n_frames
        self.vb.setLimits(xMin=-0.05 * t - 5, xMax=t * 1.05 + 5, minXRange=8)
        self.vb.setXRange(-0.5, t - 0.5, padding=0.01)
        self.rebuild()

    def rebuild(self) -> None:
        """Redraw every lane from the document."""
        doc = self.doc
        seq = doc.sequence
        states = seq.states
        rgba = np.array([STATE_RGBA[FrameState(s)] for s in range(3)], np.uint8)[states]
        self.state_img.setImage(rgba[None], autoLevels=False)
        self.state_img.setRect(QRectF(-0.5, STATE_Y[0], seq.n_frames, STATE_Y[1] - STATE_Y[0]))
        segs = segments_from_labels(seq.labels)
        glosses = {(g.start, g.end): g.gloss for g in seq.glosses}
        by_start = {g.start: g.gloss for g in seq.glosses}
        items = [(s.start, s.end, glosses.get((s.start, s.end), by_start.get(s.start))) for s in segs]
        if not items and seq.glosses:
            items = [(g.start, g.end, g.gloss) for g in seq.glosses]
        self.segments.set_segments(items, seq.n_frames)
        self._segs = items
        self._update_keys()
        self._update_curve()
        self._move_playhead(doc.current_frame)
        if doc.range:
            self.range_item.setRegion((doc.range[0] - 0.5, doc.range[1] + 0.5))
            self.range_item.show()
        else:
            self.range_item.hide()

    def _key_positions(self) -> tuple[np.ndarray, list]:
        seq = self.doc.sequence
        frames = np.array([k.frame for k in seq.keyframes], float)
        if self._preview:
            frames = np.array([self._preview.get(int(f), int(f)) for f in frames], float)
        return frames, list(seq.keyframes)

    def _update_keys(self) -> None:
        if self.doc is None:
            return
        frames, keys = self._key_positions()
        sel = self.doc.selected_keys
        self.keys_item.set_keys(frames, [k.kind for k in keys], np.array([k.frame in sel for k in keys], bool),
                                self.doc.n_frames)
        if self.doc.range:
            self.range_item.setRegion((self.doc.range[0] - 0.5, self.doc.range[1] + 0.5))
            self.range_item.show()
        else:
            self.range_item.hide()

    def _update_curve(self) -> None:
        doc = self.doc
        if doc is None or doc.joint < 0:
            self.curve.setData([], [])
            return
        r = doc.sequence.rotations[:, doc.joint]
        cos = np.clip((np.trace(r, axis1=1, axis2=2) - 1) / 2, -1, 1)
        deg = np.degrees(np.arccos(cos))
        y = CURVE_Y[0] + (CURVE_Y[1] - CURVE_Y[0]) * np.clip(deg / 180.0, 0, 1) ** 0.5
        self.curve.setData(np.arange(len(y)), y)

    def _move_playhead(self, frame: int) -> None:
        self.playhead.setValue(frame)

    def _place_lane_labels(self, *args) -> None:
        x0 = self.vb.viewRange()[0][0]
        for item in self._lane_labels:
            item.setPos(x0, item.pos().y())

    # --- hit tests --------------------------------------------------------------------------
    def key_near(self, scene_pos, px: float = 8.0) -> int | None:
        """The key frame whose marker is within ``px`` pixels of ``scene_pos`` horizontally."""
        frames, keys = self._key_positions()
        if not len(frames):
            return None
        x = self.vb.mapSceneToView(scene_pos).x()
        per_px = self.vb.viewPixelSize()[0]
        d = np.abs(frames - x) / max(per_px, 1e-9)
        i = int(np.argmin(d))
        return keys[i].frame if d[i] <= px else None

    def segment_at(self, pos) -> tuple[int, int] | None:
        x = pos.x()
        for a, b, _ in getattr(self, "_segs", []):
            if a - 0.5 <= x <= b + 0.5:
                return a, b
        return None

    # --- gestures -----------------------------------------------------------------------------
    def scrub_to(self, x: float) -> None:
        self.doc.set_current_frame(int(round(x)))

    def begin_scrub(self) -> None:
        self._drag = {"kind": "scrub"}

    def begin_box(self, x: float) -> None:
        self._drag = {"kind": "box", "x0": x}
        self.box_item.setRegion((x, x))
        self.box_item.show()

    def begin_range(self, x: float) -> None:
        self._drag = {"kind": "range", "x0": x}

    def allowed_shift(self, frames: list[int]) -> tuple[int, int]:
        """The range of deltas that moves ``frames`` together without passing a fixed key."""
        t = self.doc.n_frames
        moving = set(frames)
        fixed = np.array([k for k in self.doc.key_frames() if k not in moving])
        lo, hi = -min(frames), t - 1 - max(frames)
        for f in frames:
            before = fixed[fixed < f]
            after = fixed[fixed > f]
            if before.size:
                lo = max(lo, int(before[-1]) + 1 - f)
            if after.size:
                hi = min(hi, int(after[0]) - 1 - f)
        return lo, hi

    def begin_move(self, frames: list[int], x0: float, text: str) -> None:
        if not frames:
            self._drag = {"kind": "scrub"}
            return
        lo, hi = self.allowed_shift(frames)
        self._drag = {"kind": "move", "frames": list(frames), "x0": x0, "lo": lo, "hi": hi, "delta": 0,
                      "id": new_drag_id(), "text": text}

    def drag_to(self, x: float, finished: bool) -> None:
        d = self._drag
        if d is None:
            return
        kind = d["kind"]
        if kind == "scrub":
            self.scrub_to(x)
        elif kind == "box":
            a, b = sorted((d["x0"], x))
            self.box_item.setRegion((a, b))
            if finished:
                self.box_item.hide()
                sel = [int(k) for k in self.doc.key_frames() if a <= k <= b]
                self.doc.select_keys(sel)
        elif kind == "range":
            a, b = sorted((int(round(d["x0"])), int(round(x))))
            a, b = max(0, a), min(self.doc.n_frames - 1, b)
            self.doc.set_range((a, b))
        elif kind == "move":
            delta = int(np.clip(round(x - d["x0"]), d["lo"], d["hi"]))
            if delta != d["delta"] or finished:
                d["delta"] = delta
                mapping = {f: f + delta for f in d["frames"]}
                self._preview = {f: f + delta for f in d["frames"]} if not finished else None
                self._update_keys()
                self.retimeRequested.emit(d["id"], mapping, finished, d["text"])
        if finished:
            self._drag = None
            self._preview = None

    # --- modal grab / scale (G / S) -------------------------------------------------------------
    def begin_grab(self) -> bool:
        return self._begin_modal("grab")

    def begin_scale(self) -> bool:
        return self._begin_modal("scale")

    def _begin_modal(self, kind: str) -> bool:
        if self.doc is None or not self.doc.selected_keys or self.modal is not None:
            return False
        frames = sorted(self.doc.selected_keys)
        self.modal = {"kind": kind, "frames": frames, "x0": self._mouse_x, "id": new_drag_id(), "typed": "",
                      "pivot": float(self.doc.current_frame), "mapping": {f: f for f in frames}}
        if kind == "grab":
            self.modal["lo"], self.modal["hi"] = self.allowed_shift(frames)
        self.plot.installEventFilter(self._modal_keys)
        self.plot.setFocus()
        self.plot.grabKeyboard()
        self.modalChanged.emit(self._modal_text())
        return True

    def _modal_text(self) -> str:
        m = self.modal
        if m is None:
            return ""
        if m["kind"] == "grab":
            d = next(iter(m["mapping"].items()))
            return f"Grab: {d[1] - d[0]:+d} frames {m['typed']}  (click/Enter confirm, Esc cancel)"
        return f"Scale around frame {int(m['pivot'])}: x{self._factor():.2f} {m['typed']}  (click/Enter, Esc)"

    def _factor(self) -> float:
        m = self.modal
        if m["typed"]:
            try:
                return float(m["typed"])
            except ValueError:
                return 1.0
        ref = m["x0"] - m["pivot"]
        if abs(ref) < 1e-6:
            ref = 1.0 if m["x0"] >= m["pivot"] else -1.0
        return (self._mouse_x - m["pivot"]) / ref

    def _modal_mapping(self) -> dict[int, int]:
        m = self.modal
        if m["kind"] == "grab":
            delta = int(float(m["typed"])) if m["typed"] not in ("", "-", ".") else int(round(self._mouse_x - m["x0"]))
            delta = int(np.clip(delta, m["lo"], m["hi"]))
            return {f: f + delta for f in m["frames"]}
        k = self._factor()
        t = self.doc.n_frames
        return {f: int(np.clip(np.rint(m["pivot"] + (f - m["pivot"]) * k), 0, t - 1)) for f in m["frames"]}

    def _modal_update(self, finished: bool = False) -> None:
        m = self.modal
        mapping = self._modal_mapping()
        if mapping != m["mapping"] or finished:
            m["mapping"] = mapping
            self._preview = None if finished else dict(mapping)
            self._update_keys()
            valid = len(set(mapping.values())) == len(mapping)
            if valid:
                self.retimeRequested.emit(m["id"], mapping, finished, "Grab keys" if m["kind"] == "grab" else "Scale keys")
        self.modalChanged.emit(self._modal_text())

    def finish_modal(self, confirm: bool) -> None:
        m = self.modal
        if m is None:
            return
        if confirm:
            self._modal_update(finished=True)
        else:
            # back to where the keys started: an identity mapping closes the drag as a no-op
            self.retimeRequested.emit(m["id"], {f: f for f in m["frames"]}, True, "cancel")
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
            m["typed"] = m["typed"][:-1]
            self._modal_update()
        elif ev.text() and ev.text() in "0123456789.-":
            m["typed"] += ev.text()
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

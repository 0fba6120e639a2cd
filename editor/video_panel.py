"""The reference video panel (a dock): the video frame at the playhead, frame-accurate while
scrubbing and in step during playback (``core.media.video`` decodes and caches), an offset
control, and optional overlays: the tracked landmarks of the ``.pose`` and the avatar's joints
projected onto the picture (``core.media.overlay``).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.media.overlay import Camera
from core.media.timemap import video_frame_for_doc_frame
from core.media.video import VideoReader

from .video_fetch import FrameFetcher


class VideoView(QWidget):
    """Paints one RGB frame, letterboxed, and the overlay points (in video pixels)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, 90)
        self.image: QImage | None = None
        self._array: np.ndarray | None = None  # keeps the QImage's buffer alive
        self.src_size = (1, 1)  # (w, h) of the video the overlay coordinates refer to
        self.landmarks: np.ndarray | None = None  # (K, 2) pixels
        self.joints: np.ndarray | None = None  # (J, 2) pixels
        self.bones: list[tuple[int, int]] = []
        self.frames_painted = 0
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_frame(self, rgb: np.ndarray | None) -> None:
        if rgb is None:
            self.image = self._array = None
        else:
            self._array = np.ascontiguousarray(rgb)
            h, w = self._array.shape[:2]
            self.image = QImage(self._array.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        self.update()

    def target_rect(self) -> QRectF:
        if self.image is None:
            return QRectF(self.rect())
        iw, ih = self.image.width(), self.image.height()
        s = min(self.width() / iw, self.height() / ih)
        w, h = iw * s, ih * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#111417"))
        if self.image is None:
            p.setPen(QColor("#7a828c"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No video attached\nFile > Attach video…")
            return
        r = self.target_rect()
        p.drawImage(r, self.image)
        self.frames_painted += 1
        sx, sy = r.width() / self.src_size[0], r.height() / self.src_size[1]

        def pt(xy) -> QPointF:
            return QPointF(r.left() + xy[0] * sx, r.top() + xy[1] * sy)

        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.joints is not None:
            p.setPen(QPen(QColor(255, 160, 60, 220), 2))
            for a, b in self.bones:
                p.drawLine(pt(self.joints[a]), pt(self.joints[b]))
            for xy in self.joints:
                p.drawEllipse(pt(xy), 2.5, 2.5)
        if self.landmarks is not None:
            p.setPen(QPen(QColor(80, 230, 120, 230), 2))
            for xy in self.landmarks:
                p.drawEllipse(pt(xy), 2.0, 2.0)


class VideoPanel(QWidget):
    """Signals: offsetEdited(seconds) (the user changed the offset: the controller makes it an
    undo step); overlaysChanged()."""

    offsetEdited = Signal(float)
    overlaysChanged = Signal()
    frameShown = Signal(int)  # a new video frame is on screen
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reader: VideoReader | None = None
        self.fetcher: FrameFetcher | None = None
        self.wanted = -1  # the video frame the playhead asks for
        self.offset_s = 0.0
        self.doc_fps = 25.0
        self.shown_index = -1
        self.view = VideoView(self)
        self.offset = QDoubleSpinBox(self)
        self.offset.setObjectName("video-offset")
        self.offset.setRange(-3600.0, 3600.0)
        self.offset.setDecimals(3)
        self.offset.setSuffix(" s")
        self.offset.setSingleStep(0.04)
        self.offset.setKeyboardTracking(False)
        self.offset.setToolTip("Media time at the motion's first frame (positive: the video starts earlier)")
        self.offset.valueChanged.connect(self._offset_changed)
        self.show_landmarks = QCheckBox("Landmarks", self)
        self.show_landmarks.setToolTip("The tracked .pose landmarks over the video")
        self.show_joints = QCheckBox("Avatar joints", self)
        self.show_joints.setToolTip("The avatar's joints projected onto the video")
        for cb in (self.show_landmarks, self.show_joints):
            cb.toggled.connect(lambda on: self.overlaysChanged.emit())
        self.info = QLabel("", self)
        self.info.setStyleSheet("color: #8a939e")
        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 4, 2)
        row.addWidget(QLabel("Offset", self))
        row.addWidget(self.offset)
        row.addWidget(self.show_landmarks)
        row.addWidget(self.show_joints)
        row.addStretch(1)
        row.addWidget(self.info)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view, 1)
        lay.addLayout(row)
        self._quiet = False

    def set_reader(self, reader: VideoReader | None, offset_s: float, doc_fps: float) -> None:
        """Show ``reader``'s frames (the panel owns it from now on: decoded on its own thread)."""
        if self.reader is not reader:
            if self.fetcher is not None:
                self.fetcher.close()
                self.fetcher = None
            if reader is not None:
                self.fetcher = FrameFetcher(reader, self)
                self.fetcher.ready.connect(self._ready)
                self.fetcher.failed.connect(self.failed.emit)
        self.reader, self.doc_fps = reader, float(doc_fps)
        self.set_offset(offset_s)
        self.shown_index = self.wanted = -1
        if reader is None:
            self.view.set_frame(None)
            self.info.setText("")
        else:
            self.view.src_size = (reader.src_width, reader.src_height)
            self.offset.setSingleStep(round(1.0 / reader.fps, 3))  # arrow keys step one video frame

    def close(self) -> None:
        self.set_reader(None, 0.0, self.doc_fps)

    def set_offset(self, offset_s: float) -> None:
        self.offset_s = float(offset_s)
        self._quiet = True
        self.offset.setValue(self.offset_s)
        self._quiet = False

    def _offset_changed(self, v: float) -> None:
        if not self._quiet and abs(v - self.offset_s) > 1e-9:
            self.offsetEdited.emit(float(v))

    def show_frame(self, doc_frame: int) -> None:
        """Show the video frame at ``doc_frame``: now when it is decoded, else when it arrives."""
        r = self.reader
        if r is None:
            return
        i = video_frame_for_doc_frame(doc_frame, self.doc_fps, r.fps, self.offset_s, r.n_frames)
        self.wanted = i
        if i == self.shown_index:
            return
        img = r.cached_frame(i)
        if img is not None:
            self._display(i, img)
        elif self.fetcher is not None:
            self.fetcher.request(i)

    def _ready(self, i: int, img: np.ndarray) -> None:
        if i == self.wanted and i != self.shown_index:
            self._display(i, img)

    def _display(self, i: int, img: np.ndarray) -> None:
        self.view.set_frame(img)
        self.shown_index = i
        if self.reader is not None:
            self.info.setText(f"video frame {i} / {self.reader.n_frames - 1}")
        self.frameShown.emit(i)

    def set_overlay(
        self,
        landmarks: np.ndarray | None,
        joints: np.ndarray | None,
        bones: list[tuple[int, int]],
        camera: Camera | None,
    ) -> None:
        """Landmarks (K, 2) in video pixels; joints (J, 3) world metres, projected with ``camera``."""
        v = self.view
        v.landmarks = landmarks if self.show_landmarks.isChecked() else None
        if self.show_joints.isChecked() and joints is not None and camera is not None:
            v.joints, v.bones = camera.project(joints), bones
        else:
            v.joints, v.bones = None, []
        v.update()

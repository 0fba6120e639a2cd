"""Reference media of the open document: the links (which video / audio, their offsets), the
video dock, the waveform lane, audio playback; File > Attach video / Attach audio / Use the
video's audio / Detach media; Playback > Audio output… (the device), Keep pitch, Audio scrub.

Links come with the document: a project's stored links, else a ``.pose``'s sidecar or a video of
the same name beside the file (``core.media.links.find_links``). A linked file that is missing is
reported once when the document opens, and the document opens all the same. Attaching, detaching
and offset changes are undo steps (they are saved with the project).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QUndoCommand
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QDockWidget, QFileDialog, QFormLayout

from core.io.errors import FormatError
from core.io.limits import check_regular_file
from core.media.audio import Audio, load_audio
from core.media.links import AUDIO_EXTS, VIDEO_EXTS, MediaLink, find_links, first
from core.media.overlay import SHARED_JOINTS, Camera, fit_camera, frame_camera
from core.media.video import VideoReader

from .audio_player import AudioPlayer
from .video_panel import VideoPanel
from .waveform_lane import WaveformLane

if TYPE_CHECKING:
    from .main_window import MainWindow

PANEL_WIDTH = 640  # decode at most this wide: the dock is smaller, and the cache holds more frames


class MediaLinksCommand(QUndoCommand):
    """One change of the document's media links; successive offset edits of one link merge."""

    ID = 1801

    def __init__(self, ctl: MediaController, new: tuple[MediaLink, ...], text: str, merge: str | None = None) -> None:
        super().__init__(text)
        self.ctl, self.old, self.new, self.merge = ctl, ctl.links, new, merge

    def redo(self) -> None:
        self.ctl.apply_links(self.new)
        self.ctl.win.autosave.timer.start()  # recovery keeps the links too

    def undo(self) -> None:
        self.ctl.apply_links(self.old)
        self.ctl.win.autosave.timer.start()

    def id(self) -> int:
        return self.ID if self.merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MediaLinksCommand) or other.merge != self.merge:
            return False
        self.new = other.new
        return True


class AudioPrefsDialog(QDialog):
    def __init__(self, devices: list[str], current: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audio output")
        self.device = QComboBox(self)
        self.device.addItem("System default", "")
        for d in devices:
            self.device.addItem(d, d)
        i = self.device.findData(current)
        self.device.setCurrentIndex(max(0, i))
        form = QFormLayout(self)
        form.addRow("Output device", self.device)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)


class MediaController(QObject):
    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.doc = win.doc
        self.links: tuple[MediaLink, ...] = ()
        self.reader: VideoReader | None = None
        self.audio: Audio | None = None
        self._loaded: dict[str, Path | None] = {"video": None, "audio": None}
        self.landmarks = None  # core LandmarkSet of a .pose document
        self.camera: Camera | None = None
        self._bones: list[tuple[int, int]] = []

        self.panel = VideoPanel()
        self.dock = QDockWidget("Reference video", win)
        self.dock.setObjectName("video-dock")
        self.dock.setWidget(self.panel)
        win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.lane = WaveformLane(win.timeline.vb)
        win.timeline.layout().addWidget(self.lane)
        self.player = AudioPlayer(self.doc, win.playback, self)
        self.player.device = win.settings.value("media/audio_device", "", str) or None
        self.player.keep_pitch = win.settings.value("media/keep_pitch", True, bool)
        self.player.scrub = win.settings.value("media/audio_scrub", True, bool)
        self.player.message.connect(lambda text: win.statusBar().showMessage(text, 8000))

        self._build_actions()
        win.autosave.media_links = lambda: self.links
        self.panel.offsetEdited.connect(self._offset_edited)
        self.panel.failed.connect(lambda text: win.statusBar().showMessage(text, 8000))
        self.panel.overlaysChanged.connect(lambda: self._show(self.doc.current_frame))
        self.doc.currentFrameChanged.connect(self._show)
        self.doc.sequenceEdited.connect(lambda lo, hi: self._show(self.doc.current_frame, force=True))
        win.fileOpened.connect(self.document_opened)
        if self.doc.path is not None:
            self.document_opened(str(self.doc.path))

    # --- actions ---------------------------------------------------------------------------------
    def _action(self, name: str, text: str, tip: str, slot, checkable: bool = False, checked: bool = False) -> QAction:
        act = QAction(text, self.win)
        act.setObjectName(f"act_{name}")
        act.setToolTip(tip)
        act.setStatusTip(tip)
        act.setCheckable(checkable)
        if checkable:
            act.setChecked(checked)
            act.toggled.connect(slot)
        else:
            act.triggered.connect(slot)
        self.win.acts[name] = act
        return act

    def _build_actions(self) -> None:
        file_menu = self.win.menus["File"]
        before = self.win.acts["quit"]
        acts = [
            self._action(
                "attach_video", "Attach &video…", "Show a reference video beside the avatar", self.act_attach_video
            ),
            self._action(
                "attach_audio",
                "Attach au&dio…",
                "Play a WAV / FLAC / video's sound with the timeline",
                self.act_attach_audio,
            ),
            self._action(
                "video_audio", "Use the video's audio", "Play the attached video's sound track", self.act_video_audio
            ),
            self._action("detach_media", "Detach media", "Remove the reference video and audio", self.act_detach_media),
        ]
        file_menu.insertSeparator(before)
        for a in acts:
            file_menu.insertAction(before, a)
        play_menu = self.win.menus["Playback"]
        play_menu.addSeparator()
        play_menu.addAction(
            self._action(
                "keep_pitch",
                "Keep audio pitch",
                "Slow / fast playback keeps the voice's pitch",
                self._set_keep_pitch,
                True,
                self.player.keep_pitch,
            )
        )
        play_menu.addAction(
            self._action(
                "audio_scrub",
                "Audio scrub",
                "Play a snippet of audio while dragging the playhead",
                self._set_scrub,
                True,
                self.player.scrub,
            )
        )
        play_menu.addAction(
            self._action("audio_prefs", "Audio output…", "Choose the audio output device", self.act_audio_prefs)
        )
        self.dock.toggleViewAction().setText("Reference video")
        self.win.menus["View"].addAction(self.dock.toggleViewAction())

    def act_attach_video(self) -> None:
        start = str(self.doc.path.parent) if self.doc.path else str(Path.home())
        exts = " ".join(f"*{e}" for e in VIDEO_EXTS)
        path, _ = QFileDialog.getOpenFileName(self.win, "Attach video", start, f"Video ({exts});;All files (*)")
        if path:
            self.attach("video", path)

    def act_attach_audio(self) -> None:
        start = str(self.doc.path.parent) if self.doc.path else str(Path.home())
        exts = " ".join(f"*{e}" for e in AUDIO_EXTS + VIDEO_EXTS)
        path, _ = QFileDialog.getOpenFileName(
            self.win, "Attach audio", start, f"Audio or video ({exts});;All files (*)"
        )
        if path:
            self.attach("audio", path)

    def act_video_audio(self) -> None:
        video = first(self.links, "video")
        if video is None:
            self.win.statusBar().showMessage("Attach a video first", 4000)
            return
        self.attach("audio", video.path, video.offset_s)

    def act_detach_media(self) -> None:
        if self.links:
            self.doc.undo_stack.push(MediaLinksCommand(self, (), "Detach media"))

    def act_audio_prefs(self) -> None:
        from core.media.output import output_devices

        dlg = AudioPrefsDialog(output_devices(), self.player.device or "", self.win)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.set_device(dlg.device.currentData() or None)

    def set_device(self, device: str | None) -> None:
        self.win.settings.setValue("media/audio_device", device or "")
        self.player.set_device(device)
        if self.audio is not None:  # reload at the new device's rate
            self._loaded["audio"] = None
            self.apply_links(self.links)

    def _set_keep_pitch(self, on: bool) -> None:
        self.player.keep_pitch = bool(on)
        self.win.settings.setValue("media/keep_pitch", bool(on))
        if self.win.playback.playing:
            self.player.set_offset(self.player.offset_s)  # restarts at the new setting

    def _set_scrub(self, on: bool) -> None:
        self.player.scrub = bool(on)
        self.win.settings.setValue("media/audio_scrub", bool(on))

    # --- links -----------------------------------------------------------------------------------
    def attach(self, kind: str, path: str | Path, offset_s: float | None = None) -> bool:
        """Link ``path`` as the document's ``kind`` ("video" / "audio"): one undo step. Checks the
        file first; a bad one is reported and nothing changes."""
        given = Path(path)
        path = given.resolve()
        try:
            check_regular_file(given)  # named as the user gave it; a FIFO or device is never opened
            if kind == "video":
                VideoReader(path, width=64, cache_mb=1).close()
            else:
                self._load_audio(path)
        except FormatError as e:
            self.win.report_error(self.win, f"Cannot attach {kind}", str(e))
            return False
        old = first(self.links, kind)
        off = offset_s if offset_s is not None else (old.offset_s if old else 0.0)
        new = tuple(ln for ln in self.links if ln.kind != kind) + (MediaLink(kind, path, off),)
        self.doc.undo_stack.push(MediaLinksCommand(self, new, f"Attach {kind} {path.name}"))
        return True

    def attach_dropped(self, path: str | Path) -> bool:
        """A file dropped on the window: attached when it is a video or audio file (True)."""
        ext = Path(path).suffix.lower()
        if ext in VIDEO_EXTS:
            self.attach("video", path)
        elif ext in AUDIO_EXTS:
            self.attach("audio", path)
        else:
            return False
        return True

    def set_offset(self, kind: str, offset_s: float) -> None:
        """Change a link's offset (one undo step; a run of changes of one link merges)."""
        new = tuple(ln.with_offset(offset_s) if ln.kind == kind else ln for ln in self.links)
        if new != self.links:
            self.doc.undo_stack.push(MediaLinksCommand(self, new, f"{kind.capitalize()} offset", merge=kind))

    def _offset_edited(self, offset_s: float) -> None:
        # the panel's offset moves the video, and the audio with it when it is the video's sound
        video, audio = first(self.links, "video"), first(self.links, "audio")
        new = tuple(
            ln.with_offset(offset_s)
            if ln.kind == "video" or (audio is not None and video is not None and ln.path == video.path)
            else ln
            for ln in self.links
        )
        if new != self.links:
            self.doc.undo_stack.push(MediaLinksCommand(self, new, "Video offset", merge="video"))

    def document_opened(self, path: str) -> None:
        """Links of the file just opened (stored, sidecar, or beside it); missing files reported once."""
        p = Path(path)
        self.landmarks = None
        self.camera = None
        self._loaded = {"video": None, "audio": None}
        # the previous document's media goes, whatever the new one links
        self.reader = self.audio = None
        self.panel.set_reader(None, 0.0, self.doc.fps)
        self.player.set_audio(None)
        self.lane.set_audio(None, 1, self.doc.fps, 0.0)
        try:
            if p.suffix == ".signframe":
                from core.io.project import read_media

                links = read_media(p)
            else:
                links = find_links(p)
        except (FormatError, ValueError) as e:
            self.win.report_error(self.win, "Media links ignored", str(e))
            links = ()
        self.landmarks = self._landmarks_of(p)
        missing = [ln for ln in links if not Path(ln.path).is_file()]
        self.apply_links(links, report=False)
        if missing:
            names = ", ".join(str(ln.path) for ln in missing)
            self.win.report_error(
                self.win, "Media not found", f"{p.name}: linked media not found (kept linked): {names}"
            )

    def _landmarks_of(self, path: Path):
        """The tracked landmarks behind the document: the .pose itself, or the .pose a project was
        imported from (its ``meta["source_file"]``) while it still has the same frames."""
        meta = self.doc.sequence.meta
        src = path if path.suffix == ".pose" else None
        if src is None and meta.get("source_format") == "pose" and isinstance(meta.get("source_file"), str):
            src = Path(meta["source_file"])
            if not src.is_absolute():
                src = path.parent / src
        if src is None or not src.is_file():
            return None
        try:
            from core.io.pose_file import read_landmarks

            lm = read_landmarks(src)
        except FormatError:
            return None
        return lm if lm.body.shape[0] == self.doc.n_frames else None

    def apply_links(self, links: tuple[MediaLink, ...], report: bool = True) -> None:
        """Make the views show ``links`` (undo / redo and opening call this)."""
        self.links = tuple(links)
        video, audio = first(self.links, "video"), first(self.links, "audio")
        problems: list[str] = []
        # video
        vpath = Path(video.path) if video and Path(video.path).is_file() else None
        if vpath != self._loaded["video"]:
            self.reader = None
            if vpath is not None:
                try:
                    self.reader = VideoReader(vpath, width=PANEL_WIDTH)
                except FormatError as e:
                    problems.append(str(e))
                    vpath = None
            self._loaded["video"] = vpath
            self.panel.set_reader(self.reader, video.offset_s if video else 0.0, self.doc.fps)
            self.camera = None
        elif video is not None:
            self.panel.set_offset(video.offset_s)
        self.dock.setVisible(self.reader is not None or self.dock.isVisible() and video is not None)
        # audio
        apath = Path(audio.path) if audio and Path(audio.path).is_file() else None
        if apath != self._loaded["audio"]:
            self.audio = None
            if apath is not None:
                try:
                    self.audio = self._load_audio(apath)
                except FormatError as e:
                    problems.append(str(e))
                    apath = None
            self._loaded["audio"] = apath
            off = audio.offset_s if audio else 0.0
            self.player.set_audio(self.audio, off)
            self.lane.set_audio(
                self.audio.mono() if self.audio else None, self.audio.rate if self.audio else 1, self.doc.fps, off
            )
        elif audio is not None:
            self.player.set_offset(audio.offset_s)
            self.lane.set_offset(audio.offset_s)
        if report and problems:
            self.win.statusBar().showMessage("; ".join(problems), 10000)
        self._show(self.doc.current_frame, force=True)

    def _load_audio(self, path: Path) -> Audio:
        from core.media.output import available, device_rate

        rate = None
        if available() is None:
            try:
                rate = device_rate(self.player.device)
            except Exception:  # noqa: BLE001 - no device: the waveform still shows
                rate = None
        return load_audio(path, rate)

    # --- drawing ---------------------------------------------------------------------------------
    def _show(self, frame: int, force: bool = False) -> None:
        if self.reader is None:
            return
        if force:
            self.panel.shown_index = -1
        try:
            self.panel.show_frame(frame)
        except FormatError as e:
            self.win.statusBar().showMessage(str(e), 8000)
            return
        want_lm = self.panel.show_landmarks.isChecked()
        want_joints = self.panel.show_joints.isChecked()
        lm_pts = self._landmark_pixels(frame) if want_lm else None
        joints = self._joints(frame) if want_joints else None
        cam = self._camera() if want_joints else None
        self.panel.set_overlay(lm_pts, joints, self._bones, cam)

    def _landmark_pixels(self, frame: int) -> np.ndarray | None:
        lm = self.landmarks
        if lm is None or not 0 <= frame < lm.body.shape[0]:
            return None
        pts = [lm.body[frame][lm.body_ok[frame]][:, :2], lm.hands[frame][lm.hands_ok[frame]][:, :2]]
        return np.concatenate(pts).astype(np.float64)

    def _joints(self, frame: int) -> np.ndarray:
        from core.kinematics.fk import joint_positions

        seq = self.doc.sequence
        f = min(max(frame, 0), seq.n_frames - 1)
        sk = seq.skeleton
        if not self._bones:
            lower = ("hip", "knee", "ankle", "foot")
            keep = [i for i, n in enumerate(sk.names) if not any(w in n for w in lower)]
            self._bones = [(i, sk.parents[i]) for i in keep if sk.parents[i] in keep]
        return joint_positions(sk, seq.rotations[f : f + 1], seq.translation[f : f + 1])[0]

    def _camera(self) -> Camera | None:
        if self.camera is not None or self.reader is None:
            return self.camera
        from core.kinematics.fk import joint_positions

        seq = self.doc.sequence
        step = max(1, seq.n_frames // 400)  # a few hundred frames fit the camera well enough
        frames = np.arange(0, seq.n_frames, step)
        joints = joint_positions(seq.skeleton, seq.rotations[frames], seq.translation[frames])
        lm = self.landmarks
        if lm is not None and lm.body.shape[0] == seq.n_frames:
            from core.kinematics.landmarks import BODY_POINTS

            ji = [seq.skeleton.names.index(n) for n in SHARED_JOINTS]
            li = [BODY_POINTS.index(n) for n in SHARED_JOINTS]
            self.camera = fit_camera(joints[:, ji], lm.body[frames][:, li, :2], lm.body_ok[frames][:, li])
        if self.camera is None:
            self.camera = frame_camera(joints, self.reader.src_width, self.reader.src_height)
        return self.camera

    def shutdown(self) -> None:
        self.player.close()
        self.panel.close()  # stops the decode thread and closes the reader

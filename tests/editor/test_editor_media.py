"""Reference video and audio in a real window: the video at the playhead while the playhead is
dragged with the mouse, the offset typed in, links saved and reopened, a missing file reported
once, audio scrub and playback through sounddevice into an ALSA file sink."""

from __future__ import annotations

import json
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

pytest.importorskip("av")

from core.media.index_video import read_index, write_index_video  # noqa: E402
from core.media.timemap import video_frame_for_doc_frame  # noqa: E402
from editor.timeline import CURVE_Y  # noqa: E402
from tests.conftest import AUDIO_SINK  # noqa: E402 - sound played in tests goes into this raw file

VIDEO_FPS = Fraction(30000, 1001)  # not the motion's 25 fps: the mapping is exercised


def shown(qtbot, panel, want: int) -> int:
    """Wait for the panel to show video frame ``want`` (decoded off the GUI thread); the index
    its picture carries."""
    qtbot.waitUntil(lambda: panel.shown_index == want, timeout=5000)
    return read_index(panel.view._array)


def drag_playhead(qtbot, tl, frames, seen):
    """Press on the curve lane at frames[0], move through the rest, release; after each move
    record (document frame, video index the panel shows, index decoded from its picture)."""
    vp = tl.plot.viewport()
    y = (CURVE_Y[0] + CURVE_Y[1]) / 2
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, tl.lane_point(frames[0], y))
    for f in frames[1:]:
        qtbot.mouseMove(vp, tl.lane_point(f, y))
        qtbot.wait(10)
        seen()
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, tl.lane_point(frames[-1], y))


@pytest.fixture
def clip(tmp_path, demo):
    """clip.bvh (the demo motion) with clip.mp4 beside it: frames that carry their index."""
    from core.io import write

    write(tmp_path / "clip.bvh", demo)
    write_index_video(tmp_path / "clip.mp4", 320, VIDEO_FPS, 320, 180, gop=15)
    return tmp_path / "clip.bvh"


def open_and_wait(qtbot, win, path):
    with qtbot.waitSignal(win.fileOpened, timeout=15000):
        win.open_file(path)


def test_the_video_beside_the_file_opens_with_it_and_follows_the_dragged_playhead(qtbot, window, clip):
    open_and_wait(qtbot, window, clip)
    media = window.media
    assert media.dock.isVisible() and [ln.kind for ln in media.links] == ["video"]
    panel, doc = media.panel, window.doc
    log = []

    def seen():
        want = video_frame_for_doc_frame(doc.current_frame, doc.fps, float(VIDEO_FPS), 0.0, 320)
        log.append((doc.current_frame, want, panel.wanted, shown(qtbot, panel, want)))

    drag_playhead(qtbot, window.timeline, [20, 60, 140, 90, 91, 200, 12], seen)
    assert len({f for f, *_ in log}) >= 5  # the drag did move the playhead around
    for f, want, asked, decoded in log:
        assert asked == want == decoded, (f, want, asked, decoded)
    # what is on screen is that frame: decode the index from a grab of the panel
    qtbot.wait(30)
    from PySide6.QtGui import QImage

    img = media.panel.view.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    r = media.panel.view.target_rect().toAlignedRect()
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, : 3 * img.width()]
    arr = arr.reshape(img.height(), img.width(), 3)
    dpr = img.devicePixelRatio()
    crop = arr[int(r.top() * dpr) : int(r.bottom() * dpr), int(r.left() * dpr) : int(r.right() * dpr)]
    assert read_index(crop) == panel.shown_index == log[-1][1]


def test_the_offset_typed_in_shifts_the_video_as_one_undo_step(qtbot, window, clip):
    open_and_wait(qtbot, window, clip)
    doc, panel = window.doc, window.media.panel
    doc.set_current_frame(50)
    box = panel.offset
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "1.5")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert window.media.links[0].offset_s == pytest.approx(1.5)
    assert doc.undo_stack.count() == 1 and window.isWindowModified()
    want = video_frame_for_doc_frame(50, 25.0, float(VIDEO_FPS), 1.5, 320)
    assert want == round((2.0 + 1.5) * float(VIDEO_FPS))
    assert shown(qtbot, panel, want) == want
    doc.undo_stack.undo()
    assert window.media.links[0].offset_s == 0.0 and panel.offset.value() == 0.0
    back = round(2.0 * float(VIDEO_FPS))
    assert shown(qtbot, panel, back) == back


def test_links_are_saved_relative_and_a_missing_file_is_reported_once(qtbot, make_window, clip, tmp_path):
    from tests.editor.conftest import Errors

    errors = Errors()
    win = make_window(errors=errors)
    open_and_wait(qtbot, win, clip)
    win.media.set_offset("video", -0.25)
    proj = tmp_path / "work" / "p.signframe"
    proj.parent.mkdir()
    assert win.save_to(proj)
    stored = json.loads(zipfile.ZipFile(proj).read("project.json"))["media"]
    assert stored == [{"kind": "video", "path": "../clip.mp4", "offset_s": -0.25}]
    open_and_wait(qtbot, win, proj)
    assert win.media.links[0].offset_s == -0.25 and win.media.reader is not None and not errors.shown
    (tmp_path / "clip.mp4").unlink()
    open_and_wait(qtbot, win, proj)
    qtbot.wait(50)
    assert len(errors.shown) == 1
    title, text = errors.shown[0]
    assert title == "Media not found" and "clip.mp4" in text and "p.signframe" in text
    assert win.doc.path == proj and win.doc.n_frames == 250  # the document opened all the same
    assert win.media.links[0].path == (tmp_path / "clip.mp4")  # still linked: saved again as it was
    assert win.media.reader is None


def test_attach_from_the_file_menu_and_a_bad_file_changes_nothing(qtbot, make_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from tests.editor.conftest import Errors

    errors = Errors()
    win = make_window(errors=errors)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 4096)
    good = write_index_video(tmp_path / "good.mp4", 40, 25, 160, 90)
    answers = [str(bad), str(good)]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (answers.pop(0), ""))
    win.acts["attach_video"].trigger()
    assert len(errors.shown) == 1 and "bad.mp4" in errors.shown[0][1] and win.media.links == ()
    assert win.doc.undo_stack.count() == 0
    win.acts["attach_video"].trigger()
    assert win.media.links[0].path == good.resolve() and win.media.dock.isVisible()
    win.doc.set_current_frame(7)
    assert shown(qtbot, win.media.panel, 7) == 7
    win.acts["detach_media"].trigger()
    assert win.media.links == () and win.media.panel.view.image is None
    win.doc.undo_stack.undo()
    assert win.media.links[0].path == good.resolve()


def _ramp_wav(path: Path, seconds: float) -> Path:
    from core.media.audio import write_wav
    from core.media.drift import RAMP_SPAN_S

    t = np.arange(int(seconds * 44100)) / 44100
    return write_wav(path, t / RAMP_SPAN_S, 44100)


def _sounddevice() -> bool:
    if AUDIO_SINK is None:
        return False
    try:
        import sounddevice  # noqa: F401
    except OSError:
        return False
    return True


def _written() -> np.ndarray:
    w = np.fromfile(AUDIO_SINK, dtype="<f4")
    nz = np.flatnonzero(w)
    return w[nz[0] :] if nz.size else w[:0]


def test_waveform_lane_and_audio_scrub_follow_the_dragged_playhead(qtbot, window, tmp_path):
    if not _sounddevice():
        pytest.skip("sounddevice / ALSA not available for the file sink")
    from core.media.drift import RAMP_SPAN_S

    media, doc = window.media, window.doc
    assert media.attach("audio", _ramp_wav(tmp_path / "ramp.wav", 12.0), offset_s=0.5)
    lane = media.lane
    from core.media.output import device_rate

    rate = device_rate(None)
    assert lane.isVisible() and media.audio.rate == rate  # loaded at the device's rate
    frames, lo, hi = lane.envelope_frames()
    # the ramp's envelope, shifted by the offset: at frame f the audio is at f / 25 + 0.5 s
    k = len(frames) // 2
    assert hi[k] * RAMP_SPAN_S == pytest.approx(frames[k] / 25.0 + 0.5, abs=0.1)
    visited = []
    drag_playhead(qtbot, window.timeline, [30, 80, 150, 100, 220], lambda: visited.append(doc.current_frame))
    qtbot.wait(100)
    media.player.close()
    w = _written() * RAMP_SPAN_S
    # each snippet is a run of ascending ramp samples starting at the scrubbed frame's time
    jumps = np.flatnonzero(np.abs(np.diff(w) - 1 / rate) > 0.01) + 1
    starts = [w[0]] + [w[j] for j in jumps if w[j] > 0]
    heard = [int(round((s - 0.5) * 25.0)) for s in starts]
    want = [f for i, f in enumerate(visited) if i == 0 or f != visited[i - 1]]
    assert len(want) >= 4 and heard == want


def test_playback_follows_the_audio_clock(qtbot, window, tmp_path):
    if not _sounddevice():
        pytest.skip("sounddevice / ALSA not available for the file sink")
    media, doc, pb = window.media, window.doc, window.playback
    media.player.scrub = False
    assert media.attach("audio", _ramp_wav(tmp_path / "ramp.wav", 12.0), offset_s=0.0)
    doc.set_current_frame(10)
    window.timeline.plot.setFocus()
    window.acts["play"].trigger()
    assert pb.playing and pb.clock_source is not None and media.player.output.playing
    qtbot.wait(600)
    out = media.player.output
    heard = out.clock()
    f = doc.current_frame
    window.acts["play"].trigger()
    assert not pb.playing and pb.clock_source is None and not out.playing
    assert f > 16  # it played on, at about real time
    assert abs(f / 25.0 - heard) <= 2 / 25.0  # the playhead shows what is heard (a frame each way)
    assert out.underflows == 0
    # half speed, pitch kept; then the pitch follows the speed: the sound restarts each time
    window.acts["speed_0.5"].trigger()
    window.acts["play"].trigger()
    assert out.playing and out.renderer.speed == 0.5 and out.renderer.keep_pitch
    window.acts["keep_pitch"].trigger()
    assert out.playing and out.renderer.speed == 0.5 and not out.renderer.keep_pitch
    start, t0 = doc.current_frame, out.clock()
    qtbot.wait(600)
    moved = doc.current_frame - start
    window.acts["play"].trigger()
    assert 3 <= moved <= 12  # about 0.6 s x 0.5 x 25 fps = 7.5 frames
    assert out.clock() - t0 == pytest.approx(moved / 25.0, abs=2 / 25.0)


def test_landmark_and_projected_joint_overlays_of_a_pose(qtbot, window, tmp_path):
    """A recorded .pose with a video of its size beside it: the overlays draw its landmarks at the
    playhead and the avatar's joints through a camera fitted to them (shoulders to wrists land
    near their landmarks)."""
    import shutil

    from core.io.pose_file import read_landmarks
    from core.kinematics.landmarks import BODY_POINTS
    from core.media.overlay import SHARED_JOINTS

    src = Path(__file__).resolve().parents[2] / "assets" / "samples" / "ase_letter_Y.pose"
    pose = tmp_path / "sign.pose"
    shutil.copy(src, pose)
    lm = read_landmarks(pose)
    write_index_video(tmp_path / "sign.mp4", lm.body.shape[0], lm.fps, int(lm.width), int(lm.height), gop=10)
    open_and_wait(qtbot, window, pose)
    media, doc = window.media, window.doc
    assert media.reader is not None and media.landmarks is not None
    doc.set_current_frame(20)
    panel = media.panel
    qtbot.mouseClick(panel.show_landmarks, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.show_joints, Qt.MouseButton.LeftButton)
    view = panel.view
    want = np.concatenate([lm.body[20][lm.body_ok[20]][:, :2], lm.hands[20][lm.hands_ok[20]][:, :2]])
    np.testing.assert_allclose(view.landmarks, want)
    assert view.joints is not None and len(view.bones) > 20
    ji = [doc.sequence.skeleton.names.index(n) for n in SHARED_JOINTS]
    li = [BODY_POINTS.index(n) for n in SHARED_JOINTS]
    ok = lm.body_ok[20, li]
    err = np.linalg.norm(view.joints[ji][ok] - lm.body[20, li, :2][ok], axis=1)
    shoulders = np.linalg.norm(lm.body[20, li[0], :2] - lm.body[20, li[1], :2])
    assert ok.sum() >= 4 and np.median(err) < 0.1 * shoulders, (err, shoulders)
    qtbot.mouseClick(panel.show_landmarks, Qt.MouseButton.LeftButton)
    assert view.landmarks is None
    # saved as a project, it keeps its landmarks (from the .pose it came from) and its video
    assert window.save_to(tmp_path / "sign.signframe")
    open_and_wait(qtbot, window, tmp_path / "sign.signframe")
    assert window.media.landmarks is not None and window.media.reader is not None
    np.testing.assert_allclose(window.media.landmarks.body, lm.body)


def test_the_output_device_is_chosen_in_the_preferences(qtbot, window):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialogButtonBox

    from core.media.output import output_devices

    if not _sounddevice() or not output_devices():
        pytest.skip("no output device listed")
    name = output_devices()[-1]
    done = []

    def choose():
        dlg = QApplication.activeModalWidget()
        if dlg is None:
            QTimer.singleShot(30, choose)
            return
        dlg.device.setCurrentIndex(dlg.device.findData(name))
        ok = dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
        done.append(True)

    QTimer.singleShot(30, choose)
    window.acts["audio_prefs"].trigger()
    assert done and window.media.player.device == name
    assert window.settings.value("media/audio_device", "", str) == name


def test_the_recovery_file_keeps_the_links(qtbot, window, tmp_path):
    from core.io.project import read_media

    video = write_index_video(tmp_path / "v.mp4", 30, 25, 160, 90)
    assert window.media.attach("video", video, offset_s=0.2)
    assert window.isWindowModified()
    window.autosave.save_now()
    window.autosave.wait()
    assert read_media(window.autosave.path) == (window.media.links[0],)
    assert window.media.links[0].path == video.resolve() and window.media.links[0].offset_s == 0.2


def test_a_video_dropped_on_the_window_is_attached(qtbot, window, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    video = write_index_video(tmp_path / "drop.mp4", 20, 25, 160, 90)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(video))])
    ev = QDropEvent(
        QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(ev)  # the window's drop handler with a real event (a drag cannot be simulated)
    assert [ln.path for ln in window.media.links] == [video.resolve()]
    assert window.doc.n_frames == 250  # the motion stays: nothing was opened


def test_elan_export_points_at_the_attached_video_with_its_offset(qtbot, window, clip, tmp_path):
    from core.io import eaf
    from editor.dialogs import ExportOptions

    open_and_wait(qtbot, window, clip)
    window.media.set_offset("video", 0.5)
    out = tmp_path / "elan" / "clip.eaf"
    out.parent.mkdir()
    task = window.export(".eaf", ExportOptions(out, 0, window.doc.n_frames - 1, window.doc.fps, "y", "m", False))
    qtbot.waitUntil(lambda: task.finished, timeout=10000)
    back = eaf.parse(out)
    assert [(m.relative_url, m.mime_type, m.time_origin_ms) for m in back.media] == [("../clip.mp4", "video/mp4", 500)]
    assert back.media[0].url == (tmp_path / "clip.mp4").resolve().as_uri()
    assert [f.relative_url for f in back.linked_files] == ["../clip.bvh"]

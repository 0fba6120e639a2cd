"""The 3D view: the avatar at the current frame, skeleton overlay, onion skin, camera presets.

Redraws are coalesced: any number of document signals in one event-loop turn cost one pose
update and one render. Buffers are updated in place (``gl_visuals.LitMeshVisual``).

The vispy canvas renders offscreen (a framebuffer object in the context of a never-mapped GL
widget) and the image is painted by a plain raster widget. Measured under Xvfb + llvmpipe: with
a GL widget inside the main window every repaint of *any* widget (a timeline drag) recomposes
the whole window through OpenGL, 27 ms median per timeline update; with the offscreen canvas
it is 2.4 ms, and a viewport frame costs one render (~10 ms) plus a read-back.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QVBoxLayout, QWidget
from vispy import app as vispy_app
from vispy import scene

from core.kinematics.fk import forward_kinematics
from core.model.sequence import FrameState

from .avatar import load_avatar
from .document import Document
from .drag_pose import PoseTool
from .gizmo import GizmoVisual
from .gl_visuals import LitMesh
from .pose_bar import PoseBar

vispy_app.use_app("pyside6")
_RETIRED: list = []  # closed canvases kept alive until Qt deletes their GL widget (see shutdown)

GENERATED_TINT = (0.35, 0.60, 1.00, 0.22)
PREV_TINT = (1.00, 0.45, 0.25, 0.55)
NEXT_TINT = (0.25, 0.90, 0.45, 0.55)
BACKGROUND = "#1d2127"
BONE_COLOR = (0.95, 0.85, 0.35, 0.9)
STATE_TEXT = {
    FrameState.KEY: "KEY",
    FrameState.SOURCE: "RECORDED",
    FrameState.WARPED: "WARPED",
    FrameState.GENERATED: "GENERATED",
}
STATE_TEXT_COLOR = {
    FrameState.KEY: "#ffcc44",
    FrameState.SOURCE: "#c8d0da",
    FrameState.WARPED: "#6fdcc0",
    FrameState.GENERATED: "#7fb0ff",
}


class OffscreenCanvas(scene.SceneCanvas):
    """A SceneCanvas drawn into a reusable framebuffer on request, never on screen itself."""

    def __init__(self, on_update, **kw) -> None:
        self._on_update = on_update
        self._fbo = None
        self._fbo_size = None
        super().__init__(**kw)

    def update(self, node=None) -> None:
        if not getattr(self, "_drawing", False) and getattr(self, "_on_update", None) is not None:
            self._on_update()

    def render_frame(self) -> np.ndarray:
        """(H, W, 4) uint8 RGBA of the scene at the canvas size."""
        from vispy import gloo

        self.set_current()
        size = tuple(int(x) for x in self.physical_size)
        if self._fbo is None or self._fbo_size != size:
            self._fbo = gloo.FrameBuffer(color=gloo.RenderBuffer(size[::-1]), depth=gloo.RenderBuffer(size[::-1]))
            self._fbo_size = size
        self.push_fbo(self._fbo, (0, 0), self.size)
        # the depth clear obeys the depth write mask, which the onion-skin ghosts (translucent,
        # no depth writes) may have left off: a stale depth buffer hid the body until restart
        gloo.set_state(depth_mask=True)
        try:
            self._draw_scene()
            return self._fbo.read()
        finally:
            self.pop_fbo()


class CanvasView(QWidget):
    """Paints the canvas image and hands mouse and wheel events to vispy (orbit, pan, zoom)."""

    def __init__(self, viewport: Viewport) -> None:
        super().__init__(viewport)
        self.vp = viewport
        self.image: QImage | None = None
        self.label: tuple[str, str] = ("", "#c8d0da")
        self.hint = ""
        self.setMouseTracking(False)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        if self.image is not None:
            p.drawImage(0, 0, self.image)
        else:
            p.fillRect(self.rect(), QColor(BACKGROUND))
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        font = p.font()
        font.setPointSizeF(10.0)
        p.setFont(font)
        text, color = self.label
        p.setPen(QColor(color))
        p.drawText(12, 24, text)
        if self.hint:
            font.setPointSizeF(8.5)
            p.setFont(font)
            p.setPen(QColor("#8a94a0"))
            r = self.rect().adjusted(0, 10, -12, 0)
            p.drawText(r, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop), self.hint)
        p.end()

    def resizeEvent(self, event) -> None:
        self.vp.resize_canvas(self.width(), self.height())

    def _forward(self, name: str, ev) -> None:
        getattr(self.vp.canvas.native, name)(ev)

    def _xy(self, ev) -> tuple[float, float]:
        p = ev.position()
        return p.x(), p.y()

    # a left press on a gizmo ring, a wrist, an elbow or a finger poses; anything else orbits
    def mousePressEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self.vp.pose_tool.press(self._xy(ev)):
            self._posing = True
            return
        self._posing = False
        self._forward("mousePressEvent", ev)

    def mouseMoveEvent(self, ev) -> None:
        if getattr(self, "_posing", False):
            self.vp.pose_tool.move(self._xy(ev))
            return
        self._forward("mouseMoveEvent", ev)

    def mouseReleaseEvent(self, ev) -> None:
        if getattr(self, "_posing", False) and ev.button() == Qt.MouseButton.LeftButton:
            self._posing = False
            self.vp.pose_tool.release(self._xy(ev))
            return
        self._forward("mouseReleaseEvent", ev)

    def wheelEvent(self, ev) -> None:
        self.vp.zoom_at(self._xy(ev), ev.angleDelta().y() / 120.0)

    def event(self, ev) -> bool:
        # during a pose drag X / Y / Z constrain the axis and Esc cancels, before any shortcut
        if ev.type() == QEvent.Type.ShortcutOverride and self.vp.pose_tool.drag is not None:
            if ev.key() in (Qt.Key.Key_X, Qt.Key.Key_Y, Qt.Key.Key_Z, Qt.Key.Key_Escape):
                ev.accept()
                return True
        return super().event(ev)

    def keyPressEvent(self, ev) -> None:
        tool = self.vp.pose_tool
        axes = {Qt.Key.Key_X: "x", Qt.Key.Key_Y: "y", Qt.Key.Key_Z: "z"}
        if tool.drag is not None and ev.key() in axes:
            tool.set_constraint(None if tool.constraint == axes[ev.key()] else axes[ev.key()])
            return
        if tool.drag is not None and ev.key() == Qt.Key.Key_Escape:
            tool.cancel()  # the release that follows still belongs to the pose gesture
            return
        super().keyPressEvent(ev)


class Viewport(QWidget):
    """Signals: jointPicked(joint) when a joint marker is clicked."""

    jointPicked = Signal(int)
    _avatarReady = Signal(object)

    def __init__(self, parent: QWidget | None = None, smplx_dir: str | None = None) -> None:
        super().__init__(parent)
        self.doc: Document | None = None
        self.show_skeleton = True
        self.show_onion = False
        self.show_mesh = True
        self.frames_drawn = 0
        self.last_paint = 0.0
        self._smplx_dir = smplx_dir
        self._avatarReady.connect(self._on_avatar_ready, Qt.ConnectionType.QueuedConnection)
        self._render_pending = False
        self.render_ms = 0.0
        self.display: CanvasView | None = None
        self.canvas = OffscreenCanvas(self.request_render, keys=None, bgcolor=BACKGROUND, show=False, size=(800, 500))
        native = self.canvas.native
        native.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        native.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        native.show()  # creates the GL context; never mapped
        self.view = self.canvas.central_widget.add_view()
        self.camera = scene.TurntableCamera(
            fov=30.0, up="+y", elevation=8.0, azimuth=90.0, scale_factor=1.15, center=(0.0, 0.33, 0.0)
        )
        # near/far = distance / 10 .. distance * 10: the offscreen depth buffer may be 16-bit, and
        # vispy's default ratio (1e6, for 24-bit buffers) z-fights all over the body there
        self.camera.depth_value = 100.0
        self.view.camera = self.camera
        self.avatar = None
        self.mesh = None
        self.ghosts: list = []
        self._floor()
        self.bones = scene.visuals.Line(
            pos=np.zeros((2, 3)), color=BONE_COLOR, width=2.0, connect="segments", parent=self.view.scene, method="gl"
        )
        self.markers = scene.visuals.Markers(parent=self.view.scene)
        self.gizmo = GizmoVisual(self.view.scene)
        self.markers.set_gl_state("translucent", depth_test=False)
        self.bones.set_gl_state("translucent", depth_test=False)
        self._positions: np.ndarray | None = None  # (J, 3) of the shown frame, for picking
        self._press = None
        self._pending = False
        self._tint = (0.0, 0.0, 0.0, 0.0)
        self.canvas.events.mouse_press.connect(self._on_press)
        self.canvas.events.mouse_release.connect(self._on_release)
        # the hidden GL widget still gets paint events: drawing there would be wasted work
        self.canvas.events.draw.disconnect(self.canvas.on_draw)
        self.pose_tool = PoseTool(self)
        self.display = CanvasView(self)
        self.pose_bar = PoseBar(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.pose_bar)
        lay.addWidget(self.display, 1)
        self.setMinimumHeight(220)

    # --- setup ----------------------------------------------------------------------------
    def _floor(self) -> None:
        """A soft disc under the feet and a few rings: orientation without a costly grid."""
        n = 48
        ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
        y = -0.985
        rings = []
        for r in (0.35, 0.7, 1.05):
            pts = np.stack([r * np.cos(ang), np.full(n, y), r * np.sin(ang)], -1)
            rings.append(np.concatenate([pts, pts[:1]]))
        pos = np.concatenate([np.stack([a[:-1], a[1:]], 1).reshape(-1, 3) for a in rings])
        scene.visuals.Line(
            pos=pos, color=(0.45, 0.5, 0.58, 0.35), connect="segments", parent=self.view.scene, method="gl"
        )

    def set_document(self, doc: Document) -> None:
        self.doc = doc
        if (
            self.avatar is None
            or self.avatar.n_vertices == 0
            or getattr(self.avatar, "skeleton", None) is not doc.sequence.skeleton
        ):
            self._build_avatar(doc)
        doc.currentFrameChanged.connect(self.refresh)
        doc.sequenceEdited.connect(self._on_frames)
        doc.framesGenerated.connect(self._on_frames)
        doc.sequenceReplaced.connect(self._on_replaced)
        doc.jointChanged.connect(self.refresh)
        doc.sequenceReplaced.connect(self._warm_up)
        self._warm_up()
        self.refresh()

    def _warm_up(self) -> None:
        """The first edit after opening costs what later ones do (``editor.warmup``)."""
        from .warmup import warm_up_in_background

        if self.doc is not None:
            seq = self.doc.sequence
            QTimer.singleShot(100, lambda: warm_up_in_background(seq))

    def _build_avatar(self, doc: Document) -> None:
        self._install_avatar(load_avatar(doc.sequence.skeleton))
        if self._smplx_dir:
            # the SMPL-X body needs torch and smplx: built off the GUI thread, swapped in when ready
            import threading

            skeleton, folder = doc.sequence.skeleton, self._smplx_dir

            def work() -> None:
                from .avatar import SmplxAvatar

                try:
                    self._avatarReady.emit(SmplxAvatar(folder, skeleton))
                except Exception as e:  # a wrong folder keeps the default body
                    import logging

                    logging.getLogger(__name__).warning("SMPL-X model in %s not usable: %s", folder, e)

            threading.Thread(target=work, name="signframe-smplx", daemon=True).start()

    def _on_avatar_ready(self, avatar) -> None:
        if self.doc is not None and avatar.skeleton is self.doc.sequence.skeleton:
            self._install_avatar(avatar)
            self.refresh()

    def _install_avatar(self, avatar) -> None:
        for v in [self.mesh, *self.ghosts]:
            if v is not None:
                v.parent = None
        self.avatar = a = avatar
        # ghosts show what signs: the arms and hands (a ghost torso would interleave with the body)
        names = a.skeleton.names
        moving = np.array([any(t in n for t in ("shoulder", "elbow", "wrist")) or i >= 22 for i, n in enumerate(names)])
        ghost_faces = a.faces[moving[np.asarray(a.dominant_joint)[a.faces]].all(axis=1)]
        self.ghosts = [
            LitMesh(ghost_faces, a.colors, a.n_vertices, alpha=0.35, parent=self.view.scene) for _ in range(2)
        ]
        self.ghosts[0].set_tint(PREV_TINT)
        self.ghosts[1].set_tint(NEXT_TINT)
        self.mesh = LitMesh(a.faces, a.colors, a.n_vertices, parent=self.view.scene)
        # draw order: opaque body first, then ghosts, then the overlay
        self.mesh.order, self.ghosts[0].order, self.ghosts[1].order = 0, 1, 1
        self.bones.order, self.markers.order = 5, 6
        for g in self.ghosts:
            g.visible = False

    def _on_replaced(self) -> None:
        if self.doc is not None and self.doc.sequence.skeleton is not getattr(self.avatar, "skeleton", None):
            self._build_avatar(self.doc)
        self.refresh()

    def _on_frames(self, lo: int, hi: int) -> None:
        """Frames [lo, hi) changed: redraw only when the shown frame (or a ghost key) is among them
        (a software-GL render costs ~10 ms; a drag far from the playhead needs none)."""
        if self.doc is None:
            return
        f = self.doc.current_frame
        if lo <= f < hi or self.show_onion or hi <= lo:
            self.refresh()

    # --- drawing --------------------------------------------------------------------------
    def refresh(self, *args) -> None:
        """Schedule one redraw for everything that changed in this event-loop turn."""
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self.draw_now)

    def draw_now(self) -> None:
        self._pending = False
        doc = self.doc
        if doc is None:
            return
        seq = doc.sequence
        f = doc.current_frame
        frames = [f]
        keys = seq.key_frames
        prev_k = keys[keys < f]
        next_k = keys[keys > f]
        if self.show_onion:
            frames += [int(prev_k[-1]) if prev_k.size else f, int(next_k[0]) if next_k.size else f]
        rot = seq.rotations[frames]
        rot_f = self.pose_tool.preview(f, rot[0])  # a pose drag shows its pose before it commits
        if rot_f is not rot[0]:
            rot = rot.copy()
            rot[0] = rot_f
        wr, wp = forward_kinematics(seq.skeleton, rot, seq.translation[frames])
        self._positions = wp[0]
        if self.show_mesh and self.mesh is not None:
            pos, nrm = self.avatar.pose(wr[0], wp[0], rot[0])
            self.mesh.set_pose(pos, nrm)
        if self.mesh is not None:
            self.mesh.visible = self.show_mesh
        state = FrameState(int(seq.states[f]))
        tint = GENERATED_TINT if state == FrameState.GENERATED else (0.0, 0.0, 0.0, 0.0)
        if tint != self._tint and self.mesh is not None:
            self.mesh.set_tint(tint)
            self._tint = tint
        for i, g in enumerate(self.ghosts):
            show = self.show_onion and self.show_mesh and ((prev_k.size, next_k.size)[i] > 0)
            g.visible = show
            if show:
                pos, nrm = self.avatar.pose(wr[1 + i], wp[1 + i], seq.rotations[frames[1 + i]])
                g.set_pose(pos, nrm)
        self._draw_skeleton(wp[0])
        self.gizmo.show(self.pose_tool.gizmo_frame())
        key = seq.key_at(f)
        t = f / seq.fps
        kind = f" · {key.kind.value}" if key else ""
        joint = doc.joint
        # overlay text is painted by Qt over the image (vispy's text visual builds a distance field
        # per new glyph on the CPU: ~9 ms each)
        self.display.label = (f"{STATE_TEXT[state]}{kind}    frame {f}    {t:.2f} s", STATE_TEXT_COLOR[state])
        self.display.hint = seq.skeleton.names[joint].replace("_", " ") if joint >= 0 else ""
        self.request_render()

    def _draw_skeleton(self, pos: np.ndarray) -> None:
        doc = self.doc
        self.bones.visible = self.markers.visible = self.show_skeleton
        if not self.show_skeleton:
            return
        parents = doc.sequence.skeleton.parents
        seg = np.array([(p, j) for j, p in enumerate(parents) if p >= 0])
        self.bones.set_data(pos=pos[seg.reshape(-1)].astype(np.float32))
        j = len(pos)
        size = np.full(j, 7.0, np.float32)
        face = np.tile(np.float32([0.98, 0.85, 0.3, 1.0]), (j, 1))
        hand = np.arange(j) >= 22
        size[hand] = 5.0
        if 0 <= doc.joint < j:
            size[doc.joint] = 13.0
            face[doc.joint] = (1.0, 0.3, 0.25, 1.0)
        self.markers.set_data(
            pos.astype(np.float32), size=size, face_color=face, edge_color=(0.1, 0.1, 0.1, 0.9), edge_width=1.0
        )

    # --- offscreen rendering ------------------------------------------------------------------
    def request_render(self) -> None:
        """vispy asked for a redraw (camera moved, a visual changed): one render per loop turn."""
        if not self._render_pending:
            self._render_pending = True
            QTimer.singleShot(0, self.render_now)

    def render_now(self) -> None:
        self._render_pending = False
        if (
            self.display is None
            or not self.display.isVisible()
            or self.display.width() < 2
            or self.display.height() < 2
        ):
            return
        t0 = time.perf_counter()
        rgba = np.ascontiguousarray(self.canvas.render_frame())
        h, w = rgba.shape[:2]
        img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        img.setDevicePixelRatio(self.canvas.pixel_scale)
        self.display.image = img
        self.display.update()
        self.frames_drawn += 1
        self.last_paint = time.perf_counter()
        self.render_ms = (self.last_paint - t0) * 1e3

    def resize_canvas(self, w: int, h: int) -> None:
        self.canvas.size = (max(w, 2), max(h, 2))
        self.request_render()

    def shutdown(self) -> None:
        """Close the hidden GL widget (a top-level window of its own) and delete it at a safe
        point of the event loop. Left to Python's garbage collector, its destructor could run in
        the middle of another canvas's paint and switch the current GL context under it."""
        canvas = self.canvas
        native = canvas.native
        canvas.close()
        _RETIRED.append(canvas)
        native.destroyed.connect(lambda *_: _RETIRED.remove(canvas) if canvas in _RETIRED else None)
        native.deleteLater()

    # --- toggles and camera presets ---------------------------------------------------------
    def set_skeleton_visible(self, on: bool) -> None:
        self.show_skeleton = bool(on)
        self.refresh()

    def set_onion(self, on: bool) -> None:
        self.show_onion = bool(on)
        self.refresh()

    def set_mesh_visible(self, on: bool) -> None:
        self.show_mesh = bool(on)
        self.refresh()

    # vispy's turntable looks along +X at azimuth 0 with Y up: the signer (facing +Z) is seen
    # from the front at azimuth 90 and from its left side at 0
    def view_front(self) -> None:
        self._camera(90.0, 8.0, (0.0, 0.33, 0.0), 1.15)

    def view_side(self) -> None:
        self._camera(0.0, 8.0, (0.0, 0.33, 0.0), 1.15)

    def view_hands(self) -> None:
        """Frame the active hand: the hand of the selected joint, else the one that moves more
        around the playhead (the signing hand), filling most of the view."""
        if self._positions is None:
            self.draw_now()
        pos = self._positions
        if pos is None or self.doc is None:
            return
        side = self.active_hand()
        seq = self.doc.sequence
        wrist = seq.skeleton.index(f"{side}_wrist")
        first = 22 if side == "left" else 37
        idx = [wrist] + list(range(first, min(first + 15, len(pos))))
        f = self.doc.current_frame
        rot = self.pose_tool.preview(f, seq.rotations[f])
        wr, wp = forward_kinematics(seq.skeleton, rot[None], seq.translation[f : f + 1])
        pts = np.concatenate([wp[0, idx], wp[0, idx] + np.einsum("jab,jb->ja", wr[0, idx], seq.skeleton.tips[idx])])
        lo, hi = pts.min(0), pts.max(0)
        span = float((hi - lo).max())
        self._camera(self.camera.azimuth, 12.0, tuple((lo + hi) / 2), max(0.12, 1.1 * span + 0.02))
        # then zoom so the hand's picture fills 80 % of the view (perspective and the hand's
        # orientation make the metric extent only a first guess)
        from .gizmo import plane_hit

        w, h = self.canvas.size
        for _ in range(3):
            px = self.project(pts)
            size = np.ptp(px, axis=0)
            fill = max(size[0] / max(w, 1), size[1] / max(h, 1))
            if fill > 1e-3:
                self.camera.scale_factor = max(0.08, float(self.camera.scale_factor) * fill / 0.8)
            px = self.project(pts)
            centre = np.asarray(self.camera.center, float)
            hit = plane_hit(centre, self.camera_axes()[2], *self.ray((px.min(0) + px.max(0)) / 2))
            if hit is not None:
                self.camera.center = tuple(hit)
        self.request_render()

    def active_hand(self) -> str:
        """ "left" / "right": the selected joint's hand, else the hand whose wrist travels
        further in the second around the playhead."""
        doc = self.doc
        j = doc.joint
        if 22 <= j < 37 or j == 20:
            return "left"
        if 37 <= j < 52 or j == 21:
            return "right"
        seq = doc.sequence
        f = doc.current_frame
        half = max(1, int(round(seq.fps / 2)))
        frames = np.arange(max(0, f - half), min(seq.n_frames, f + half + 1))
        _, wp = forward_kinematics(seq.skeleton, seq.rotations[frames], seq.translation[frames])
        travel = np.linalg.norm(np.diff(wp[:, [20, 21]], axis=0), axis=-1).sum(0)
        return "left" if travel[0] > travel[1] else "right"

    def _camera(self, azimuth: float, elevation: float, centre, extent: float) -> None:
        """``extent``: metres visible across the view's shorter side."""
        self.camera.azimuth = azimuth
        self.camera.elevation = elevation
        self.camera.center = centre
        self.camera.scale_factor = extent
        self.request_render()

    # --- picking ---------------------------------------------------------------------------
    def _on_press(self, event) -> None:
        self._press = np.array(event.pos[:2], float)

    def _on_release(self, event) -> None:
        if self._press is None or event.button != 1:
            return
        moved = np.linalg.norm(np.array(event.pos[:2], float) - self._press)
        self._press = None
        if moved > 4:
            return  # an orbit, not a click
        joint = self.pick(event.pos[:2])
        if joint is not None:
            self.jointPicked.emit(joint)

    def project(self, pos: np.ndarray) -> np.ndarray:
        """(N, 3) world -> (N, 2) canvas pixels."""
        tr = self.view.scene.node_transform(self.canvas.scene)
        p = tr.map(np.asarray(pos, float))
        return p[:, :2] / p[:, 3:4]

    def ray(self, xy) -> tuple[np.ndarray, np.ndarray]:
        """The world ray (origin, unit direction away from the viewer) under canvas pixel ``xy``."""
        tr = self.view.scene.node_transform(self.canvas.scene)
        a = tr.imap(np.array([xy[0], xy[1], -0.5, 1.0]))
        b = tr.imap(np.array([xy[0], xy[1], 0.5, 1.0]))
        a, b = a[:3] / a[3], b[:3] / b[3]
        d = b - a
        return a, d / np.linalg.norm(d)

    def camera_axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The camera's world right, up and toward-the-viewer unit vectors."""
        w, h = self.canvas.size
        toward = -self.ray((w / 2, h / 2))[1]
        right = np.cross([0.0, 1.0, 0.0], toward)
        right = right / max(float(np.linalg.norm(right)), 1e-9)
        return right, np.cross(toward, right), toward

    def zoom_at(self, xy, steps: float) -> None:
        """Wheel zoom toward the point under the cursor: the camera centre slides along the
        cursor's ray so what is under the cursor stays there."""
        if steps == 0:
            return
        factor = 1.1 ** (-steps)
        centre = np.asarray(self.camera.center, float)
        _, _, toward = self.camera_axes()
        origin, d = self.ray(xy)
        from .gizmo import plane_hit

        p = plane_hit(centre, toward, origin, d)
        if p is not None:
            self.camera.center = tuple(p + (centre - p) * factor)
        self.camera.scale_factor = float(self.camera.scale_factor) * factor
        self.request_render()

    def pick(self, xy, radius: float = 14.0) -> int | None:
        """The joint whose marker is nearest to canvas pixel ``xy`` (within ``radius``)."""
        if self._positions is None:
            return None
        px = self.project(self._positions)
        d = np.linalg.norm(px - np.asarray(xy, float), axis=1)
        j = int(np.argmin(d))
        return j if d[j] <= radius else None

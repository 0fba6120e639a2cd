"""Posing in the viewport: the rotate gizmo's drags, drag-a-wrist arm IK (with the elbow-swivel
handle) and drag-a-fingertip finger IK, each gesture one undo step.

The viewport hands every left-button press to ``PoseTool.press`` first; a press the tool takes
(a gizmo ring, a wrist, an elbow, a finger joint, at a key on screen) is a pose drag, anything
else stays a camera orbit. A drag always works from the pose at its start (no drift): each step
computes the new rotations of the joints it moves, which the view shows as a preview; the
release pushes one ``SetJointRotations`` (one undo step; the in-betweener runs then).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from core.kinematics.fk import forward_kinematics
from core.kinematics.ik_geometry import axis_angle, normalize
from core.kinematics.pose_ik import arm_ik, finger_ik, finger_of

from . import gizmo as gz
from .commands import SetJointRotations, push

WRISTS = {20: "left", 21: "right"}
ELBOWS = {18: "left", 19: "right"}


@dataclass
class _Drag:
    mode: str  # "x" / "y" / "z" / "ball" (gizmo), "arm", "swivel", "finger"
    key: int
    joint: int
    rot0: np.ndarray  # (J, 3, 3) float64 pose at the press
    transl0: np.ndarray  # (3,)
    press_xy: np.ndarray
    press_ray: tuple[np.ndarray, np.ndarray]
    anchor: np.ndarray  # the effector's world position at the press
    grab: np.ndarray  # offset from where the press ray met the drag plane to the effector
    frame: gz.GizmoFrame | None
    side: str = ""
    finger: str = ""
    swivel: float = 0.0
    last_target: np.ndarray | None = None
    moved: bool = False
    warm: np.ndarray | None = None  # the pose of the last finger step
    result: tuple | None = None  # (joints, rotations, text) of the latest step: the preview
    pending_xy: np.ndarray | None = None  # the newest mouse position not solved yet


class PoseTool(QObject):
    """Signals: message(text) for the status bar (no key on screen, nothing to pose)."""

    message = Signal(str)

    def __init__(self, viewport) -> None:
        super().__init__(viewport)
        self.vp = viewport
        self.frame_mode = "local"  # gizmo axes: the joint's own frame or its parent's
        self.hold_wrist = True  # arm IK keeps the hand's world orientation
        self.constraint: str | None = None  # "x" / "y" / "z" turns a free drag into one axis
        self.gizmo_on = True
        self.drag: _Drag | None = None
        self.last_drag: _Drag | None = None

    # --- state ------------------------------------------------------------------------------
    @property
    def doc(self):
        return self.vp.doc

    def key_on_screen(self) -> int | None:
        """The key the tools edit: the key under the playhead, and only that one (what is edited
        is always what is shown)."""
        doc = self.doc
        if doc is None:
            return None
        f = doc.current_frame
        return f if doc.sequence.key_at(f) is not None else None

    def _world(self, rot: np.ndarray, transl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wr, wp = forward_kinematics(self.doc.sequence.skeleton, rot[None], transl[None])
        return wr[0], wp[0]

    def gizmo_frame(self) -> gz.GizmoFrame | None:
        """The gizmo on the selected joint at the frame on screen (None without a joint)."""
        doc = self.doc
        if doc is None or not self.gizmo_on or doc.joint < 0 or self.vp._positions is None:
            return None
        seq, f, j = doc.sequence, doc.current_frame, doc.joint
        rot = self.preview(f, seq.rotations[f]).astype(np.float64)
        wr, wp = self._world(rot, seq.translation[f].astype(np.float64))
        p = seq.skeleton.parents[j]
        axes = wr[j] if self.frame_mode == "local" or p < 0 else wr[p]
        right, up, toward = self.vp.camera_axes()
        px = self.vp.project(np.stack([wp[j], wp[j] + 0.1 * right]))
        per_px = 0.1 / max(float(np.linalg.norm(px[1] - px[0])), 1e-6)
        return gz.GizmoFrame(wp[j], axes, gz.RING_PX * per_px, right, up, toward)

    # --- gestures -----------------------------------------------------------------------------
    def press(self, xy) -> bool:
        doc = self.doc
        if doc is None:
            return False
        xy = np.asarray(xy, float)
        frame = self.gizmo_frame()
        # a press right on another joint's marker takes that joint (fingers sit under the rings);
        # else a ring; else any marker nearby; else a free turn inside the outer ring
        joint = self.vp.pick(xy, radius=6.0)
        if joint == doc.joint:
            joint = None
        mode = gz.hit(frame, self.vp.project, xy) if frame is not None and joint is None else None
        if mode == "ball":
            mode = None
        if mode is None and joint is None:
            joint = self.vp.pick(xy)
        sk = doc.sequence.skeleton
        side = finger = ""
        if mode is None and joint is not None:
            fo = finger_of(sk, joint)
            if joint in WRISTS:
                mode, side = "arm", WRISTS[joint]
            elif joint in ELBOWS:
                mode, side = "swivel", ELBOWS[joint]
            elif fo is not None:
                mode, (side, finger) = "finger", fo
            elif joint == doc.joint and frame is not None:
                mode = "ball"
            else:
                return False  # a click on another joint selects it (the viewport's release)
        if mode is None:
            if frame is None or gz.hit(frame, self.vp.project, xy) != "ball":
                return False
            mode = "ball"
        key = self.key_on_screen()
        if key is None:
            self.message.emit("Move the playhead onto a key (or press I) to pose it")
            return mode in ("x", "y", "z", "ball")  # a gizmo press is never an orbit
        if mode == "ball" and self.constraint:
            mode = self.constraint
        seq = doc.sequence
        rot0 = seq.rotations[key].astype(np.float64)
        tr0 = seq.translation[key].astype(np.float64)
        wr, wp = self._world(rot0, tr0)
        ray = self.vp.ray(xy)
        if mode == "finger":
            from core.kinematics.pose_ik import finger_joints, fingertip

            last = finger_joints(sk, side, finger)[-1]
            anchor = fingertip(sk, wr, wp, last)
            target_joint = last
        elif mode in ("arm", "swivel"):
            target_joint = sk.index(f"{side}_wrist")
            anchor = wp[target_joint] if mode == "arm" else wp[sk.index(f"{side}_elbow")]
        else:
            target_joint = doc.joint
            anchor = wp[target_joint]
        hitp = gz.plane_hit(anchor, self.vp.camera_axes()[2], *ray)
        grab = anchor - hitp if hitp is not None else np.zeros(3)
        self.drag = _Drag(mode, key, target_joint, rot0, tr0, xy, ray, anchor, grab, frame, side, finger)
        if mode in ("arm", "swivel", "finger") and joint is not None and doc.joint != joint:
            doc.set_joint(joint)
        self.vp.gizmo.highlight = mode if mode in ("x", "y", "z", "ball") else None
        return True

    def move(self, xy) -> bool:
        d = self.drag
        if d is None:
            return False
        xy = np.asarray(xy, float)
        if not d.moved and np.linalg.norm(xy - d.press_xy) < 3.0:
            return True  # a click, not a drag: nothing changes
        d.moved = True
        # moves that pile up in one event-loop turn cost one solve (the newest wins)
        if d.pending_xy is None:
            QTimer.singleShot(0, self._step)
        d.pending_xy = xy
        return True

    def _step(self) -> None:
        d = self.drag
        if d is None or d.pending_xy is None:
            return
        xy, d.pending_xy = d.pending_xy, None
        change = self._change(d, xy)
        if change is not None:
            # a live preview in the view only: the document (a new version of a 10-minute
            # document's channels per step) changes once, on release
            d.result = change
            self.vp.refresh()

    def release(self, xy) -> bool:
        d = self.drag
        if d is None:
            return False
        self.move(xy)
        self._step()  # the release's own position, now
        if not d.moved and d.mode in ("arm", "swivel", "finger"):
            self.vp.jointPicked.emit(self.vp.pick(d.press_xy) or d.joint)
        self.drag = None
        self.last_drag = d  # what the last gesture did (the status bar, tests)
        self.vp.gizmo.highlight = None
        if d.result is not None:
            joints, rots, text = d.result
            self._push(SetJointRotations(self.doc, d.key, joints, rots, text))
        self.vp.refresh()
        return True

    def cancel(self) -> None:
        """Esc during a drag: the preview goes, the document never changed."""
        if self.drag is not None:
            self.drag = None
            self.vp.gizmo.highlight = None
            self.vp.refresh()

    def preview(self, frame: int, rotations: np.ndarray) -> np.ndarray:
        """The pose (J, 3, 3) to show at ``frame``: the document's, or the drag's preview there."""
        d = self.drag
        if d is None or d.result is None or frame != d.key:
            return rotations
        out = np.array(rotations, copy=True)
        out[d.result[0]] = d.result[1]
        return out

    def set_constraint(self, axis: str | None) -> None:
        self.constraint = axis
        d = self.drag
        if d is not None and d.mode in ("ball", "x", "y", "z"):
            d.mode = axis or "ball"

    def _push(self, cmd) -> None:
        reason = push(self.doc, cmd)
        if reason:
            self.message.emit(f"Cannot pose: {reason}")

    # --- what a drag step changes -----------------------------------------------------------
    def _change(self, d: _Drag, xy: np.ndarray):
        sk = self.doc.sequence.skeleton
        ray = self.vp.ray(xy)
        if d.mode in ("x", "y", "z", "ball"):
            assert d.frame is not None
            delta = gz.world_delta(d.frame, d.mode, d.press_ray, ray, xy - d.press_xy)
            j = d.joint
            wr, _ = self._world(d.rot0, d.transl0)
            p = sk.parents[j]
            parent = wr[p] if p >= 0 else np.eye(3)
            local = gz.local_after(parent, d.rot0[j], delta)
            return [j], local[None].astype(np.float32), f"Rotate {sk.names[j].replace('_', ' ')} at {d.key}"
        hitp = gz.plane_hit(d.anchor, self.vp.camera_axes()[2], *ray)
        if hitp is None:
            return None
        target = hitp + d.grab
        d.last_target = target
        if d.mode == "arm":
            # the swivel is already in the pose at the press: the smallest turn onto the target keeps it
            ch = arm_ik(sk, d.rot0, d.transl0, d.side, target, hold_wrist=self.hold_wrist)
            return list(ch.joints), ch.rotations, f"Move {d.side} wrist at {d.key}"
        if d.mode == "swivel":
            wr, wp = self._world(d.rot0, d.transl0)
            s, w = wp[sk.index(f"{d.side}_shoulder")], wp[sk.index(f"{d.side}_wrist")]
            axis = normalize(w - s)
            a0, a1 = d.anchor - s, target - s
            a0, a1 = a0 - (a0 @ axis) * axis, a1 - (a1 @ axis) * axis
            d.swivel = float(np.arctan2(np.cross(a0, a1) @ axis, a0 @ a1))
            turn = axis_angle(axis, np.asarray(d.swivel))
            shoulder = sk.index(f"{d.side}_shoulder")
            parent = wr[sk.parents[shoulder]]
            local = parent.T @ turn @ wr[shoulder]
            # the hand keeps its world orientation while the elbow circles
            wrist = sk.index(f"{d.side}_wrist")
            elbow = sk.index(f"{d.side}_elbow")
            w_local = (turn @ wr[shoulder] @ d.rot0[elbow]).T @ wr[wrist]
            rots = np.stack([local, w_local]).astype(np.float32)
            return [shoulder, wrist], rots, f"Swivel {d.side} elbow at {d.key}"
        # started from the previous step's finger (a few iterations), not from the press
        start = d.rot0 if d.warm is None else d.warm
        ch = finger_ik(sk, start, d.transl0, d.side, d.finger, target, iterations=12, move_wrist=not self.hold_wrist)
        d.warm = d.rot0.copy()
        d.warm[list(ch.joints)] = ch.rotations
        return list(ch.joints), ch.rotations, f"Move {d.side} {d.finger} at {d.key}"

    # --- numeric entry --------------------------------------------------------------------------
    def rotate_numeric(self, axis: str, degrees: float) -> bool:
        """Turn the selected joint at the key on screen by ``degrees`` about its ``axis`` in the
        gizmo's frame: one undo step."""
        doc = self.doc
        key = self.key_on_screen()
        if doc is None or key is None or doc.joint < 0:
            self.message.emit("Select a joint at a key to rotate it")
            return False
        sk = doc.sequence.skeleton
        j = doc.joint
        rot = doc.sequence.rotations[key].astype(np.float64)
        wr, _ = self._world(rot, doc.sequence.translation[key].astype(np.float64))
        p = sk.parents[j]
        parent = wr[p] if p >= 0 else np.eye(3)
        axes = wr[j] if self.frame_mode == "local" or p < 0 else parent
        delta = axis_angle(axes[:, "xyz".index(axis)], np.asarray(np.radians(degrees)))
        local = gz.local_after(parent, rot[j], delta)
        cmd = SetJointRotations(
            doc, key, [j], local[None].astype(np.float32), f"Rotate {sk.names[j]} {degrees:g}° about {axis}"
        )
        reason = push(doc, cmd)
        if reason:
            self.message.emit(f"Cannot pose: {reason}")
        return reason is None

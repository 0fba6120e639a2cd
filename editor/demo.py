"""A small procedurally generated signing sequence, so the editor always opens on something.

Used when the bundled default sample (``assets/samples/default.signframe``) is missing or cannot
be read. Four "signs" with FAST-style labels, glosses and onset / mid / offset keys; the frames
inside two of the signs are GENERATED, so the first in-betweening run has work to show.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from core.model import JOINT_INDEX, FrameState, Segment, new_sequence
from core.model.rotations import flip_hand
from core.model.sequence import Sequence, keyframes_from_segments, labels_from_segments

FPS = 25.0
_FINGER = ("index", "middle", "pinky", "ring")

# Handshapes: flexion in degrees of (joint 1, 2, 3) per finger, thumb last; spread of joint 1.
HANDSHAPES: dict[str, dict[str, tuple[float, float, float]]] = {
    "relaxed": {
        "index": (15, 20, 10),
        "middle": (20, 25, 10),
        "ring": (25, 30, 10),
        "pinky": (30, 30, 10),
        "thumb": (10, 10, 10),
    },
    "flat": {"index": (0, 0, 0), "middle": (0, 0, 0), "ring": (0, 0, 0), "pinky": (0, 0, 0), "thumb": (0, 0, 0)},
    "fist": {
        "index": (85, 95, 60),
        "middle": (85, 95, 60),
        "ring": (85, 95, 60),
        "pinky": (85, 95, 60),
        "thumb": (30, 35, 40),
    },
    "point": {
        "index": (0, 0, 0),
        "middle": (85, 95, 60),
        "ring": (85, 95, 60),
        "pinky": (85, 95, 60),
        "thumb": (30, 35, 40),
    },
    "vee": {
        "index": (0, 0, 0),
        "middle": (0, 0, 0),
        "ring": (85, 95, 60),
        "pinky": (85, 95, 60),
        "thumb": (30, 35, 40),
    },
    "claw": {
        "index": (25, 60, 40),
        "middle": (25, 60, 40),
        "ring": (25, 60, 40),
        "pinky": (25, 60, 40),
        "thumb": (15, 30, 30),
    },
}
SPREAD = {"flat": 10.0, "vee": 14.0, "claw": 12.0}


def _unit(v) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def aim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) the shortest rotation taking unit vectors ``a`` onto ``b``."""
    a, b = np.broadcast_arrays(_unit(a), _unit(b))
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=-1, keepdims=True)
    c = np.sum(a * b, axis=-1, keepdims=True)
    angle = np.arctan2(s, c)
    rv = np.where(s > 1e-9, axis / np.maximum(s, 1e-12) * angle, 0.0)
    return Rotation.from_rotvec(rv.reshape(-1, 3)).as_matrix().reshape(a.shape[:-1] + (3, 3))


def _left_arm(upper: np.ndarray, fore: np.ndarray, roll: np.ndarray, wrist_flex: np.ndarray):
    """Left-arm local rotations for world upper-arm / forearm directions (T, 3) (rest: +X)."""
    x = np.array([1.0, 0.0, 0.0])
    r_s = aim(x, upper)
    fore_local = np.einsum("tji,tj->ti", r_s, _unit(fore))  # R_s^T f
    r_e = aim(x, fore_local)
    r_w = Rotation.from_euler("XZ", np.stack([roll, wrist_flex], -1), degrees=True).as_matrix()
    return r_s, r_e, r_w


def _left_hand(shape_a: str, shape_b: str, u: np.ndarray) -> np.ndarray:
    """(T, 15, 3, 3) left-hand local rotations blending two handshapes by u (T,)."""
    t = u.shape[0]
    out = np.zeros((t, 15, 3, 3))
    fingers = ("index", "middle", "pinky", "ring", "thumb")
    spread_sign = {"index": 1.0, "middle": 0.0, "ring": -0.6, "pinky": -1.2, "thumb": 0.0}
    for fi, f in enumerate(fingers):
        a, b = np.array(HANDSHAPES[shape_a][f]), np.array(HANDSHAPES[shape_b][f])
        sp = (1 - u) * SPREAD.get(shape_a, 4.0) + u * SPREAD.get(shape_b, 4.0)
        for k in range(3):
            flex = (1 - u) * a[k] + u * b[k]
            if f == "thumb":
                # the thumb curls across the palm: flexion about an axis tilted towards the fingers
                ang = np.stack([flex * 0.5, -flex * 0.3, -flex], -1)
                r = Rotation.from_euler("XYZ", ang, degrees=True).as_matrix()
            else:
                spread = sp * spread_sign[f] if k == 0 else np.zeros(t)
                # left hand: flexion towards the palm (-Y) is a negative turn about +Z; spread about -Y
                r = Rotation.from_euler("YZ", np.stack([-spread, -flex], -1), degrees=True).as_matrix()
            out[:, 3 * fi + k] = r
    return out


def _smooth_keys(frames: np.ndarray, times: list[int], values: list) -> np.ndarray:
    """Piecewise smoothstep interpolation of ``values`` (each (D,)) at key ``times`` -> (T, D)."""
    values = np.asarray(values, float)
    out = np.empty((frames.size, values.shape[1]))
    times = np.asarray(times, float)
    idx = np.clip(np.searchsorted(times, frames, side="right") - 1, 0, len(times) - 2)
    u = np.clip((frames - times[idx]) / (times[idx + 1] - times[idx]), 0, 1)
    u = u * u * (3 - 2 * u)
    out[:] = values[idx] * (1 - u[:, None]) + values[idx + 1] * u[:, None]
    return out


def demo_sequence(seconds: float = 10.0, fps: float = FPS) -> Sequence:
    """The demo: (T = seconds * fps) frames of a signer, 4 signs, keys and glosses."""
    t = int(round(seconds * fps))
    f = np.arange(t, dtype=float)
    s = t / 250.0
    signs = [
        Segment(int(20 * s), int(60 * s), "HELLO"),
        Segment(int(75 * s), int(120 * s), "THANK-YOU"),
        Segment(int(135 * s), int(180 * s), "YES"),
        Segment(int(195 * s), int(235 * s), "SEE"),
    ]
    # control poses (frame, right upper-arm dir, right forearm dir, right roll, left ..., shapes)
    rest_u, rest_f = (0.18, -1.0, 0.05), (0.05, -1.0, 0.3)
    ctrl = [
        (0, rest_u, rest_f, 0, rest_u, rest_f, 0),
        (int(18 * s), rest_u, rest_f, 0, rest_u, rest_f, 0),
        (int(30 * s), (0.85, -0.4, 0.35), (0.05, 1.0, 0.2), 80, rest_u, rest_f, 0),  # HELLO: hand by the head
        (int(50 * s), (0.85, -0.35, 0.4), (0.55, 0.8, 0.3), 85, rest_u, rest_f, 0),  # wave outwards
        (int(62 * s), (0.3, -0.9, 0.3), (-0.2, 0.3, 0.9), 60, rest_u, rest_f, 0),
        (int(80 * s), (0.3, -0.85, 0.4), (-0.45, 0.55, 0.75), 80, (0.3, -0.85, 0.4), (-0.45, 0.55, 0.75), 80),
        (int(110 * s), (0.25, -0.9, 0.5), (-0.05, 0.2, 1.0), 95, (0.25, -0.9, 0.5), (-0.05, 0.2, 1.0), 95),
        (int(128 * s), (0.25, -0.95, 0.2), (-0.1, -0.2, 1.0), 80, rest_u, rest_f, 0),
        (int(145 * s), (0.3, -0.85, 0.45), (-0.35, 0.45, 0.85), 20, rest_u, rest_f, 0),  # YES: fist nods
        (int(160 * s), (0.3, -0.88, 0.42), (-0.35, 0.15, 0.95), 20, rest_u, rest_f, 0),
        (int(175 * s), (0.3, -0.85, 0.45), (-0.35, 0.45, 0.85), 20, rest_u, rest_f, 0),
        (int(200 * s), (0.4, -0.6, 0.5), (-0.55, 0.75, 0.4), 0, rest_u, rest_f, 0),  # SEE: V from the eyes
        (int(228 * s), (0.35, -0.75, 0.55), (-0.2, 0.2, 1.0), 10, rest_u, rest_f, 0),
        (int(242 * s), rest_u, rest_f, 0, rest_u, rest_f, 0),
        (t - 1, rest_u, rest_f, 0, rest_u, rest_f, 0),
    ]
    times = [c[0] for c in ctrl]
    right = _smooth_keys(f, times, [np.r_[c[1], c[2], c[3]] for c in ctrl])
    left = _smooth_keys(f, times, [np.r_[c[4], c[5], c[6]] for c in ctrl])
    # a little life: a slow sway, small oscillations while signing
    wobble = 0.06 * np.sin(f / fps * 2 * np.pi * 1.7)
    right[:, 3:6] += wobble[:, None] * np.array([0.4, 0.6, 0.0])

    rot = np.broadcast_to(np.eye(3), (t, 52, 3, 3)).copy()
    # targets are written for a left arm (+X outwards); the right arm is the mirror image of a
    # left arm built on the same numbers (the hand flip conjugates it across the midline)
    for side, params, mirrored in (("left", left, False), ("right", right, True)):
        up, fo = params[:, 0:3], params[:, 3:6]
        r_s, r_e, r_w = _left_arm(up, fo, -params[:, 6], 10 * np.sin(f / fps * 3.0))
        if mirrored:
            r_s, r_e, r_w = flip_hand(r_s), flip_hand(r_e), flip_hand(r_w)
        rot[:, JOINT_INDEX[f"{side}_shoulder"]] = r_s
        rot[:, JOINT_INDEX[f"{side}_elbow"]] = r_e
        rot[:, JOINT_INDEX[f"{side}_wrist"]] = r_w

    # handshapes per sign (right hand dominant); the left hand rests relaxed except in THANK-YOU
    shape_keys = [
        (0, "relaxed"),
        (int(22 * s), "flat"),
        (int(58 * s), "flat"),
        (int(70 * s), "relaxed"),
        (int(78 * s), "flat"),
        (int(118 * s), "flat"),
        (int(132 * s), "relaxed"),
        (int(140 * s), "fist"),
        (int(178 * s), "fist"),
        (int(190 * s), "relaxed"),
        (int(198 * s), "vee"),
        (int(232 * s), "vee"),
        (int(244 * s), "relaxed"),
        (t - 1, "relaxed"),
    ]
    right_hand = np.zeros((t, 15, 3, 3))
    for (a, sa), (b, sb) in zip(shape_keys, shape_keys[1:]):
        seg = slice(a, b + 1)
        u = np.clip((f[seg] - a) / max(b - a, 1), 0, 1)
        right_hand[seg] = flip_hand(_left_hand(sa, sb, u * u * (3 - 2 * u)))
    lk = [
        (0, "relaxed"),
        (int(74 * s), "relaxed"),
        (int(80 * s), "flat"),
        (int(118 * s), "flat"),
        (int(130 * s), "relaxed"),
        (t - 1, "relaxed"),
    ]
    left_hand = np.zeros((t, 15, 3, 3))
    for (a, sa), (b, sb) in zip(lk, lk[1:]):
        seg = slice(a, b + 1)
        u = np.clip((f[seg] - a) / max(b - a, 1), 0, 1)
        left_hand[seg] = _left_hand(sa, sb, u * u * (3 - 2 * u))
    rot[:, 22:37] = left_hand
    rot[:, 37:52] = right_hand
    # breathing sway of the spine, a small nod of the head
    rot[:, JOINT_INDEX["spine3"]] = Rotation.from_euler(
        "X", (2 * np.sin(f / fps * 1.3))[:, None], degrees=True
    ).as_matrix()
    rot[:, JOINT_INDEX["head"]] = Rotation.from_euler(
        "XY", np.stack([6 * np.sin(f / fps * 0.9), 8 * np.sin(f / fps * 0.5)], -1), degrees=True
    ).as_matrix()

    labels = labels_from_segments(signs, t)
    seq = new_sequence(
        rot.astype(np.float32),
        fps,
        labels=labels,
        keyframes=keyframes_from_segments(signs),
        glosses=signs,
        text="HELLO THANK-YOU YES SEE",
        language="demo",
        meta={"source": "procedural demo"},
    )
    states = np.full(t, FrameState.SOURCE, np.uint8)
    for g in (signs[1], signs[3]):
        states[g.start : g.end + 1] = FrameState.GENERATED
    return seq.replace(base_states=states)

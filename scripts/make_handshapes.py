"""Build the handshape palette (assets/handshapes/handshapes.npz) from real recorded hands.

Run once, offline, with the ``training`` extra installed (it brings the fingerspelling lexicon):

    PYTHONPATH=$PWD .venv/bin/python scripts/make_handshapes.py

Each base handshape is an American Sign Language (ase) fingerspelled letter of the lexicon of the
``spoken-to-signed`` package (MIT licence, ZurichNLP): the clip is solved onto our skeleton by
Signframe's own import (``core.data.clips.load_clip``), and the handshape is the rotation mean of
the dominant hand's 15 finger joints over the middle half of the clip's signing core, stored as
a RIGHT hand. The other shapes are made from those recorded hands by documented operations
(fingers taken from one recorded hand onto another, a named joint level bent by set angles):
see DERIVED below; the provenance of each shape is stored with it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "assets" / "handshapes" / "handshapes.npz"

# letter -> (name, label shown in the palette)
BASE = {
    "A": ("A", "A (fist, thumb at side)"),
    "B": ("B", "B (flat, thumb across)"),
    "C": ("C", "C"),
    "D": ("D", "D"),
    "E": ("E", "E"),
    "F": ("F", "F"),
    "G": ("G", "G"),
    "H": ("H", "H"),
    "I": ("I", "I (pinky)"),
    "K": ("K", "K"),
    "L": ("L", "L"),
    "M": ("M", "M"),
    "N": ("N", "N"),
    "O": ("O", "O"),
    "R": ("R", "R (crossed)"),
    "S": ("S", "S (fist)"),
    "T": ("T", "T"),
    "U": ("U", "U"),
    "V": ("V", "V"),
    "W": ("W", "W"),
    "X": ("X", "X (hooked index)"),
    "Y": ("Y", "Y"),
}
FINGERS = ("index", "middle", "pinky", "ring", "thumb")  # SMPL-X hand order, 3 joints each

# name -> (label, base, {finger: source shape}, {(finger or "fingers", level): flexion degrees})
DERIVED = {
    "1": ("1 (index)", "S", {"index": "L"}, {}),
    "3": ("3", "V", {"thumb": "L"}, {}),
    "5": ("5 (spread)", "B", {"thumb": "L"}, {"spread": 1.0}),
    "open_B": ("open B (thumb out)", "B", {"thumb": "L"}, {}),
    "bent_B": ("bent B", "B", {}, {("fingers", 1): 80.0}),
    "claw_5": ("clawed 5", "B", {"thumb": "L"}, {"spread": 1.0, ("fingers", 2): 60.0, ("fingers", 3): 50.0}),
    "bent_V": ("bent V", "V", {}, {("index", 2): 70.0, ("middle", 2): 70.0, ("index", 3): 50.0, ("middle", 3): 50.0}),
    "bent_L": ("bent L", "L", {}, {("index", 2): 70.0, ("index", 3): 50.0}),
    "ILY": ("ILY", "I", {"index": "L", "thumb": "L"}, {}),
    "horns": ("horns", "I", {"index": "L"}, {}),
    "flat_O": ("flat O", "O", {}, {("fingers", 2): 10.0, ("fingers", 3): 5.0}),
    "open_A": ("open A", "A", {"thumb": "L"}, {}),
}


def mean_rotation(r: np.ndarray) -> np.ndarray:
    """(T, 3, 3) -> (3, 3) rotation mean (scipy's quaternion average)."""
    return Rotation.from_matrix(r.astype(np.float64)).mean().as_matrix()


def base_shapes() -> tuple[dict[str, np.ndarray], dict[str, str]]:
    sys.path.insert(0, str(ROOT))
    from core.data.clips import load_clip
    from core.data.lexicon import read_lexicon
    from core.model.rotations import flip_hand
    from core.model.skeleton import LEFT_HAND, RIGHT_HAND

    shapes, sources = {}, {}
    entries = {e.letter.upper(): e for e in read_lexicon() if e.language == "ase"}
    for letter in BASE:
        e = entries[letter]
        clip, why = load_clip(e.path)
        if clip is None:
            raise SystemExit(f"{e.source}: dropped by the import ({why})")
        a, b = clip.core
        lo, hi = a + (b - a) // 4, b - (b - a) // 4
        hand = RIGHT_HAND if clip.dominant == "right" else LEFT_HAND
        frames = [t for t in range(lo, hi + 1) if clip.valid[t, hand].all()]
        if len(frames) < 3:
            raise SystemExit(f"{e.source}: too few frames with the {clip.dominant} hand seen")
        rot = np.stack([mean_rotation(clip.rotations[frames, j]) for j in range(hand.start, hand.stop)])
        if clip.dominant == "left":
            rot = flip_hand(rot)
        shapes[letter] = rot
        sources[letter] = f"ase/{Path(e.source).name} frames {frames[0]}-{frames[-1]} ({clip.dominant} hand)"
        print(f"{letter}: {sources[letter]}", flush=True)
    return shapes, sources


def derive(shapes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    sys.path.insert(0, str(ROOT))
    from core.kinematics.anatomy import clamp_params, from_params, joint_params, to_params
    from core.model.skeleton import N_BODY, N_HAND
    from core.model.template import TEMPLATE

    right0 = N_BODY + N_HAND
    out = {}
    for name, (_, base, take, bends) in DERIVED.items():
        rot = shapes[base].copy()
        for finger, src in take.items():
            f = FINGERS.index(finger)
            rot[3 * f : 3 * f + 3] = shapes[src][3 * f : 3 * f + 3]
        for key, value in bends.items():
            if key == "spread":  # fan the fingers: abduction at the knuckles, thumb side positive
                for finger, deg in (("index", 12.0), ("middle", 0.0), ("ring", -10.0), ("pinky", -18.0)):
                    f = FINGERS.index(finger)
                    jp = joint_params(TEMPLATE, right0 + 3 * f)
                    assert jp is not None
                    p = to_params(jp, rot[3 * f])
                    p[1] = deg * value
                    rot[3 * f] = from_params(jp, clamp_params(jp, p))
                continue
            assert isinstance(key, tuple)
            who, level = key
            for finger in ("index", "middle", "ring", "pinky") if who == "fingers" else (who,):
                f = FINGERS.index(finger)
                jp = joint_params(TEMPLATE, right0 + 3 * f + level - 1)
                assert jp is not None
                p = to_params(jp, rot[3 * f + level - 1])
                p[0] = value
                rot[3 * f + level - 1] = from_params(jp, clamp_params(jp, p))
        out[name] = rot
    return out


def main() -> None:
    shapes, sources = base_shapes()
    derived = derive(shapes)
    names, labels, rots, prov = [], [], [], []
    for letter, (name, label) in BASE.items():
        names.append(name)
        labels.append(label)
        rots.append(shapes[letter])
        prov.append(f"recorded: {sources[letter]}")
    for name, (label, base, take, bends) in DERIVED.items():
        names.append(name)
        labels.append(label)
        rots.append(derived[name])
        parts = [f"from {base}"] + [f"{f} from {s}" for f, s in take.items()]
        parts += [f"{k if isinstance(k, str) else f'{k[0]} joint {k[1]}'} {v:g}" for k, v in bends.items()]
        prov.append("derived: " + ", ".join(parts))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT,
        names=np.array(names),
        labels=np.array(labels),
        rotations=np.asarray(rots, np.float32),
        provenance=np.array(prov),
        meta=np.array(json.dumps({"hand": "right", "joints": "SMPL-X hand order, 15 local rotations"})),
    )
    print(f"wrote {OUT} ({len(names)} handshapes, {OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

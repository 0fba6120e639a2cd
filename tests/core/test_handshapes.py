"""The handshape palette's data: bundled shapes from recorded hands, mirroring, user shapes."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.handshapes import (
    bundled_handshapes,
    hand_of,
    hand_slice,
    read_handshapes,
    save_user_handshape,
)
from core.io.errors import FormatError
from core.kinematics.anatomy import joint_params, limit_violations, to_params
from core.model.rotations import flip_hand
from core.model.skeleton import N_BODY, N_HAND
from core.model.template import TEMPLATE as SK

FINGERS = ("index", "middle", "pinky", "ring", "thumb")


def curl(shape_rot: np.ndarray, finger: str) -> float:
    """Total flexion (degrees) of one finger of a right-hand shape."""
    f = FINGERS.index(finger)
    total = 0.0
    for k in range(3):
        jp = joint_params(SK, N_BODY + N_HAND + 3 * f + k)
        assert jp is not None
        total += float(to_params(jp, shape_rot[3 * f + k])[0])
    return total


def test_at_least_30_named_shapes_from_recorded_hands_with_provenance():
    shapes = bundled_handshapes()
    names = [s.name for s in shapes]
    assert len(shapes) >= 30 and len(set(names)) == len(names)
    for need in ("B", "A", "S", "1", "V", "5", "C", "O", "L", "Y", "I", "W", "bent_B", "claw_5"):
        assert need in names
    recorded = [s for s in shapes if s.provenance.startswith("recorded: ase/")]
    assert len(recorded) >= 20
    assert all(s.provenance for s in shapes)


def test_shapes_look_like_their_names():
    by = {s.name: s.rotations for s in bundled_handshapes()}
    # flat B: every finger nearly straight; fist S: every finger curled
    assert all(curl(by["B"], f) < 40 for f in ("index", "middle", "ring", "pinky"))
    assert all(curl(by["S"], f) > 120 for f in ("index", "middle", "ring", "pinky"))
    # V: index and middle straight, ring and pinky curled
    assert curl(by["V"], "index") < 40 and curl(by["V"], "middle") < 40
    assert curl(by["V"], "ring") > 120 and curl(by["V"], "pinky") > 120
    # I: only the pinky up; Y: pinky up, index curled
    assert curl(by["I"], "pinky") < 40 and curl(by["I"], "index") > 120
    assert curl(by["Y"], "pinky") < 40 and curl(by["Y"], "index") > 120
    # the derived bent B bends at the knuckles
    assert curl(by["bent_B"], "index") > curl(by["B"], "index") + 50


def test_derived_bends_are_the_set_angles():
    by = {s.name: s.rotations for s in bundled_handshapes()}
    for finger in ("index", "middle", "ring", "pinky"):
        f = FINGERS.index(finger)
        jp = joint_params(SK, N_BODY + N_HAND + 3 * f)
        assert jp is not None
        assert abs(to_params(jp, by["bent_B"][3 * f])[0] - 80.0) < 1e-3
        # everything but that level is the recorded B
        np.testing.assert_array_equal(by["bent_B"][3 * f + 1], by["B"][3 * f + 1])
    rot = np.tile(np.eye(3), (52, 1, 1))
    rot[hand_slice("right")] = by["bent_B"]
    assert not [v for v in limit_violations(SK, rot) if "1 flexion" in v]


def test_left_hand_gets_the_mirror_image():
    s = bundled_handshapes()[0]
    np.testing.assert_array_equal(s.for_side("right"), s.rotations)
    np.testing.assert_allclose(s.for_side("left"), flip_hand(s.rotations))
    pose = np.tile(np.eye(3, dtype=np.float32), (52, 1, 1))
    pose[hand_slice("left")] = s.for_side("left")
    np.testing.assert_allclose(hand_of(pose, "left"), s.rotations, atol=1e-7)


def test_user_shapes_round_trip_and_replace(tmp_path):
    p = tmp_path / "mine.npz"
    by = {s.name: s for s in bundled_handshapes()}
    save_user_handshape(p, "my C", by["C"].for_side("left"), "left", "frame 12, left hand")
    save_user_handshape(p, "my V", by["V"].rotations, "right", "frame 3")
    save_user_handshape(p, "my C", by["O"].rotations, "right", "frame 5")
    got = read_handshapes(p, user=True)
    assert [s.name for s in got] == ["my V", "my C"]
    np.testing.assert_allclose(got[1].rotations, by["O"].rotations, atol=1e-7)
    assert got[0].user and got[1].provenance == "frame 5"


@pytest.mark.parametrize(
    "arrays, problem",
    [
        ({"names": np.array(["a"]), "labels": np.array(["a"])}, "no 'rotations'"),
        (
            {"names": np.array(["a"]), "labels": np.array(["a"]), "rotations": np.zeros((1, 15, 3, 3))},
            "not a rotation",
        ),
        ({"names": np.array(["a"]), "labels": np.array(["a"]), "rotations": np.zeros((1, 4))}, "must be (N, 15"),
    ],
)
def test_a_bad_user_file_is_one_clear_error(tmp_path, arrays, problem):
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    with pytest.raises(FormatError) as e:
        read_handshapes(p)
    assert problem in str(e.value) and "bad.npz" in str(e.value)


def test_a_pickled_user_file_is_refused(tmp_path):
    p = tmp_path / "evil.npz"
    np.savez(p, names=np.array([object()], dtype=object), labels=np.array(["a"]), rotations=np.zeros((1, 15, 3, 3)))
    with pytest.raises(FormatError):
        read_handshapes(p)

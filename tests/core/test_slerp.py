import numpy as np
import pytest
from scipy.spatial.transform import Rotation, Slerp

from core.kinematics.slerp import bracket, inbetween_baseline, lerp_fill, slerp_fill, smoothstep
from core.model import FrameState, Keyframe, new_sequence
from core.model.edits import set_span_state
from core.model.rotations import matrix_to_quat


def random_rotations(t, j, seed):
    return Rotation.random(t * j, random_state=seed).as_matrix().reshape(t, j, 3, 3).astype(np.float32)


def test_bracket_finds_neighbours():
    obs = np.array([0, 1, 0, 0, 1, 0], bool)[:, None]
    prev, nxt, u = bracket(obs)
    assert prev[:, 0].tolist() == [-1, 1, 1, 1, 4, 4]
    assert nxt[:, 0].tolist() == [1, 1, 4, 4, 4, 6]
    np.testing.assert_allclose(u[:, 0], [0, 0, 1 / 3, 2 / 3, 0, 0])


def test_slerp_hits_keys_exactly_and_matches_scipy():
    rot = random_rotations(40, 3, seed=1)
    obs = np.zeros((40, 3), bool)
    keys = [[0, 9, 20, 39], [5, 30], [0, 39]]
    for j, k in enumerate(keys):
        obs[k, j] = True
    out = slerp_fill(rot, obs)
    assert np.array_equal(out[obs], rot[obs])  # bit-exact at observations
    for j, k in enumerate(keys):
        ref = Slerp(k, Rotation.from_matrix(rot[k, j].astype(np.float64)))
        inside = np.arange(k[0], k[-1] + 1)
        np.testing.assert_allclose(out[inside, j], ref(inside).as_matrix(), atol=2e-6)
    # holds before the first / after the last observation of a joint
    assert np.array_equal(out[:5, 1], np.repeat(rot[5:6, 1], 5, 0))
    assert np.array_equal(out[31:, 1], np.repeat(rot[30:31, 1], 9, 0))


@pytest.mark.parametrize("ease", [None, smoothstep])
def test_slerp_is_monotone_in_time(ease):
    rot = random_rotations(2, 20, seed=2)
    seq = np.concatenate([rot[:1], np.repeat(rot[:1], 30, 0), rot[1:]])  # keys at 0 and 31
    obs = np.zeros((32, 20), bool)
    obs[[0, 31]] = True
    out = slerp_fill(seq, obs, ease)
    q0 = matrix_to_quat(seq[0])
    angle = np.stack([2 * np.arccos(np.clip(np.abs(np.sum(matrix_to_quat(out[f]) * q0, -1)), 0, 1)) for f in range(32)])
    assert np.all(np.diff(angle, axis=0) >= -1e-5)
    total = angle[-1]
    np.testing.assert_allclose(angle[16], total * (smoothstep(np.array(16 / 31)) if ease else 16 / 31), atol=1e-4)


def test_slerp_takes_the_short_arc():
    a = Rotation.from_euler("z", 170, degrees=True)
    b = Rotation.from_euler("z", -170, degrees=True)
    rot = np.stack([a.as_matrix(), np.eye(3), b.as_matrix()])[:, None].astype(np.float32)
    out = slerp_fill(rot, np.array([[1], [0], [1]], bool))
    mid = Rotation.from_matrix(out[1, 0]).as_euler("xyz", degrees=True)[2]
    assert abs(abs(mid) - 180) < 1e-3


def test_lerp_fill_translation():
    v = np.array([[0, 0, 0], [9, 9, 9], [9, 9, 9], [3, 6, 9]], np.float32)
    out = lerp_fill(v, np.array([1, 0, 0, 1], bool))
    np.testing.assert_allclose(out, [[0, 0, 0], [1, 2, 3], [2, 4, 6], [3, 6, 9]], atol=1e-6)


def test_inbetween_fills_only_generated_frames_and_span_equals_full():
    t = 60
    rot = random_rotations(t, 52, seed=3)
    seq = new_sequence(rot, 25.0, keyframes=[Keyframe(f) for f in (0, 10, 25, 40, 59)])
    seq = set_span_state(seq, 1, 58, FrameState.GENERATED).sequence
    seq = set_span_state(seq, 30, 35, FrameState.SOURCE).sequence
    full = inbetween_baseline(seq)
    obs = seq.states != FrameState.GENERATED
    assert np.array_equal(full.rotations[obs], rot[obs])
    assert not np.allclose(full.rotations[5], rot[5])
    part = inbetween_baseline(seq, span=(12, 20))
    np.testing.assert_array_equal(part.rotations[10:26], full.rotations[10:26])
    assert np.array_equal(part.rotations[1:10], seq.rotations[1:10])  # outside the span: untouched


def test_invalid_joints_are_interpolated_not_kept():
    t = 12
    rot = random_rotations(t, 52, seed=4)
    valid = np.ones((t, 52), bool)
    valid[3:8, 40:] = False  # right hand lost for five frames
    seq = new_sequence(rot, 25.0, valid=valid)
    out = inbetween_baseline(seq)
    # recorded joints are untouched; joints with no reliable record are filled (DESIGN.md 2)
    assert np.array_equal(out.rotations[valid], seq.rotations[valid])
    assert not np.array_equal(out.rotations[~valid], seq.rotations[~valid])
    filled = slerp_fill(seq.rotations, seq.observed)
    assert np.array_equal(filled[:, :40], rot[:, :40])
    ref = Slerp([2, 8], Rotation.from_matrix(rot[[2, 8], 45].astype(np.float64)))
    np.testing.assert_allclose(filled[5, 45], ref([5]).as_matrix()[0], atol=2e-6)

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.model import rotations as rot
from tests.conftest import official_file


@pytest.fixture
def mats(rng):
    return Rotation.random(500, random_state=7).as_matrix().reshape(5, 100, 3, 3)


def test_quaternion_round_trip(mats):
    q = rot.matrix_to_quat(mats)
    assert q.shape == (5, 100, 4)
    assert np.all(q[..., 3] >= 0)
    np.testing.assert_allclose(rot.quat_to_matrix(q), mats, atol=1e-6)


def test_axis_angle_round_trip(mats):
    aa = rot.matrix_to_axis_angle(mats)
    assert np.all(np.linalg.norm(aa, axis=-1) <= np.pi + 1e-9)
    np.testing.assert_allclose(rot.axis_angle_to_matrix(aa), mats, atol=1e-6)
    np.testing.assert_allclose(rot.quat_to_axis_angle(rot.axis_angle_to_quat(aa)), aa, atol=1e-6)


@pytest.mark.parametrize("order", ["ZXY", "XYZ", "ZYX", "YXZ"])
def test_euler_round_trip(mats, order):
    e = rot.matrix_to_euler(mats, order)
    np.testing.assert_allclose(rot.euler_to_matrix(e, order), mats, atol=1e-6)


@pytest.mark.parametrize("order", ["ZXY", "XYZ", "ZYX", "YXZ"])
def test_one_euler_conversion_with_an_explicit_unit(mats, order):
    from core.io.export_prep import euler_radians_exact as export_angles

    # the exporters' radian angles (R = R_a @ R_b @ R_c) rebuild through the same function
    np.testing.assert_allclose(rot.euler_to_matrix(export_angles(mats, order), order, degrees=False), mats, atol=1e-9)
    e = rot.matrix_to_euler(mats, order)
    np.testing.assert_allclose(
        rot.euler_to_matrix(np.radians(e), order, degrees=False), rot.euler_to_matrix(e, order), atol=1e-12
    )


def test_6d_is_first_two_rows_and_round_trips(mats):
    d6 = rot.matrix_to_6d(mats)
    np.testing.assert_array_equal(d6[..., :3], mats[..., 0, :])
    np.testing.assert_array_equal(d6[..., 3:], mats[..., 1, :])
    np.testing.assert_allclose(rot.sixd_to_matrix(d6), mats, atol=1e-6)


def test_6d_decoding_orthonormalises_noisy_input(mats, rng):
    noisy = rot.matrix_to_6d(mats) * 1.7 + rng.normal(scale=0.05, size=(5, 100, 6))
    assert rot.is_rotation(rot.sixd_to_matrix(noisy)).all()


def test_hand_flip_is_conjugation_and_involution(mats):
    f = np.diag([1.0, -1.0, -1.0])
    np.testing.assert_allclose(rot.flip_hand(mats), f @ mats @ f, atol=1e-12)
    np.testing.assert_allclose(rot.flip_hand(rot.flip_hand(mats)), mats)
    aa = rot.matrix_to_axis_angle(mats)
    np.testing.assert_allclose(rot.axis_angle_to_matrix(rot.flip_hand_axis_angle(aa)), rot.flip_hand(mats), atol=1e-6)
    np.testing.assert_allclose(
        rot.flip_hand_6d(rot.matrix_to_6d(mats)), rot.matrix_to_6d(rot.flip_hand(mats)), atol=1e-12
    )


def test_official_6d_rows_and_flip_match_reference():
    ref = np.load(official_file("data_reference.npz"), allow_pickle=False)
    flip_in, flip_out = ref["flip_in"], ref["flip_out"]  # (T, 96): 15 joints x 6D + trailing dims
    j6 = flip_in[:, :90].reshape(-1, 15, 6)
    # decode with our row convention, conjugate, re-encode: must equal the official flip
    ours = rot.matrix_to_6d(rot.flip_hand(rot.sixd_to_matrix(j6))).reshape(-1, 90)
    np.testing.assert_allclose(ours, flip_out[:, :90], atol=1e-5)
    np.testing.assert_array_equal(flip_in[:, 90:], flip_out[:, 90:])


def test_orthonormalize_repairs_float32_drift(mats, rng):
    drift = (mats + rng.normal(scale=1e-3, size=mats.shape)).astype(np.float32)
    assert not rot.is_rotation(drift, atol=1e-5).all()
    assert rot.is_rotation(rot.orthonormalize(drift), atol=1e-6).all()


def test_is_rotation_rejects_nan_and_reflections(mats):
    bad = mats.copy()
    bad[0, 0, 0, 0] = np.nan
    bad[0, 1] = -bad[0, 1]  # det -1
    ok = rot.is_rotation(bad)
    assert not ok[0, 0] and not ok[0, 1] and ok[0, 2:].all()

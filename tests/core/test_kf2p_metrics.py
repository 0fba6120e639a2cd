import numpy as np
from scipy.spatial.transform import Rotation

from core.ml import kf2p_metrics as m


def test_procrustes_removes_similarity_transforms(rng):
    gt = rng.normal(size=(7, 15, 3))
    r = Rotation.random(7, random_state=1).as_matrix()
    pred = 1.3 * np.einsum("tab,tjb->tja", r, gt) + rng.normal(size=(7, 1, 3))
    assert m.mpjpe(pred, gt) > 0.5
    assert m.pa_mpjpe(pred, gt) < 1e-9
    noisy = gt + rng.normal(scale=0.01, size=gt.shape)
    assert 0.005 < m.pa_mpjpe(noisy, gt) <= m.mpjpe(noisy, gt)


def test_dtw_forgives_time_shifts_but_mpjpe_does_not(rng):
    t = np.linspace(0, 2 * np.pi, 60)
    gt = np.stack([np.sin(t), np.cos(t), t * 0], -1)[:, None, :]
    shifted = np.concatenate([gt[:1].repeat(3, 0), gt[:-3]])
    assert m.dtw_jpe(gt, gt) == 0.0
    assert m.dtw_jpe(shifted, gt) < 0.2 * m.mpjpe(shifted, gt)
    # a wrong trajectory stays wrong under DTW
    assert m.dtw_jpe(gt + 0.5, gt) > 0.49


def test_dtw_matches_brute_force_on_small_case(rng):
    cost = rng.random((4, 5))
    # brute force over all monotone paths by recursion
    import functools

    @functools.lru_cache(None)
    def best(i, j):
        if i == 0 and j == 0:
            return cost[0, 0]
        return cost[i, j] + min(best(i - di, j - dj) for di, dj in ((1, 1), (1, 0), (0, 1))
                                if i - di >= 0 and j - dj >= 0)

    # SOKE's accumulated cost, per ground-truth frame
    assert np.isclose(m._dtw(cost), best(3, 4) / 5)


def test_dtw_is_at_most_mpjpe_and_still_sees_a_rushed_path(rng):
    """Equal lengths: the diagonal is one of the paths, so DTW-JPE <= MPJPE; a prediction that
    lingers and then skips every other frame keeps a cost DTW cannot warp away."""
    gt = np.linspace(0, 1, 20)[:, None, None] * np.array([1.0, 0, 0])
    late = np.concatenate([gt[:1].repeat(10, 0), gt[::2]])  # dwells, then covers the path at 2x
    assert m.dtw_jpe(late, gt) <= m.mpjpe(late, gt)
    assert m.dtw_jpe(late, gt) > 0.0


def test_velocity_and_jerk_errors_zero_for_offset_copies(rng):
    gt = np.cumsum(rng.normal(size=(30, 5, 3)), 0)
    assert m.velocity_error(gt + 1.0, gt) < 1e-12
    assert m.jerk_error(gt + 1.0, gt) < 1e-12
    assert m.velocity_error(gt * 1.1, gt) > 0
    assert m.key_adherence(gt, gt + 0.0, np.array([0, 5])) == 0.0

import numpy as np
from scipy.spatial.transform import Rotation

from core.ml.kf2p import metrics as m


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
        return cost[i, j] + min(
            best(i - di, j - dj) for di, dj in ((1, 1), (1, 0), (0, 1)) if i - di >= 0 and j - dj >= 0
        )

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


def test_timing_oracle_recovers_any_timing_along_the_key_paths():
    """Ground truth that travels SLERP's key-to-key paths at its own pace is exactly what the
    timing oracle rebuilds; plain SLERP is not."""
    from core.ml.kf2p.eval import timing_oracle

    keys = np.array([0, 5, 17])
    rk = Rotation.random(3 * 6, random_state=3).as_rotvec().reshape(3, 6, 3)
    gt = np.empty((18, 6, 3, 3))
    slerp = np.empty_like(gt)
    for (a, b), ra, rb in zip(zip(keys[:-1], keys[1:]), rk[:-1], rk[1:]):
        ka, kb = Rotation.from_rotvec(ra), Rotation.from_rotvec(rb)
        step = (ka.inv() * kb).as_rotvec()  # (6, 3) per joint, in the start pose's frame
        for f in range(a, b + 1):
            u = (f - a) / (b - a)
            for phase, out in ((u**2, gt), (u, slerp)):  # the truth starts slowly
                out[f] = (ka * Rotation.from_rotvec(phase * step)).as_matrix()
    got = timing_oracle(gt.astype(np.float32), keys)
    assert np.abs(got - gt).max() < 1e-5
    assert np.abs(slerp - gt).max() > 0.05

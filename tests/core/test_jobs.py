"""The Qt-free in-betweening service: latest request wins, cancellation, generations, spans."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.jobs import (
    MODELS,
    Cancelled,
    InbetweenRequest,
    InbetweenService,
    ModelSpec,
    available_models,
    merge_spans,
    register,
)
from core.jobs.inbetweeners import SlerpInbetweener
from core.kinematics.slerp import inbetween_baseline, smoothstep
from core.model import FrameState, Keyframe, new_sequence
from core.model.edits import set_joint_rotations


def make_seq(t: int = 60, keys=(0, 10, 20, 30, 40, 59), seed: int = 0):
    rng = np.random.default_rng(seed)
    rot = Rotation.random(t * 52, random_state=seed).as_matrix().reshape(t, 52, 3, 3)
    seq = new_sequence(rot, 25.0, rng.normal(size=(t, 3)) * 0.01, keyframes=[Keyframe(k) for k in keys])
    return seq.replace(base_states=np.full(t, FrameState.GENERATED, np.uint8))


class Collector:
    def __init__(self) -> None:
        self.results = []
        self.started = []
        self.event = threading.Event()

    def __call__(self, result) -> None:
        self.results.append(result)
        self.event.set()


@pytest.fixture
def service():
    made = []

    def factory(**kw):
        col = Collector()
        svc = InbetweenService(col, on_started=col.started.append, **kw)
        made.append(svc)
        return svc, col

    yield factory
    for s in made:
        s.close()


def test_merge_spans_grows_to_keys_and_merges_only_touching_gaps():
    seq = make_seq()
    # two edits in neighbouring gaps share the key at 20: one span; a far edit stays separate
    assert merge_spans(seq, [(12, 15), (22, 25), (45, 50)]) == [(12, 25), (45, 50)]
    assert merge_spans(seq, [(50, 55), (3, 4)]) == [(3, 4), (50, 55)]
    assert merge_spans(seq, [(5, 5), (-3, 0)]) == []


def test_result_matches_the_baseline_in_the_dirty_span_only(service):
    seq = make_seq()
    svc, col = service()
    svc.submit(InbetweenRequest(seq, ((12, 15),), generation=7, model="eased", seed=3))
    assert svc.wait_idle(10)
    (res,) = col.results
    assert res.generation == 7 and res.error is None and res.model == "eased"
    (patch,) = res.patches
    assert (patch.start, patch.stop) == (10, 21)  # grown to the enclosing keys 10 and 20
    out = res.apply(seq)
    want = inbetween_baseline(seq, smoothstep)
    np.testing.assert_allclose(out.rotations[10:21], want.rotations[10:21], atol=1e-6)
    # outside the dirty gap nothing was touched
    np.testing.assert_array_equal(out.rotations[:10], seq.rotations[:10])
    np.testing.assert_array_equal(out.rotations[21:], seq.rotations[21:])
    # keys are hit exactly
    np.testing.assert_array_equal(out.rotations[[10, 20]], seq.rotations[[10, 20]])


class GatedModel:
    """A slow multi-step in-betweener for the test: each step waits for the test's go-ahead."""

    device = "cpu"

    def __init__(self) -> None:
        self.step = threading.Semaphore(0)
        self.entered = threading.Event()
        self.spans = []
        self.cancelled = 0

    def fill_patch(self, seq, span, cancel, seed):
        self.spans.append(span)
        self.entered.set()
        for _ in range(5):
            self.step.acquire(timeout=10)
            if cancel():
                self.cancelled += 1
                raise Cancelled()
        return SlerpInbetweener().fill_patch(seq, span, cancel, seed)


def test_latest_request_wins_and_the_running_job_is_cancelled(service):
    gated = GatedModel()
    register(ModelSpec("test-gated", "gated", lambda device, **o: gated))
    try:
        seq = make_seq()
        svc, col = service()
        svc.submit(InbetweenRequest(seq, ((12, 15),), generation=1, model="test-gated"))
        assert gated.entered.wait(10)
        # two newer requests arrive while generation 1 runs: 2 is overtaken by 3 before it starts
        svc.submit(InbetweenRequest(seq, ((22, 25),), generation=2, model="test-gated"))
        svc.submit(InbetweenRequest(seq, ((32, 35),), generation=3, model="test-gated"))
        for _ in range(20):
            gated.step.release()
        assert svc.wait_idle(10)
        assert [r.generation for r in col.results] == [3]
        assert gated.cancelled == 1
        assert [r.generation for r in col.started] == [1, 3]
        assert gated.spans == [(12, 15), (32, 35)]
    finally:
        MODELS.pop("test-gated")


def test_a_failing_model_reports_one_line_and_the_service_keeps_working(service):
    class Broken:
        device = "cpu"

        def fill_patch(self, seq, span, cancel, seed):
            raise RuntimeError("weights are garbage\nsecond line")

    register(ModelSpec("test-broken", "broken", lambda device, **o: Broken()))
    try:
        seq = make_seq()
        svc, col = service()
        svc.submit(InbetweenRequest(seq, ((12, 15),), generation=1, model="test-broken"))
        assert svc.wait_idle(10)
        svc.submit(InbetweenRequest(seq, ((12, 15),), generation=2, model="slerp"))
        assert svc.wait_idle(10)
        assert col.results[0].error == "RuntimeError: weights are garbage" and not col.results[0].patches
        assert col.results[1].error is None and col.results[1].patches
    finally:
        MODELS.pop("test-broken")


def test_an_edits_cost_does_not_grow_with_the_sequence_length(service):
    """Only the gap around the edited key is handed to the model, for a short or a long sequence."""
    calls = []

    class Recording(SlerpInbetweener):
        def fill_patch(self, seq, span, cancel, seed):
            calls.append(span)
            return super().fill_patch(seq, span, cancel, seed)

    register(ModelSpec("test-rec", "rec", lambda device, **o: Recording()))
    try:
        svc, col = service()
        sizes = []
        for t in (100, 1500):
            keys = list(range(0, t, 12))
            seq = make_seq(t, keys)
            change = set_joint_rotations(seq, 36, [20], np.eye(3)[None])
            svc.submit(InbetweenRequest(change.sequence, (change.dirty,), generation=t, model="test-rec"))
            assert svc.wait_idle(10)
            res = col.results[-1]
            sizes.append(sum(p.stop - p.start for p in res.patches))
            out = res.apply(change.sequence)
            want = inbetween_baseline(change.sequence)
            np.testing.assert_allclose(out.rotations[24:49], want.rotations[24:49], atol=1e-6)
            np.testing.assert_array_equal(out.rotations[:24], change.sequence.rotations[:24])
            np.testing.assert_array_equal(out.rotations[49:], change.sequence.rotations[49:])
        assert sizes[0] == sizes[1] == 25  # keys 24 and 48 around frame 36, inclusive
        assert calls == [(25, 48), (25, 48)]  # the keys at the ends are trimmed, never regenerated
    finally:
        MODELS.pop("test-rec")


def test_registry_lists_baselines_as_usable_and_absent_models_with_a_reason():
    models = {spec.name: reason for spec, reason in available_models()}
    assert {"bundled", "official", "slerp", "eased"} <= set(models)
    assert models["slerp"] is None and models["eased"] is None
    assert models["official"]  # no checkpoint chosen: a reason to show in the menu
    for reason in models.values():
        assert reason is None or (isinstance(reason, str) and "\n" not in reason)


def test_torch_models_run_with_one_thread(service):
    torch = pytest.importorskip("torch")
    seen = []

    class ThreadCount(SlerpInbetweener):
        def fill_patch(self, seq, span, cancel, seed):
            seen.append(torch.get_num_threads())  # OpenMP's setting is per thread: read it in the worker
            return super().fill_patch(seq, span, cancel, seed)

    register(ModelSpec("test-torch", "t", lambda device, **o: ThreadCount(), uses_torch=True))
    try:
        seq = make_seq()
        svc, col = service()
        svc.submit(InbetweenRequest(seq, ((12, 15),), generation=1, model="test-torch"))
        assert svc.wait_idle(10)
        assert col.results[0].error is None
        assert seen == [1]
    finally:
        MODELS.pop("test-torch")

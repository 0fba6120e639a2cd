"""The editing model with known answers (DESIGN.md section 2): a retime warps the record, a
pose change is a correction blended into it, zero edits change nothing, edits stay local."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.jobs.requests import merge_spans
from core.model import FrameState, Keyframe, layers, new_sequence
from core.model import edits as ed
from core.model.edits_eval import locality, pure_retime, sign_keys, truth_warp, zero_edits


def smooth_seq(t: int = 160, seed: int = 0):
    """Smooth signing-like motion: every joint swings on its own slow sinusoids (0.2-1 Hz, up to
    0.5 rad: eased SLERP from keys every ~6 frames misses it by ~5 cm, as on real DGS sentences)."""
    rng = np.random.default_rng(seed)
    f = np.arange(t)[:, None, None] / 25.0
    amp = rng.uniform(0.05, 0.5, (1, 52, 3))
    freq = rng.uniform(0.2, 1.0, (1, 52, 3))
    phase = rng.uniform(0, 2 * np.pi, (1, 52, 3))
    rv = amp * np.sin(2 * np.pi * freq * f + phase)
    rot = Rotation.from_rotvec(rv.reshape(-1, 3)).as_matrix().reshape(t, 52, 3, 3)
    tr = 0.05 * np.sin(np.arange(t)[:, None] / 25.0 * np.array([1.0, 0.7, 0.4]))
    _, keys = sign_keys(t, 12)
    return new_sequence(rot, 25.0, tr, keyframes=keys)


def test_warp_times_is_monotone_hits_its_anchors_and_is_exact_on_identity():
    x = np.array([0.0, 7, 12, 20, 31])
    y = np.array([0.0, 4.5, 13, 14, 31])
    frames = np.linspace(0, 31, 2000)
    t = layers.warp_times(x, y, frames, 1.0, 1.0)
    assert np.all(np.diff(t) >= 0)
    np.testing.assert_array_equal(layers.warp_times(x, y, x), y)
    # C1: the slope just left and right of an interior anchor agrees
    for a in x[1:-1]:
        e = 1e-4
        left = (layers.warp_times(x, y, np.array([a]))[0] - layers.warp_times(x, y, np.array([a - e]))[0]) / e
        right = (layers.warp_times(x, y, np.array([a + e]))[0] - layers.warp_times(x, y, np.array([a]))[0]) / e
        assert abs(left - right) < 1e-2
    ident = layers.warp_times(x, x, np.arange(32.0), 1.0, 1.0)
    np.testing.assert_array_equal(ident, np.arange(32.0))


def test_sample_record_copies_whole_frames_and_slerps_between():
    seq = smooth_seq(40)
    rot, tr, valid = layers.sample_record(seq, np.array([3.0, 3.25, 39.0]))
    np.testing.assert_array_equal(rot[0], seq.source_rotations[3])
    np.testing.assert_array_equal(rot[2], seq.source_rotations[39])
    want = Rotation.from_matrix(seq.source_rotations[3, 7].astype(np.float64))
    want = want * Rotation.from_rotvec(
        0.25 * (want.inv() * Rotation.from_matrix(seq.source_rotations[4, 7].astype(np.float64))).as_rotvec()
    )
    np.testing.assert_allclose(rot[1, 7], want.as_matrix(), atol=1e-6)
    np.testing.assert_allclose(tr[1], 0.75 * seq.source_translation[3] + 0.25 * seq.source_translation[4], atol=1e-7)
    assert valid.all()


def test_pure_retime_matches_the_known_warp_and_beats_regenerating():
    seq = smooth_seq()
    r = pure_retime(seq)
    assert r["keys_moved"] >= 6 and r["outside_identical"]
    assert r["warp_cm"] <= 0.3
    assert r["warp_cm"] * 10 < r["regenerate_eased_cm"]


def test_truth_warp_is_monotone_and_lands_keys_on_whole_frames():
    _, keys = sign_keys(160, 12)
    kf = np.array([k.frame for k in keys])
    mapping, u = truth_warp(29, 90, (36, 47), (72, 83), kf)
    assert np.all(np.diff(u) > 0) and u[0] == 29 and u[-1] == 90
    for old, new in mapping.items():
        assert abs(u[new - 29] - old) < 1e-9
    # the slower sign takes longer, the faster one less long
    assert mapping[47] - mapping[36] > 11 * 1.15 and mapping[83] - mapping[72] < 11 * 0.9


def test_zero_edits_leave_every_frame_bit_identical():
    seq = smooth_seq()
    assert all(zero_edits(seq).values())
    k = int(seq.key_frames[4])
    own = ed.set_key_pose(seq, k, seq.rotations[k].copy())
    assert own.sequence.rotations is seq.rotations and own.sequence.offsets is seq.offsets
    # a whole sign moved and moved back, two separate edits
    sign = seq.key_frames[3:6].tolist()
    there = ed.move_keys(seq, sign, 3).sequence
    back = ed.move_keys(there, [f + 3 for f in sign], -3).sequence
    assert not np.array_equal(there.rotations, seq.rotations)
    np.testing.assert_array_equal(back.rotations, seq.rotations)
    np.testing.assert_array_equal(back.translation, seq.translation)
    assert not back.warp.any() and (back.states != FrameState.WARPED).all()


def test_a_correction_is_local_exact_and_smooth():
    seq = smooth_seq()
    r = locality(seq)
    assert r["outside_identical"] and r["key_exact"] and r["no_velocity_jump"]
    kf = seq.key_frames
    k, prev, nxt = int(kf[5]), int(kf[4]), int(kf[6])
    j = 21  # right wrist
    target = Rotation.from_euler("xyz", [30, -20, 10], degrees=True).as_matrix().astype(np.float32)
    change = ed.set_joint_rotations(seq, k, [j], target[None])
    got = change.sequence
    outside = np.ones(seq.n_frames, bool)
    outside[prev + 1 : nxt] = False
    np.testing.assert_array_equal(got.rotations[outside], seq.rotations[outside])
    np.testing.assert_array_equal(got.rotations[k, j], target)
    others = np.arange(52) != j
    np.testing.assert_array_equal(got.rotations[:, others], seq.rotations[:, others])
    # the record's detail is kept: shown = record @ the blended offset, which fades to nothing
    rel = Rotation.from_matrix(
        np.swapaxes(seq.rotations[prev + 1 : nxt, j], -1, -2).astype(np.float64)
        @ got.rotations[prev + 1 : nxt, j].astype(np.float64)
    ).magnitude()
    assert rel[0] < rel[k - prev - 1] and rel[-1] < rel[k - prev - 1]
    around = np.r_[prev + 1 : k, k + 1 : nxt]
    assert (got.states[around] == FrameState.WARPED).all() and got.states[k] == FrameState.KEY
    # nothing for the in-betweener: it is all record
    assert merge_spans(got, [change.dirty]) == []
    assert change.undo().offsets is seq.offsets or not change.undo().offsets.any()
    np.testing.assert_array_equal(change.undo().rotations, seq.rotations)


def test_corrections_compose_and_travel_with_their_keys():
    seq = smooth_seq()
    kf = seq.key_frames
    a, b = int(kf[4]), int(kf[5])
    ra = Rotation.from_euler("x", 20, degrees=True).as_matrix().astype(np.float32)
    rb = Rotation.from_euler("y", -15, degrees=True).as_matrix().astype(np.float32)
    one = ed.set_joint_rotations(seq, a, [21], ra[None]).sequence
    two = ed.set_joint_rotations(one, b, [21], rb[None]).sequence
    np.testing.assert_array_equal(two.rotations[a, 21], ra)
    np.testing.assert_array_equal(two.rotations[b, 21], rb)
    # halfway between the corrected keys both offsets blend (log space, symmetric weights)
    mid = (a + b) / 2
    if mid == int(mid):
        m = int(mid)
        oa, ob = two.offsets[a, 21].astype(np.float64), two.offsets[b, 21].astype(np.float64)
        want = seq.rotations[m, 21].astype(np.float64) @ Rotation.from_rotvec((oa + ob) / 2).as_matrix()
        np.testing.assert_allclose(two.rotations[m, 21], want, atol=1e-5)
    # move the corrected key: it keeps its pose exactly, its correction goes with it
    moved = ed.move_keys(two, [b], 2).sequence
    np.testing.assert_array_equal(moved.rotations[b + 2, 21], rb)
    np.testing.assert_array_equal(moved.offsets[b + 2], two.offsets[b])
    assert not moved.offsets[b].any()


def test_retime_keeps_the_record_and_only_lost_joints_go_to_the_in_betweener():
    seq = smooth_seq()
    valid = seq.valid.copy()
    valid[60:64, 37:] = False  # the right hand lost for four frames
    seq = seq.replace(valid=valid, source_valid=valid)
    k = int(seq.key_frames[10])
    assert 54 <= k - 5 and k + 2 < 65  # the lost frames lie between its unmoved neighbours
    change = ed.move_keys(seq, [k], 2)
    got = change.sequence
    assert not (got.states == FrameState.GENERATED).any()
    spans = merge_spans(got, [change.dirty])
    lost = np.setdiff1d(np.flatnonzero(~got.valid.all(axis=1)), got.key_frames)  # keys are pinned
    assert spans and all(any(lo <= f < hi for lo, hi in spans) for f in lost)
    # a retime elsewhere, over fully recorded frames, needs no in-betweening
    far = ed.move_keys(seq, [int(seq.key_frames[1])], 1)
    assert merge_spans(far.sequence, [far.dirty]) == []


def test_regenerate_span_is_the_only_way_to_generated_frames_besides_resize():
    seq = smooth_seq()
    for change in (
        ed.move_keys(seq, [int(seq.key_frames[3])], -2),
        ed.delete_keys(seq, [int(seq.key_frames[3])]),
        ed.insert_key(seq, 50),
        ed.scale_keys(seq, seq.key_frames[3:6].tolist(), 23, 1.2),
    ):
        assert not (change.sequence.states == FrameState.GENERATED).any()
    regen = ed.set_span_state(seq, 40, 60, FrameState.GENERATED)
    assert (regen.sequence.states[40:61] != FrameState.SOURCE).all()
    assert merge_spans(regen.sequence, [regen.dirty])
    grown = ed.resize(seq, seq.n_frames + 10).sequence
    assert (grown.states[-10:] == FrameState.GENERATED).all()


def test_insert_key_next_to_a_correction_keeps_the_pose_it_pins():
    seq = smooth_seq()
    kf = seq.key_frames
    k = int(kf[5])
    fixed = ed.set_joint_rotations(seq, k, [21], np.eye(3, dtype=np.float32)[None]).sequence
    f = k + 2
    pinned = ed.insert_key(fixed, f).sequence
    np.testing.assert_allclose(pinned.rotations[f], fixed.rotations[f], atol=1e-6)
    plain = ed.insert_key(seq, k + 2).sequence
    np.testing.assert_array_equal(plain.rotations, seq.rotations)


@pytest.mark.parametrize("minutes", [1])
def test_warp_and_correction_touch_only_their_span(minutes):
    t = int(minutes * 60 * 25)
    rot = np.broadcast_to(np.eye(3, dtype=np.float32), (t, 52, 3, 3))
    seq = new_sequence(rot, 25.0, keyframes=[Keyframe(f) for f in range(0, t, 8)])
    c = ed.move_keys(seq, [800], 3)
    assert c.dirty[1] - c.dirty[0] <= 17
    assert set(c.inverse.arrays) <= {"rotations", "translation", "labels", "warp", "valid"}
    assert all(v.shape[0] <= 17 for v in c.inverse.arrays.values())


def test_keys_moved_in_two_places_warp_only_between_their_own_neighbours():
    seq = smooth_seq()
    kf = seq.key_frames.tolist()
    a, b = kf[4], kf[9]  # with unmoved keys kf[5..8] between them
    got = ed.retime_keys(seq, {a: a + 2, b: b - 1}).sequence
    untouched = np.ones(seq.n_frames, bool)
    untouched[kf[3] + 1 : kf[5]] = False
    untouched[kf[8] + 1 : kf[10]] = False
    np.testing.assert_array_equal(got.rotations[untouched], seq.rotations[untouched])
    assert not got.warp[untouched].any() and got.warp[kf[3] + 1 : kf[5]].any()


def test_a_key_moved_to_the_first_frame_anchors_the_start():
    seq = smooth_seq()
    k = int(seq.key_frames[0])
    assert k == 0
    k1 = int(seq.key_frames[1])
    got = ed.move_keys(seq, [k1], -2).sequence
    rt = np.arange(seq.n_frames) + got.warp
    assert rt[0] == 0 and rt[k1 - 2] == k1 and np.all(np.diff(rt) >= 0)


def test_the_edit_path_imports_no_torch():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from tests.core.test_edits_layers import smooth_seq\n"
        "from core.model import edits\n"
        "from core.jobs.requests import merge_spans\n"
        "import core.model.edits_eval, core.commands.retime\n"
        "s = smooth_seq(); c = edits.move_keys(s, [int(s.key_frames[4])], 2)\n"
        "c = edits.set_joint_rotations(c.sequence, int(s.key_frames[6]), [3], np.eye(3, dtype=np.float32)[None])\n"
        "merge_spans(c.sequence, [c.dirty])\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))


def test_tracking_losses_travel_with_the_record_and_come_back():
    seq = smooth_seq()
    valid = seq.valid.copy()
    valid[60:64] = False  # the tracker saw nothing for four frames: GENERATED at import
    base = seq.base_states.copy()
    base[60:64] = FrameState.GENERATED
    seq = seq.replace(valid=valid, source_valid=valid, base_states=base)
    k = int(seq.key_frames[10])  # 59, between unmoved 54 and 65
    moved = ed.move_keys(seq, [k], -3).sequence
    rt = np.arange(seq.n_frames) + moved.warp
    # frames now showing the lost moments are the generated ones (the key pins its own pose)
    lost = (np.floor(rt) >= 60) & (np.floor(rt) <= 63) | ((np.ceil(rt) >= 60) & (np.ceil(rt) <= 63))
    lost[moved.key_frames] = False
    np.testing.assert_array_equal(moved.states == FrameState.GENERATED, lost)
    assert (moved.states[:54] != FrameState.GENERATED).all()
    back = ed.move_keys(moved, [k - 3], 3).sequence
    np.testing.assert_array_equal(back.base_states, seq.base_states)
    # "keep recording" over a loss keeps it generated: there is nothing to show
    kept = ed.set_span_state(seq, 55, 64, FrameState.SOURCE).sequence
    assert (kept.states[60:64] == FrameState.GENERATED).all()


def test_a_fresh_sequence_given_new_validity_takes_it_as_the_records_too():
    seq = smooth_seq()
    valid = seq.valid.copy()
    valid[60:64, 37:] = False
    lost = seq.replace(valid=valid)
    np.testing.assert_array_equal(lost.source_valid, valid)
    moved = ed.move_keys(lost, [int(seq.key_frames[10])], 2).sequence
    assert not moved.valid[60:66, 37:].all()  # the losses were re-sampled, not forgotten

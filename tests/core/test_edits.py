import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.model import FrameState, Keyframe, KeyKind, Label, Segment, new_sequence
from core.model import edits as ed
from core.model.sequence import SequenceError, keyframes_from_segments, labels_from_segments, segments_from_labels


def make_seq(t=60, seed=0):
    rot = Rotation.random(t * 52, random_state=seed).as_matrix().reshape(t, 52, 3, 3)
    labels = np.zeros(t, np.uint8)
    labels[10:20] = Label.I
    labels[10] = Label.B
    labels[30:45] = Label.I
    labels[30] = Label.B
    keys = [
        Keyframe(10, KeyKind.ONSET),
        Keyframe(15, KeyKind.MID),
        Keyframe(19, KeyKind.OFFSET),
        Keyframe(30, KeyKind.ONSET),
        Keyframe(37, KeyKind.MID),
        Keyframe(44, KeyKind.OFFSET),
    ]
    tr = np.random.default_rng(seed).normal(size=(t, 3))
    return new_sequence(
        rot,
        25.0,
        tr,
        labels=labels,
        keyframes=keys,
        glosses=[Segment(10, 19, "HELLO"), Segment(30, 44, "WORLD")],
        extra_frames={"jaw": np.zeros((t, 3))},
    )


def same(a, b):
    fa, fb = a.frame_arrays(), b.frame_arrays()
    return (
        fa.keys() == fb.keys()
        and all(np.array_equal(fa[k], fb[k]) for k in fa)
        and a.keyframes == b.keyframes
        and a.glosses == b.glosses
    )


EDITS = {
    "move": lambda s: ed.move_keys(s, [15], 2),
    "move_sign": lambda s: ed.move_keys(s, [30, 37, 44], -4),
    "scale": lambda s: ed.scale_keys(s, [30, 37, 44], pivot=30, factor=0.5),
    "set_joint": lambda s: ed.set_joint_rotations(s, 37, [45, 46], Rotation.random(2, random_state=1).as_matrix()),
    "reset": lambda s: ed.reset_joints(s, 19, [40, 41, 42]),
    "insert": lambda s: ed.insert_key(s, 25),
    "insert_pose": lambda s: ed.insert_key(s, 25, pose=Rotation.random(52, random_state=2).as_matrix()),
    "delete": lambda s: ed.delete_keys(s, [15, 37]),
    "insert_frames": lambda s: ed.insert_frames(s, 25, 5),
    "delete_frames": lambda s: ed.delete_frames(s, 20, 27),
    "kind": lambda s: ed.set_key_kind(s, 15, KeyKind.USER),
    "regenerate": lambda s: ed.set_span_state(s, 20, 29, FrameState.GENERATED),
    "grow": lambda s: ed.resize(s, 80),
    "shrink": lambda s: ed.resize(s, 40),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_every_edit_is_invertible(name):
    seq = make_seq()
    change = EDITS[name](seq)
    assert not same(change.sequence, seq)
    back = change.undo()
    assert same(back, seq)
    # and redoing via the inverse of the inverse gives the edited sequence again
    redo = ed.apply_patch(back, ed.apply_patch(change.sequence, change.inverse).inverse)
    assert same(redo.sequence, change.sequence)


def test_move_key_carries_pose_and_warps_the_record_between_neighbours():
    seq = make_seq()
    c = ed.move_keys(seq, [15], 3)
    s = c.sequence
    assert s.key_frames.tolist() == [10, 18, 19, 30, 37, 44]
    assert np.array_equal(s.rotations[18], seq.rotations[15])
    st = s.states
    # the recording is kept, re-timed: record-derived (WARPED), never GENERATED
    assert (st[11:18] == FrameState.WARPED).all() and st[18] == FrameState.KEY
    assert (st[:10] == FrameState.SOURCE).all() and (st[20:30] == FrameState.SOURCE).all()
    assert np.array_equal(s.rotations[:11], seq.rotations[:11])
    assert np.array_equal(s.rotations[19:], seq.rotations[19:])
    # frames 11..17 show the record at times between 10 and 15, monotonically
    rt = np.arange(60) + s.warp
    assert np.all(np.diff(rt[10:19]) > 0) and rt[10] == 10 and rt[18] == 15 and rt[19] == 19
    assert c.dirty == (10, 20)
    assert s.key_at(18).kind == KeyKind.MID


def test_move_sign_warps_labels_and_glosses_with_it():
    seq = make_seq()
    s = ed.move_keys(seq, [30, 37, 44], -4).sequence
    segs = segments_from_labels(s.labels)
    assert [(g.start, g.end) for g in segs] == [(10, 19), (26, 40)]
    assert s.glosses[1] == Segment(26, 40, "WORLD")


def test_illegal_moves_are_refused():
    seq = make_seq()
    with pytest.raises(ed.EditError, match="another key"):
        ed.move_keys(seq, [15], 4)
    with pytest.raises(ed.EditError, match="pass"):
        ed.move_keys(seq, [15], 10)
    with pytest.raises(ed.EditError, match="leave"):
        ed.move_keys(seq, [44], 100)
    with pytest.raises(ed.EditError, match="no keyframe"):
        ed.move_keys(seq, [16], 1)


def test_set_joint_rejects_non_rotations():
    seq = make_seq()
    with pytest.raises(ed.EditError, match="rotation"):
        ed.set_joint_rotations(seq, 15, [3], np.full((1, 3, 3), np.nan))
    with pytest.raises(ed.EditError, match="no keyframe"):
        ed.set_joint_rotations(seq, 16, [3], np.eye(3)[None])


def test_keep_recording_brings_the_record_back_into_a_regenerated_span():
    seq = make_seq()
    moved = ed.move_keys(seq, [15], 2).sequence
    regen = ed.set_span_state(moved, 11, 18, FrameState.GENERATED).sequence
    gen = regen.with_generated(0, np.broadcast_to(np.eye(3, dtype=np.float32), regen.rotations.shape).copy())
    assert np.allclose(gen.rotations[12], np.eye(3))
    kept = ed.set_span_state(gen, 11, 16, FrameState.SOURCE).sequence
    # the re-timed record comes back, exactly as the retime had it
    assert np.array_equal(kept.rotations[11:17], moved.rotations[11:17])
    assert (kept.states[11:17] == FrameState.WARPED).all()
    assert np.allclose(kept.rotations[18], np.eye(3))  # still generated, outside the span
    plain = ed.set_span_state(
        ed.set_span_state(seq, 20, 29, FrameState.GENERATED).sequence, 20, 29, FrameState.SOURCE
    ).sequence
    assert np.array_equal(plain.rotations, seq.rotations) and (plain.states[20:30] == FrameState.SOURCE).all()


def test_with_generated_never_touches_observed_frames():
    seq = ed.set_span_state(make_seq(), 20, 29, FrameState.GENERATED).sequence
    out = seq.with_generated(0, np.broadcast_to(np.eye(3, dtype=np.float32), seq.rotations.shape).copy())
    gen = seq.states == FrameState.GENERATED
    assert np.allclose(out.rotations[gen], np.eye(3))
    assert np.array_equal(out.rotations[~gen], seq.rotations[~gen])


def test_with_generated_many_equals_one_patch_at_a_time():
    seq = ed.set_span_state(make_seq(), 10, 49, FrameState.GENERATED).sequence
    rng = np.random.default_rng(3)
    patches = [
        (
            5,
            Rotation.random(10 * 52, random_state=1).as_matrix().reshape(10, 52, 3, 3).astype(np.float32),
            rng.normal(size=(10, 3)).astype(np.float32),
        ),
        (30, Rotation.random(15 * 52, random_state=2).as_matrix().reshape(15, 52, 3, 3).astype(np.float32), None),
    ]
    one = seq
    for start, r, t in patches:
        one = one.with_generated(start, r, t)
    many = seq.with_generated_many(patches)
    assert np.array_equal(many.rotations, one.rotations) and np.array_equal(many.translation, one.translation)
    assert not np.array_equal(many.rotations[10:15], seq.rotations[10:15])  # generated frames written
    assert np.array_equal(many.rotations[5:10], seq.rotations[5:10])  # observed ones kept
    assert np.array_equal(seq.rotations, make_seq().rotations)  # the input is untouched


def test_sequence_is_immutable_and_validated():
    seq = make_seq()
    with pytest.raises(ValueError):
        seq.rotations[0, 0, 0, 0] = 2.0
    with pytest.raises(SequenceError, match="NaN"):
        bad = seq.rotations.copy()
        bad[3, 3, 0, 0] = np.nan
        seq.replace(rotations=bad)
    with pytest.raises(SequenceError, match="two keyframes"):
        seq.replace(keyframes=seq.keyframes + (Keyframe(10),))


def test_segments_and_keyframe_policy():
    lab = np.array([0, 2, 1, 1, 0, 0, 1, 1, 2, 2, 1, 0, 2], np.uint8)
    segs = segments_from_labels(lab)
    assert [(s.start, s.end) for s in segs] == [(1, 3), (6, 7), (8, 10), (12, 12)]
    keys = keyframes_from_segments(segs[:1])
    assert [(k.frame, k.kind) for k in keys] == [(1, KeyKind.ONSET), (2, KeyKind.MID), (3, KeyKind.OFFSET)]
    assert np.array_equal(segments_from_labels(labels_from_segments(segs, len(lab))), segs)

"""Versions of a sequence share what an edit leaves alone, and stay immutable and exact."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from core.model import FrameState, KeyKind
from core.model import edits as ed
from core.model.sequence import SequenceError
from tests.core.test_edits import EDITS, make_seq, same


def test_an_edit_shares_the_channels_it_does_not_change():
    seq = make_seq()
    before = {k: v.copy() for k, v in seq.frame_arrays().items()}
    new = ed.move_keys(seq, [15], 2).sequence
    assert new.source_rotations is seq.source_rotations and new.valid is seq.valid
    assert new.extra_frames["jaw"] is seq.extra_frames["jaw"]
    assert new.rotations is not seq.rotations and not new.rotations.flags.writeable
    # the old version is untouched
    assert all(np.array_equal(v, before[k]) for k, v in seq.frame_arrays().items())


def test_inverse_patches_carry_changed_and_generated_channels_only():
    seq = make_seq()
    kind = ed.set_key_kind(seq, 15, KeyKind.USER)
    assert set(kind.inverse.arrays) == {"rotations", "translation"}
    move = ed.move_keys(seq, [15], 2)
    # a retime re-samples the record: the shown motion, labels and the warp layer change
    assert set(move.inverse.arrays) == {"rotations", "translation", "labels", "warp"}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_undo_is_exact_after_frames_were_generated(name):
    seq = make_seq()
    change = EDITS[name](seq)
    out = change.sequence
    junk = np.broadcast_to(np.eye(3, dtype=np.float32), out.rotations.shape).copy()
    generated = out.with_generated(0, junk, np.ones((out.n_frames, 3), np.float32))
    back = ed.apply_patch(generated, change.inverse).sequence
    keep = back.states != FrameState.GENERATED  # generated frames are derived data, redone anyway
    assert same(
        back.replace(
            rotations=np.where(keep[:, None, None, None], back.rotations, seq.rotations),
            translation=np.where(keep[:, None], back.translation, seq.translation),
        ),
        seq,
    )
    assert np.array_equal(back.rotations[keep], seq.rotations[keep])


def test_a_partial_patch_keeps_the_length_and_shares_the_rest():
    seq = make_seq()
    labels = np.full(5, 2, np.uint8)
    change = ed.apply_patch(seq, ed.Patch(20, 5, {"labels": labels}, seq.keyframes, seq.glosses))
    out = change.sequence
    assert np.array_equal(out.labels[20:25], labels) and out.rotations is seq.rotations
    assert set(change.inverse.arrays) == {"labels"}
    assert same(change.undo(), seq)


def test_bad_patches_are_refused_with_the_reason():
    seq = make_seq()
    with pytest.raises(ed.EditError, match="channels"):  # a length change needs every channel
        ed.apply_patch(seq, ed.Patch(20, 5, {"labels": np.zeros(2, np.uint8)}, seq.keyframes, seq.glosses))
    with pytest.raises(ed.EditError, match="translation has shape"):  # would broadcast silently
        ed.apply_patch(seq, ed.Patch(20, 5, {"translation": np.zeros((5, 1), np.float32)}, seq.keyframes, seq.glosses))
    bad = seq.rotations[20:25].copy()
    bad[1, 3, 0, 0] = np.nan
    with pytest.raises(ed.EditError, match="NaN"):
        ed.apply_patch(seq, ed.Patch(20, 5, {"rotations": bad}, seq.keyframes, seq.glosses))


def test_writable_input_is_copied_and_read_only_input_is_still_checked():
    seq = make_seq()
    mine = seq.rotations.copy()
    new = seq.replace(rotations=mine)
    mine[0] = 0.0  # the caller still holds a writable array: the sequence must not see this
    assert np.array_equal(new.rotations, seq.rotations)
    view = mine[:]
    view.setflags(write=False)  # read-only, but its base is writable: copied as well
    assert seq.replace(rotations=view).rotations is not view
    bad = seq.rotations.copy()
    bad[3, 3, 0, 0] = np.inf
    bad.setflags(write=False)
    with pytest.raises(SequenceError, match="NaN or infinite"):
        seq.replace(rotations=bad)


def test_generated_output_with_nan_is_refused():
    seq = ed.set_span_state(make_seq(), 20, 29, FrameState.GENERATED).sequence
    rot = Rotation.random(10 * 52, random_state=4).as_matrix().reshape(10, 52, 3, 3).astype(np.float32)
    rot[5, 0, 0, 0] = np.nan
    with pytest.raises(SequenceError, match="NaN"):
        seq.with_generated(20, rot)
    ok = seq.with_generated(20, np.nan_to_num(rot))
    assert ok.source_rotations is seq.source_rotations

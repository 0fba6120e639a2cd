"""Project files store the editing layers (warp, correction offsets, record validity), sparsely,
and files written before the layers existed (version 1) still open."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from scipy.spatial.transform import Rotation

from core.io import project
from core.model import FrameState
from core.model import edits as ed
from tests.core.test_edits import make_seq, same


def layered():
    seq = make_seq()
    seq = ed.move_keys(seq, [15], 2).sequence
    seq = ed.set_joint_rotations(seq, 37, [45, 46], Rotation.random(2, random_state=1).as_matrix()).sequence
    valid = seq.valid.copy()
    valid[50:53, 40:] = False
    return seq.replace(valid=valid, source_valid=valid)


def test_layers_round_trip_exactly_and_sparsely(tmp_path):
    seq = layered()
    assert seq.warp.any() and seq.offsets.any()
    path = tmp_path / "l.signframe"
    project.write(path, seq)
    back = project.read(path)
    assert same(back, seq)
    np.testing.assert_array_equal(back.states, seq.states)
    assert (back.states == FrameState.WARPED).any()
    with zipfile.ZipFile(path) as z:
        doc = json.loads(z.read("project.json"))
        npz = np.load(io.BytesIO(z.read("frames.npz")), allow_pickle=False)
        offsets = doc["arrays"]["offsets"]
        assert doc["version"] == 2 and offsets["sparse"]
        assert npz[offsets["frames"]].tolist() == [37]  # one corrected key: one stored frame
        assert doc["arrays"]["source_valid"]["diff_of"] == "valid"


def _as_version_1(path, out):
    """Rewrite a project the way version 1 wrote it: no layer arrays in the manifest."""
    with zipfile.ZipFile(path) as z:
        doc = json.loads(z.read("project.json"))
        frames = z.read("frames.npz")
    doc["version"] = 1
    for name in ("warp", "offsets", "source_valid"):
        doc["arrays"].pop(name)
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("project.json", json.dumps(doc))
        z.writestr("frames.npz", frames)


def test_a_version_1_project_opens_with_no_layers(tmp_path):
    seq = make_seq()
    project.write(tmp_path / "new.signframe", seq)
    _as_version_1(tmp_path / "new.signframe", tmp_path / "old.signframe")
    back = project.read(tmp_path / "old.signframe")
    assert same(back, seq)
    assert not back.warp.any() and not back.offsets.any()
    np.testing.assert_array_equal(back.source_valid, back.valid)
    # and it edits like any document: a retime warps its record
    moved = ed.move_keys(back, [15], 2).sequence
    assert (moved.states[11:17] == FrameState.WARPED).all()

"""The .signframe project file: lossless, versioned, no pickle, atomic."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from core.io import FormatError, project, registry
from core.model.skeleton import Skeleton
from core.model.template import TEMPLATE
from tests.core.helpers_io import assert_same_sequence, edited_sequence, random_sequence


@pytest.mark.parametrize("compress", [False, True])
def test_edited_document_round_trips_exactly(tmp_path, compress):
    seq = edited_sequence()
    editor = {"playhead": 12, "selection": [3, 7], "seed": 1234, "view": {"camera": [0.1, 2.0, 3.5]}}
    path = tmp_path / "doc.signframe"
    project.write(path, seq, editor, compress=compress)
    back, ed = project.read_project(path)
    assert_same_sequence(back, seq)
    assert ed == editor
    assert back.skeleton is TEMPLATE
    np.testing.assert_array_equal(back.states, seq.states)
    assert registry.read(path).n_frames == seq.n_frames


def test_custom_skeleton_and_no_keys_round_trip(tmp_path):
    base = random_sequence(8, seed=3, extras=False)
    offsets = TEMPLATE.offsets * 1.1
    sk = Skeleton(TEMPLATE.names, TEMPLATE.parents, offsets, TEMPLATE.tips * 1.1)
    seq = base.replace(skeleton=sk)
    project.write(tmp_path / "s.signframe", seq)
    back = project.read(tmp_path / "s.signframe")
    assert_same_sequence(back, seq)
    assert back.skeleton is not TEMPLATE


def test_archive_is_json_plus_pickle_free_npz(tmp_path):
    seq = edited_sequence()
    path = tmp_path / "doc.signframe"
    project.write(path, seq, {"x": 1})
    with zipfile.ZipFile(path) as z:
        assert set(z.namelist()) == {"project.json", "frames.npz"}
        doc = json.loads(z.read("project.json"))
        with z.open("frames.npz") as f:
            npz = np.load(f, allow_pickle=False)
            assert all(npz[k].dtype.kind != "O" for k in npz.files)
    assert doc["format"] == "signframe-project" and isinstance(doc["version"], int)
    assert doc["fps"] == seq.fps and doc["text"] == seq.text and doc["language"] == seq.language
    assert doc["keyframes"][0] == {"frame": 3, "kind": "onset"}
    assert doc["glosses"][0] == {"start": 3, "end": 11, "gloss": "HELLO"}
    assert doc["skeleton"]["names"] == list(TEMPLATE.names)
    assert doc["editor"] == {"x": 1}
    assert set(doc["arrays"]) == set(seq.frame_arrays())
    # source motion is stored only where it differs from the shown motion (frames 10..19)
    assert doc["arrays"]["source_rotations"]["diff_of"] == "rotations"


def test_newer_version_is_refused_clearly(tmp_path):
    path = tmp_path / "new.signframe"
    project.write(path, random_sequence(5, seed=1))
    with zipfile.ZipFile(path) as z:
        doc = json.loads(z.read("project.json"))
        frames = z.read("frames.npz")
    doc["version"] = project.VERSION + 1
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.json", json.dumps(doc))
        z.writestr("frames.npz", frames)
    with pytest.raises(FormatError, match=r"new\.signframe.*newer Signframe"):
        project.read(path)


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "keep.signframe"
    seq = random_sequence(5, seed=1)
    project.write(path, seq)
    before = path.read_bytes()
    bad = seq.replace(meta={"not_json": {1, 2}})
    with pytest.raises(FormatError, match="keep.signframe"):
        project.write(path, bad)
    with pytest.raises(FormatError):
        project.write(path, seq, {"nan": float("nan")})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.signframe"]


def test_meta_with_numpy_values_is_stored_as_json(tmp_path):
    seq = random_sequence(5, seed=1).replace(meta={"betas": np.arange(3.0), "n": np.int64(4)})
    project.write(tmp_path / "m.signframe", seq)
    assert dict(project.read(tmp_path / "m.signframe").meta) == {"betas": [0.0, 1.0, 2.0], "n": 4}

"""``python -m core retime IN --map OLD:NEW --out OUT``: the editor's retime, in batch."""

from __future__ import annotations

import json

import numpy as np

from core.cli import main
from core.io import project
from core.model import FrameState
from tests.core.test_edits_layers import smooth_seq


def test_retime_moves_keys_warps_between_and_keeps_the_rest(tmp_path, capsys):
    seq = smooth_seq().replace(keyframes=())  # a plain recording: OLD frames become keys
    src, out = tmp_path / "in.signframe", tmp_path / "out.signframe"
    project.write(src, seq)
    assert main(["retime", str(src), "--map", "40:46,100:97", "--out", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    got = project.read(out)
    assert got.key_frames.tolist() == [46, 97]
    np.testing.assert_array_equal(got.rotations[46], seq.rotations[40])
    np.testing.assert_array_equal(got.rotations[97], seq.rotations[100])
    rt = np.arange(seq.n_frames) + got.warp
    assert np.all(np.diff(rt) > 0) and rt[0] == 0 and rt[-1] == seq.n_frames - 1
    shifted = got.warp != 0
    shifted[got.key_frames] = False
    assert shifted.sum() > 50 and (got.states[shifted] == FrameState.WARPED).all()
    assert info["warped_frames"] > 0 and info["generated_frames"] == 0


def test_retime_refuses_bad_maps_with_one_line(tmp_path, capsys):
    src = tmp_path / "in.signframe"
    project.write(src, smooth_seq())
    for bad in ("40", "40:x", "40:9999", "5:7,5:8"):
        assert main(["retime", str(src), "--map", bad, "--out", str(tmp_path / "o.signframe")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o.signframe").exists()

"""``python -m core eval edits DIR --json`` on synthetic files (the real-data run is validation)."""

from __future__ import annotations

import json

from core.cli import main
from core.io import project
from tests.core.test_edits_layers import smooth_seq


def test_eval_edits_reports_the_known_answer_checks(tmp_path, capsys):
    for seed in (0, 1):
        project.write(tmp_path / f"s{seed}.signframe", smooth_seq(seed=seed).replace(keyframes=()))
    project.write(tmp_path / "short.signframe", smooth_seq(30))
    assert main(["eval", "edits", str(tmp_path), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["files"] == 2 and [s["file"] for s in r["skipped"]] == ["short.signframe"]
    pr = r["pure_retime"]
    assert pr["meets_target"] and pr["warp_mean_cm"] <= 0.3 < pr["regenerate_eased_mean_cm"]
    assert r["zero_edits_bit_identical"]
    assert r["locality"]["outside_identical"] and r["locality"]["key_exact"]
    for f in r["per_file"]:
        assert f["retime"]["outside_identical"] and f["retime"]["keys_moved"] >= 6


def test_eval_edits_on_a_missing_folder_is_one_line(tmp_path, capsys):
    assert main(["eval", "edits", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.count("\n") == 1

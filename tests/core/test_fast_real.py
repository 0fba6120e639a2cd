"""FAST judged on real recordings without frame labels (``core.ml.fast.real``): segments per gloss,
isolated signs found as one sign, rest frames labelled O, halves, the decoding sweep, the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.ml.fast import real as F
from core.ml.segmentation import DecodeOptions

ROOT = Path(__file__).resolve().parents[2]


def probs_from(labels: str) -> np.ndarray:
    """'OOBIIIO...' -> (T, 3) confident probabilities of those labels."""
    p = np.full((len(labels), 3), 0.05)
    for i, c in enumerate(labels):
        p[i, "OIB".index(c)] = 0.9
    return p


def test_score_counts_segments_per_gloss_isolated_signs_and_rest_frames():
    sentence = F.RealClip("s.pose", 30, 25.0, ["A", "B", "C"], probs_from("OOBIIIOOBIIIIOOBIIIOOOOBIIIIOO"))
    one = F.RealClip("one.pose", 20, 25.0, None, probs_from("OOOBIIIIIIIIIIIIOOOO"))
    split = F.RealClip("split.pose", 20, 25.0, None, probs_from("BIIIIOOOBIIIIIOOIIII"))
    long_ = F.RealClip("long.pose", 150, 25.0, None, probs_from("O" * 10 + "BIIIIIIII" * 10 + "O" * 50))
    res = F.score([sentence, one, split, long_], DecodeOptions(min_length=3, merge_gap=2))
    assert res["sentences"]["per_file"]["s.pose"] == {"segments": 4, "glosses": 3, "ratio": 1.333}
    assert res["sentences"]["pooled_ratio"] == pytest.approx(4 / 3, abs=1e-4)
    assert res["sentences"]["share_in_0.85_1.15"] == 0.0
    assert res["isolated"]["clips"] == 2  # the 6 s clip is not an isolated sign
    assert res["isolated"]["exactly_one"] == 0.5 and res["isolated"]["mean_found"] == 2.0
    assert res["longer_clips"]["clips"] == 1
    # rest frames: 'split' starts inside a sign and ends in one
    assert res["boundary"]["start_O"] == 0.75 and res["boundary"]["end_O"] == 0.75


def test_merge_gap_joins_a_fragmented_isolated_sign():
    clip = F.RealClip("x.pose", 30, 25.0, None, probs_from("OOBIIIIOOOIIIIIOOOIIIIIIIOOOOO"))
    assert F.score([clip], DecodeOptions(merge_gap=2))["isolated"]["exactly_one"] == 0.0
    assert F.score([clip], DecodeOptions(merge_gap=5))["isolated"]["exactly_one"] == 1.0
    rows = F.sweep([clip], DecodeOptions(), sensitivities=(0.5,), min_lengths=(3,), merge_gaps=(2, 5))
    assert [r["isolated"]["exactly_one"] for r in rows] == [0.0, 1.0]


def test_pose_files_halves_and_gloss_index(tmp_path):
    for i in range(5):
        (tmp_path / f"c{i}.pose").write_bytes(b"")
    (tmp_path / "index.json").write_text(json.dumps({"c1.pose": {"glosses": ["A", "B"]}, "c2.pose": {"text": "x"}}))
    assert [p.name for p in F.pose_files(tmp_path, "even")] == ["c0.pose", "c2.pose", "c4.pose"]
    assert [p.name for p in F.pose_files(tmp_path, "odd")] == ["c1.pose", "c3.pose"]
    assert F.gloss_index(tmp_path) == {"c1.pose": ["A", "B"]}
    assert F.is_real_folder(tmp_path) and not F.is_real_folder(tmp_path / "index.json")


def test_eval_fast_on_a_folder_of_real_pose_files(tmp_path):
    d = tmp_path / "real"
    d.mkdir()
    files = sorted((ROOT / "assets" / "samples").glob("*.pose"))
    for f in files:
        shutil.copy(f, d / f.name)
    (d / "index.json").write_text(json.dumps({files[0].name: {"glosses": ["Y"]}}))
    out = subprocess.run(
        [sys.executable, "-m", "core", "eval", "fast", str(d), "--json", "--decode-sweep", "--merge-gap", "4"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["files"] == len(files) and res["decode"]["merge_gap"] == 4
    assert res["sentences"]["files"] == 1 and res["isolated"]["clips"] == len(files) - 1
    assert len(res["sweep"]) == len(F.SWEEP_SENSITIVITY) * len(F.SWEEP_MIN_LENGTH) * len(F.SWEEP_MERGE_GAP)
    text = subprocess.run(
        [sys.executable, "-m", "core", "eval", "fast", str(d)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert text.returncode == 0 and "segments / glosses" in text.stdout

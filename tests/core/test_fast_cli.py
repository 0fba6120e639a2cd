"""The FAST command line: segment, eval, bench, train (on a tiny model trained here)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.cli import main
from core.io import eaf, registry
from core.ml.fast.net import FastConfig
from core.ml.fast.train import TrainConfig, synthetic_sample, synthetic_samples, train

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("fast")
    cfg = TrainConfig(
        epochs=1,
        steps_per_epoch=8,
        batch_size=8,
        crop_min=48,
        crop_max=96,
        model=FastConfig(width=32, layers=1, heads=2),
    )
    train(synthetic_samples(12, seed=0), synthetic_samples(3, seed=1), out, cfg, progress=False, log=lambda _: None)
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(7)
    for i in range(3):
        seq, _ = synthetic_sample(rng, n_signs=5)
        registry.write(d / f"clip{i}.signframe", seq)
    (d / "notes.txt").write_text("not a sequence")
    return d


def test_segment_prints_the_design_json_layout(model_dir, clips, capsys):
    assert main(["segment", str(clips / "clip0.signframe"), "--model", str(model_dir)]) == 0
    out = json.loads(capsys.readouterr().out)
    seq = registry.read(clips / "clip0.signframe")
    assert out["fps"] == 25.0 and out["frames"] == seq.n_frames == len(out["labels"])
    assert set(out["labels"]) <= {0, 1, 2}
    for s in out["segments"]:
        assert set(s) == {"start", "end", "gloss"} and 0 <= s["start"] <= s["end"] < seq.n_frames
        assert out["labels"][s["start"]] == 2
    kinds = {k["kind"] for k in out["keyframes"]}
    assert kinds <= {"onset", "mid", "offset"}
    if out["segments"]:
        assert {"onset", "offset"} <= kinds
        assert out["keyframes"][0]["frame"] == out["segments"][0]["start"]


def test_segment_to_json_and_eaf_files_agree(model_dir, clips, tmp_path):
    src = str(clips / "clip1.signframe")
    assert main(["segment", src, "--model", str(model_dir), "--out", str(tmp_path / "a.json")]) == 0
    assert main(["segment", src, "--model", str(model_dir), "--out", str(tmp_path / "a.eaf")]) == 0
    js = json.loads((tmp_path / "a.json").read_text())
    segs = eaf.read_segments(tmp_path / "a.eaf")
    assert [(s.start, s.end) for s in segs] == [(s["start"], s["end"]) for s in js["segments"]]


def test_sensitivity_changes_the_number_of_signs_monotonically(model_dir, clips, capsys):
    counts = []
    for s in ("0.05", "0.5", "1.0"):
        assert (
            main(
                [
                    "segment",
                    str(clips / "clip2.signframe"),
                    "--model",
                    str(model_dir),
                    "--sensitivity",
                    s,
                    "--merge-gap",
                    "0",
                    "--min-length",
                    "1",
                ]
            )
            == 0
        )
        counts.append(len(json.loads(capsys.readouterr().out)["segments"]))
    assert counts == sorted(counts)


def test_segment_a_folder_writes_one_file_each(model_dir, clips, tmp_path, capsys):
    assert main(["segment", str(clips), "--model", str(model_dir), "--out", str(tmp_path / "o")]) == 0
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert names == [f"clip{i}.signframe.fast.json" for i in range(3)]


def test_official_policy_uses_the_files_labels(clips, capsys):
    assert main(["segment", str(clips / "clip0.signframe"), "--policy", "official"]) == 0
    out = json.loads(capsys.readouterr().out)
    seq = registry.read(clips / "clip0.signframe")
    nz = np.flatnonzero(seq.labels > 0)
    assert out["keyframes"][0]["frame"] == nz[0] and out["keyframes"][-1]["frame"] == nz[-1]


def test_bad_input_is_one_line_and_exit_2(model_dir, clips, tmp_path, capsys):
    assert main(["segment", str(tmp_path / "missing.pose"), "--model", str(model_dir)]) == 2
    assert main(["segment", str(clips / "clip0.signframe"), "--model", str(model_dir), "--sensitivity", "3"]) == 2
    assert main(["segment", str(clips / "clip0.signframe"), "--model", str(tmp_path)]) == 2
    assert (
        main(["segment", str(clips / "clip0.signframe"), "--model", str(model_dir), "--out", str(tmp_path / "x.txt")])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and all(line.startswith("error: ") for line in err)


def test_eval_fast_json(model_dir, clips, capsys):
    assert main(["eval", "fast", str(clips), "--model", str(model_dir), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["sequences"] == 3
    for k in ("frame_f1", "iou", "segment_ratio", "boundary_f1"):
        assert 0.0 <= res["fast"][k] <= 10.0 and k in res["baseline"]


def test_bench_fast_json(model_dir, capsys):
    assert main(["bench", "fast", "--model", str(model_dir), "--minutes", "0.2", "--repeat", "1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["frames"] == 300 and res["frames_per_second"] > 0


def test_train_fast_synthetic_smoke(tmp_path, capsys):
    out = tmp_path / "m"
    assert (
        main(
            [
                "train",
                "fast",
                "--synthetic",
                "8",
                "--out",
                str(out),
                "--epochs",
                "1",
                "--steps-per-epoch",
                "2",
                "--batch-size",
                "4",
                "--width",
                "16",
                "--layers",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    assert (out / "fast.pt").is_file() and (out / "metrics.json").is_file()
    cfg = json.loads((out / "config.json").read_text())
    assert "baseline_threshold" in cfg["meta"]
    assert main(["train", "fast", "--out", str(out)]) == 2

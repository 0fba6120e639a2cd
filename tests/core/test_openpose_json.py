"""OpenPose JSON keypoints (one file per frame): the clip read whole, lifted from 2-D, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.io import registry
from core.io.errors import FormatError
from core.io.openpose_json import write_frames
from core.io.pose_file import read_landmarks
from core.kinematics.ik import landmarks_to_sequence
from core.kinematics.import_eval import flatten_depth, front_counts
from core.model.sequence import FrameState
from core.model.skeleton import LEFT_HAND, RIGHT_HAND

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "assets" / "samples").glob("*.pose"))


@pytest.fixture(scope="module")
def sample():
    return read_landmarks(SAMPLES[-1])


@pytest.fixture
def clip(tmp_path, sample) -> list[Path]:
    files = write_frames(tmp_path, "signer_a", sample)
    write_frames(tmp_path, "signer_b", sample.slice(0, 5))  # another clip in the same folder
    return files


def test_any_frame_file_reads_its_whole_clip(clip, sample):
    seq = registry.read(clip[7])
    assert seq.n_frames == sample.n_frames and seq.fps == 25.0
    assert seq.meta["source_format"] == "openpose_json" and seq.meta["fps_assumed"]
    assert seq.meta["depth"]["body"]["kind"] == "2d" and set(seq.meta["lifted"]) >= {"body", "hands"}
    raised, front = front_counts(seq)
    assert raised > 0 and front / raised >= 0.95


def test_same_motion_as_the_same_landmarks_without_depth(clip, sample):
    """Arms and hands match the .pose reader on the same 2-D points (the head differs: OpenPose
    has no forehead point)."""
    ours = registry.read(clip[0])
    ref = landmarks_to_sequence(flatten_depth(sample, drop=True))
    joints = [ours.skeleton.index(f"{s}_{j}") for s in ("left", "right") for j in ("shoulder", "elbow", "wrist")]
    joints += list(range(LEFT_HAND.start, RIGHT_HAND.stop))
    assert np.allclose(ours.rotations[:, joints], ref.rotations[:, joints], atol=1e-4)


def test_frames_with_nobody_become_generated(clip):
    for i in (3, 4):
        clip[i].write_text(json.dumps({"version": 1.3, "people": []}))
    seq = registry.read(clip[0])
    assert (seq.base_states[[3, 4]] == FrameState.GENERATED).all()
    assert (np.delete(seq.base_states, [3, 4]) == FrameState.SOURCE).all()
    assert np.isfinite(seq.rotations).all()


def test_coco18_bodies_are_read_by_their_length(tmp_path, sample):
    files = write_frames(tmp_path, "coco", sample)
    for p in files:  # rewrite BODY_25 as COCO-18: drop the mid-hip and shift the rest down
        data = json.loads(p.read_text())
        pose = np.asarray(data["people"][0]["pose_keypoints_2d"]).reshape(25, 3)
        data["people"][0]["pose_keypoints_2d"] = np.delete(pose, 8, axis=0)[:18].ravel().tolist()
        p.write_text(json.dumps(data))
    coco = registry.read(files[0])
    body25 = registry.read(write_frames(tmp_path / "b25", "x", sample)[0])
    assert np.allclose(coco.rotations, body25.rotations, atol=1e-6)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("{not json", "not valid JSON"),
        ('{"version": 1.3}', "no 'people' list"),
        ('{"people": [{"pose_keypoints_2d": ["a", "b", "c"]}]}', "flat list of x, y, confidence"),
        ('{"people": [{"pose_keypoints_2d": [1, 2]}]}', "flat list of x, y, confidence"),
        ('{"people": [7]}', "not an object"),
    ],
)
def test_bad_frame_files_are_one_line_errors(clip, text, problem):
    clip[2].write_text(text)
    with pytest.raises(FormatError, match=problem) as e:
        registry.read(clip[0])
    assert str(clip[2]) in str(e.value) and "\n" not in str(e.value)


def test_a_clip_with_no_keypoints_at_all_is_refused(tmp_path):
    p = tmp_path / "empty_000000000000_keypoints.json"
    p.write_text(json.dumps({"people": []}))
    with pytest.raises(FormatError, match="no body or hand keypoints"):
        registry.read(p)

"""Every reader owned by core.io.{smplx_npz, signspark_record, project} refuses damaged input with a
one-line FormatError naming the file: truncated, not an archive, wrong shapes, NaN, no frames."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.io import FormatError, project, registry, signspark_record, smplx_npz
from tests.core.helpers_io import random_sequence

T = 6


def _amass(path: Path, **over) -> None:
    d = {"poses": np.zeros((T, 165)), "trans": np.zeros((T, 3)), "mocap_framerate": np.array(30.0)}
    d.update(over)
    np.savez(path, **{k: v for k, v in d.items() if v is not None})


def _parts(path: Path, **over) -> None:
    d = {
        "global_orient": np.zeros((T, 3)),
        "body_pose": np.zeros((T, 63)),
        "left_hand_pose": np.zeros((T, 45)),
        "right_hand_pose": np.zeros((T, 45)),
        "transl": np.zeros((T, 3)),
        "fps": np.array(30.0),
    }
    d.update(over)
    np.savez(path, **{k: v for k, v in d.items() if v is not None})


def _record_arrays() -> dict[str, np.ndarray]:
    return signspark_record.record_arrays(random_sequence(T, seed=5, labels=False))


def _record(path: Path, **over) -> None:
    d = _record_arrays()
    d.update(over)
    np.savez(path, **{k: v for k, v in d.items() if v is not None})


def _project(
    path: Path,
    doc_change: Callable[[dict], None] | None = None,
    array_change: Callable[[dict, dict], None] | None = None,
) -> None:
    """A valid project, then its JSON and/or arrays tampered with."""
    project.write(path, random_sequence(T, seed=5))
    with zipfile.ZipFile(path) as z:
        doc = json.loads(z.read("project.json"))
        npz = np.load(io.BytesIO(z.read("frames.npz")), allow_pickle=False)
        members = {k: npz[k] for k in npz.files}
    if doc_change:
        doc_change(doc)
    if array_change:
        array_change(doc, members)
    buf = io.BytesIO()
    np.savez(buf, **members)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.json", json.dumps(doc))
        z.writestr("frames.npz", buf.getvalue())


def _member(doc: dict, name: str) -> str:
    return doc["arrays"][name]["member"]


def _set(name: str, fn: Callable[[np.ndarray], np.ndarray]):
    def change(doc, members):
        members[_member(doc, name)] = fn(members[_member(doc, name)])

    return change


def _empty(doc, members):
    doc["n_frames"] = 0
    for e in doc["arrays"].values():
        e["shape"][0] = 0
        for key in ("member", "values"):
            if key in e:
                members[e[key]] = members[e[key]][:0]
        if "frames" in e:
            members[e["frames"]] = members[e["frames"]][:0]


def _nan(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64 if a.dtype == np.float64 else np.float32, copy=True)
    a.reshape(-1)[0] = np.nan
    return a


# name -> (suffix, writer of a valid file, {case: writer of a broken file, message regex})
VALID: dict[str, tuple[str, Callable[[Path], None]]] = {
    "amass": (".npz", _amass),
    "parts": (".smplx.npz", _parts),
    "record": (".signspark.npz", _record),
    "project": (".signframe", _project),
}

BROKEN: list[tuple[str, str, Callable[[Path], None], str]] = [
    # SMPL-X, AMASS layout
    ("amass", "wrong shape", lambda p: _amass(p, poses=np.zeros((T, 160))), "poses.*shape"),
    ("amass", "NaN", lambda p: _amass(p, poses=_nan(np.zeros((T, 165)))), "NaN"),
    ("amass", "empty T", lambda p: _amass(p, poses=np.zeros((0, 165)), trans=np.zeros((0, 3))), "no frames"),
    ("amass", "trans frames", lambda p: _amass(p, trans=np.zeros((T + 1, 3))), "trans"),
    ("amass", "no pose keys", lambda p: np.savez(p, trans=np.zeros((T, 3))), "no SMPL-X pose keys"),
    ("amass", "bad fps", lambda p: _amass(p, mocap_framerate=np.array(0.0)), "frame rate"),
    ("amass", "text poses", lambda p: _amass(p, poses=np.array(["a"] * T)), "poses"),
    # SMPL-X, per-part layout
    ("parts", "wrong shape", lambda p: _parts(p, body_pose=np.zeros((T, 21, 2))), "body_pose.*shape"),
    ("parts", "NaN", lambda p: _parts(p, transl=_nan(np.zeros((T, 3)))), "transl.*NaN"),
    (
        "parts",
        "empty T",
        lambda p: _parts(
            p,
            **{
                k: np.zeros((0, n))
                for k, n in (
                    ("global_orient", 3),
                    ("body_pose", 63),
                    ("left_hand_pose", 45),
                    ("right_hand_pose", 45),
                    ("transl", 3),
                )
            },
        ),
        "no frames",
    ),
    ("parts", "frame mismatch", lambda p: _parts(p, left_hand_pose=np.zeros((T + 2, 45))), "left_hand_pose.*frames"),
    ("parts", "not rotations", lambda p: _parts(p, body_pose=np.full((T, 21, 3, 3), 0.5)), "not rotations"),
    ("parts", "no body_pose", lambda p: _parts(p, body_pose=None), "body_pose"),
    # SignSparK record
    (
        "record",
        "wrong shape",
        lambda p: _record(p, body_features=np.zeros((T, 120), np.float32)),
        "body_features.*shape",
    ),
    ("record", "narrow hand", lambda p: _record(p, left_features=np.ones((T, 60), np.float32)), "left_features.*shape"),
    (
        "record",
        "NaN",
        lambda p: _record(p, right_features=_nan(_record_arrays()["right_features"])),
        "right_features.*NaN",
    ),
    (
        "record",
        "empty T",
        lambda p: _record(
            p, **{k: v[:0] for k, v in _record_arrays().items() if k.endswith("features") or k == "segment"}
        ),
        "no frames",
    ),
    ("record", "frame mismatch", lambda p: _record(p, face_features=np.ones((T + 1, 56), np.float32)), "frames"),
    ("record", "segment length", lambda p: _record(p, segment=np.zeros(T - 1, np.int64)), "segment"),
    ("record", "zero 6D", lambda p: _record(p, body_features=np.zeros((T, 126), np.float32)), "degenerate"),
    ("record", "no features", lambda p: np.savez(p, segment=np.zeros(T)), "no SignSparK features"),
    # project
    (
        "project",
        "wrong shape",
        lambda p: _project(p, array_change=_set("rotations", lambda a: a[:, :, :2])),
        "rotations",
    ),
    ("project", "NaN", lambda p: _project(p, array_change=_set("translation", _nan)), "translation.*NaN"),
    ("project", "empty T", lambda p: _project(p, array_change=_empty), "frame"),
    (
        "project",
        "not rotations",
        lambda p: _project(p, array_change=_set("rotations", lambda a: a * 2)),
        "not rotations",
    ),
    ("project", "frame count", lambda p: _project(p, doc_change=lambda d: d.update(n_frames=T + 3)), "frames"),
    (
        "project",
        "key out of range",
        lambda p: _project(p, doc_change=lambda d: d.update(keyframes=[{"frame": T + 5, "kind": "user"}])),
        "keyframe",
    ),
    (
        "project",
        "bad key kind",
        lambda p: _project(p, doc_change=lambda d: d.update(keyframes=[{"frame": 1, "kind": "sideways"}])),
        "sideways",
    ),
    ("project", "not a project", lambda p: zipfile.ZipFile(p, "w").writestr("x.txt", "hi"), "not a Signframe project"),
    ("project", "bad json", lambda p: zipfile.ZipFile(p, "w").writestr("project.json", "{oops"), "not valid JSON"),
    ("project", "no frames member", lambda p: _project(p) or _strip_member(p, "frames.npz"), "frames.npz"),
]


def _strip_member(path: Path, name: str) -> None:
    with zipfile.ZipFile(path) as z:
        keep = {n: z.read(n) for n in z.namelist() if n != name}
    with zipfile.ZipFile(path, "w") as z:
        for n, b in keep.items():
            z.writestr(n, b)


def _check(path: Path, pattern: str) -> None:
    with pytest.raises(FormatError) as e:
        registry.read(path)
    msg = str(e.value)
    assert str(path) in msg and "\n" not in msg
    assert re.search(pattern, msg), msg


@pytest.mark.parametrize("fmt", list(VALID))
def test_valid_files_read(tmp_path, fmt):
    suffix, make = VALID[fmt]
    path = tmp_path / f"ok{suffix}"
    make(path)
    assert registry.read(path).n_frames == T


@pytest.mark.parametrize("fmt, case, make, pattern", BROKEN, ids=[f"{f}-{c}" for f, c, _, _ in BROKEN])
def test_broken_files_are_refused(tmp_path, fmt, case, make, pattern):
    path = tmp_path / f"broken{VALID[fmt][0]}"
    make(path)
    _check(path, pattern)


@pytest.mark.parametrize("fmt", list(VALID))
@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, -1])
def test_truncated_files_are_refused(tmp_path, fmt, keep):
    suffix, make = VALID[fmt]
    good = tmp_path / f"good{suffix}"
    make(good)
    data = good.read_bytes()
    n = len(data) - 1 if keep == -1 else int(len(data) * keep)
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[:n])
    _check(path, ".")


@pytest.mark.parametrize("fmt", list(VALID))
def test_garbage_and_corrupt_members_are_refused(tmp_path, fmt):
    suffix, make = VALID[fmt]
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(b"this is not an archive at all\n" * 10)
    _check(path, ".")
    # flip bytes in the middle: a CRC or decoding error, never a crash
    make(path)
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64] = bytes(64)
    path.write_bytes(bytes(data))
    try:
        registry.read(path)
    except FormatError as e:
        assert str(path) in str(e)


def test_module_readers_name_the_file_directly(tmp_path):
    """The format modules raise FormatError themselves (not only through the registry)."""
    for reader, (suffix, _) in (
        (smplx_npz.read, VALID["amass"]),
        (signspark_record.read, VALID["record"]),
        (project.read, VALID["project"]),
    ):
        path = tmp_path / f"none{suffix}"
        path.write_bytes(b"PK\x03\x04 truncated")
        with pytest.raises(FormatError, match="none"):
            reader(path)

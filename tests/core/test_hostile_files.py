"""Regression tests: one reproducer per kind of hostile file the fuzzer found. Each must end in
the one-line error naming the file (never a traceback, a hang, or gigabytes), or, for values a
reader used to accept, be refused."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.io import limits, read, write
from core.io.errors import FormatError
from tests.core.helpers_io import ROOT, random_sequence


def one_line_error(path: Path, **options) -> str:
    with pytest.raises(FormatError) as e:
        read(path, **options)
    text = str(e.value)
    assert "\n" not in text and path.name in text, text
    assert e.value.__cause__ is None, f"reached the last line of defence: {text}"  # a real check
    return text


def patch_zip(data: bytes, *, method: int | None = None, encrypted: bool = False) -> bytes:
    """Set the compression method or the encrypted flag in every local and central header."""
    b = bytearray(data)
    for sig, method_at, flag_at in ((b"PK\x03\x04", 8, 6), (b"PK\x01\x02", 10, 8)):
        start = 0
        while (i := bytes(b).find(sig, start)) >= 0:
            if method is not None:
                b[i + method_at : i + method_at + 2] = struct.pack("<H", method)
            if encrypted:
                b[i + flag_at] |= 1
            start = i + 4
    return bytes(b)


@pytest.fixture(scope="module")
def seq():
    return random_sequence(24, seed=5)


@pytest.fixture
def files(tmp_path, seq):
    out = {}
    for name in ("p.signframe", "a.npz", "b.smplx.npz", "c.signspark.npz", "d.bvh"):
        write(tmp_path / name, seq)
        out[name] = tmp_path / name
    return out


@pytest.mark.parametrize("name", ["p.signframe", "a.npz", "b.smplx.npz", "c.signspark.npz"])
@pytest.mark.parametrize("kind", ["deflate64", "aes", "encrypted"])
def test_unsupported_or_encrypted_zip_members(files, tmp_path, name, kind):
    bad = tmp_path / f"bad_{kind}_{name}"
    data = files[name].read_bytes()
    bad.write_bytes(patch_zip(data, method={"deflate64": 9, "aes": 99}.get(kind), encrypted=kind == "encrypted"))
    text = one_line_error(bad)
    assert ("encrypted" in text) if kind == "encrypted" else ("compression method" in text)


def _project_with(tmp_path: Path, src: Path, member: str, data: bytes) -> Path:
    out = tmp_path / f"hacked_{member.replace('.', '_')}.signframe"
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(out, "w") as w:
        for n in z.namelist():
            w.writestr(n, data if n == member else z.read(n))
    return out


def test_project_json_nested_5000_deep(files, tmp_path):
    doc = json.loads(zipfile.ZipFile(files["p.signframe"]).read("project.json"))
    text = json.dumps(doc)[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}"
    bad = _project_with(tmp_path, files["p.signframe"], "project.json", text.encode())
    assert "nests deeper" in one_line_error(bad)


def test_frames_member_that_is_a_bare_npy(files, tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.zeros((24, 3), np.float32))
    bad = _project_with(tmp_path, files["p.signframe"], "frames.npz", buf.getvalue())
    assert "frames.npz" in one_line_error(bad)


def _npz_with_member(tmp_path: Path, src: Path, key: str, raw: bytes) -> Path:
    out = tmp_path / f"hacked_{key}{''.join(src.suffixes)}"
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(out, "w") as w:
        for n in z.namelist():
            w.writestr(n, raw if n == f"{key}.npy" else z.read(n))
    return out


def _npy_header(shape_text: str, descr: str = "<f8") -> bytes:
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}".encode()
    text += b" " * ((64 - (10 + len(text) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def test_unparsable_npy_header(files, tmp_path):
    raw = _npy_header("(24, 3") + b"\x00" * 64  # an unclosed tuple: numpy's tokenizer fails
    bad = _npz_with_member(tmp_path, files["a.npz"], "trans", raw)
    assert "'trans'" in one_line_error(bad)


def test_npy_header_claiming_1e9_rows_allocates_nothing(files, tmp_path):
    raw = _npy_header("(1000000000, 165)") + b"\x00" * 4096
    bad = _npz_with_member(tmp_path, files["a.npz"], "poses", raw)
    tracemalloc.start()
    try:
        text = one_line_error(bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "claims shape" in text and peak < 32 * 2**20, peak


def test_object_array_member_is_refused_not_unpickled(files, tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    bad = _npz_with_member(tmp_path, files["a.npz"], "trans", buf.getvalue())
    assert "pickle" in one_line_error(bad)


def test_zip_bomb_is_refused_from_its_headers(files, tmp_path):
    bad = tmp_path / "bomb.npz"
    zeros = np.zeros((100 * 2**20 // 8,), np.float64)  # 100 MiB that deflates to ~100 kB
    with zipfile.ZipFile(files["a.npz"]) as z, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as w:
        for n in z.namelist():
            w.writestr(n, z.read(n))
        buf = io.BytesIO()
        np.save(buf, zeros)
        w.writestr("padding.npy", buf.getvalue())
    assert bad.stat().st_size < 2**20
    tracemalloc.start()
    try:
        text = one_line_error(bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "inflate" in text and peak < 16 * 2**20  # refused from the headers: nothing inflated


def test_zip_claiming_a_huge_member_or_directory(files, tmp_path):
    data = bytearray(files["a.npz"].read_bytes())
    i = bytes(data).find(b"PK\x01\x02")
    data[i + 20 : i + 24] = struct.pack("<I", 2**32 - 1)  # compressed size of the first member
    bad = tmp_path / "claims.npz"
    bad.write_bytes(bytes(data))
    assert "claims" in one_line_error(bad)
    data = bytearray(files["a.npz"].read_bytes())
    j = bytes(data).rfind(b"PK\x05\x06")
    data[j + 12 : j + 16] = struct.pack("<I", 2**31)  # central directory size
    bad2 = tmp_path / "claims_dir.npz"
    bad2.write_bytes(bytes(data))
    one_line_error(bad2)


def test_bvh_hierarchy_1000_joints_deep(files, tmp_path):
    text = files["d.bvh"].read_text()
    i = text.index("JOINT")
    chain = "".join(f"JOINT deep{k}\n{{\nOFFSET 0 1 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n" for k in range(1000))
    bad = tmp_path / "deep.bvh"
    bad.write_text(text[:i] + chain + "}\n" * 1000 + text[i:])
    assert "nest deeper" in one_line_error(bad)


@pytest.mark.parametrize("frame_time", ["1e-320", "1e-300", "1e300", "0", "-0.04", "nan", "inf", "0.0001"])
def test_bvh_frame_time_outside_the_sane_range(files, tmp_path, frame_time):
    import re

    bad = tmp_path / "ft.bvh"
    bad.write_text(re.sub(r"Frame Time:\s*\S+", f"Frame Time: {frame_time}", files["d.bvh"].read_text()))
    assert "Frame Time" in one_line_error(bad)


def test_symlink_to_dev_zero_and_a_fifo_are_not_read(tmp_path):
    for name in ("z.bvh", "z.npz", "z.signframe", "z.pose"):
        link = tmp_path / name
        link.symlink_to("/dev/zero")
        assert "not a regular file" in one_line_error(link)
    fifo = tmp_path / "x.bvh"
    os.mkfifo(fifo)
    done = []

    def attempt():
        try:
            read(fifo)
        except FormatError as e:
            done.append(str(e))

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(5.0)
    assert done and "FIFO" in done[0]  # a reader that opened it would block here forever


@pytest.mark.parametrize("fps", [1e-300, 1e-3, 0.5, 1e4, 1e300])
@pytest.mark.parametrize("name", ["p.signframe", "a.npz", "c.signspark.npz"])
def test_frame_rates_outside_1_to_1000_are_refused(tmp_path, files, name, fps):
    src = files[name]
    if name.endswith(".signframe"):
        doc = json.loads(zipfile.ZipFile(src).read("project.json"))
        doc["fps"] = fps
        bad = _project_with(tmp_path, src, "project.json", json.dumps(doc).encode())
    else:
        key = "mocap_frame_rate" if name == "a.npz" else "fps"
        buf = io.BytesIO()
        np.save(buf, np.array(fps))
        bad = _npz_with_member(tmp_path, src, key, buf.getvalue())
        if name == "a.npz":  # both AMASS spellings are written: change the other too
            bad = _npz_with_member(tmp_path, bad, "mocap_framerate", buf.getvalue())
    assert "fps" in one_line_error(bad)


def test_project_infinite_fps_and_duration(tmp_path, files):
    src = files["p.signframe"]
    raw = zipfile.ZipFile(src).read("project.json").decode()
    doc = json.loads(raw)
    text = json.dumps(doc).replace(f'"fps": {json.dumps(doc["fps"])}', '"fps": Infinity')
    bad = _project_with(tmp_path, src, "project.json", text.encode())
    assert "fps" in one_line_error(bad)


def test_an_eye_pose_of_1e300_is_refused_by_convert_not_written(tmp_path, files):
    src = files["b.smplx.npz"]
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as z:
        eye = np.load(io.BytesIO(z.read("leye_pose.npy")), allow_pickle=False)
    np.save(buf, np.full_like(eye, 1e300, dtype=np.float64))
    bad = _npz_with_member(tmp_path, src, "leye_pose", buf.getvalue())
    one_line_error(bad)
    out = tmp_path / "out.signframe"
    r = _cli("convert", str(bad), str(out))
    assert r.returncode == 2 and not out.exists() and r.stderr.count("\n") == 1, r.stderr


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "core", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_a_newline_in_a_file_name_keeps_the_error_on_one_line(tmp_path):
    bad = tmp_path / "two\nlines.bvh"
    bad.write_text("not a bvh")
    r = _cli("info", str(bad))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "two\\nlines.bvh" in r.stderr, r.stderr


def test_info_on_hostile_files_is_fast_small_and_one_line(tmp_path, files):
    """The command line on a few of the worst kinds: exit 2, one line, within 10 s, under 1 GiB."""
    doc = json.loads(zipfile.ZipFile(files["p.signframe"]).read("project.json"))
    nested = json.dumps(doc)[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}"
    deep = _project_with(tmp_path, files["p.signframe"], "project.json", nested.encode())
    link = tmp_path / "zero.bvh"
    link.symlink_to("/dev/zero")
    enc = tmp_path / "enc.npz"
    enc.write_bytes(patch_zip(files["a.npz"].read_bytes(), encrypted=True))
    code = (
        "import resource, sys, runpy; resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30));"
        "sys.argv = ['core'] + sys.argv[1:]; runpy.run_module('core', run_name='__main__')"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    for f in (deep, link, enc):
        t0 = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-c", code, "info", str(f)], capture_output=True, text=True, env=env, timeout=60
        )
        assert time.perf_counter() - t0 < 10.0
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and f.name in r.stderr, (f, r.stderr)


def test_raw_pickle_checkpoint_is_one_line_without_warnings(tmp_path):
    import pickle

    pt = tmp_path / "raw.pt"
    pt.write_bytes(pickle.dumps({"weights": [1, 2, 3]}, protocol=4))
    sample = ROOT / "assets" / "samples" / "cse_letter_H.signframe"
    r = _cli("inbetween", str(sample), "--keys", "every:8", "--out", str(tmp_path / "o.signframe"), "--model", str(pt))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "raw.pt" in r.stderr, r.stderr
    assert "pickled" in r.stderr and "Warning" not in r.stderr


def _main(capsys, *args: str) -> tuple[int, str]:
    """The command line in-process (the same ``core.cli.main`` as ``python -m core``)."""
    from core import cli

    capsys.readouterr()
    rc = cli.main(list(args))
    return rc, capsys.readouterr().err


def test_data_info_and_eval_on_a_bad_corpus_print_one_line(tmp_path, capsys):
    bad = tmp_path / "corpus.npz"
    np.savez(bad, format=np.array("signframe-corpus"), version=np.array(1))  # keys missing
    rc, err = _main(capsys, "data", "info", str(bad))
    assert rc == 2 and err.count("\n") == 1 and "corpus.npz" in err, err
    enc = tmp_path / "enc_corpus.npz"
    enc.write_bytes(patch_zip(bad.read_bytes(), encrypted=True))
    rc, err = _main(capsys, "data", "info", str(enc))
    assert rc == 2 and err.count("\n") == 1 and "encrypted" in err, err
    rc, err = _main(capsys, "eval", "kf2p", str(bad), "--max-runs", "1")
    assert rc == 2 and err.count("\n") == 1 and "corpus.npz" in err, err
    cache = tmp_path / "clips.npz"
    np.savez(cache, rotations=np.zeros((3, 2)), valid=np.ones(5), lengths=np.array([9]), languages=np.array(["x"]))
    rc, err = _main(capsys, "eval", "kf2p", str(cache), "--max-runs", "1")
    assert rc == 2 and err.count("\n") == 1 and "clips.npz" in err, err


def test_limits_are_documented_numbers():
    assert limits.decompressed_cap(0) == limits.FLOOR_BYTES
    assert limits.decompressed_cap(100 * 2**20) == limits.EXPANSION * 100 * 2**20
    assert limits.decompressed_cap(10**12) == limits.CEILING_BYTES
    assert not limits.json_depth_ok(b"[" * 65 + b"]" * 65) and limits.json_depth_ok(b'"[[[[" ' * 100)

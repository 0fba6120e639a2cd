"""Mutations of seed files: raw bytes, zip structure, npy headers and values, JSON and text
numbers. Each function takes the seed's bytes and a numpy Generator and returns new bytes.

Structure-aware mutations re-pack zips with correct CRCs (a byte flip inside a stored member is
otherwise caught by the CRC check and never reaches the parser behind it)."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from collections.abc import Callable

import numpy as np

from .seeds import interesting_numbers

Mutator = Callable[[bytes, np.random.Generator], bytes]
_NUM = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def _num_text(rng: np.random.Generator) -> bytes:
    v = _pick(rng, interesting_numbers() + [int(rng.integers(-5, 100000))])
    return repr(v).encode() if not isinstance(v, float) or np.isfinite(v) else _pick(rng, [b"1e999", b"nan", b"-1e999"])


# --- raw bytes ------------------------------------------------------------------------------------
def flip_bits(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        i = int(rng.integers(len(b)))
        b[i] ^= 1 << int(rng.integers(8))
    return bytes(b)


def set_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    i = int(rng.integers(len(b)))
    val = _pick(
        rng, [b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff\xff\xff", b"\x00\x00\x00\x80", b"\xff\xff\xff\x7f"]
    )
    b[i : i + len(val)] = val
    return bytes(b)


def truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[: int(rng.integers(len(data)))]


def splice(data: bytes, rng: np.random.Generator) -> bytes:
    """Duplicate, delete or insert a chunk."""
    n = len(data)
    a = int(rng.integers(n))
    k = int(rng.integers(1, max(2, min(4096, n - a))))
    op = int(rng.integers(3))
    if op == 0:
        return data[: a + k] + data[a : a + k] + data[a + k :]
    if op == 1:
        return data[:a] + data[a + k :]
    return data[:a] + rng.bytes(k) + data[a:]


RAW: tuple[Mutator, ...] = (flip_bits, set_bytes, truncate, splice)


# --- zip headers ------------------------------------------------------------------------------------
def zip_header(data: bytes, rng: np.random.Generator) -> bytes:
    """Patch local and central headers: compression method (9, 99, ...), the encrypted flag, or
    a declared size (without touching the data)."""
    b = bytearray(data)
    op = int(rng.integers(5))
    if op == 4:  # the end record: central directory size / offset / entry count
        i = bytes(b).rfind(b"PK\x05\x06")
        if i >= 0:
            at = int(_pick(rng, [8, 10, 12, 16]))
            width = 2 if at < 12 else 4
            val = int(_pick(rng, [0, 1, 2 ** (8 * width) - 1, 2 ** (8 * width - 1)]))
            b[i + at : i + at + width] = val.to_bytes(width, "little")
        return bytes(b)
    for sig, method_at, flag_at, size_at in ((b"PK\x03\x04", 8, 6, 22), (b"PK\x01\x02", 10, 8, 24)):
        for m in re.finditer(re.escape(sig), bytes(b)):
            i = m.start()
            if rng.random() < 0.5:
                continue
            if op == 0:
                b[i + method_at : i + method_at + 2] = struct.pack("<H", int(_pick(rng, [9, 99, 1, 6, 12, 14, 93])))
            elif op == 1:
                b[i + flag_at] |= 0x1
            elif op == 2:
                b[i + size_at : i + size_at + 4] = struct.pack("<I", int(_pick(rng, [0, 1, 2**31, 2**32 - 1, 10**9])))
            else:
                b[i + size_at - 4 : i + size_at] = struct.pack("<I", int(rng.integers(2**32)))  # compressed size
    return bytes(b)


# --- structure-aware (unpack, mutate a member, repack) -----------------------------------------
def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(n, z.read(n)) for n in z.namelist()]


def _pack(members: list[tuple[str, bytes]], rng: np.random.Generator) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if rng.random() < 0.3 else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        for n, d in members:
            z.writestr(n, d)
    return buf.getvalue()


def mutate_npy(raw: bytes, rng: np.random.Generator) -> bytes:
    """An npy member: its header's shape / dtype / order, or values set to extreme numbers."""
    try:
        f = io.BytesIO(raw)
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format._read_array_header(f, version)  # test code: any version
        start = f.tell()
    except Exception:
        return flip_bits(raw, rng)
    op = int(rng.integers(6))
    header = raw[:start]
    if op == 0 and shape:
        dims = list(shape)
        j = int(rng.integers(len(dims)))
        dims[j] = int(_pick(rng, [0, 1, 10**9, 2**40, dims[j] + 1, max(0, dims[j] - 1)]))
        return _rewrite_header(header, repr(tuple(dims)).encode(), None) + raw[start:]
    if op == 1:
        new = _pick(rng, [b"'|O'", b"'<f8'", b"'<i2'", b"'|b1'", b"'<U3'", b"'>f4'", b"'<c16'", b"'V8'"])
        return _rewrite_header(header, None, new) + raw[start:]
    if op == 2:
        return header.replace(b"False", b"True") if rng.random() < 0.5 else header.replace(b"shape", b"shap\x00")
    if op == 3:
        return (
            header[: int(rng.integers(len(header)))]
            + b"{'descr': '<f4', 'fortran_order': False, 'shape': ("
            + raw[start:]
        )
    if op == 4 and dtype.kind == "f" and len(raw) > start:
        arr = np.frombuffer(raw[start:], dtype=dtype).copy()
        if arr.size:
            idx = rng.integers(arr.size, size=int(rng.integers(1, 4)))
            arr[idx] = _pick(rng, interesting_numbers())
        return header + arr.tobytes()
    return header + raw[start:][: int(rng.integers(len(raw) - start + 1))]


def _rewrite_header(header: bytes, shape: bytes | None, descr: bytes | None) -> bytes:
    text = header[header.index(b"{") :]
    prefix = header[: header.index(b"{")]
    if shape is not None:
        text = re.sub(rb"'shape': \([^)]*\)", b"'shape': " + shape, text)
    if descr is not None:
        text = re.sub(rb"'descr': '[^']*'", b"'descr': " + descr, text)
    text = text.rstrip(b" \n") + b"\n"
    # keep the header-length field consistent so numpy's parser sees the new text
    body_len = len(text)
    pad = (64 - (len(prefix) + body_len) % 64) % 64
    text = text[:-1] + b" " * pad + b"\n"
    if prefix[6:8] == b"\x01\x00":
        return prefix[:8] + struct.pack("<H", len(text)) + text
    return prefix[:8] + struct.pack("<I", len(text)) + text


def mutate_json(raw: bytes, rng: np.random.Generator) -> bytes:
    """A JSON member: a value replaced (extreme numbers, wrong types), deep nesting, or text."""
    try:
        doc = json.loads(raw)
    except ValueError:
        return flip_bits(raw, rng)
    op = int(rng.integers(5))
    if op == 0:
        depth = int(_pick(rng, [100, 1000, 5000]))
        return b'{"format": "signframe-project", "version": 2, "meta": ' + b"[" * depth + b"]" * depth + b"}"
    paths = list(_json_paths(doc))
    if not paths:
        return raw
    path = paths[int(rng.integers(len(paths)))]
    new = _pick(
        rng,
        interesting_numbers()[:9] + [None, "x", [], {}, True, -1, 10**12, [[1, 2]], {"frame": 1e300}, "\n" * 3],
    )
    _set(doc, path, new)
    text = json.dumps(doc, allow_nan=True)
    if op == 1:
        text = text.replace("1e+300", "1e999")
    return text.encode()


def _json_paths(x, prefix=()):
    yield prefix
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _json_paths(v, prefix + (k,))
    elif isinstance(x, list):
        for i, v in enumerate(x[:20]):
            yield from _json_paths(v, prefix + (i,))


def _set(doc, path, value) -> None:
    if not path:
        return
    cur = doc
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value


def zip_member(data: bytes, rng: np.random.Generator) -> bytes:
    """Unpack, mutate one member structurally (npy, JSON or a nested zip), repack."""
    try:
        members = _members(data)
    except Exception:
        return flip_bits(data, rng)
    if not members:
        return data
    op = int(rng.integers(10))
    i = int(rng.integers(len(members)))
    name, raw = members[i]
    if op == 0:  # a zip bomb member: declared honestly, inflating far past the file's size
        bomb = b"\x00" * int(_pick(rng, [70, 100, 150])) * 2**20
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for n, d in members:
                z.writestr(n, bomb if n == name else d)
        return buf.getvalue()
    if op == 1:  # a bare npy where a zip was (project frames.npz)
        members[i] = (name, _bare_npy(rng))
    elif op == 2:
        del members[i]
    elif name.endswith(".npy"):
        members[i] = (name, mutate_npy(raw, rng))
    elif name.endswith(".json"):
        members[i] = (name, mutate_json(raw, rng))
    elif raw[:2] == b"PK":
        members[i] = (name, zip_member(raw, rng))
    else:
        members[i] = (name, flip_bits(raw, rng) if raw else b"x")
    return _pack(members, rng)


def _bare_npy(rng: np.random.Generator) -> bytes:
    buf = io.BytesIO()
    np.save(buf, rng.normal(size=(4, 3)).astype(np.float32))
    return buf.getvalue()


# --- text formats -----------------------------------------------------------------------------------
def text_number(data: bytes, rng: np.random.Generator) -> bytes:
    """Replace one to three numbers of a text file (BVH, EAF) by extreme values."""
    spans = [m.span() for m in _NUM.finditer(data[:200000])]
    if not spans:
        return flip_bits(data, rng)
    b = data
    for _ in range(int(rng.integers(1, 4))):
        a, e = spans[int(rng.integers(len(spans)))]
        b = b[:a] + _num_text(rng) + b[e:]
        spans = [m.span() for m in _NUM.finditer(b[:200000])]
    return b


def bvh_structure(data: bytes, rng: np.random.Generator) -> bytes:
    """BVH-specific: Frame Time / Frames values, a deep chain of joints, repeated lines."""
    op = int(rng.integers(4))
    if op == 0:
        return re.sub(
            rb"Frame Time:\s*\S+", b"Frame Time: " + _pick(rng, [b"1e-320", b"1e300", b"0", b"-0.04", b"nan"]), data
        )
    if op == 1:
        return re.sub(rb"Frames:\s*\d+", b"Frames: " + _pick(rng, [b"0", b"1000000000", b"-3", b"2"]), data)
    if op == 2:
        depth = int(_pick(rng, [200, 1000, 3000]))
        chain = b"".join(
            b"JOINT j%d\n{\nOFFSET 0 1 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n" % i for i in range(depth)
        )
        i = data.find(b"JOINT")
        return data[:i] + chain + b"}\n" * depth + data[i:] if i >= 0 else data
    lines = data.split(b"\n")
    j = int(rng.integers(len(lines)))
    lines[j:j] = [lines[j]] * int(rng.integers(1, 50))
    return b"\n".join(lines)


def eaf_structure(data: bytes, rng: np.random.Generator) -> bytes:
    """EAF-specific: time values, reference annotations (cycles), the fps property."""
    op = int(rng.integers(3))
    if op == 0:
        return re.sub(
            rb'TIME_VALUE="\d+"', b'TIME_VALUE="' + _pick(rng, [b"99999999999999", b"-5", b"0"]) + b'"', data, count=1
        )
    if op == 1:
        return re.sub(rb'(signframe:fps">)[^<]*', rb"\g<1>" + _pick(rng, [b"1e-300", b"1e300", b"0", b"inf"]), data)
    ref = (
        b'<TIER LINGUISTIC_TYPE_REF="ref" PARENT_REF="sign" TIER_ID="cyc">'
        b'<ANNOTATION><REF_ANNOTATION ANNOTATION_ID="r1" ANNOTATION_REF="r2"><ANNOTATION_VALUE>a</ANNOTATION_VALUE>'
        b"</REF_ANNOTATION></ANNOTATION>"
        b'<ANNOTATION><REF_ANNOTATION ANNOTATION_ID="r2" ANNOTATION_REF="r1"><ANNOTATION_VALUE>b</ANNOTATION_VALUE>'
        b"</REF_ANNOTATION></ANNOTATION></TIER>"
        b'<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="ref" CONSTRAINTS="Symbolic_Association" TIME_ALIGNABLE="false"/>'
    )
    i = data.rfind(b"<LINGUISTIC_TYPE")
    return data[:i] + ref + data[i:] if i >= 0 else data


def mutators_for(fmt: str) -> tuple[Mutator, ...]:
    zipped = fmt not in ("bvh", "pose", "eaf")
    if zipped:
        return RAW + (zip_header, zip_member, zip_member, zip_member)
    if fmt == "bvh":
        return RAW + (text_number, text_number, bvh_structure, bvh_structure)
    if fmt == "eaf":
        return RAW + (text_number, eaf_structure, eaf_structure)
    return RAW + (set_bytes, flip_bits)  # .pose: a binary header of counts, then float32 data


def mutant(seed: bytes, fmt: str, rng: np.random.Generator) -> bytes:
    """One to three stacked mutations of ``seed``."""
    ops = mutators_for(fmt)
    data = seed
    for _ in range(int(rng.integers(1, 3)) if rng.random() < 0.3 else 1):
        data = ops[int(rng.integers(len(ops)))](data, rng) or data
    return data

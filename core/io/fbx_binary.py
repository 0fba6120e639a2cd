"""Low-level binary FBX 7.4 encoder: a tree of node records -> bytes.

Layout (version 7400, little-endian; public reverse-engineered descriptions, e.g. the Blender
Foundation's "FBX binary file format specification", 2013):
- header: ``b"Kaydara FBX Binary  \\x00"``, ``\\x1a \\x00``, uint32 version;
- node record: uint32 end offset (absolute), uint32 property count, uint32 property bytes,
  uint8 name length, name, properties, children, and a 13-byte null record closing the
  children (also written for a node with neither properties nor children);
- property: one type-code byte then data — ``Y`` int16, ``C`` bool (1 byte), ``I`` int32,
  ``F`` float32, ``D`` float64, ``L`` int64, ``S`` string / ``R`` raw (uint32 length + bytes);
  arrays ``f d l i b``: uint32 count, uint32 encoding (0 raw, 1 zlib), uint32 byte length, data;
- the top-level list ends with a null record, then the footer: a 16-byte id, zero padding to a
  16-byte boundary, 4 zero bytes, uint32 version, 120 zero bytes, 16 fixed magic bytes.

The header ``FileId`` / ``CreationTime`` and the footer id are a matched set (the FBX SDK checks
them against each other); we always write the set that Blender's exporter has used for years,
whose files open in Maya, MotionBuilder, Unity and Unreal.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

VERSION = 7400
MAGIC = b"Kaydara FBX Binary  \x00\x1a\x00"
FILE_ID = bytes.fromhex("28b32aebb624ccc2bfc8b02aa92bfcf1")
CREATION_TIME = "1970-01-01 10:00:00:000"
FOOTER_ID = bytes.fromhex("fabcab09d0c8d466b176fb831cf7267e")
FOOTER_MAGIC = bytes.fromhex("f85a8c6adef5d97eece90ce3758f290b")
NULL_RECORD = b"\x00" * 13  # 3 uint32 + 1 uint8 (7.4; 25 bytes from 7.5)

# Arrays above this many bytes are zlib-compressed (small ones are not worth the header).
COMPRESS_MIN_BYTES = 128
_ARRAY_CODES = {
    np.dtype(np.float32): b"f",
    np.dtype(np.float64): b"d",
    np.dtype(np.int64): b"l",
    np.dtype(np.int32): b"i",
    np.dtype(np.bool_): b"b",
}


@dataclass(frozen=True)
class Prop:
    """One typed property value: ``code`` is the FBX type code (``b"I"``, ``b"d"``, ...)."""

    code: bytes
    value: Any


def i16(v: int) -> Prop:
    return Prop(b"Y", int(v))


def boolean(v: bool) -> Prop:
    return Prop(b"C", bool(v))


def i32(v: int) -> Prop:
    return Prop(b"I", int(v))


def f32(v: float) -> Prop:
    return Prop(b"F", float(v))


def f64(v: float) -> Prop:
    return Prop(b"D", float(v))


def i64(v: int) -> Prop:
    return Prop(b"L", int(v))


def string(v: str | bytes) -> Prop:
    return Prop(b"S", v.encode("utf-8") if isinstance(v, str) else bytes(v))


def raw(v: bytes) -> Prop:
    return Prop(b"R", bytes(v))


def array(a: np.ndarray, dtype=None) -> Prop:
    """A 1-D array property; the type code follows the dtype (f4 f8 i8 i4 bool)."""
    a = np.ascontiguousarray(np.asarray(a, dtype=dtype).reshape(-1))
    if a.dtype not in _ARRAY_CODES:
        raise TypeError(f"no FBX array type for dtype {a.dtype}")
    return Prop(_ARRAY_CODES[a.dtype], a)


def _auto(v: Any) -> Prop:
    """Plain Python values: bool -> C, int -> I, float -> D, str -> S, bytes -> R, array -> by dtype."""
    if isinstance(v, Prop):
        return v
    if isinstance(v, (bool, np.bool_)):
        return boolean(bool(v))
    if isinstance(v, (int, np.integer)):
        return i32(int(v))
    if isinstance(v, (float, np.floating)):
        return f64(float(v))
    if isinstance(v, str):
        return string(v)
    if isinstance(v, (bytes, bytearray)):
        return raw(bytes(v))
    if isinstance(v, np.ndarray):
        return array(v)
    raise TypeError(f"no FBX property type for {type(v).__name__}")


@dataclass
class Node:
    """A node record: name, properties, children."""

    name: str
    props: list[Prop] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    block: bool = False  # always close with a null record (the SDK expects it on some nodes)

    def add(self, name: str, *values: Any) -> Node:
        """Append and return a child node with these property values."""
        child = Node(name, [_auto(v) for v in values])
        self.children.append(child)
        return child


def object_name(name: str, cls: str) -> bytes:
    """Object names are stored as ``name \\x00\\x01 class`` (shown as ``class::name`` in ASCII)."""
    return name.encode("utf-8") + b"\x00\x01" + cls.encode("utf-8")


_PACK_SCALAR = {b"Y": "<h", b"C": "<?", b"I": "<i", b"F": "<f", b"D": "<d", b"L": "<q"}


def _encode_prop(p: Prop, cache: dict) -> bytes:
    code = p.code
    if code in _PACK_SCALAR:
        return code + struct.pack(_PACK_SCALAR[code], p.value)
    if code in (b"S", b"R"):
        return code + struct.pack("<I", len(p.value)) + p.value
    a: np.ndarray = p.value
    data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
    if len(data) >= COMPRESS_MIN_BYTES:
        # identical arrays (e.g. every curve's key times) are compressed once
        key = (code, data)
        packed = cache.get(key)
        if packed is None:
            packed = zlib.compress(data, 1)
            cache[key] = packed
        return code + struct.pack("<III", a.size, 1, len(packed)) + packed
    return code + struct.pack("<III", a.size, 0, len(data)) + data


def _encode_node(node: Node, offset: int, out: list[bytes], cache: dict) -> int:
    """Append ``node``'s bytes to ``out`` starting at file ``offset``; return the end offset."""
    name = node.name.encode("ascii")
    if len(name) > 255:
        raise ValueError(f"FBX node name too long: {node.name!r}")
    props = b"".join(_encode_prop(p, cache) for p in node.props)
    header_at = len(out)
    out.append(b"")  # header placeholder, filled once the end offset is known
    pos = offset + 13 + len(name) + len(props)
    out.append(name)
    out.append(props)
    for child in node.children:
        pos = _encode_node(child, pos, out, cache)
    if node.children or not node.props or node.block:
        out.append(NULL_RECORD)
        pos += len(NULL_RECORD)
    if pos >= 2**32:
        raise ValueError("FBX 7.4 file larger than 4 GiB")
    out[header_at] = struct.pack("<IIIB", pos, len(node.props), len(props), len(name))
    return pos


def encode(nodes: Iterable[Node], version: int = VERSION) -> bytes:
    """The whole file: header, top-level nodes, null record and footer."""
    out: list[bytes] = [MAGIC, struct.pack("<I", version)]
    pos = len(MAGIC) + 4
    cache: dict = {}
    for node in nodes:
        pos = _encode_node(node, pos, out, cache)
    out.append(NULL_RECORD)
    pos += len(NULL_RECORD)
    out.append(FOOTER_ID)
    pos += len(FOOTER_ID)
    out.append(b"\x00" * (-pos % 16))  # the rest of the footer is 144 bytes: the file ends aligned
    out.append(b"\x00" * 4 + struct.pack("<I", version) + b"\x00" * 120 + FOOTER_MAGIC)
    return b"".join(out)


# --- a small decoder, for tests and debugging (not a general FBX reader) ------------------------


def decode(data: bytes) -> list[Node]:
    """Parse bytes written by :func:`encode` back into nodes (7.4 layout only)."""
    if not data.startswith(MAGIC):
        raise ValueError("not a binary FBX file")
    (version,) = struct.unpack_from("<I", data, len(MAGIC))
    if version >= 7500:
        raise ValueError(f"decoder handles 32-bit records only, file is {version}")
    nodes, _ = _decode_list(data, len(MAGIC) + 4, len(data))
    return nodes


def _decode_list(data: bytes, pos: int, end: int) -> tuple[list[Node], int]:
    nodes: list[Node] = []
    while pos < end:
        end_off, n_props, _, name_len = struct.unpack_from("<IIIB", data, pos)
        if end_off == 0:  # null record
            return nodes, pos + 13
        pos += 13
        name = data[pos : pos + name_len].decode("ascii")
        pos += name_len
        props = []
        for _ in range(n_props):
            p, pos = _decode_prop(data, pos)
            props.append(p)
        node = Node(name, props)
        if pos < end_off:
            node.children, pos = _decode_list(data, pos, end_off)
        if pos != end_off:
            raise ValueError(f"node {name}: record ends at {pos}, header says {end_off}")
        nodes.append(node)
    return nodes, pos


_DTYPES = {b"f": "<f4", b"d": "<f8", b"l": "<i8", b"i": "<i4", b"b": "?"}


def _decode_prop(data: bytes, pos: int) -> tuple[Prop, int]:
    code = data[pos : pos + 1]
    pos += 1
    if code in _PACK_SCALAR:
        fmt = _PACK_SCALAR[code]
        return Prop(code, struct.unpack_from(fmt, data, pos)[0]), pos + struct.calcsize(fmt)
    if code in (b"S", b"R"):
        (n,) = struct.unpack_from("<I", data, pos)
        return Prop(code, data[pos + 4 : pos + 4 + n]), pos + 4 + n
    if code in _DTYPES:
        count, encoding, n = struct.unpack_from("<III", data, pos)
        blob = data[pos + 12 : pos + 12 + n]
        if encoding == 1:
            blob = zlib.decompress(blob)
        a = np.frombuffer(blob, dtype=_DTYPES[code])
        if a.size != count:
            raise ValueError(f"array of {a.size} values, header says {count}")
        return Prop(code, a), pos + 12 + n
    raise ValueError(f"unknown FBX property type {code!r} at {pos - 1}")

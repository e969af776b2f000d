"""safetensors framing (docs/kv-protocol.md, "Frames"): u64 little-endian
header length N, N bytes of UTF-8 JSON header, then the data buffer that the
tensors must tile exactly.

The parser never trusts the header: every declared size is checked against
the bytes actually present before anything is read, so a header claiming a
terabyte tensor fails without allocating it. The same rules and messages as
the edge's parser (protocol/safetensors.ts), so both sides refuse alike.
"""
import json
import math
import struct
from dataclasses import dataclass

import numpy as np

DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "U64": 8, "I32": 4, "U32": 4, "I16": 2, "U16": 2, "I8": 1, "U8": 1, "BOOL": 1}
NUMPY_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "U64": "<u8", "I32": "<i4", "U32": "<u4", "I16": "<i2", "U16": "<u2", "I8": "i1", "U8": "u1", "BOOL": "?"}


class SafetensorsError(ValueError):
    """The bytes are not a valid frame; the message says exactly what is wrong."""


@dataclass
class Tensor:
    dtype: str
    shape: list
    data: memoryview  # the tensor's bytes, a view into the parsed buffer

    def numpy(self) -> np.ndarray:
        """A copy as a numpy array of the tensor's shape (BF16 as its raw uint16 bits)."""
        kind = "<u2" if self.dtype == "BF16" else NUMPY_DTYPES[self.dtype]
        return np.frombuffer(self.data, dtype=kind).reshape(self.shape).copy()


@dataclass
class SafetensorsFile:
    tensors: dict
    metadata: dict


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def strict_json(text: str):
    """json.loads without the NaN/Infinity extensions (JSON.parse refuses them too)."""
    return json.loads(text, parse_constant=_reject_constant)


def _is_int(v) -> bool:
    return type(v) is int or (type(v) is float and v.is_integer())


def header_length(prefix: bytes, total: int, max_header: int) -> int:
    if total < 8:
        raise SafetensorsError(f"truncated frame: {total} bytes, need at least 8 for the header length")
    n = struct.unpack_from("<Q", prefix, 0)[0]
    if n > max_header:
        raise SafetensorsError(f"header length {n} exceeds the limit of {max_header} bytes")
    if 8 + n > total:
        raise SafetensorsError(f"truncated frame: header declares {n} bytes but only {total - 8} follow")
    return n


def parse_safetensors(buf, max_header: int = 16 << 20, max_tensors: int = 65536, allow_non_finite: bool = False) -> SafetensorsFile:
    """Parse one frame held in `buf` (bytes, bytearray, memoryview or mmap)."""
    view = memoryview(buf).cast("B")
    n = header_length(bytes(view[:8]), len(view), max_header)
    try:
        header = strict_json(bytes(view[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorsError(f"header is not valid UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError("header must be a JSON object")
    data = view[8 + n:]
    metadata, entries = {}, []
    for name, raw in header.items():
        if name == "__metadata__":
            if not isinstance(raw, dict):
                raise SafetensorsError("__metadata__ must be an object of strings")
            for k, v in raw.items():
                if not isinstance(v, str):
                    raise SafetensorsError(f"__metadata__.{k} must be a string")
                metadata[k] = v
            continue
        if len(entries) >= max_tensors:
            raise SafetensorsError(f"more than {max_tensors} tensors")
        entries.append((name, *_check_entry(name, raw, len(data))))
    cursor = 0
    for name, _, _, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin < cursor:
            raise SafetensorsError(f'tensor "{name}" overlaps the previous tensor (begins at {begin}, previous ends at {cursor})')
        if begin > cursor:
            raise SafetensorsError(f'hole in the data buffer before tensor "{name}" ({cursor}..{begin})')
        cursor = end
    if cursor != len(data):
        raise SafetensorsError(f"data buffer has {len(data) - cursor} trailing bytes not covered by any tensor")
    tensors = {}
    for name, dtype, shape, begin, end in entries:
        t = Tensor(dtype, shape, data[begin:end])
        if not allow_non_finite:
            bad = first_non_finite(t)
            if bad >= 0:
                raise SafetensorsError(f'tensor "{name}" has a non-finite value at element {bad}')
        tensors[name] = t
    return SafetensorsFile(tensors, metadata)


def _check_entry(name: str, raw, data_bytes: int):
    if not isinstance(raw, dict):
        raise SafetensorsError(f'tensor "{name}": entry must be an object')
    dtype, shape, offsets = raw.get("dtype"), raw.get("shape"), raw.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        raise SafetensorsError(f'tensor "{name}": unknown dtype {json.dumps(dtype)}')
    if not isinstance(shape, list) or len(shape) > 8:
        raise SafetensorsError(f'tensor "{name}": shape must be an array of at most 8 dimensions')
    for s in shape:
        if not _is_int(s) or s < 0 or s > 2**53:
            raise SafetensorsError(f'tensor "{name}": shape entries must be non-negative integers, got {json.dumps(s)}')
    shape = [int(s) for s in shape]
    size = DTYPE_BYTES[dtype]
    elems = 0 if 0 in shape else 1
    for s in shape:
        if elems == 0:
            break
        elems *= s
        # Bounded by the bytes actually present at every step.
        if elems * size > data_bytes:
            raise SafetensorsError(f'tensor "{name}": shape {json.dumps(shape, separators=(",", ":"))} of {dtype} needs more bytes than the {data_bytes}-byte data buffer holds')
    if not isinstance(offsets, list) or len(offsets) != 2:
        raise SafetensorsError(f'tensor "{name}": data_offsets must be [begin, end]')
    begin, end = offsets
    if not _is_int(begin) or not _is_int(end) or begin < 0 or end < begin:
        raise SafetensorsError(f'tensor "{name}": data_offsets {json.dumps(offsets)} must be integers with 0 ≤ begin ≤ end')
    begin, end = int(begin), int(end)
    if end > data_bytes:
        raise SafetensorsError(f'tensor "{name}": data_offsets end {end} is past the end of the {data_bytes}-byte data buffer')
    if end - begin != elems * size:
        raise SafetensorsError(f'tensor "{name}": {end - begin} bytes for {dtype} {json.dumps(shape, separators=(",", ":"))}, expected {elems * size}')
    return dtype, shape, begin, end


def first_non_finite(t: Tensor) -> int:
    """Index of the first NaN/±Inf element of a float tensor, else -1."""
    if t.dtype in ("F32", "F64", "F16"):
        bad = ~np.isfinite(np.frombuffer(t.data, dtype=NUMPY_DTYPES[t.dtype]))
    elif t.dtype == "BF16":
        bad = (np.frombuffer(t.data, dtype="<u2") & 0x7F80) == 0x7F80
    else:
        return -1
    idx = np.flatnonzero(bad)
    return int(idx[0]) if idx.size else -1


def require_tensor(f: SafetensorsFile, name: str, dtype: str, shape=None) -> Tensor:
    """A named tensor, or an error naming what is missing or wrong (None in `shape` matches any size)."""
    t = f.tensors.get(name)
    if t is None:
        raise SafetensorsError(f'missing tensor "{name}"')
    if t.dtype != dtype:
        raise SafetensorsError(f'tensor "{name}" has dtype {t.dtype}, expected {dtype}')
    if shape is not None and (len(shape) != len(t.shape) or any(s is not None and s != d for s, d in zip(shape, t.shape))):
        want = ",".join('"*"' if s is None else str(s) for s in shape)
        got = ",".join(str(d) for d in t.shape)
        raise SafetensorsError(f'tensor "{name}" has shape [{got}], expected [{want}]')
    return t


def write_safetensors(tensors, metadata=None) -> bytes:
    """Encode [(name, dtype, shape, bytes-like)] in order plus string metadata; header space-padded to 8 bytes."""
    header, offset, parts = {}, 0, []
    if metadata:
        header["__metadata__"] = dict(metadata)
    for name, dtype, shape, data in tensors:
        raw = memoryview(data).cast("B")
        want = math.prod(shape) * DTYPE_BYTES[dtype]
        if len(raw) != want:
            raise SafetensorsError(f'tensor "{name}": {len(raw)} bytes for {dtype} {list(shape)}, expected {want}')
        header[name] = {"dtype": dtype, "shape": [int(s) for s in shape], "data_offsets": [offset, offset + want]}
        offset += want
        parts.append(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return b"".join([struct.pack("<Q", len(text)), text, *parts])

"""KV caches inside a safetensors frame (docs/kv-protocol.md, "KV tensors"):
per layer l and KV head h, kv.{l}.{h}.positions I32 [n] and keys/values F32
[n, head_dim], or in the int8 encoding keys.q U8 [n, head_dim] with
keys.scales / keys.zeros F32 [⌈n·head_dim/G⌉] (x ≈ q·scale + zero per group
of G consecutive values, the scheme of wasm/oracle/quantize.ts)."""
import math

import numpy as np
import torch

from .errors import KvError, ProtocolError
from .kv import Cache, check_positions, layer_from_heads
from .safetensors import SafetensorsError, require_tensor

KV_GROUP_SIZES = (32, 64, 128)


def encoding_metadata(enc: dict) -> dict:
    return {"kv_dtype": "F32"} if enc["dtype"] == "F32" else {"kv_dtype": "int8", "kv_group_size": str(enc["group_size"])}


def quantize(x: np.ndarray, group: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group-wise asymmetric 8-bit codes, scales and zeros of a flat float32 array (round half to even)."""
    n = x.size
    groups = math.ceil(n / group)
    padded = np.pad(x.astype(np.float32), (0, groups * group - n), mode="edge" if n else "constant").reshape(groups, group)
    lo, hi = padded.min(1), padded.max(1)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        rng = (hi - lo).astype(np.float32)
        inverse = np.where(rng > 0, np.float32(255) / rng, np.float32(0)).astype(np.float32)
        codes = np.minimum(np.rint((padded - lo[:, None]) * inverse[:, None]), 255).astype(np.uint8)
    scale = (rng / np.float32(255)).astype(np.float32)
    return codes.reshape(-1)[:n], scale, lo.astype(np.float32)


def dequantize(q: np.ndarray, scales: np.ndarray, zeros: np.ndarray, group: int) -> np.ndarray:
    g = np.arange(q.size) // group
    return (q.astype(np.float32) * scales[g] + zeros[g]).astype(np.float32)


def kv_tensors(cache: Cache, enc: dict) -> list:
    """[(name, dtype, shape, bytes)] of a cache in layer, head order."""
    out = []
    for l, L in enumerate(cache):
        for h in range(len(L.positions)):
            pos, k, v = L.head(h)
            p, n = f"kv.{l}.{h}.", len(pos)
            out.append((p + "positions", "I32", [n], np.ascontiguousarray(pos, dtype="<i4").tobytes()))
            for part, x in (("keys", k), ("values", v)):
                arr = x.detach().to(torch.float32).cpu().numpy()
                d = arr.shape[1] if arr.ndim == 2 else 0
                if enc["dtype"] == "F32":
                    out.append((p + part, "F32", [n, d], arr.astype("<f4").tobytes()))
                    continue
                codes, scales, zeros = quantize(arr.reshape(-1), enc["group_size"])
                out += [(f"{p}{part}.q", "U8", [n, d], codes.tobytes()), (f"{p}{part}.scales", "F32", [scales.size], scales.tobytes()), (f"{p}{part}.zeros", "F32", [zeros.size], zeros.tobytes())]
    return out


def _encoding_of(meta: dict) -> dict:
    dtype = meta.get("kv_dtype", "F32")
    if dtype == "F32":
        return {"dtype": "F32"}
    if dtype != "int8":
        raise ProtocolError("invalid_kv", f'unknown kv_dtype "{dtype}" (expected "F32" or "int8")', "kv_dtype")
    g = meta.get("kv_group_size")
    if g not in [str(s) for s in KV_GROUP_SIZES]:
        raise ProtocolError("invalid_kv", f'kv_group_size must be one of {", ".join(map(str, KV_GROUP_SIZES))}, got "{g}"', "kv_group_size")
    return {"dtype": "int8", "group_size": int(g)}


def expected_names(layers: int, kv_heads: int, enc: dict) -> set:
    parts = ("keys", "values") if enc["dtype"] == "F32" else tuple(f"{p}.{s}" for p in ("keys", "values") for s in ("q", "scales", "zeros"))
    return {f"kv.{l}.{h}.{x}" for l in range(layers) for h in range(kv_heads) for x in ("positions", *parts)}


def read_kv(f, c, device, dtype) -> Cache | None:
    """The cache a frame carries, or None when it has no kv.* tensors; errors name the tensor."""
    names = [n for n in f.tensors if n.startswith("kv.")]
    if not names:
        return None
    enc = _encoding_of(f.metadata)
    expected = expected_names(c.layers, c.kv_heads, enc)
    for n in names:
        if n not in expected:
            raise ProtocolError("invalid_kv", f'unexpected tensor "{n}" (model has {c.layers} layers × {c.kv_heads} KV heads, kv_dtype {enc["dtype"]})', n)
    try:
        cache = []
        for l in range(c.layers):
            pos, keys, values = [], [], []
            for h in range(c.kv_heads):
                p = f"kv.{l}.{h}."
                positions = require_tensor(f, p + "positions", "I32", [None]).numpy()
                n = positions.size
                keys.append(_part(f, p + "keys", enc, n, c.head_dim))
                values.append(_part(f, p + "values", enc, n, c.head_dim))
                check_positions(positions, c.max_positions, f"kv layer {l} head {h}")
                pos.append(positions)
            cache.append(layer_from_heads(pos, keys, values, device, dtype))
        return cache
    except SafetensorsError as e:
        raise ProtocolError("invalid_kv", str(e)) from None
    except KvError as e:
        raise ProtocolError("invalid_positions", str(e)) from None


def _part(f, name: str, enc: dict, n: int, d: int) -> torch.Tensor:
    if enc["dtype"] == "F32":
        return torch.from_numpy(require_tensor(f, name, "F32", [n, d]).numpy())
    groups = math.ceil(n * d / enc["group_size"])
    q = require_tensor(f, name + ".q", "U8", [n, d]).numpy().reshape(-1)
    scales = require_tensor(f, name + ".scales", "F32", [groups]).numpy()
    zeros = require_tensor(f, name + ".zeros", "F32", [groups]).numpy()
    return torch.from_numpy(dequantize(q, scales, zeros, enc["group_size"]).reshape(n, d))

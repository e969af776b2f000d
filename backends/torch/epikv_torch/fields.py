"""Validation of request fields: each helper returns the typed value or raises
a ProtocolError naming the parameter (the rules of backend/protocol/fields.ts)."""
import json
import math

from .errors import invalid

SAFE = 2**53 - 1


def _int_like(x) -> bool:
    return (type(x) is int and -SAFE <= x <= SAFE) or (type(x) is float and x.is_integer() and abs(x) <= SAFE)


def _bound(v) -> str:
    return "∞" if v is None else str(v)


def as_object(v, name: str = "body") -> dict:
    if not isinstance(v, dict):
        invalid(f"{name} must be a JSON object", None if name == "body" else name)
    return v


def int_array(v, name: str, lo=None, hi=None, min_length: int = 0, max_length=None) -> list:
    if not isinstance(v, list):
        invalid(f"{name} must be an array of integers", name)
    if len(v) < min_length:
        invalid(f"{name} must have at least {min_length} entries", name)
    if max_length is not None and len(v) > max_length:
        invalid(f"{name} has {len(v)} entries, at most {max_length} allowed", name)
    for i, x in enumerate(v):
        if not _int_like(x) or (lo is not None and x < lo) or (hi is not None and x > hi):
            low = "-∞" if lo is None else str(lo)
            invalid(f"{name}[{i}] = {json.dumps(x)} must be an integer in [{low}, {_bound(hi)}]", name)
    return [int(x) for x in v]


def opt_int(v, name: str, lo: int, hi: int):
    if v is None:
        return None
    if not _int_like(v) or v < lo or v > hi:
        invalid(f"{name} must be an integer in [{lo}, {hi}]", name)
    return int(v)


def opt_number(v, name: str, lo: float, hi: float):
    if v is None:
        return None
    if type(v) not in (int, float) or not math.isfinite(v) or v < lo or v > hi:
        invalid(f"{name} must be a number in [{lo}, {hi}]", name)
    return float(v)


def opt_bool(v, name: str):
    if v is None:
        return None
    if type(v) is not bool:
        invalid(f"{name} must be a boolean", name)
    return v


def opt_string(v, name: str, max_length: int = 1 << 20):
    if v is None:
        return None
    if not isinstance(v, str) or len(v) > max_length:
        invalid(f"{name} must be a string of at most {max_length} characters", name)
    return v

"""A KV cache as the model uses it: per layer, the keys and values of every
KV head stacked as [kv_heads, n, head_dim] with a validity mask, plus each
head's retained absolute positions (docs/kv-protocol.md, "KV tensors").

Heads of one layer may retain different positions (AdaKV-style pooled
budgets); shorter heads are padded and the padding is masked out of
attention, which makes attending to a supplied subset exactly attention
masked to that subset. Layers grow in place with spare capacity, so a decode
step appends one entry instead of copying the cache.
"""
from dataclasses import dataclass, field

import numpy as np
import torch

from .errors import KvError


@dataclass
class KvLayer:
    keys: torch.Tensor  # [kv_heads, capacity, head_dim], post-RoPE
    values: torch.Tensor  # [kv_heads, capacity, head_dim]
    valid: torch.Tensor | None  # [kv_heads, capacity] bool, None when every slot below n is used
    head_positions: list  # per head, np.int32 array of its retained positions in slot order (see `positions`)
    n: int  # slots in use
    # Positions appended to every head since `head_positions` was last brought up to date: a decode step adds
    # one entry, and concatenating every head's positions per step would cost as much as the step.
    tail: list = field(default_factory=list)

    @property
    def positions(self) -> list:
        self.settle_positions()
        return self.head_positions

    def settle_positions(self) -> None:
        """Fold `tail` into every head's positions (call while the cache is private: this mutates it)."""
        if self.tail:
            extra = np.concatenate(self.tail)
            self.head_positions = [np.concatenate([p, extra]) for p in self.head_positions]
            self.tail = []

    def k(self) -> torch.Tensor:
        return self.keys[:, : self.n]

    def v(self) -> torch.Tensor:
        return self.values[:, : self.n]

    def mask(self) -> torch.Tensor | None:
        return None if self.valid is None else self.valid[:, : self.n]

    def head(self, h: int) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
        """(positions, keys [m, d], values [m, d]) of one head, padding dropped."""
        if self.valid is None:
            return self.positions[h], self.keys[h, : self.n], self.values[h, : self.n]
        idx = self.valid[h, : self.n]
        return self.positions[h], self.keys[h, : self.n][idx], self.values[h, : self.n][idx]

    def nbytes(self) -> int:
        extra = 0 if self.valid is None else self.valid.numel()
        return self.keys.numel() * self.keys.element_size() * 2 + extra + sum(p.nbytes for p in self.positions)

    def append(self, k: torch.Tensor, v: torch.Tensor, positions: np.ndarray) -> None:
        """Add T entries [kv_heads, T, d] at `positions` to every head, in place (grows by doubling)."""
        t = k.shape[1]
        if self.n + t > self.keys.shape[1]:
            self._grow(max(self.n + t, 2 * self.keys.shape[1]))
        self.keys[:, self.n : self.n + t] = k.to(self.keys.dtype)
        self.values[:, self.n : self.n + t] = v.to(self.values.dtype)
        if self.valid is not None:
            self.valid[:, self.n : self.n + t] = True
        self.tail.append(np.asarray(positions, dtype=np.int32))
        self.n += t

    def _grow(self, capacity: int) -> None:
        hk, _, d = self.keys.shape
        def bigger(x, shape):
            out = x.new_zeros(shape)
            out[:, : self.n] = x[:, : self.n]
            return out
        self.keys, self.values = bigger(self.keys, (hk, capacity, d)), bigger(self.values, (hk, capacity, d))
        if self.valid is not None:
            self.valid = bigger(self.valid, (hk, capacity))


Cache = list  # list[KvLayer], one per layer


def empty_cache(layers: int, kv_heads: int, head_dim: int, device, dtype) -> Cache:
    return [layer_from_heads([np.zeros(0, np.int32)] * kv_heads, [torch.zeros(0, head_dim)] * kv_heads, [torch.zeros(0, head_dim)] * kv_heads, device, dtype) for _ in range(layers)]


def layer_from_heads(positions: list, keys: list, values: list, device, dtype, spare: int = 0) -> KvLayer:
    """Stack per-head entries (float32 [m_h, d] each) into one padded layer with `spare` free slots."""
    hk, d = len(keys), keys[0].shape[1]
    n = max(len(p) for p in positions)
    K = torch.zeros((hk, n + spare, d), dtype=dtype, device=device)
    V = torch.zeros_like(K)
    ragged = any(len(p) != n for p in positions)
    valid = torch.zeros((hk, n + spare), dtype=torch.bool, device=device) if ragged else None
    for h in range(hk):
        m = len(positions[h])
        K[h, :m] = keys[h].to(device=device, dtype=dtype)
        V[h, :m] = values[h].to(device=device, dtype=dtype)
        if valid is not None:
            valid[h, :m] = True
    return KvLayer(K, V, valid, [np.asarray(p, dtype=np.int32) for p in positions], n)


def copy_with_room(cache: Cache, spare: int) -> Cache:
    """A private copy of `cache` with `spare` free slots per layer (pinned caches are shared, never appended to)."""
    out = []
    for L in cache:
        hk, _, d = L.keys.shape
        K = L.keys.new_zeros((hk, L.n + spare, d))
        V = torch.zeros_like(K)
        K[:, : L.n], V[:, : L.n] = L.k(), L.v()
        valid = None
        if L.valid is not None:
            valid = L.valid.new_zeros((hk, L.n + spare))
            valid[:, : L.n] = L.mask()
        out.append(KvLayer(K, V, valid, list(L.positions), L.n))
    return out


def concat(a: Cache, new: list) -> Cache:
    """`a` followed by new entries [(k, v, positions)] per layer, as a fresh cache."""
    out = copy_with_room(a, len(new[0][2]))
    for L, (k, v, pos) in zip(out, new):
        L.append(k, v, pos)
    return out


def last_position(cache: Cache) -> int:
    """The largest position in the cache, or -1 when empty."""
    return max((int(p[-1]) for L in cache for p in L.positions if len(p)), default=-1)


def entries(cache: Cache) -> int:
    return sum(len(p) for L in cache for p in L.positions)


def nbytes(cache: Cache) -> int:
    return sum(L.nbytes() for L in cache)


def check_positions(positions, max_positions: int, what: str) -> None:
    """Integers in [0, max_positions), strictly increasing; raises KvError (messages of backend/model/kv.ts)."""
    arr = np.asarray(positions, dtype=np.int64)
    out = np.flatnonzero((arr < 0) | (arr >= max_positions))
    if out.size:
        i = int(out[0])
        raise KvError(f"{what}: position {int(arr[i])} at index {i} is outside [0, {max_positions})")
    if arr.size > 1:
        bad = np.flatnonzero(np.diff(arr) <= 0)
        if bad.size:
            i = int(bad[0]) + 1
            raise KvError(f"{what}: positions must be strictly increasing ({int(arr[i - 1])} then {int(arr[i])} at index {i})")

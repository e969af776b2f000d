"""The decode loop (backend/model/generate.ts): feed the input tokens at
explicit positions against a cache, then sample one token at a time. Yields
each token; returns the KV of every token fed (input and generated, the
final one included when `kv_of_last`) and why it stopped. The cache is a
private copy with room for the whole run, appended in place."""
import random
from dataclasses import dataclass

import numpy as np
import torch

from .kv import Cache, KvLayer, copy_with_room


@dataclass
class DecodeResult:
    kv: Cache  # entries of every token fed, in every head
    full: Cache  # the supplied cache followed by `kv`
    finish_reason: str  # stop | length | cancelled
    next_position: int


def mulberry32(seed: int):
    """The project's seeded PRNG (wasm/oracle/mulberry32.ts), bit for bit."""
    state = seed & 0xFFFFFFFF

    def rand() -> float:
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + ((t ^ (t >> 7)) * (t | 61))) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return rand


def make_sampler(temperature: float, top_p: float | None = None, seed: int | None = None):
    """Greedy at temperature 0 (ties → lower id); else softmax(logits / T), nucleus-truncated, drawn as backend/model/sample.ts does."""
    if temperature == 0:
        return lambda logits: int(torch.argmax(logits).item())
    rand = mulberry32(seed if seed is not None else random.getrandbits(32))
    keep_p = 1.0 if top_p is None else top_p

    def sample(logits: torch.Tensor) -> int:
        x = logits.to(torch.float64).cpu().numpy()
        p = np.exp((x - x.max()) / temperature)
        order = sorted(range(len(p)), key=lambda i: (-p[i], i))
        total, acc, keep = float(p.sum()), 0.0, len(order)
        for i, idx in enumerate(order):
            acc += p[idx] / total
            if acc >= keep_p:
                keep = i + 1
                break
        kept = order[:keep]
        r = rand() * sum(p[i] for i in kept)
        for i in kept:
            r -= p[i]
            if r <= 0:
                return i
        return kept[-1]

    return sample


def tail(cache: Cache, start: int) -> Cache:
    """Slots from `start` on (entries appended after the supplied cache: every head holds all of them)."""
    out = []
    for L in cache:
        count = L.n - start
        out.append(KvLayer(L.k()[:, start:], L.v()[:, start:], None, [p[len(p) - count :] for p in L.positions], count))
    return out


def decode(model, tokens: list, positions: list, past: Cache, max_tokens: int, sampler, stop_tokens, kv_of_last: bool, cancelled=lambda: False):
    work = copy_with_room(past, len(tokens) + max_tokens + 1)
    start = work[0].n

    def step(ids, pos):
        with model.lock:
            return model.forward(ids, pos, work, append=True).logits[-1]

    logits = step(tokens, positions)
    nxt, finish = positions[-1] + 1, "length"
    for i in range(max_tokens):
        if nxt >= model.config.max_positions:
            break
        if cancelled():
            finish = "cancelled"
            break
        token = sampler(logits)
        yield token
        stop = token in stop_tokens
        if not (stop or i == max_tokens - 1) or kv_of_last:
            logits = step([token], [nxt])
            nxt += 1
        if stop:
            finish = "stop"
            break
    for L in work:
        L.settle_positions()  # while the cache is still private: it may be pinned and shared next
    return DecodeResult(tail(work, start), work, finish, nxt)

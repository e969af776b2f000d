"""Prepared GPU check of the torch backend (docs/torch-backend.md, "GPU check").

Builds a Llama-architecture model of realistic size with RANDOM weights (no
checkpoint can be downloaded where this is prepared; the speed of a forward
pass does not depend on the weights' values), serves it with the torch
backend's real HTTP server on loopback, and reports in one run:

- prefill tokens/s (one block) and decode tokens/s against a cache of N tokens;
- time to first token at N tokens of conversation, two ways:
  re-prefill: the whole history prefilled block by block (what a backend does
  when the edge resends the history as text), then the query;
  kv mode: the edge's compressed cache (EpiCache budget M entries per KV head,
  int8 frame, as the edge sends it) plus the query, first by bytes and then
  by pinned handle (the next turn).

Numbers are at the backend's HTTP interface; the edge is not on the GPU
machine and adds its own time on both paths.

Run (on the GPU machine, from the repository root):
  /usr/bin/python3 scripts/gpu/kv-check.py                 # llama-8b shape, 8k/32k/128k
  /usr/bin/python3 scripts/gpu/kv-check.py --size tiny --contexts 512,2048 --device cpu   # dry run
"""
import argparse
import json
import math
import os
import sys
import threading
import time
import urllib.request

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "backends", "torch"))
from epikv_torch.calls import Limits, State  # noqa: E402
from epikv_torch.config import ModelConfig  # noqa: E402
from epikv_torch.handles import KvHandleStore  # noqa: E402
from epikv_torch.kv import concat, empty_cache, layer_from_heads  # noqa: E402
from epikv_torch.kv_frame import encoding_metadata, kv_tensors  # noqa: E402
from epikv_torch.model import Model  # noqa: E402
from epikv_torch.safetensors import write_safetensors  # noqa: E402
from epikv_torch.server import App, make_server  # noqa: E402
from epikv_torch.tokenizer import ByteTokenizer  # noqa: E402
from epikv_torch.weights import load_model, weight_shapes  # noqa: E402

SIZES = {
    # The shape of Llama 3.1 8B (GQA 32/8, RoPE θ 500000 with llama3 scaling, 128k context).
    "llama-8b": dict(layers=32, d_model=4096, heads=32, kv_heads=8, head_dim=128, ffn_dim=14336, vocab_size=128256, rope_theta=500000.0,
                     rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}),
    # Qwen2.5 1.5B-like, for a quicker pass.
    "small-1b": dict(layers=28, d_model=1536, heads=12, kv_heads=2, head_dim=128, ffn_dim=8960, vocab_size=151936, rope_theta=1000000.0, rope_scaling={}),
    "tiny": dict(layers=4, d_model=64, heads=4, kv_heads=2, head_dim=16, ffn_dim=128, vocab_size=264, rope_theta=10000.0, rope_scaling={}),
}


def random_model(size: str, device, dtype) -> Model:
    c = ModelConfig(name=f"random-{size}", rms_eps=1e-5, max_positions=1 << 20, **SIZES[size])
    g = torch.Generator(device=device).manual_seed(0)
    weights = {}
    for name, shape in weight_shapes(c).items():
        if len(shape) == 1:
            weights[name] = torch.ones(shape, device=device, dtype=torch.float32)
        else:
            weights[name] = (torch.randn(shape, generator=g, device=device, dtype=dtype) * (1 / math.sqrt(shape[1]))).to(dtype)
    return Model(c, weights, ByteTokenizer(), device, dtype)


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def post(url: str, body, frame: bool = False, stream: bool = False) -> tuple[float, bytes]:
    """Seconds until the first token event (stream) or the whole reply, and the bytes read."""
    data = body if frame else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/x-safetensors" if frame else "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=3600) as res:
        if stream:
            line = res.readline()
            while line and not line.startswith(b"event: token"):
                line = res.readline()
            first = time.perf_counter() - t0
            rest = res.read()
            return first, line + rest
        out = res.read()
    return time.perf_counter() - t0, out


def tokens_of(n: int, seed: int) -> list:
    return np.random.default_rng(seed).integers(0, 256, n).tolist()


def reprefill(base: str, n: int, block: int, query: list) -> tuple[float, str]:
    """TTFT when the whole history is prefilled: blocks of `block` pinned under one handle, then the query."""
    t0, handle, pos = time.perf_counter(), None, 0
    while pos < n:
        size = min(block, n - pos)
        body = {"tokens": tokens_of(size, pos), "start_position": pos, "return_kv": False, "keep": {"ttl_s": 600}}
        if handle:
            body["kv_handle"] = handle
        _, raw = post(base + "/kv/v1/prefill", body)
        meta = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])["__metadata__"]
        handle = json.loads(meta["response"])["kv_handle"]
        pos += size
    prefilled = time.perf_counter() - t0
    first, _ = post(base + "/kv/v1/decode", {"kv_handle": handle, "tokens": query, "max_tokens": 1, "stream": True, "return_kv": False}, stream=True)
    return prefilled + first, handle


def compressed_frame(m: Model, n: int, budget: int, query: list, seed: int) -> bytes:
    """The edge's kv-mode request: per KV head, `budget` retained positions out of [0, n) with their KV, int8, plus the query."""
    c, rng = m.config, np.random.default_rng(seed)
    keep = min(budget, n)
    cache = []
    for _ in range(c.layers):
        pos = [np.sort(rng.choice(n, keep, replace=False)).astype(np.int32) for _ in range(c.kv_heads)]
        keys = [torch.randn(keep, c.head_dim) for _ in range(c.kv_heads)]
        vals = [torch.randn(keep, c.head_dim) for _ in range(c.kv_heads)]
        cache.append(layer_from_heads(pos, keys, vals, torch.device("cpu"), torch.float32))
    enc = {"dtype": "int8", "group_size": 64}
    request = {"tokens": query, "start_position": n, "max_tokens": 1, "stream": True, "return_kv": False, "keep": {"ttl_s": 600}}
    return write_safetensors(kv_tensors(cache, enc), {**encoding_metadata(enc), "protocol": "epikv-kv/1", "request": json.dumps(request)})


def device_parity(device) -> str:
    """epikv-tiny in float32 on `device` vs on the CPU (which the test suite checks against the reference backend)."""
    try:
        cpu, dev = (load_model("epikv-tiny", d, torch.float32) for d in (torch.device("cpu"), device))
    except ValueError as e:
        return f"skipped ({e})"
    toks, c = tokens_of(300, 5), cpu.config
    past = cpu.forward(toks[:200], list(range(200)), logits="none").kv
    a = cpu.forward(toks[200:], list(range(200, 300)), concat(empty_cache(c.layers, c.kv_heads, c.head_dim, "cpu", torch.float32), past))
    b = dev.forward(toks[200:], list(range(200, 300)), concat(empty_cache(c.layers, c.kv_heads, c.head_dim, device, torch.float32), [(k.to(device), v.to(device), p) for k, v, p in past]))
    return f"max |Δlogit| {(a.logits - b.logits.cpu()).abs().max().item():.2e} (float32, {device} vs cpu)"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="llama-8b", choices=list(SIZES))
    p.add_argument("--contexts", default="8192,32768,131072")
    p.add_argument("--block", type=int, default=8192, help="prefill block (the backend's max_input_tokens)")
    p.add_argument("--budget", type=int, default=4096, help="kv mode: retained entries per KV head")
    p.add_argument("--query", type=int, default=64, help="tokens of tail + question sent with the cache")
    p.add_argument("--decode-steps", type=int, default=32)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    p.add_argument("--out", default=None, help="also write the results as JSON here")
    a = p.parse_args()
    device, dtype = torch.device(a.device), getattr(torch, a.dtype)
    contexts = [int(x) for x in a.contexts.split(",")]
    env = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu", "size": a.size, "dtype": a.dtype}
    print(f"kv-check: {env}", flush=True)
    print(f"parity: {device_parity(device)}", flush=True)
    t0 = time.perf_counter()
    m = random_model(a.size, device, dtype)
    print(f"random {a.size} built in {time.perf_counter() - t0:.1f} s ({sum(w.numel() for w in m.w.values()) / 1e9:.2f} B parameters)", flush=True)

    # Prefill throughput: one block from scratch, after a warm-up.
    m.forward(tokens_of(min(a.block, 256), 1), list(range(min(a.block, 256))), logits="none")
    sync(device)
    t0 = time.perf_counter()
    m.forward(tokens_of(a.block, 2), list(range(a.block)), logits="last")
    sync(device)
    prefill_tps = a.block / (time.perf_counter() - t0)
    print(f"prefill: {prefill_tps:,.0f} tokens/s ({a.block}-token block)", flush=True)

    handle_bytes = 200 << 30 if device.type == "cuda" else 8 << 30
    state = State({m.config.name: m}, KvHandleStore(handle_bytes, 3600), Limits(max_input_tokens=a.block))
    httpd = make_server(App(state, max_body=16 << 30), "127.0.0.1", 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    query = tokens_of(a.query, 99)
    rows = []
    for n in contexts:
        full_ttft, handle = reprefill(base, n, a.block, query)
        one, _ = post(base + "/kv/v1/decode", {"kv_handle": handle, "tokens": query, "max_tokens": 1, "stop_tokens": [], "return_kv": False})
        many, _ = post(base + "/kv/v1/decode", {"kv_handle": handle, "tokens": query, "max_tokens": 1 + a.decode_steps, "stop_tokens": [], "return_kv": False})
        decode_tps = a.decode_steps / max(1e-9, many - one)
        state.handles.delete(handle)
        frame = compressed_frame(m, n, a.budget, query, n)
        kv_ttft, raw = post(base + "/kv/v1/decode", frame, frame=True, stream=True)
        done = json.loads(raw.split(b"event: done\ndata: ")[1].split(b"\n\n")[0])
        pinned_ttft, _ = post(base + "/kv/v1/decode", {"kv_handle": done["kv_handle"], "tokens": query, "max_tokens": 1, "stream": True, "return_kv": False}, stream=True)
        state.handles.delete(done["kv_handle"])
        row = {"context": n, "reprefill_ttft_s": full_ttft, "kv_ttft_s": kv_ttft, "kv_pinned_ttft_s": pinned_ttft, "frame_mb": len(frame) / 1e6, "decode_tps": decode_tps}
        rows.append(row)
        print(json.dumps(row), flush=True)
        if device.type == "cuda":
            torch.cuda.empty_cache()
    httpd.shutdown()
    print(f"\n{a.size} ({env['device']}, {a.dtype}, random weights); prefill {prefill_tps:,.0f} tokens/s; kv mode keeps {a.budget} entries per KV head (int8), query {a.query} tokens\n")
    print("| conversation tokens | re-prefill TTFT | kv mode TTFT (frame) | kv mode TTFT (pinned) | frame | speed-up (frame) | decode tokens/s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['context']:,} | {r['reprefill_ttft_s']:.2f} s | {r['kv_ttft_s']:.2f} s | {r['kv_pinned_ttft_s']:.3f} s | {r['frame_mb']:.0f} MB | {r['reprefill_ttft_s'] / r['kv_ttft_s']:.1f}× | {r['decode_tps']:.1f} |")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"env": env, "prefill_tps": prefill_tps, "budget": a.budget, "query": a.query, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()

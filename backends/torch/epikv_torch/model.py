"""The forward pass of a Llama-family decoder (RMSNorm, RoPE, grouped-query
attention, SwiGLU; Touvron et al. 2023 §2.2) over new tokens at explicit
absolute positions against a supplied KV cache: the algorithm of
backend/model/forward.ts in PyTorch.

New token t attends to every valid entry of its KV head's cache (all of
which precede the new tokens, checked by the caller) plus new tokens 0..t,
or with `block_size` B only to new tokens of its own block ⌊t/B⌋·B..t (the
profiling mask of docs/kv-protocol.md, "profile").

Precision: weights and matmuls in the model's dtype (float32 on CPU, bf16 or
fp16 on CUDA by choice); RMSNorm, RoPE, softmax and logits always in float32.
"""
import threading
from dataclasses import dataclass

import numpy as np
import torch

from .config import ModelConfig
from .kv import Cache
from .rope import apply_rope, inverse_frequencies, rotation

# Per device: bytes of attention scores one chunk of query rows may hold, and most rows per chunk.
SCORE_BUDGET = {"cpu": (256 << 20, 128), "cuda": (2 << 30, 1024)}


@dataclass
class ForwardOutput:
    kv: list  # per layer (keys [kv_heads, T, d], values [kv_heads, T, d], positions np.int32 [T])
    logits: torch.Tensor  # [rows, vocab] float32
    queries: list | None  # per layer [heads, T, d] float32, post-RoPE


class Model:
    def __init__(self, config: ModelConfig, weights: dict, tokenizer, device: torch.device, dtype: torch.dtype):
        self.config, self.tokenizer, self.device, self.dtype = config, tokenizer, device, dtype
        self.w = weights
        self.inv_freq = inverse_frequencies(config.head_dim, config.rope_theta, config.rope_scaling)
        self.kv_dtype = torch.float32 if dtype == torch.float32 else dtype
        # One forward at a time per model: requests run on threads, the device is shared.
        self.lock = threading.Lock()

    def _rms(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float32)
        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.config.rms_eps)
        return (y * weight.to(torch.float32)).to(self.dtype)

    def _proj(self, x: torch.Tensor, name: str) -> torch.Tensor:
        y = x @ self.w[name + ".weight"].T
        bias = self.w.get(name + ".bias")
        return y if bias is None else y + bias

    @torch.inference_mode()
    def forward(self, tokens, positions, past: Cache | None = None, logits: str = "last", capture_queries: bool = False, block_size: int | None = None, append: bool = False) -> ForwardOutput:
        """`append`: `past` is the caller's private cache; the new entries are added to it in place (no copy of the cache per step)."""
        c, dev = self.config, self.device
        T, H, Hk, d = len(tokens), c.heads, c.kv_heads, c.head_dim
        ids = torch.as_tensor(tokens, dtype=torch.long, device=dev)
        pos = np.asarray(positions, dtype=np.int32)
        cos, sin = rotation(torch.from_numpy(pos.astype(np.int64)), self.inv_freq, dev)
        x = self.w["model.embed_tokens.weight"][ids].to(torch.float32)
        kv, queries = [], [] if capture_queries else None
        for l in range(c.layers):
            p = f"model.layers.{l}."
            h = self._rms(x, self.w[p + "input_layernorm.weight"])
            q = apply_rope(self._proj(h, p + "self_attn.q_proj").view(T, H, d), cos, sin)
            k = apply_rope(self._proj(h, p + "self_attn.k_proj").view(T, Hk, d), cos, sin)
            v = self._proj(h, p + "self_attn.v_proj").view(T, Hk, d)
            k_new, v_new = k.transpose(0, 1).to(self.kv_dtype), v.transpose(0, 1).to(self.kv_dtype)
            kv.append((k_new, v_new, pos))
            if capture_queries:
                queries.append(q.transpose(0, 1).contiguous())
            layer = past[l] if past else None
            n = layer.n if layer is not None else 0
            if append:
                layer.append(k_new, v_new, pos)
                K, V, mask = layer.k(), layer.v(), layer.mask()
            elif n:
                K, V, mask = torch.cat([layer.k(), k_new], 1), torch.cat([layer.v(), v_new], 1), layer.mask()
            else:
                K, V, mask = k_new, v_new, None
            att = self._attend(q, K, V, n, None if mask is None else mask[:, :n], block_size)
            x = x + (att.reshape(T, H * d).to(self.dtype) @ self.w[p + "self_attn.o_proj.weight"].T).to(torch.float32)
            h = self._rms(x, self.w[p + "post_attention_layernorm.weight"])
            gate, up = self._proj(h, p + "mlp.gate_proj"), self._proj(h, p + "mlp.up_proj")
            x = x + (torch.nn.functional.silu(gate) * up @ self.w[p + "mlp.down_proj.weight"].T).to(torch.float32)
        rows = T if logits == "all" else 1 if logits == "last" else 0
        out = torch.zeros((0, c.vocab_size))
        if rows:
            h = self._rms(x[T - rows :], self.w["model.norm.weight"])
            out = (h @ self._lm_head().T).to(torch.float32)
        return ForwardOutput(kv, out, queries)

    def _lm_head(self) -> torch.Tensor:
        return self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])

    def _attend(self, q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, n: int, past_mask: torch.Tensor | None, block_size: int | None) -> torch.Tensor:
        """softmax(q·Kᵀ/√d)·V per GQA group; K, V [Hk, n + T, d] hold n cached entries (valid where `past_mask`)
        then the T new ones, attended causally (or within their block). Returns [T, H, d] float32."""
        c = self.config
        T, Hk, g, d = q.shape[0], c.kv_heads, c.group, c.head_dim
        work = torch.float32 if self.dtype == torch.float32 else self.dtype
        K, V = K.to(work), V.to(work)
        qg = q.view(T, Hk, g, d).permute(1, 2, 0, 3).to(work)  # [Hk, g, T, d]
        out = torch.empty((Hk, g, T, d), dtype=torch.float32, device=q.device)
        budget, max_rows = SCORE_BUDGET.get(q.device.type, SCORE_BUDGET["cpu"])
        # Chunks of query rows bound the score memory and skip most of the masked-out upper triangle.
        chunk = max(1, min(T, max_rows, budget // max(1, Hk * g * (n + T) * 4)))
        if block_size:
            chunk = min(chunk, block_size)
        cols = torch.arange(T, device=q.device)
        scale = d ** -0.5
        for t0, t1 in _row_chunks(T, chunk, block_size):
            lo = (t0 // block_size) * block_size if block_size else 0  # first new token any row of the chunk may see
            C = t1 - t0
            if n and lo:
                Kc, Vc = torch.cat([K[:, :n], K[:, n + lo : n + t1]], 1), torch.cat([V[:, :n], V[:, n + lo : n + t1]], 1)
            else:
                Kc, Vc = K[:, lo : n + t1], V[:, lo : n + t1]  # here n == 0 or lo == 0: a view, no copy
            N = Kc.shape[1]
            # Batched over KV heads: a GQA group's query rows share their head's keys.
            s = torch.bmm(qg[:, :, t0:t1].reshape(Hk, g * C, d), Kc.transpose(1, 2)).view(Hk, g, C, N).to(torch.float32) * scale
            rows, keys = cols[t0:t1, None], cols[None, lo:t1]
            allowed = keys <= rows
            if block_size:
                allowed = allowed & (keys >= (rows // block_size) * block_size)
            s[..., N - (t1 - lo) :].masked_fill_(~allowed, float("-inf"))
            if past_mask is not None:
                s[..., :n].masked_fill_(~past_mask[:, None, None, :], float("-inf"))
            p = torch.softmax(s, dim=-1)
            out[:, :, t0:t1] = torch.bmm(p.to(work).view(Hk, g * C, N), Vc).view(Hk, g, C, d).to(torch.float32)
        return out.permute(2, 0, 1, 3).reshape(T, Hk * g, d)


def _row_chunks(T: int, chunk: int, block_size: int | None):
    """[t0, t1) ranges of at most `chunk` rows; with a block size, none straddles a block boundary."""
    step = block_size or T
    for b0 in range(0, T, step):
        b1 = min(T, b0 + step)
        for t0 in range(b0, b1, chunk):
            yield t0, min(b1, t0 + chunk)

"""The reference backend's architecture in PyTorch (backend/model/forward.ts):
RMSNorm, RoPE (rotate-half, theta^(-2i/hd), angles in float64), grouped-query
attention, SwiGLU, untied LM head; tensor names and [out, in] layouts as the
Hugging Face Llama files the backend loads (backend/model/weights.ts).
PyTorch default initialisation throughout.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, positions, theta):
    """x: [B, H, T, hd]; rotate pairs (i, i + hd/2) by position * theta^(-2i/hd)."""
    hd = x.shape[-1]
    half = hd // 2
    inv = theta ** (-2.0 * torch.arange(half, dtype=torch.float64) / hd)
    ang = positions.to(torch.float64)[:, None] * inv[None, :]
    cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        D, H, Hk, hd, Fd = c["dModel"], c["heads"], c["kvHeads"], c["headDim"], c["ffnDim"]
        self.c = c
        self.input_layernorm = RMSNorm(D, c["rmsEps"])
        self.q_proj = nn.Linear(D, H * hd, bias=False)
        self.k_proj = nn.Linear(D, Hk * hd, bias=False)
        self.v_proj = nn.Linear(D, Hk * hd, bias=False)
        self.o_proj = nn.Linear(H * hd, D, bias=False)
        self.post_attention_layernorm = RMSNorm(D, c["rmsEps"])
        self.gate_proj = nn.Linear(D, Fd, bias=False)
        self.up_proj = nn.Linear(D, Fd, bias=False)
        self.down_proj = nn.Linear(Fd, D, bias=False)

    def forward(self, x, positions, mask):
        c = self.c
        B, T, _ = x.shape
        H, Hk, hd = c["heads"], c["kvHeads"], c["headDim"]
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, H, hd).transpose(1, 2)
        k = self.k_proj(h).view(B, T, Hk, hd).transpose(1, 2)
        v = self.v_proj(h).view(B, T, Hk, hd).transpose(1, 2)
        q, k = rope(q, positions, c["ropeTheta"]), rope(k, positions, c["ropeTheta"])
        k = k.repeat_interleave(H // Hk, dim=1)
        v = v.repeat_interleave(H // Hk, dim=1)
        att = (q @ k.transpose(-1, -2)) / hd ** 0.5
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, H * hd)
        x = x + self.o_proj(o)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class RecallModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocabSize"], c["dModel"])
        self.layers = nn.ModuleList([Layer(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["dModel"], c["rmsEps"])
        self.lm_head = nn.Linear(c["dModel"], c["vocabSize"], bias=False)

    def forward(self, tokens):
        T = tokens.shape[1]
        positions = torch.arange(T)
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        x = self.embed_tokens(tokens)
        for layer in self.layers:
            x = layer(x, positions, mask)
        return self.lm_head(self.norm(x))

    def named_for_export(self):
        """(name, tensor) in the backend's file order (backend/model/weights.ts weightLayout)."""
        out = [("model.embed_tokens.weight", self.embed_tokens.weight)]
        for i, L in enumerate(self.layers):
            p = "model.layers.%d." % i
            out += [
                (p + "input_layernorm.weight", L.input_layernorm.weight),
                (p + "self_attn.q_proj.weight", L.q_proj.weight),
                (p + "self_attn.k_proj.weight", L.k_proj.weight),
                (p + "self_attn.v_proj.weight", L.v_proj.weight),
                (p + "self_attn.o_proj.weight", L.o_proj.weight),
                (p + "post_attention_layernorm.weight", L.post_attention_layernorm.weight),
                (p + "mlp.gate_proj.weight", L.gate_proj.weight),
                (p + "mlp.up_proj.weight", L.up_proj.weight),
                (p + "mlp.down_proj.weight", L.down_proj.weight),
            ]
        return out + [("model.norm.weight", self.norm.weight), ("lm_head.weight", self.lm_head.weight)]

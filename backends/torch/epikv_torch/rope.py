"""Rotary position embedding, Llama "rotate half" pairing (i, i + d/2)
(Su et al. 2021, RoFormer §3.4), with the frequency scalings Hugging Face
configs name in rope_scaling. Angles are computed in float64: positions reach
2^20 and more, where float32 would lose phase (the choice of
wasm/oracle/model/rope.ts, whose results these match).

Keys travel post-RoPE at their absolute positions (docs/kv-protocol.md), so a
scaling whose frequencies depend on the current sequence length (dynamic NTK)
would make a stored key wrong once the conversation grows: refused.
"""
import math

import torch


def inverse_frequencies(head_dim: int, theta: float, scaling: dict) -> torch.Tensor:
    """θ^(−2i/d) for i < d/2, float64, adjusted by `scaling` (a config's rope_scaling)."""
    base = torch.tensor([theta ** (-2 * i / head_dim) for i in range(head_dim // 2)], dtype=torch.float64)
    kind = scaling.get("rope_type", scaling.get("type", "default")) if scaling else "default"
    if kind == "default":
        return base
    factor = float(scaling["factor"])
    if kind == "linear":
        return base / factor
    if kind == "llama3":
        return _llama3(base, factor, scaling)
    raise ValueError(f'rope_scaling type "{kind}" is not supported (supported: default, linear, llama3)')


def _llama3(inv: torch.Tensor, factor: float, s: dict) -> torch.Tensor:
    """Llama 3.1 scaling: long wavelengths divided by `factor`, short ones kept, a smooth blend between."""
    low, high = float(s.get("low_freq_factor", 1.0)), float(s.get("high_freq_factor", 4.0))
    old = float(s.get("original_max_position_embeddings", 8192))
    wavelen = 2 * math.pi / inv
    smooth = ((old / wavelen) - low) / (high - low)
    blended = (1 - smooth) * inv / factor + smooth * inv
    out = torch.where(wavelen > old / low, inv / factor, blended)
    return torch.where(wavelen < old / high, inv, out)


def rotation(positions: torch.Tensor, inv_freq: torch.Tensor, device) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin [T, d/2] in float32 for int positions [T]."""
    angles = positions.to(torch.float64).cpu()[:, None] * inv_freq[None, :]
    return torch.cos(angles).to(torch.float32).to(device), torch.sin(angles).to(torch.float32).to(device)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [T, heads, d] rotated in float32; returns float32."""
    half = x.shape[-1] // 2
    x = x.to(torch.float32)
    a, b = x[..., :half], x[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]
    return torch.cat([a * c - b * s, a * s + b * c], dim=-1)

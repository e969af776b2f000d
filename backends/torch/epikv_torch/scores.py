"""EpiCache scoring (arXiv 2509.17396 §3; docs/kv-protocol.md, prefill
`return_scores`): for layer l and KV head h with cached keys K (the prompt's
own tokens excluded), A = softmax(Q·Kᵀ/√d) over K for every query row of
the representative prompt and every query head of h's GQA group; a key's
score is the max of A over those rows. Float32 throughout."""
import torch

from .kv import Cache


@torch.inference_mode()
def max_attention_scores(config, queries: list, cache: Cache) -> list:
    """queries: per layer [heads, P, d] post-RoPE. Returns per layer, per KV head, a float32 [n_h] tensor."""
    Hk, g, d = config.kv_heads, config.group, config.head_dim
    out = []
    for Q, L in zip(queries, cache):
        P = Q.shape[1]
        K = L.k().to(torch.float32)  # [Hk, n, d]
        s = (Q.view(Hk, g * P, d) @ K.transpose(-1, -2)) * d**-0.5  # [Hk, g·P, n]
        mask = L.mask()
        if mask is not None:
            s.masked_fill_(~mask[:, None, :], float("-inf"))
        best = torch.softmax(s, dim=-1).amax(dim=1) if L.n else s.new_zeros((Hk, 0))
        out.append([best[h] if mask is None else best[h][mask[h]] for h in range(Hk)])
    return out

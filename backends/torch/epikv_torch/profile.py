"""Per-layer sensitivity to block-wise prefill (docs/kv-protocol.md,
"profile"): s_l is the mean, over KV heads, windows and tokens after the
first block, of the cosine between a token's post-RoPE key under full causal
attention and under the block-restricted mask (token t sees only tokens of
its own block of B). 1 means the layer is unaffected."""
import torch

from .calls import PROTOCOL, pick_model
from .errors import invalid
from .fields import int_array, opt_int, opt_string


@torch.inference_mode()
def profile_sensitivity(model, windows: list, block_size: int) -> dict:
    c = model.config
    sums = torch.zeros((c.layers, c.kv_heads), dtype=torch.float64)
    counted = 0
    for tokens in windows:
        if len(tokens) <= block_size:
            continue
        positions = list(range(len(tokens)))
        with model.lock:
            full = model.forward(tokens, positions, logits="none").kv
            block = model.forward(tokens, positions, logits="none", block_size=block_size).kv
        for l in range(c.layers):
            a = full[l][0][:, block_size:].to(torch.float32)
            b = block[l][0][:, block_size:].to(torch.float32)
            cos = (a * b).sum(-1) / torch.sqrt((a * a).sum(-1) * (b * b).sum(-1))
            sums[l] += torch.nan_to_num(cos, nan=0.0).to(torch.float64).sum(-1).cpu()
        counted += len(tokens) - block_size
    per_head = (sums / counted).tolist() if counted else [[float("nan")] * c.kv_heads for _ in range(c.layers)]
    return {"sensitivity": [sum(r) / len(r) for r in per_head], "per_head": per_head, "tokens": counted}


def profile_call(state, body: dict) -> dict:
    """`POST /kv/v1/profile`: {windows | texts, block_size} → sensitivity per layer and per KV head."""
    m = pick_model(state, body.get("model"))
    c, limit = m.config, state.limits.max_profile_tokens
    block = opt_int(body.get("block_size"), "block_size", 1, limit)
    if block is None:
        invalid("block_size is required", "block_size")
    if body.get("windows") is not None:
        if not isinstance(body["windows"], list) or not body["windows"]:
            invalid("windows must be a non-empty array of token arrays", "windows")
        windows = [int_array(w, f"windows[{i}]", 0, c.vocab_size - 1, max_length=limit) for i, w in enumerate(body["windows"])]
    elif body.get("texts") is not None:
        if not isinstance(body["texts"], list) or not body["texts"]:
            invalid("texts must be a non-empty array of strings", "texts")
        windows = [m.tokenizer.encode(opt_string(t, f"texts[{i}]") or "") for i, t in enumerate(body["texts"])]
    else:
        invalid("give windows (token arrays) or texts", "windows")
    total = sum(len(w) for w in windows)
    if total > limit:
        invalid(f"profiling windows hold {total} tokens, at most {limit} allowed", "windows")
    if all(len(w) <= block for w in windows):
        invalid(f"every window is at most block_size ({block}) tokens; sensitivity needs tokens beyond the first block", "block_size")
    p = profile_sensitivity(m, windows, block)
    return {"protocol": PROTOCOL, "model": c.name, "block_size": block, "windows": len(windows), "tokens": p["tokens"], "sensitivity": p["sensitivity"], "per_head": p["per_head"]}

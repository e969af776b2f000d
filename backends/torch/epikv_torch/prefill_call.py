"""`POST /kv/v1/prefill` (docs/kv-protocol.md): a block against supplied KV,
with the block's KV, logits, block queries, and representative prompts'
queries and max-attention scores (EpiCache steps 4–5) on request."""
import functools

import numpy as np

from .calls import PROTOCOL, FrameReply, State, keep_kv, kv_encoding, pick_model, resolve_past, resolve_positions
from .errors import ProtocolError, invalid
from .fields import as_object, int_array, opt_bool
from .kv import Cache, KvLayer, concat, entries
from .kv_frame import encoding_metadata, kv_tensors
from .scores import max_attention_scores


def _f32(x) -> bytes:
    return x.detach().float().contiguous().cpu().numpy().astype("<f4").tobytes()


def prefill_call(state: State, body: dict, kv: Cache | None) -> FrameReply:
    m = pick_model(state, body.get("model"))
    c, L = m.config, state.limits
    tokens = int_array(body.get("tokens"), "tokens", 0, c.vocab_size - 1, 1, L.max_input_tokens)
    past = resolve_past(state, m, body, kv)
    positions = resolve_positions(m, body, len(tokens), past)
    prompts_raw = body.get("prompts") or []
    if not isinstance(prompts_raw, list) or len(prompts_raw) > L.max_prompts:
        invalid(f"prompts must be an array of at most {L.max_prompts} {{tokens}}", "prompts")
    prompts = [int_array(as_object(p, f"prompts[{i}]").get("tokens"), f"prompts[{i}].tokens", 0, c.vocab_size - 1, 1, L.max_prompt_tokens) for i, p in enumerate(prompts_raw)]
    want_queries = opt_bool(body.get("return_queries"), "return_queries")
    want_queries = len(prompts) > 0 if want_queries is None else want_queries
    want_scores = bool(opt_bool(body.get("return_scores"), "return_scores"))
    want_kv = opt_bool(body.get("return_kv"), "return_kv") is not False
    want_block_queries = bool(opt_bool(body.get("return_block_queries"), "return_block_queries"))
    logits_mode = body.get("return_logits", "none") or "none"
    if logits_mode not in ("none", "last"):
        invalid('return_logits must be "none" or "last"', "return_logits")
    enc = kv_encoding(body.get("kv_encoding"))

    with m.lock:
        out = m.forward(tokens, positions, past, logits=logits_mode, capture_queries=want_block_queries)
    @functools.cache
    def cache() -> Cache:
        """Supplied + block KV, built once and only when prompts or `keep` need it (a copy of the whole cache)."""
        return concat(past, out.kv)

    block_kv = [_block_layer(k, v, p) for k, v, p in out.kv]
    tensors = kv_tensors(block_kv, enc) if want_kv else []
    if want_block_queries:
        tensors += [(f"block.queries.{l}", "F32", [c.heads, len(tokens), c.head_dim], _f32(q)) for l, q in enumerate(out.queries)]
    if logits_mode == "last":
        tensors.append(("logits", "F32", [1, c.vocab_size], _f32(out.logits)))
    info, after = [], positions[-1] + 1
    for i, p in enumerate(prompts):
        if after + len(p) > c.max_positions:
            raise ProtocolError("invalid_positions", f"prompts[{i}] would run past max_positions {c.max_positions}", "prompts")
        with m.lock:
            run = m.forward(p, list(range(after, after + len(p))), cache(), logits="none", capture_queries=True)
        if want_queries:
            tensors += [(f"prompt.{i}.queries.{l}", "F32", [c.heads, len(p), c.head_dim], _f32(q)) for l, q in enumerate(run.queries)]
        if want_scores:
            for l, layer in enumerate(max_attention_scores(c, run.queries, cache())):
                tensors += [(f"prompt.{i}.scores.{l}.{h}", "F32", [s.numel()], _f32(s)) for h, s in enumerate(layer)]
        info.append({"tokens": len(p), "first_position": after, "last_position": after + len(p) - 1})
    response = {
        "protocol": PROTOCOL, "model": c.name, "first_position": positions[0], "last_position": positions[-1], "tokens": len(tokens), "prompts": info,
        **keep_kv(state, m, body, cache),
        "usage": {"prompt_tokens": len(tokens) + sum(len(p) for p in prompts), "cached_entries": entries(past)},
    }
    return FrameReply(tensors, encoding_metadata(enc) if want_kv else {}, response)


def _block_layer(k, v, positions):
    return KvLayer(k, v, None, [np.asarray(positions, dtype=np.int32)] * k.shape[0], k.shape[1])

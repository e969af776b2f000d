"""`POST /kv/v1/decode` (docs/kv-protocol.md): generate against supplied KV.
The session validates everything before the first token, so a streaming
reply only commits to 200 once the request is known to be good."""
from dataclasses import dataclass

from .calls import DEFAULT_MAX_TOKENS, PROTOCOL, FrameReply, State, keep_kv, kv_encoding, pick_model, resolve_past, resolve_positions
from .fields import int_array, opt_bool, opt_int, opt_number
from .generate import decode, make_sampler
from .kv import entries
from .kv_frame import encoding_metadata, kv_tensors


@dataclass
class DecodeSession:
    model: object
    stream: bool
    tokens: object  # generator of token ids, returning a DecodeResult
    finish: object  # (DecodeResult, generated ids) → FrameReply


def decode_call(state: State, body: dict, kv, cancelled=lambda: False) -> DecodeSession:
    m = pick_model(state, body.get("model"))
    c, L = m.config, state.limits
    inputs = int_array(body.get("tokens"), "tokens", 0, c.vocab_size - 1, 1, L.max_input_tokens)
    past = resolve_past(state, m, body, kv)
    positions = resolve_positions(m, body, len(inputs), past)
    max_tokens = opt_int(body.get("max_tokens"), "max_tokens", 0, L.max_new_tokens)
    max_tokens = DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens
    temperature = opt_number(body.get("temperature"), "temperature", 0, 2) or 0.0
    top_p = opt_number(body.get("top_p"), "top_p", 0, 1)
    seed = opt_int(body.get("seed"), "seed", 0, 2**32 - 1)
    stops = list(m.tokenizer.stop_tokens) if body.get("stop_tokens") is None else int_array(body["stop_tokens"], "stop_tokens", 0, c.vocab_size - 1, max_length=64)
    want_kv = opt_bool(body.get("return_kv"), "return_kv") is not False
    stream = bool(opt_bool(body.get("stream"), "stream"))
    enc = kv_encoding(body.get("kv_encoding"))
    tokens = decode(m, inputs, positions, past, max_tokens, make_sampler(temperature, top_p, seed), stops, True, cancelled)

    def finish(result, generated: list) -> FrameReply:
        response = {
            "protocol": PROTOCOL, "model": c.name, "tokens": generated, "text": m.tokenizer.decode(generated),
            "finish_reason": result.finish_reason, "first_position": positions[0], "next_position": result.next_position,
            **keep_kv(state, m, body, lambda: result.full),
            "usage": {"prompt_tokens": len(inputs), "completion_tokens": len(generated), "total_tokens": len(inputs) + len(generated), "cached_entries": entries(past)},
        }
        return FrameReply(kv_tensors(result.kv, enc) if want_kv else [], encoding_metadata(enc) if want_kv else {}, response)

    return DecodeSession(m, stream, tokens, finish)

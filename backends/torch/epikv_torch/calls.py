"""The calls of the KV protocol (docs/kv-protocol.md), independent of HTTP:
each takes the decoded request (JSON fields, plus the cache its frame
carried) and returns JSON and tensors; server.py does the transport. The
field rules and messages are those of backend/protocol/calls.ts."""
import datetime
from dataclasses import dataclass, field

from .errors import KvError, ProtocolError, invalid
from .fields import as_object, int_array, opt_bool, opt_int, opt_number, opt_string
from .kv import Cache, check_positions, empty_cache, last_position
from .kv_frame import KV_GROUP_SIZES
from .tokenizer import ROLES

PROTOCOL = "epikv-kv/1"
DEFAULT_MAX_TOKENS = 128


@dataclass
class Limits:
    max_input_tokens: int = 8192
    max_new_tokens: int = 4096
    max_prompts: int = 16
    max_prompt_tokens: int = 4096
    max_profile_tokens: int = 16384


@dataclass
class State:
    models: dict  # name → Model, the first is the default
    handles: object  # KvHandleStore
    limits: Limits = field(default_factory=Limits)


@dataclass
class FrameReply:
    tensors: list  # [(name, dtype, shape, bytes)]
    metadata: dict
    response: dict


def pick_model(state: State, name):
    mid = opt_string(name, "model", 200) or next(iter(state.models))
    if mid not in state.models:
        raise ProtocolError("model_not_found", f'model "{mid}" is not served here (available: {", ".join(state.models)})', "model")
    return state.models[mid]


def model_metadata(m, state: State) -> dict:
    c, t, L = m.config, m.tokenizer, state.limits
    rope = {"type": (c.rope_scaling or {}).get("rope_type", (c.rope_scaling or {}).get("type", "default")), "theta": c.rope_theta, "pairing": "rotate_half"}
    if c.rope_scaling:
        rope["scaling"] = c.rope_scaling
    return {
        "protocol": PROTOCOL, "id": c.name, "object": "model", "architecture": c.architecture,
        "layers": c.layers, "heads": c.heads, "kv_heads": c.kv_heads, "head_dim": c.head_dim, "d_model": c.d_model, "ffn_dim": c.ffn_dim,
        "rope": rope, "rms_eps": c.rms_eps, "max_positions": c.max_positions, "vocab_size": c.vocab_size,
        "tokenizer": t.metadata(), "role_tokens": dict(t.role_tokens), "bos_token": t.chat_bos, "stop_tokens": list(t.stop_tokens),
        "role_prefixes": {r: list(p) for r, p in t.role_prefixes.items()}, "message_suffix": list(t.message_suffix),
        "chat_template": t.chat_template,
        "kv": {"encodings": ["F32", "int8"], "int8_group_sizes": list(KV_GROUP_SIZES), "keys": "post_rope"},
        "handles": {"max_ttl_s": state.handles.max_ttl_s},
        "limits": {"max_input_tokens": L.max_input_tokens, "max_new_tokens": L.max_new_tokens, "max_prompts": L.max_prompts, "max_prompt_tokens": L.max_prompt_tokens, "max_profile_tokens": L.max_profile_tokens},
        "device": str(m.device), "dtype": str(m.dtype).replace("torch.", ""),
    }


def parse_messages(v) -> list:
    if not isinstance(v, list) or not v:
        invalid("messages must be a non-empty array", "messages")
    out = []
    for i, raw in enumerate(v):
        m = as_object(raw, f"messages[{i}]")
        role = "system" if m.get("role") == "developer" else m.get("role")
        if role not in ROLES:
            invalid(f"messages[{i}].role must be one of {', '.join(ROLES)}, developer", f"messages[{i}].role")
        content = m.get("content")
        if isinstance(content, list):
            texts = []
            for j, p in enumerate(content):
                part = as_object(p, f"messages[{i}].content[{j}]")
                if part.get("type") != "text" or not isinstance(part.get("text"), str):
                    invalid(f'messages[{i}].content[{j}] must be {{"type":"text","text":…}}', f"messages[{i}].content")
                texts.append(part["text"])
            content = "".join(texts)
        if content is None:
            content = ""
        if not isinstance(content, str):
            invalid(f"messages[{i}].content must be a string or an array of text parts", f"messages[{i}].content")
        out.append({"role": role, "content": content})
    return out


def tokenize_call(state: State, body: dict) -> dict:
    m = pick_model(state, body.get("model"))
    if body.get("messages") is not None:
        gen = opt_bool(body.get("add_generation_prompt"), "add_generation_prompt")
        tokens = m.tokenizer.apply_chat(parse_messages(body["messages"]), True if gen is None else gen)
    else:
        text = opt_string(body.get("text"), "text")
        if text is None:
            invalid("give text or messages", "text")
        tokens = m.tokenizer.encode(text)
    return {"protocol": PROTOCOL, "model": m.config.name, "tokens": tokens, "count": len(tokens)}


def detokenize_call(state: State, body: dict) -> dict:
    m = pick_model(state, body.get("model"))
    tokens = int_array(body.get("tokens"), "tokens", 0, m.config.vocab_size - 1, max_length=1 << 20)
    return {"protocol": PROTOCOL, "model": m.config.name, "text": m.tokenizer.decode(tokens, bool(opt_bool(body.get("keep_special"), "keep_special")))}


def resolve_past(state: State, m, body: dict, kv: Cache | None) -> Cache:
    handle = opt_string(body.get("kv_handle"), "kv_handle", 200)
    if handle is not None and kv is not None:
        invalid("give either kv tensors or kv_handle, not both", "kv_handle")
    if handle is not None:
        return state.handles.get(m.config.name, handle)
    return kv if kv is not None else empty_cache(m.config.layers, m.config.kv_heads, m.config.head_dim, m.device, m.kv_dtype)


def resolve_positions(m, body: dict, count: int, past: Cache) -> list:
    c, last = m.config, last_position(past)
    if body.get("positions") is not None:
        positions = int_array(body["positions"], "positions", 0, c.max_positions - 1)
        if len(positions) != count:
            raise ProtocolError("invalid_positions", f"positions has {len(positions)} entries for {count} tokens", "positions")
    else:
        start = opt_int(body.get("start_position"), "start_position", 0, c.max_positions - 1)
        start = last + 1 if start is None else start
        positions = list(range(start, start + count))
    try:
        check_positions(positions, c.max_positions, "positions")
    except KvError as e:
        raise ProtocolError("invalid_positions", str(e), "positions") from None
    if positions[0] <= last:
        raise ProtocolError("invalid_positions", f"first position {positions[0]} is not after the supplied kv (last position {last})", "positions")
    return positions


def kv_encoding(v) -> dict:
    if v is None:
        return {"dtype": "F32"}
    o = as_object(v, "kv_encoding")
    if o.get("dtype") == "F32":
        return {"dtype": "F32"}
    if o.get("dtype") != "int8":
        invalid('kv_encoding.dtype must be "F32" or "int8"', "kv_encoding.dtype")
    g = o.get("group_size", 64)
    if type(g) is not int or g not in KV_GROUP_SIZES:
        invalid(f"kv_encoding.group_size must be one of {', '.join(map(str, KV_GROUP_SIZES))}", "kv_encoding.group_size")
    return {"dtype": "int8", "group_size": g}


def keep_kv(state: State, m, body: dict, full) -> dict:
    """keep: {ttl_s} pins `full()` under a handle (the request's own handle when it used one)."""
    if body.get("keep") is None:
        return {}
    keep = as_object(body["keep"], "keep")
    ttl = opt_number(keep.get("ttl_s"), "keep.ttl_s", 5e-324, state.handles.max_ttl_s)
    handle, expires = state.handles.put(m.config.name, full(), 300 if ttl is None else ttl, opt_string(body.get("kv_handle"), "kv_handle", 200))
    stamp = datetime.datetime.fromtimestamp(expires, datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"kv_handle": handle, "kv_handle_expires_at": stamp}

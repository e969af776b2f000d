"""OpenAI-compatible /v1/chat/completions over a served model, so epikv's
context mode (any OpenAI-compatible server) runs against this backend too
(backend/openai/chat.ts): the chat is templated, prefilled and decoded;
usage is reported; `stop` strings end the text without being returned.
Default temperature is 0 (greedy), as in the reference backend."""
import uuid
from dataclasses import dataclass

from .calls import DEFAULT_MAX_TOKENS, State, parse_messages, pick_model
from .errors import invalid
from .fields import as_object, opt_bool, opt_int, opt_number
from .generate import decode, make_sampler
from .kv import empty_cache


@dataclass
class ChatRun:
    model: str
    stream: bool
    include_usage: bool
    prompt_tokens: int
    deltas: object  # generator of text deltas; returns (finish_reason, completion_tokens)


def start_chat(state: State, body: dict, cancelled) -> ChatRun:
    m = pick_model(state, body.get("model"))
    messages = parse_messages(body.get("messages"))
    opt_int(body.get("n"), "n", 1, 1)
    limit = state.limits.max_new_tokens
    max_tokens = opt_int(body.get("max_completion_tokens"), "max_completion_tokens", 0, limit)
    if max_tokens is None:
        max_tokens = opt_int(body.get("max_tokens"), "max_tokens", 0, limit)
    max_tokens = DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens
    temperature = opt_number(body.get("temperature"), "temperature", 0, 2) or 0.0
    top_p = opt_number(body.get("top_p"), "top_p", 0, 1)
    seed = opt_int(body.get("seed"), "seed", -(2**31), 2**32 - 1)
    stream = bool(opt_bool(body.get("stream"), "stream"))
    include_usage = bool(opt_bool(as_object(body.get("stream_options") or {}, "stream_options").get("include_usage"), "stream_options.include_usage")) if stream else True
    stop = body.get("stop")
    stops = [] if stop is None else [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or len(stops) > 4 or any(not isinstance(s, str) or not s for s in stops):
        invalid("stop must be a non-empty string or an array of up to 4 such strings", "stop")
    try:
        prompt = m.tokenizer.apply_chat(messages, True)
    except ValueError as e:
        invalid(str(e), "messages")
    if len(prompt) > state.limits.max_input_tokens:
        invalid(f"the chat is {len(prompt)} tokens, at most {state.limits.max_input_tokens} allowed", "messages")
    c = m.config
    tokens = decode(m, prompt, list(range(len(prompt))), empty_cache(c.layers, c.kv_heads, c.head_dim, m.device, m.kv_dtype), max_tokens,
                    make_sampler(temperature, top_p, None if seed is None else seed & 0xFFFFFFFF), m.tokenizer.stop_tokens, False, cancelled)
    return ChatRun(c.name, stream, include_usage, len(prompt), _deltas(m, tokens, stops))


def _first_stop(text: str, stops: list) -> int:
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(hits) if hits else -1


def _deltas(m, tokens, stops: list):
    """Text as it becomes final: holds back what could still become a stop string."""
    dec, pending, count, hold = m.tokenizer.stream_decoder(), "", 0, max([0] + [len(s) - 1 for s in stops])
    while True:
        try:
            token = next(tokens)
        except StopIteration as done:
            finish = "stop" if done.value.finish_reason == "stop" else "length"
            break
        count += 1
        pending += dec.push(token)
        hit = _first_stop(pending, stops)
        if hit >= 0:
            if hit > 0:
                yield pending[:hit]
            return "stop", count
        if len(pending) > hold:
            yield pending[: len(pending) - hold]
            pending = pending[len(pending) - hold :]
    pending += dec.end()
    hit = _first_stop(pending, stops)
    if hit >= 0:
        pending = pending[:hit]
    if pending:
        yield pending
    return ("stop" if hit >= 0 else finish), count


def completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]

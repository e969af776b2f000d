"""Writing a chat run as an OpenAI chat.completion or as its SSE chunks."""
import time

from .calls import PROTOCOL
from .errors import as_protocol_error


def reply_chat(h, run, cid: str) -> None:
    created = int(time.time())

    def usage(n: int) -> dict:
        return {"prompt_tokens": run.prompt_tokens, "completion_tokens": n, "total_tokens": run.prompt_tokens + n}

    if not run.stream:
        text, (finish, count) = _drain(run.deltas)
        return h.send_json(200, {
            "id": cid, "object": "chat.completion", "created": created, "model": run.model, "system_fingerprint": PROTOCOL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None}, "logprobs": None, "finish_reason": finish}],
            "usage": usage(count),
        })

    def chunk(delta: dict, finish) -> dict:
        return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": run.model, "system_fingerprint": PROTOCOL,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    h.start_sse()
    try:
        h.sse(chunk({"role": "assistant", "content": ""}, None))
        while True:
            try:
                h.sse(chunk({"content": next(run.deltas)}, None))
            except StopIteration as done:
                finish, count = done.value
                break
        h.sse(chunk({}, finish))
        if run.include_usage:
            h.sse({"id": cid, "object": "chat.completion.chunk", "created": created, "model": run.model, "choices": [], "usage": usage(count)})
        h.sse("[DONE]")
    except OSError:
        h._gone = True
        h.close_connection = True
        return
    except Exception as e:
        h.sse(as_protocol_error(e).body())
    h.end_sse()


def _drain(gen):
    parts = []
    while True:
        try:
            parts.append(next(gen))
        except StopIteration as done:
            return "".join(parts), done.value

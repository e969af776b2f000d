"""The HTTP transport of the torch backend: epikv-kv/1 (docs/kv-protocol.md)
and the OpenAI-compatible chat API on a threaded stdlib server, the routes
of backend/server.ts. Errors are OpenAI-shaped JSON with the protocol's
status; a failure after a stream began is an SSE error event."""
import base64
import json
import re
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import torch

from .calls import PROTOCOL, detokenize_call, model_metadata, pick_model, tokenize_call
from .chat import completion_id, start_chat
from .decode_call import decode_call
from .chat_reply import reply_chat
from .errors import ProtocolError, as_protocol_error
from .http_body import body_kind, parse_frame_body, parse_json_body, read_body
from .kv_frame import kv_tensors, read_kv
from .prefill_call import prefill_call
from .profile import profile_call
from .safetensors import write_safetensors

FRAME_TYPE = "application/x-safetensors"


def frame_bytes(reply) -> bytes:
    meta = {**reply.metadata, "protocol": PROTOCOL, "response": json.dumps(reply.response, ensure_ascii=False)}
    return write_safetensors(reply.tensors, meta)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle's algorithm the second waits for a delayed ACK (~40 ms a call).
    disable_nagle_algorithm = True
    # Seconds one socket read may wait: a client that declares a body and stalls gets 400, not a thread forever.
    timeout = 30
    server_version = "epikv-torch"

    def setup(self) -> None:
        super().setup()
        if self.server.app.threads:
            # OpenMP's thread count is per thread: each request thread must be told, or it fans out to every core.
            torch.set_num_threads(self.server.app.threads)

    def log_message(self, *args):  # quiet: one line per request would swamp test logs
        pass

    # -- responses -------------------------------------------------------
    def send_json(self, status: int, body, extra=None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", "Content-Length": str(len(data)), "EpiKV-Protocol": PROTOCOL, **(extra or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_frame(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", FRAME_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("EpiKV-Protocol", PROTOCOL)
        self.end_headers()
        self.wfile.write(data)

    def start_sse(self, extra=None) -> None:
        self.send_response(200)
        for k, v in {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "Transfer-Encoding": "chunked", **(extra or {})}.items():
            self.send_header(k, v)
        self.end_headers()

    def sse(self, data, event: str | None = None) -> None:
        text = (f"event: {event}\n" if event else "") + "data: " + (data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)) + "\n\n"
        raw = text.encode("utf-8")
        self.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
        self.wfile.flush()

    def end_sse(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -- requests --------------------------------------------------------
    def kv_request(self):
        app = self.server.app
        kind = body_kind(self.headers)
        data = self.read_body(app.max_json if kind == "json" else app.max_body)
        if kind == "json":
            return parse_json_body(data), None
        f, body = parse_frame_body(data, PROTOCOL)
        m = pick_model(app.state, body.get("model"))
        return body, read_kv(f, m.config, m.device, m.kv_dtype)

    def json_request(self) -> dict:
        if body_kind(self.headers) != "json":
            raise ProtocolError("unsupported_media_type", "this endpoint takes application/json")
        return parse_json_body(self.read_body(self.server.app.max_json))

    _body_done = False

    def read_body(self, limit: int) -> bytes:
        data = read_body(self.rfile, self.headers, limit)
        self._body_done = True
        return data

    def handle_any(self) -> None:
        started = time.perf_counter()
        try:
            self.route()
        except Exception as e:  # every failure becomes an error reply; the server keeps serving
            err = as_protocol_error(e)
            if err.code == "internal_error":
                traceback.print_exc(file=sys.stderr)
            if getattr(self, "_headers_sent", False):
                self.close_connection = True
                return
            extra = {}
            if not self._body_done and (self.headers.get("Content-Length") not in (None, "0") or self.headers.get("Transfer-Encoding")):
                # A body left unread (refused, or the request failed before it) would be parsed as the next request: close.
                extra["Connection"] = "close"
                self.close_connection = True
            try:
                self.send_json(err.status, err.body(), extra)
                if err.code == "payload_too_large":
                    self.discard_unread()
            except OSError:
                self.close_connection = True
        finally:
            if self.server.app.log:
                print(f"{self.command} {self.path} {(time.perf_counter() - started) * 1000:.1f} ms", file=sys.stderr, flush=True)

    def discard_unread(self, most: int = 1 << 20) -> None:
        """Read and drop what the client already sent (bounded, in small pieces), so closing does not reset
        the connection under the 413 before the client has read it."""
        self.connection.settimeout(0.2)
        try:
            while most > 0:
                got = self.rfile.read1(min(65536, most))
                if not got:
                    break
                most -= len(got)
        except OSError:
            pass

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_HEAD = handle_any

    def send_response(self, code, message=None):
        self._headers_sent = True
        super().send_response(code, message)

    def route(self) -> None:
        self._headers_sent = self._body_done = False
        app, state = self.server.app, self.server.app.state
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        if path in ("/chat/completions", "/models") or path.startswith("/models/"):
            path = "/v1" + path
        method = self.command

        def allow(m: str) -> None:
            if method != m:
                raise ProtocolError("method_not_allowed", f"{method} {path} is not supported; use {m}")

        if path == "/healthz":
            allow("GET")
            models = {name: {"device": str(m.device), "dtype": str(m.dtype).replace("torch.", "")} for name, m in state.models.items()}
            return self.send_json(200, {"ok": True, "protocol": PROTOCOL, "backend": "torch", "models": list(state.models), "devices": models, "handles": state.handles.stats()})
        if path in ("/v1/models", "/kv/v1/models"):
            allow("GET")
            data = [model_metadata(m, state) if path.startswith("/kv") else _openai_model(m) for m in state.models.values()]
            return self.send_json(200, {"object": "list", "data": data})
        mp = re.match(r"^/(kv/)?v1/models/(.+)$", path)
        if mp:
            allow("GET")
            m = pick_model(state, unquote(mp.group(2)))
            return self.send_json(200, model_metadata(m, state) if mp.group(1) else _openai_model(m))
        simple = {"/kv/v1/tokenize": tokenize_call, "/kv/v1/detokenize": detokenize_call, "/kv/v1/profile": profile_call}
        if path in simple:
            allow("POST")
            return self.send_json(200, simple[path](state, self.json_request()))
        if path == "/kv/v1/prefill":
            allow("POST")
            body, kv = self.kv_request()
            return self.send_frame(frame_bytes(prefill_call(state, body, kv)))
        if path == "/kv/v1/decode":
            allow("POST")
            body, kv = self.kv_request()
            return self.decode(decode_call(state, body, kv, lambda: self._gone))
        hp = re.match(r"^/kv/v1/handles/([^/]+)$", path)
        if hp:
            return self.handle_route(method, unquote(hp.group(1)), parse_qs(url.query).get("model", [None])[0])
        if path == "/v1/chat/completions":
            allow("POST")
            return self.chat(self.json_request())
        raise ProtocolError("not_found", f"no route {method} {path}")

    _gone = False

    def decode(self, session) -> None:
        generated = []
        if not session.stream:
            while True:
                try:
                    generated.append(next(session.tokens))
                except StopIteration as done:
                    return self.send_frame(frame_bytes(session.finish(done.value, generated)))
        # Streaming: validate by taking the first step before committing to 200.
        step = _step(session.tokens)
        self.start_sse({"EpiKV-Protocol": PROTOCOL})
        dec = session.model.tokenizer.stream_decoder()
        try:
            while not step[0]:
                generated.append(step[1])
                self.sse({"index": len(generated) - 1, "token": step[1], "text": dec.push(step[1])}, "token")
                step = _step(session.tokens)
            reply = session.finish(step[1], generated)
            self.sse({**reply.response, "frame": base64.b64encode(frame_bytes(reply)).decode("ascii")}, "done")
        except OSError:
            self._gone = True
            self.close_connection = True
            return
        except Exception as e:
            self.sse(as_protocol_error(e).body(), "error")
        self.end_sse()

    def handle_route(self, method: str, handle: str, model) -> None:
        state = self.server.app.state
        if method == "DELETE":
            if not state.handles.delete(handle):
                raise ProtocolError("kv_handle_miss", f'kv handle "{handle}" is unknown or expired', "kv_handle")
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if method != "GET":
            raise ProtocolError("method_not_allowed", f"{method} /kv/v1/handles/{handle} is not supported; use GET")
        m = pick_model(state, model)
        cache = state.handles.get(m.config.name, handle)
        reply_meta = {"kv_dtype": "F32", "protocol": PROTOCOL, "response": json.dumps({"protocol": PROTOCOL, "model": m.config.name, "kv_handle": handle})}
        self.send_frame(write_safetensors(kv_tensors(cache, {"dtype": "F32"}), reply_meta))

    def chat(self, body: dict) -> None:
        reply_chat(self, start_chat(self.server.app.state, body, lambda: self._gone), completion_id())


def _step(gen):
    try:
        return False, next(gen)
    except StopIteration as done:
        return True, done.value


def _openai_model(m) -> dict:
    return {"id": m.config.name, "object": "model", "created": 0, "owned_by": "epikv"}


class App:
    def __init__(self, state, max_body: int = 64 << 20, max_json: int = 4 << 20, log: bool = False, threads: int = 0):
        self.state, self.max_body, self.max_json, self.log, self.threads = state, max_body, max_json, log, threads


def make_server(app: App, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    httpd.app = app
    return httpd

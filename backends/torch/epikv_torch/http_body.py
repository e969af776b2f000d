"""Request bodies with a byte limit (backend/http/body.ts): a declared
Content-Length over the limit is refused before reading; a chunked body (the
edge streams frames, durable-objects/kv/backend-client.ts) is cut off as soon
as it passes the limit. Nothing is allocated from a size the client claims."""
from .errors import ProtocolError, invalid
from .fields import as_object
from .safetensors import SafetensorsError, parse_safetensors, strict_json

FRAME_TYPES = ("application/x-safetensors", "application/octet-stream")


def body_kind(headers) -> str:
    kind = (headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
    if kind == "application/json":
        return "json"
    if kind in FRAME_TYPES:
        return "frame"
    raise ProtocolError("unsupported_media_type", f'Content-Type "{kind}" is not accepted; send application/json or application/x-safetensors')


def _too_large(limit: int, declared: int | None = None):
    if declared is not None:
        return ProtocolError("payload_too_large", f"request body of {declared} bytes exceeds the limit of {limit} bytes")
    return ProtocolError("payload_too_large", f"request body exceeds the limit of {limit} bytes")


def read_body(rfile, headers, limit: int) -> bytes:
    try:
        return _read(rfile, headers, limit)
    except TimeoutError:
        # The socket timeout (server.py) bounds each read: a body that stops arriving is refused, not waited on.
        invalid("request body stopped arriving before its declared end")


def _read(rfile, headers, limit: int) -> bytes:
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return _read_chunked(rfile, limit)
    raw = headers.get("Content-Length")
    if raw is None:
        return b""
    try:
        declared = int(raw)
    except ValueError:
        invalid(f"Content-Length {raw!r} is not a number")
    if declared < 0:
        invalid(f"Content-Length {declared} is negative")
    if declared > limit:
        raise _too_large(limit, declared)
    data = rfile.read(declared)
    if len(data) != declared:
        invalid(f"body ended after {len(data)} of {declared} declared bytes")
    return data


def _read_chunked(rfile, limit: int) -> bytes:
    parts, total = [], 0
    while True:
        line = rfile.readline(1024)
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            invalid("malformed chunked body")
        if size < 0:
            invalid("malformed chunked body")
        if size == 0:
            while rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        total += size
        if total > limit:
            raise _too_large(limit)
        chunk = rfile.read(size)
        if len(chunk) != size:
            invalid("chunked body ended early")
        parts.append(chunk)
        rfile.readline(8)


def parse_json_body(data: bytes) -> dict:
    try:
        v = strict_json(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        invalid(f"body is not valid JSON: {e}")
    return as_object(v)


def parse_frame_body(data: bytes, protocol: str):
    """A request frame: its tensors and the JSON request in __metadata__.request."""
    try:
        f = parse_safetensors(data, max_header=4 << 20)
    except SafetensorsError as e:
        raise ProtocolError("invalid_frame", str(e)) from None
    p = f.metadata.get("protocol")
    if p is not None and p != protocol:
        raise ProtocolError("invalid_frame", f'frame speaks protocol "{p}", this backend speaks "{protocol}"', "__metadata__.protocol")
    try:
        body = strict_json(f.metadata.get("request", "{}"))
    except ValueError as e:
        raise ProtocolError("invalid_frame", f"__metadata__.request is not valid JSON: {e}", "__metadata__.request") from None
    return f, as_object(body, "__metadata__.request")

"""Errors of the KV protocol and the OpenAI-compatible API in the OpenAI shape,
{"error": {"message", "type", "code", "param"}}, with the status table of
docs/kv-protocol.md ("Errors")."""

STATUS = {
    "invalid_request": 400,
    "invalid_frame": 400,
    "invalid_kv": 400,
    "invalid_positions": 400,
    "kv_handle_miss": 409,
    "model_not_found": 404,
    "not_found": 404,
    "method_not_allowed": 405,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "internal_error": 500,
}


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, param: str | None = None):
        super().__init__(message)
        self.code, self.message, self.param = code, message, param

    @property
    def status(self) -> int:
        return STATUS[self.code]

    def body(self) -> dict:
        kind = "server_error" if self.status >= 500 else "conflict_error" if self.code == "kv_handle_miss" else "invalid_request_error"
        return {"error": {"message": self.message, "type": kind, "code": self.code, "param": self.param}}


class KvError(ValueError):
    """Bad KV or positions supplied by a caller; answered as invalid_positions."""


def invalid(message: str, param: str | None = None):
    raise ProtocolError("invalid_request", message, param)


def as_protocol_error(e: Exception) -> ProtocolError:
    if isinstance(e, ProtocolError):
        return e
    if isinstance(e, KvError):
        return ProtocolError("invalid_positions", str(e))
    return ProtocolError("internal_error", f"internal error: {e}")

// Errors of the KV protocol and the OpenAI-compatible API, rendered in the
// OpenAI shape: {"error": {"message", "type", "code", "param"}}.

export type ErrorCode =
  | "invalid_request"
  | "invalid_frame"
  | "invalid_kv"
  | "invalid_positions"
  | "kv_handle_miss"
  | "model_not_found"
  | "not_found"
  | "method_not_allowed"
  | "payload_too_large"
  | "unsupported_media_type"
  | "internal_error";

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_frame: 400,
  invalid_kv: 400,
  invalid_positions: 400,
  kv_handle_miss: 409,
  model_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal_error: 500,
};

export class ProtocolError extends Error {
  override name = "ProtocolError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
  get status(): number {
    return STATUS[this.code];
  }
  toJSON(): { error: { message: string; type: string; code: ErrorCode; param: string | null } } {
    const type = this.status >= 500 ? "server_error" : this.code === "kv_handle_miss" ? "conflict_error" : "invalid_request_error";
    return { error: { message: this.message, type, code: this.code, param: this.param } };
  }
}

export function invalid(message: string, param: string | null = null): never {
  throw new ProtocolError("invalid_request", message, param);
}

import { CONVERSATION_ERROR_STATUS, conversationErrorCode } from "../../durable-objects/conversation/conversation-api";

// OpenAI-style errors: every failure leaves the Worker as
// {"error":{"message","type","param","code"}} with a matching HTTP status, so
// OpenAI SDKs surface them as their own APIError subclasses.

export type ErrorType =
  | "invalid_request_error"
  | "not_found_error"
  | "permission_error"
  | "upstream_error"
  | "server_error";

export interface ErrorBody {
  error: { message: string; type: ErrorType; param: string | null; code: string | null };
}

/** A failure with the HTTP status and OpenAI error fields it should be answered with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400: the request itself is wrong (`param` names the offending field, dotted/indexed). */
export function invalidRequest(message: string, param: string | null = null, code: string | null = "invalid_value"): ApiError {
  return new ApiError(400, message, "invalid_request_error", param, code);
}

export function notFound(message: string, code = "not_found"): ApiError {
  return new ApiError(404, message, "not_found_error", null, code);
}

/** 502 (backend answered badly or not at all) or 504 (backend too slow). */
export function upstreamError(status: 502 | 504, message: string, code: string): ApiError {
  return new ApiError(status, message, "upstream_error", null, code);
}

/**
 * Any thrown value as an ApiError. A ConversationDO error keeps its code
 * across RPC as the message prefix ("history_conflict: …"), which maps to its
 * status (conversation-api.ts); anything else is a 500.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = conversationErrorCode(err);
  if (code) return new ApiError(CONVERSATION_ERROR_STATUS[code], conversationErrorDetail(message), "invalid_request_error", null, code);
  return new ApiError(500, `internal error: ${message}`, "server_error", null, "internal_error");
}

/**
 * The detail of a ConversationDO error message: what follows its code. Across
 * RPC the message arrives as "ErrorName: code: detail", in-process as
 * "code: detail"; both lose everything up to and including the code.
 */
export function conversationErrorDetail(message: string): string {
  return message.replace(/^(?:[A-Za-z]*Error: )?[a-z_]+:\s*/, "");
}

export function errorResponse(err: ApiError, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(err.toBody()), { status: err.status, headers: h });
}

// A backend's error answer as epikv's client sees it (docs/context-mode.md,
// "Errors"): a 4xx that judges the client's request passes through with the
// backend's status and error fields; anything else is a backend fault (502,
// decided by the caller). Pure, so Node tests reach it without the Worker's env.
import { ApiError } from "../http/api-error";

/**
 * Backend statuses that judge the client's request, so the client gets them
 * as they are (an SDK does not retry a 400 or 404, and should not). Not among
 * them: 401/403/407 (epikv's own credentials for the backend are wrong: a
 * server fault), 408 and 429 (transient: retried, then 502).
 */
const CLIENT_STATUSES = new Set([400, 404, 409, 413, 415, 422]);

/** The backend's 4xx as the client's error (its message, param and code kept), or null for a backend fault. */
export function passedThrough(status: number, text: string): ApiError | null {
  if (!CLIENT_STATUSES.has(status)) return null;
  let fields: { param?: unknown; code?: unknown } = {};
  try {
    const j = JSON.parse(text) as { error?: unknown };
    if (j && typeof j.error === "object" && j.error !== null) fields = j.error as typeof fields;
  } catch {
    /* not JSON: the text is the message */
  }
  const code = typeof fields.code === "string" && fields.code ? fields.code : status === 404 ? "not_found" : "invalid_value";
  const param = typeof fields.param === "string" ? fields.param : null;
  return new ApiError(status, `backend: ${upstreamMessage(text)}`, status === 404 ? "not_found_error" : "invalid_request_error", param, code);
}

/** The message inside an upstream error body when it has one ({"error":{"message"}} or {"error":"..."}), else the text. */
export function upstreamMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: string };
    const m = typeof j.error === "string" ? j.error : (j.error?.message ?? j.message ?? j.detail);
    if (typeof m === "string") return m;
  } catch {
    /* not JSON: use the text */
  }
  return text.slice(0, 500) || "(empty body)";
}

// Errors of a kv turn as the client sees them. The conversation's object
// reports a kv backend failure as "kv backend <status> <code>: <detail>"
// (durable-objects/kv/backend-client.ts, KvBackendError), in an NDJSON error
// line or as a thrown RPC error. Either way it is the backend's fault, not the
// client's: 502 with the backend's code (upstream_unreachable when it could
// not be reached), and the turn writes nothing.
import { ApiError, toApiError, upstreamError } from "../http/api-error";

const KV_BACKEND_FAILURE = /kv backend (\d{3}) ([a-z_]+): (.*)$/s;

export function kvTurnError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = (err as { message?: unknown } | null)?.message;
  const m = typeof message === "string" ? KV_BACKEND_FAILURE.exec(message) : null;
  if (m) return upstreamError(502, `kv backend: ${m[3]}`, m[2] === "upstream_unreachable" ? m[2] : `kv_backend_${m[2]}`);
  return toApiError(err);
}

// Retries and failover for one backend call. Retried: connect failures, 5xx
// answers and timeouts — only before the first byte of the reply has reached
// the client (a stream is retried until its first chunk arrives, never
// after: the client would see the reply twice). Not retried: 4xx (the request
// is wrong everywhere), a malformed answer, a stream that broke after it began.
// Attempt i goes to candidate i mod n, after a jittered exponential backoff.
import { ApiError } from "../http/api-error";

export const DEFAULT_RETRIES = 2;
export const BACKOFF_BASE_MS = 50;
export const BACKOFF_CAP_MS = 2000;

export function isRetryable(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.code === "upstream_unreachable" || err.code === "upstream_timeout") return true;
  const m = /^upstream_status_(\d{3})$/.exec(err.code ?? "");
  return m !== null && (Number(m[1]) >= 500 || Number(m[1]) === 429);
}

/** "Full jitter" backoff (uniform in [0, min(cap, base·2^attempt)]), attempt ≥ 1. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)));
}

export interface AttemptRecord {
  backend: string;
  error: string | null;
}

export interface FailoverOptions<S extends { name: string }> {
  retries: number;
  onFailure?: (spec: S, err: unknown) => void;
  onSuccess?: (spec: S) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Runs `call` on candidates in order, retrying as described above; the last error if all attempts fail. */
export async function withFailover<S extends { name: string }, T>(
  candidates: readonly S[],
  call: (spec: S) => Promise<T>,
  options: FailoverOptions<S>,
): Promise<{ value: T; spec: S; attempts: AttemptRecord[] }> {
  if (candidates.length === 0) throw new Error("withFailover: no candidates");
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts: AttemptRecord[] = [];
  const total = 1 + Math.max(0, options.retries);
  let last: unknown;
  for (let i = 0; i < total; i++) {
    const spec = candidates[i % candidates.length]!;
    if (i > 0) await sleep(backoffMs(i, options.random));
    try {
      const value = await call(spec);
      options.onSuccess?.(spec);
      attempts.push({ backend: spec.name, error: null });
      return { value, spec, attempts };
    } catch (err) {
      last = err;
      attempts.push({ backend: spec.name, error: err instanceof ApiError ? err.code : "error" });
      if (!isRetryable(err)) throw err;
      options.onFailure?.(spec, err);
    }
  }
  throw last;
}

// Per-key rate limit: a token bucket per API key (by key id, the hash prefix),
// held in this isolate's memory. Where it lives is a trade-off
// (docs/reliability.md): per isolate costs no I/O on the request path, but
// each isolate (and each Cloudflare location) has its own bucket, so a client
// spread over n isolates may reach n × the rate; a per-key Durable Object
// would be exact at the cost of one RPC per request.
// RATE_LIMIT_RPS (tokens per second, "0" disables) and RATE_LIMIT_BURST.
import type { MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { ApiError, errorResponse } from "../http/api-error";
import { keyIdOf } from "../auth/authenticate";
import { fullBucket, take, type BucketConfig, type BucketState } from "./token-bucket";

export const DEFAULT_RATE_LIMIT_RPS = 50;
export const DEFAULT_RATE_LIMIT_BURST = 100;
/** Buckets kept per isolate; past it the map is cleared (everyone starts full again). */
const MAX_BUCKETS = 10_000;

export function rateLimitConfig(env: Pick<Env, "RATE_LIMIT_RPS" | "RATE_LIMIT_BURST">): BucketConfig | null {
  const rps = env.RATE_LIMIT_RPS === undefined || env.RATE_LIMIT_RPS === "" ? DEFAULT_RATE_LIMIT_RPS : Number(env.RATE_LIMIT_RPS);
  if (!Number.isFinite(rps) || rps <= 0) return null;
  const burst = Number(env.RATE_LIMIT_BURST);
  return { ratePerSecond: rps, burst: Number.isFinite(burst) && burst >= 1 ? burst : Math.max(1, Math.ceil(rps * 2)) };
}

const buckets = new Map<string, BucketState>();

export function rateLimited(retryAfterMs: number): ApiError {
  return new ApiError(429, `rate limit exceeded for this API key; retry after ${Math.ceil(retryAfterMs / 1000)} s`, "invalid_request_error", null, "rate_limit_exceeded");
}

export function rateLimit(): MiddlewareHandler<{ Bindings: Env }> {
  return async function limitRate(c, next) {
    const keyId = keyIdOf(c);
    const config = rateLimitConfig(c.env);
    if (keyId === null || config === null) return next();
    const now = Date.now();
    const name = `${keyId}:${config.ratePerSecond}:${config.burst}`;
    let bucket = buckets.get(name);
    if (!bucket) {
      if (buckets.size >= MAX_BUCKETS) buckets.clear();
      bucket = fullBucket(config, now);
      buckets.set(name, bucket);
    }
    const result = take(bucket, config, now);
    if (!result.ok) {
      return errorResponse(rateLimited(result.retryAfterMs), {
        "retry-after": String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))),
        "x-ratelimit-limit-requests": String(config.burst),
        "x-ratelimit-remaining-requests": "0",
      });
    }
    await next();
    try {
      c.res.headers.set("x-ratelimit-limit-requests", String(config.burst));
      c.res.headers.set("x-ratelimit-remaining-requests", String(result.remaining));
    } catch {
      // an immutable response (passed through from a fetch) keeps its headers
    }
  };
}

// Token bucket (rate r tokens/s, capacity b): a request takes one token; an
// empty bucket answers how long until one is back (the Retry-After).
// Pure: time is passed in, so Node tests drive it without sleeping.

export interface BucketState {
  tokens: number;
  /** ms timestamp of the last refill. */
  at: number;
}

export interface BucketConfig {
  ratePerSecond: number;
  burst: number;
}

export type TakeResult = { ok: true; remaining: number } | { ok: false; retryAfterMs: number };

export function refill(state: BucketState, config: BucketConfig, now: number): BucketState {
  const elapsed = Math.max(0, now - state.at);
  return { tokens: Math.min(config.burst, state.tokens + (elapsed * config.ratePerSecond) / 1000), at: Math.max(state.at, now) };
}

/** Takes one token if there is one; mutates `state`. */
export function take(state: BucketState, config: BucketConfig, now: number): TakeResult {
  const s = refill(state, config, now);
  state.tokens = s.tokens;
  state.at = s.at;
  if (state.tokens >= 1) {
    state.tokens -= 1;
    return { ok: true, remaining: Math.floor(state.tokens) };
  }
  return { ok: false, retryAfterMs: Math.ceil(((1 - state.tokens) * 1000) / config.ratePerSecond) };
}

export function fullBucket(config: BucketConfig, now: number): BucketState {
  return { tokens: config.burst, at: now };
}

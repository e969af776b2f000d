// The Worker isolate's own metrics: what this isolate saw on the request
// path (registry.ts explains why these are per isolate). Created once per
// isolate, at module load; the middleware (http-metrics.ts) records into it
// and GET /metrics (routes/metrics.ts) writes it out with the figures read
// from the Durable Objects.
import { Registry } from "./registry";

/** Latency buckets in seconds: edge-only routes sit in the low ms, chat turns in seconds. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** used_tokens / budget_tokens of each turn's context. */
export const BUDGET_USE_BUCKETS = [0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1];

export function createWorkerMetrics(startedAtSeconds: number) {
  const registry = new Registry();
  const m = {
    registry,
    isolateStart: registry.gauge("epikv_isolate_start_time_seconds", "Unix time this Worker isolate's metrics started; every other per-isolate family counts from here"),
    requests: registry.counter("epikv_http_requests_total", "HTTP requests answered by this isolate, by method, route pattern and status"),
    latency: registry.histogram("epikv_http_request_duration_seconds", "Time from request to response headers in this isolate, by method, route pattern and status (streams: until headers leave)", LATENCY_BUCKETS),
    contextTokensSent: registry.counter("epikv_context_tokens_sent_total", "Estimated tokens of the contexts sent to the backend by chat turns (X-Epikv-Context-Tokens), streaming or not"),
    budgetTokens: registry.counter("epikv_context_budget_tokens_total", "Token budgets the chat turns' contexts were chosen under (X-Epikv-Budget-Tokens)"),
    budgetUse: registry.histogram("epikv_context_budget_use_ratio", "Context tokens sent / budget tokens, per chat turn", BUDGET_USE_BUCKETS),
    backendPromptTokens: registry.counter("epikv_backend_prompt_tokens_total", "usage.prompt_tokens reported by the backend (non-streamed replies only)"),
    backendCompletionTokens: registry.counter("epikv_backend_completion_tokens_total", "usage.completion_tokens reported by the backend (non-streamed replies only)"),
    backendOutcomes: registry.counter("epikv_backend_requests_total", "Chat turns by backend outcome: ok, or the upstream error status (502 unreachable/bad answer, 504 timeout)"),
    backendUp: registry.gauge("epikv_backend_up", "1 when this isolate's last chat turn got an answer from the backend, 0 when it failed with 502/504 (absent before the first turn)"),
    kvPinHits: registry.counter("epikv_kv_pin_hits_total", "kv-mode turns decoded by a KV handle the backend still held pinned (Continuum-style), in this isolate"),
    kvPinMisses: registry.counter("epikv_kv_pin_misses_total", "kv-mode turns whose KV handle the backend no longer held (409 kv_handle_miss; the bytes were sent instead), in this isolate"),
    backendLastSeen: registry.gauge("epikv_backend_last_outcome_timestamp_seconds", "Unix time of this isolate's last chat turn outcome, by outcome (ok, error)"),
  };
  m.isolateStart.set({}, startedAtSeconds);
  m.kvPinHits.inc({}, 0);
  m.kvPinMisses.inc({}, 0);
  return m;
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

let isolateMetrics: WorkerMetrics | undefined;

/** This isolate's metrics (created on first use). */
export function workerMetrics(): WorkerMetrics {
  isolateMetrics ??= createWorkerMetrics(Math.floor(Date.now() / 1000));
  return isolateMetrics;
}

// Middleware: counts every request and its latency by method, route pattern
// and status into this isolate's registry, and reads the chat turn's own
// response headers for token, budget and backend-health figures, and the
// backend's usage that the chat route notes (noteBackendUsage).
//
// The route label is the matched pattern ("/v1/conversations/:id"), never
// the raw path, so label cardinality stays bounded; unmatched paths are
// "unmatched". Latency is measured with Date.now(), which in workerd moves
// only across I/O: what it sees is the time spent waiting on Durable
// Objects and the backend, which is where a request's time goes (pure
// compute inside one request reads as 0: workerd does not advance timers
// during a request).
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { workerMetrics, type WorkerMetrics } from "./worker-metrics";
import { requestArrival } from "../http/request-path";

export const UNMATCHED_ROUTE = "unmatched";
const CHAT_ROUTE = "/v1/chat/completions";

/** The pattern of the handler that answered (the last non-middleware match). */
export function routeLabel(c: Context): string {
  const handlers = matchedRoutes(c).filter((r) => r.method !== "ALL");
  return handlers.length ? handlers[handlers.length - 1]!.path : UNMATCHED_ROUTE;
}

export function httpMetrics(metrics: () => WorkerMetrics = workerMetrics): MiddlewareHandler {
  return async function recordHttpMetrics(c, next) {
    const started = requestArrival(c); // first middleware: this stamps the arrival
    await next();
    const m = metrics();
    const route = routeLabel(c);
    const labels = { method: c.req.method, route, status: String(c.res.status) };
    m.requests.inc(labels);
    m.latency.observe(labels, Math.max(0, Date.now() - started) / 1000);
    if (route === CHAT_ROUTE && c.req.method === "POST") recordChatTurn(c, m);
  };
}

/** The context variable a non-streamed chat reply's backend usage travels in (route → this middleware). */
const USAGE_VAR = "backendUsage";

interface ReportedUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
}

/**
 * The chat route notes the usage of the JSON reply it answers with (a
 * completion, or its idempotent replay), so the metrics need not clone the
 * response and parse its body again. Streamed replies note nothing.
 */
export function noteBackendUsage(c: Context, usage: unknown): void {
  (c.set as (key: string, value: unknown) => void)(USAGE_VAR, usage);
}

function headerNumber(res: Response, name: string): number | null {
  const raw = res.headers.get(name);
  if (raw === null) return null;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function recordChatTurn(c: Context, m: WorkerMetrics): void {
  const res = c.res;
  const now = Date.now() / 1000;
  if (res.status === 502 || res.status === 504) {
    m.backendOutcomes.inc({ outcome: String(res.status) });
    m.backendUp.set({}, 0);
    m.backendLastSeen.set({ outcome: "error" }, now);
    return;
  }
  if (res.status !== 200) return; // refused before the backend was called (400, 409, …)
  m.backendOutcomes.inc({ outcome: "ok" });
  m.backendUp.set({}, 1);
  m.backendLastSeen.set({ outcome: "ok" }, now);

  const sent = headerNumber(res, "x-epikv-context-tokens");
  const budget = headerNumber(res, "x-epikv-budget-tokens");
  if (sent !== null) m.contextTokensSent.inc({}, sent);
  if (budget !== null) m.budgetTokens.inc({}, budget);
  if (sent !== null && budget !== null && budget > 0) m.budgetUse.observe({}, sent / budget);

  const usage = (c.var as Record<string, unknown> | undefined)?.[USAGE_VAR] as ReportedUsage | null | undefined;
  if (typeof usage?.prompt_tokens === "number" && usage.prompt_tokens >= 0) m.backendPromptTokens.inc({}, usage.prompt_tokens);
  if (typeof usage?.completion_tokens === "number" && usage.completion_tokens >= 0) m.backendCompletionTokens.inc({}, usage.completion_tokens);
}

// Facts about a request that several middlewares read: its path (the
// authentication and conversation-index middlewares) and its arrival time.
// Both are cheap by construction: a URL parse and a WeakMap keyed by the
// Request were together ≈ 0.3 ms of a turn's Worker-side CPU profile.
import type { Context } from "hono";

/**
 * The path of the request's URL, query and fragment left out, percent-escapes
 * kept: URL.pathname of the absolute, already normalised URL workerd hands a
 * Worker, found with two index scans instead of a URL parse.
 */
export function requestPathname(request: Request): string {
  const url = request.url;
  const scheme = url.indexOf("://");
  const start = url.indexOf("/", scheme < 0 ? 0 : scheme + 3);
  if (start < 0) return "/";
  let end = url.length;
  for (let i = start; i < end; i++) {
    const ch = url.charCodeAt(i);
    if (ch === 63 /* ? */ || ch === 35 /* # */) end = i;
  }
  return url.slice(start, end);
}

const ARRIVAL_VAR = "arrivedAt";

/**
 * When the request reached the Worker: `Date.now()` at the first call, which
 * the first middleware (http-metrics.ts) makes before anything awaits the
 * body; later calls for the same request get that stamp (kept in the Hono
 * context). A chat turn sends it to its Durable Object as `arrived_at`: the
 * messages that became visible after it were unknown to the client
 * (history-divergence.ts, rule (q)). Stamped later, after the body,
 * authentication and rate limit, a request that waited behind concurrent
 * ones could count a reply finished in the meantime as seen, and fork the
 * conversation instead of queueing.
 */
export function requestArrival(c: Context): number {
  const known = (c.var as Record<string, unknown> | undefined)?.[ARRIVAL_VAR];
  if (typeof known === "number") return known;
  const now = Date.now();
  (c.set as (key: string, value: unknown) => void)(ARRIVAL_VAR, now);
  return now;
}

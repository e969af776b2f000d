// When a request reached the Worker, stamped once, by the first middleware
// (http-metrics.ts), before anything awaits its body. A chat turn sends it
// to its Durable Object as `arrived_at`: the messages that became visible
// after it were unknown to the client (history-divergence.ts, rule (q)).
// Stamped later, after the body, authentication and rate limit, a request
// that waited behind concurrent ones could count a reply finished in the
// meantime as seen, and fork the conversation instead of queueing.
const arrivals = new WeakMap<Request, number>();

/** `Date.now()` at the first call for this request (ms since the epoch). */
export function requestArrival(request: Request): number {
  let at = arrivals.get(request);
  if (at === undefined) {
    at = Date.now();
    arrivals.set(request, at);
  }
  return at;
}

// Facts about a request computed once and remembered for it: its path (the
// authentication and conversation-index middlewares both read it, and a URL
// parse is one of the larger items of a turn's Worker-side CPU profile) and
// its arrival time.

/** `compute` at most once per request: later calls for the same request get the first result. */
function oncePerRequest<T>(compute: (request: Request) => T): (request: Request) => T {
  const known = new WeakMap<Request, T>();
  return (request) => {
    if (known.has(request)) return known.get(request)!;
    const value = compute(request);
    known.set(request, value);
    return value;
  };
}

/** `new URL(request.url).pathname`, remembered for the request. */
export const requestPathname = oncePerRequest((request) => new URL(request.url).pathname);

/**
 * When the request reached the Worker: `Date.now()` at the first call, which
 * the first middleware (http-metrics.ts) makes before anything awaits the
 * body. A chat turn sends it to its Durable Object as `arrived_at`: the
 * messages that became visible after it were unknown to the client
 * (history-divergence.ts, rule (q)). Stamped later, after the body,
 * authentication and rate limit, a request that waited behind concurrent
 * ones could count a reply finished in the meantime as seen, and fork the
 * conversation instead of queueing.
 */
export const requestArrival = oncePerRequest(() => Date.now());

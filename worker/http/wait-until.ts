// ctx.waitUntil of the current request; outside a Worker invocation (app.request in tests) the promise simply runs.
import type { Context } from "hono";

export function waitUntilOf(c: Context): (p: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return () => {};
  }
}

// Calls the Worker app with extra vars (BACKENDS, limits, timeouts) on top of
// the test project's env — same Durable Objects, same TEST DOUBLE backend —
// for tests of configurations the shared wrangler/vitest config does not set.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { app } from "../../../worker/app";
import { TEST_API_KEY } from "../../../testing/test-api-keys";
import { BASE } from "./epikv-client";

export async function apiWith(vars: Record<string, string>, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const h: Record<string, string> = { authorization: `Bearer ${TEST_API_KEY}`, ...headers };
  if (h.authorization === "") delete h.authorization;
  if (body !== undefined) h["content-type"] ??= "application/json";
  const init: RequestInit = { method, headers: h };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(BASE + path, init), { ...(env as object), ...vars }, ctx);
  // The body must be read before waiting: a stream's pump runs under waitUntil.
  const buffered = new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
  await waitOnExecutionContext(ctx);
  return buffered;
}

/** A BACKENDS value of test-double backends (mode = a forced behaviour, see openai-test-double.mjs). */
export function doubles(...backends: { name: string; mode?: string; models?: string[] }[]): string {
  return JSON.stringify(
    backends.map((b) => ({
      name: b.name,
      url: `http://test-double-backend.test${b.mode ? `/mode/${b.mode}` : ""}/v1`,
      binding: "BACKEND",
      ...(b.models ? { models: b.models } : {}),
    })),
  );
}

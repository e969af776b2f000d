// Both chat routes share one validation path (worker/validation/chat-turn.ts):
// the same malformed request gets the same 4xx — status, code and param — on
// /v1/chat/completions and /v1/kv/chat/completions. Bodies are a valid request
// with one to three malformations drawn from the kinds clients and attackers
// send, so every body is refused before either route touches a conversation.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SELF } from "cloudflare:test";
import { BASE } from "./support/epikv-client";
import { TEST_API_KEY } from "../../testing/test-api-keys";

type Body = Record<string, unknown>;
type Mutation = { name: string; body?: (b: Body) => unknown; headers?: Record<string, string>; raw?: string; contentType?: string };

const msg = (role: string, content: unknown, extra: Body = {}) => ({ role, content, ...extra });
const MUTATIONS: Mutation[] = [
  { name: "body null", body: () => null },
  { name: "body array", body: () => [] },
  { name: "body number", body: () => 42 },
  { name: "messages missing", body: ({ messages: _m, ...b }) => b },
  { name: "messages not an array", body: (b) => ({ ...b, messages: "hi" }) },
  { name: "messages empty", body: (b) => ({ ...b, messages: [] }) },
  { name: "message not an object", body: (b) => ({ ...b, messages: [1] }) },
  { name: "unknown role", body: (b) => ({ ...b, messages: [msg("robot", "hi")] }) },
  { name: "content a number", body: (b) => ({ ...b, messages: [msg("user", 7)] }) },
  { name: "image part", body: (b) => ({ ...b, messages: [msg("user", [{ type: "image_url", image_url: { url: "x" } }])] }) },
  { name: "tool message without tool_call_id", body: (b) => ({ ...b, messages: [msg("tool", "r")] }) },
  { name: "tool_calls on a user message", body: (b) => ({ ...b, messages: [msg("user", "hi", { tool_calls: [] })] }) },
  { name: "message over 512 KiB", body: (b) => ({ ...b, messages: [msg("user", "x".repeat(512 * 1024 + 1))] }) },
  { name: "model a number", body: (b) => ({ ...b, model: 5 }) },
  { name: "model empty", body: (b) => ({ ...b, model: "" }) },
  { name: "model 100k characters", body: (b) => ({ ...b, model: "m".repeat(100_000) }) },
  { name: "stream a string", body: (b) => ({ ...b, stream: "yes" }) },
  { name: "stream_options without stream", body: (b) => ({ ...b, stream_options: { include_usage: true } }) },
  { name: "conversation_id invalid", body: (b) => ({ ...b, conversation_id: "no spaces allowed" }) },
  { name: "temperature a string", body: (b) => ({ ...b, temperature: "hot" }) },
  { name: "max_tokens negative", body: (b) => ({ ...b, max_tokens: -1 }) },
  { name: "max_tokens fractional", body: (b) => ({ ...b, max_tokens: 1.5 }) },
  { name: "n = 2", body: (b) => ({ ...b, n: 2 }) },
  { name: "budget_tokens zero", body: (b) => ({ ...b, budget_tokens: 0 }) },
  { name: "nested 100 deep", body: (b) => ({ ...b, messages: [msg("user", "x"), msg("assistant", null, { tool_calls: JSON.parse("[".repeat(100) + "]".repeat(100)) })] }) },
  { name: "conflicting conversation ids", body: (b) => ({ ...b, conversation_id: "conv-b" }), headers: { "x-conversation-id": "conv-a" } },
  { name: "header conversation id invalid", headers: { "x-conversation-id": "bad id!" } },
  { name: "Idempotency-Key 256 characters", headers: { "idempotency-key": "k".repeat(256) } },
  { name: "invalid JSON", raw: '{"messages": [' },
  { name: "empty body", raw: "" },
  { name: "text/plain", contentType: "text/plain" },
];

async function send(path: string, mutations: Mutation[]): Promise<{ status: number; code: string | null; param: string | null }> {
  let body: unknown = { model: "epikv", messages: [msg("user", "hello")] };
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" };
  let raw: string | undefined;
  for (const m of mutations) {
    // Body mutations reshape an object; once a mutation replaced the body with a non-object, the rest have nothing to change.
    if (m.body && typeof body === "object" && body !== null && !Array.isArray(body)) body = m.body(body as Body);
    Object.assign(headers, m.headers ?? {});
    if (m.raw !== undefined) raw = m.raw;
    if (m.contentType) headers["content-type"] = m.contentType;
  }
  const res = await SELF.fetch(BASE + path, { method: "POST", headers, body: raw ?? JSON.stringify(body) });
  const json = await res.json<{ error?: { code: string | null; param: string | null } }>();
  return { status: res.status, code: json.error?.code ?? null, param: json.error?.param ?? null };
}

describe("both chat routes answer malformed requests alike (property)", () => {
  it("the same 4xx status, code and param on /v1/chat/completions and /v1/kv/chat/completions", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.constantFrom(...MUTATIONS), { minLength: 1, maxLength: 3, selector: (m) => m.name }), async (mutations) => {
        const [context, kv] = [await send("/v1/chat/completions", mutations), await send("/v1/kv/chat/completions", mutations)];
        expect(context.status, mutations.map((m) => m.name).join(" + ")).toBeGreaterThanOrEqual(400);
        expect(context.status).toBeLessThan(500);
        expect(kv, mutations.map((m) => m.name).join(" + ")).toEqual(context);
      }),
      { numRuns: 120 },
    );
  });

  it("each malformation alone is a 4xx naming what is wrong, the same on both routes", async () => {
    for (const m of MUTATIONS) {
      const [context, kv] = [await send("/v1/chat/completions", [m]), await send("/v1/kv/chat/completions", [m])];
      expect([m.name, kv]).toEqual([m.name, context]);
      expect([m.name, context.status >= 400 && context.status < 500]).toEqual([m.name, true]);
    }
  });
});

// Property tests for every parser of outside bytes at the edge: random bytes
// or JSON give a clean ApiError (4xx, or 502 for a backend's bytes) or a valid
// result — never another exception, which would surface as a 500.
// (Safetensors frames: test/node/backend-safetensors.test.ts; KV protocol
// frames: test/node/backend-protocol.test.ts.)
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ApiError } from "../../worker/http/api-error";
import { parseChatRequest } from "../../worker/validation/chat-request";
import { parseContextRequest, parseCreateConversation, parseIdempotencyKey, parseImport, parsePageQuery } from "../../worker/validation/conversation-requests";
import { parseConversationId } from "../../worker/validation/conversation-id";
import { readJsonBody } from "../../worker/http/json-body";
import { SseParser } from "../../worker/backend/sse-parser";
import type { ChatChunk, ChatCompletion } from "../../worker/backend/chat-backend";
import { parseApiKeys, ApiKeyConfigError } from "../../worker/auth/api-keys";
import { parseBackends, BackendsConfigError } from "../../worker/backend/pool";

/** Runs `f`; an ApiError with a client (4xx) or upstream (502) status is a clean refusal. */
function cleanly<T>(f: () => T, statuses = [400, 404, 413, 415]): T | ApiError {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof ApiError)) throw new Error(`not an ApiError: ${String(e)}`);
    expect(statuses).toContain(e.status);
    expect(e.message.length).toBeGreaterThan(0);
    return e;
  }
}

// Names of Object.prototype members too: a role looked up in an object literal once found them.
const role = fc.constantFrom("system", "user", "assistant", "tool", "developer", "robot", "", 3, "constructor", "toString", "__proto__", "valueOf");
const content = fc.oneof(fc.string(), fc.constant(null), fc.array(fc.record({ type: fc.constantFrom("text", "image_url"), text: fc.oneof(fc.string(), fc.integer()) }), { maxLength: 3 }), fc.integer());
const message = fc.record({ role, content, name: fc.option(fc.string()), tool_call_id: fc.option(fc.string()), tool_calls: fc.option(fc.oneof(fc.array(fc.anything(), { maxLength: 2 }), fc.string())) }, { requiredKeys: [] });
/** Mostly well-shaped chat requests with wrong types sprinkled in, plus arbitrary JSON. */
const chatBody = fc.oneof(
  fc.record({
    model: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    messages: fc.oneof(fc.array(message, { maxLength: 5 }), fc.anything()),
    stream: fc.oneof(fc.boolean(), fc.string()),
    stream_options: fc.oneof(fc.record({ include_usage: fc.oneof(fc.boolean(), fc.integer()) }), fc.anything()),
    conversation_id: fc.oneof(fc.string(), fc.stringMatching(/^[a-z0-9][a-z0-9._:-]{0,20}$/)),
    budget_tokens: fc.oneof(fc.integer(), fc.double(), fc.string()),
    temperature: fc.oneof(fc.double(), fc.string(), fc.constant(null)),
    max_tokens: fc.oneof(fc.integer(), fc.double()),
    n: fc.integer(),
    stop: fc.anything(),
    tools: fc.anything(),
  }, { requiredKeys: [] }),
  fc.jsonValue(),
  fc.anything(),
);

describe("request schemas (worker/validation)", () => {
  it("chat requests: a clean 400 or a request whose messages all have a known role and string content", () => {
    fc.assert(
      fc.property(chatBody, (body) => {
        const r = cleanly(() => parseChatRequest(body));
        if (r instanceof ApiError) return;
        expect(r.messages.length).toBeGreaterThan(0);
        for (const m of r.messages) {
          expect(["system", "user", "assistant", "tool"]).toContain(m.role);
          expect(typeof m.content).toBe("string");
        }
        expect(typeof r.stream).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });

  it("a role named like an Object.prototype member is refused, not read from the prototype", () => {
    for (const r of ["constructor", "toString", "__proto__", "valueOf", "hasOwnProperty"]) {
      const e = cleanly(() => parseChatRequest({ model: "m", messages: [{ role: r, content: "x" }] }));
      expect(e, r).toBeInstanceOf(ApiError);
    }
  });

  it("imports, conversation creation, context previews, page queries, ids and idempotency keys", () => {
    fc.assert(
      fc.property(fc.anything(), fc.string(), fc.string(), (body, a, b) => {
        cleanly(() => parseImport(body));
        cleanly(() => parseImport({ messages: Array.isArray(body) ? body : [body] }));
        cleanly(() => parseCreateConversation(body));
        cleanly(() => parseCreateConversation({ id: a, settings: body }));
        cleanly(() => parseContextRequest(body));
        const page = cleanly(() => parsePageQuery(a, b));
        if (!(page instanceof ApiError)) expect(page.limit).toBeGreaterThanOrEqual(1);
        const id = cleanly(() => parseConversationId(a));
        if (!(id instanceof ApiError)) expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/);
        cleanly(() => parseIdempotencyKey(a));
      }),
      { numRuns: 1000 },
    );
  });

  it("request bodies: random bytes and content types give 400/413/415 or parsed JSON", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.constantFrom("application/json", "text/plain", "", "application/x+json"), fc.integer({ min: 1, max: 400 }), async (bytes, type, limit) => {
        const req = new Request("http://x/", { method: "POST", body: bytes, headers: type ? { "content-type": type } : {} });
        try {
          await readJsonBody(req, limit);
        } catch (e) {
          expect(e).toBeInstanceOf(ApiError);
          expect([400, 413, 415]).toContain((e as ApiError).status);
        }
      }),
      { numRuns: 500 },
    );
  });
});

// Loaded by a computed path: its module graph names the workers-only Fetcher
// type, which the Node type-check (tsconfig.json) does not have.
const backendClient = "../../worker/backend/openai-compatible-backend";
const { parseChunk, parseCompletion } = (await import(backendClient)) as { parseChunk: (t: string) => ChatChunk; parseCompletion: (t: string) => ChatCompletion };

describe("backend bytes (worker/backend)", () => {
  it("SSE: any bytes split anywhere give the same events as the whole, and never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const whole = new SseParser();
        const expected = [...whole.push(bytes), ...whole.end()];
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
        const split = new SseParser();
        const got = [];
        let at = 0;
        for (const p of [...points, bytes.length]) {
          got.push(...split.push(bytes.subarray(at, p)));
          at = p;
        }
        got.push(...split.end());
        expect(got).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it("SSE built from random events and line endings round-trips", () => {
    const text = fc.string().filter((s) => !/[\r\n]/.test(s));
    fc.assert(
      fc.property(fc.array(fc.array(text, { minLength: 1, maxLength: 3 }), { maxLength: 6 }), fc.constantFrom("\n", "\r\n", "\r"), (events, eol) => {
        const wire = events.map((lines) => lines.map((l) => `data: ${l}${eol}`).join("") + eol).join("");
        const p = new SseParser();
        const out = [...p.push(new TextEncoder().encode(wire)), ...p.end()];
        expect(out.map((e) => e.data)).toEqual(events.map((lines) => lines.join("\n")));
      }),
    );
  });

  it("completions and chunks: random JSON or text gives a 502 upstream error or an object with choices", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        const c = cleanly(() => parseCompletion(text), [502]);
        if (!(c instanceof ApiError)) expect(Array.isArray(c.choices)).toBe(true);
        const k = cleanly(() => parseChunk(text), [502]);
        if (!(k instanceof ApiError)) expect(Array.isArray(k.choices)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("configuration strings", () => {
  it("API_KEYS and BACKENDS: a configuration error or a valid table, never anything else", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (raw) => {
        try {
          for (const { key, tenant } of parseApiKeys(raw)) expect(key.length >= 16 && /^[A-Za-z0-9]/.test(tenant)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(ApiKeyConfigError);
        }
        try {
          for (const b of parseBackends(raw)) expect(b.url).toMatch(/^https?:\/\//);
        } catch (e) {
          expect(e).toBeInstanceOf(BackendsConfigError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

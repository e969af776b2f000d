// Bad input gets an OpenAI-style error with the right status and a `param`
// naming the field: malformed JSON, wrong types, empty messages, unknown
// roles, non-text content parts, wrong content type, oversized bodies,
// unknown routes.
import { SELF } from "cloudflare:test";
import { TEST_API_KEY } from "../../testing/test-api-keys";
import { describe, expect, it } from "vitest";

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

async function post(path: string, body: string, headers: Record<string, string> = { "content-type": "application/json" }) {
  const res = await SELF.fetch(`http://epikv.test${path}`, { method: "POST", headers: { authorization: `Bearer ${TEST_API_KEY}`, ...headers }, body });
  return { status: res.status, body: await res.json<ErrorBody>() };
}

const chat = (value: unknown) => post("/v1/chat/completions", JSON.stringify(value));

function expectError(r: { status: number; body: ErrorBody }, status: number, param: string | null, code?: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(Object.keys(r.body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(r.body.error.message.length).toBeGreaterThan(10);
  expect(r.body.error.param).toBe(param);
  if (code) expect(r.body.error.code).toBe(code);
}

describe("request validation (workerd)", () => {
  it("rejects malformed JSON and an empty body with 400", async () => {
    expectError(await post("/v1/chat/completions", '{"messages": ['), 400, null, "invalid_json");
    expectError(await post("/v1/chat/completions", ""), 400, null, "empty_body");
    expectError(await post("/v1/chat/completions", "[1,2]"), 400, null, "invalid_type");
  });

  it("rejects a non-JSON content type with 415", async () => {
    const r = await post("/v1/chat/completions", '{"messages":[]}', { "content-type": "text/plain" });
    expectError(r, 415, null, "unsupported_media_type");
    expect(r.body.error.type).toBe("invalid_request_error");
  });

  it("rejects bodies over MAX_BODY_BYTES with 413, with or without a Content-Length", async () => {
    const big = JSON.stringify({ messages: [{ role: "user", content: "x".repeat(17 * 1024 * 1024) }] });
    expectError(await post("/v1/chat/completions", big), 413, null, "body_too_large");
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        const part = new TextEncoder().encode("x".repeat(1024 * 1024));
        c.enqueue(new TextEncoder().encode('{"messages":[{"role":"user","content":"'));
        for (let i = 0; i < 17; i++) c.enqueue(part);
        c.close();
      },
    });
    const res = await SELF.fetch("http://epikv.test/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TEST_API_KEY}` }, body: chunked });
    expect(res.status).toBe(413);
  });

  it("names the offending field for wrong types, empty messages, unknown roles", async () => {
    expectError(await chat({ model: "m" }), 400, "messages");
    expectError(await chat({ messages: [] }), 400, "messages", "empty_array");
    expectError(await chat({ messages: "hi" }), 400, "messages", "invalid_type");
    expectError(await chat({ messages: [{ role: "wizard", content: "x" }] }), 400, "messages[0].role");
    expectError(await chat({ messages: [{ content: "x" }] }), 400, "messages[0].role");
    expectError(await chat({ messages: [{ role: "user", content: "a" }, { role: "user", content: 42 }] }), 400, "messages[1].content", "invalid_type");
    expectError(await chat({ messages: [{ role: "user" }] }), 400, "messages[0].content", "missing_required_parameter");
    expectError(await chat({ messages: [{ role: "tool", content: "r" }] }), 400, "messages[0].tool_call_id");
    expectError(await chat({ messages: [{ role: "user", content: "x" }], stream: "yes" }), 400, "stream");
    expectError(await chat({ messages: [{ role: "user", content: "x" }], temperature: "hot" }), 400, "temperature");
    expectError(await chat({ messages: [{ role: "user", content: "x" }], max_tokens: 1.5 }), 400, "max_tokens");
    expectError(await chat({ messages: [{ role: "user", content: "x" }], n: 2 }), 400, "n", "unsupported_value");
    expectError(await chat({ messages: [{ role: "user", content: "x" }], stream_options: { include_usage: true } }), 400, "stream_options");
    expectError(await chat({ messages: [{ role: "user", content: "x" }], conversation_id: "bad id!" }), 400, "conversation_id", "invalid_conversation_id");
  });

  it("rejects non-text content parts clearly and checks text parts", async () => {
    const r = await chat({ messages: [{ role: "user", content: [{ type: "text", text: "look" }, { type: "image_url", image_url: { url: "http://x/y.png" } }] }] });
    expectError(r, 400, "messages[0].content[1].type", "unsupported_content_type");
    expect(r.body.error.message).toContain("image_url");
    expectError(await chat({ messages: [{ role: "user", content: [{ type: "text" }] }] }), 400, "messages[0].content[0].text");
  });

  it("rejects conflicting conversation ids in header and body", async () => {
    const r = await post("/v1/chat/completions", JSON.stringify({ conversation_id: "a1", messages: [{ role: "user", content: "x" }] }), {
      "content-type": "application/json",
      "x-conversation-id": "b2",
    });
    expectError(r, 400, "conversation_id", "conflicting_conversation_id");
    const bad = await post("/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "x" }] }), {
      "content-type": "application/json",
      "x-conversation-id": "has space",
    });
    expectError(bad, 400, "X-Conversation-Id");
  });

  it("validates conversation bodies: settings, import, context", async () => {
    expectError(await post("/v1/conversations", JSON.stringify({ settings: { budget_tokens: "lots" } })), 400, "settings.budget_tokens");
    expectError(await post("/v1/conversations", JSON.stringify({ settings: { budgte_tokens: 100 } })), 400, "settings.budgte_tokens", "unknown_parameter");
    expectError(await post("/v1/conversations", JSON.stringify({ id: "../etc" })), 400, "id");
    expectError(await post("/v1/conversations", JSON.stringify({ settings: { episodes: 0 } })), 400, "settings.episodes");
  });

  it("answers unknown routes and ids with 404 in the same error shape", async () => {
    const res = await SELF.fetch("http://epikv.test/v2/nothing", { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    expect(res.status).toBe(404);
    expect((await res.json<ErrorBody>()).error.code).toBe("route_not_found");
  });
});

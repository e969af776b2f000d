// API keys and tenants: 401 without a valid key, public routes stay public,
// and one tenant can never see another's conversation (404, never 403).
import { describe, expect, it } from "vitest";
import { OTHER_API_KEY, TEST_API_KEY } from "../../testing/test-api-keys";
import { allMessages, api, chat, uniqueId } from "./support/epikv-client";
import { apiWith } from "./support/env-override";

const other = { authorization: `Bearer ${OTHER_API_KEY}` };

describe("authentication (workerd)", () => {
  it("answers 401 invalid_api_key without a key or with a wrong one, and never echoes the key", async () => {
    for (const headers of [{ authorization: "" }, { authorization: "Bearer sk-not-a-real-key-000000" }, { authorization: "Basic dXNlcjpwYXNz" }]) {
      const res = await api("GET", "/v1/conversations", undefined, headers);
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(JSON.parse(text).error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key" });
      expect(text).not.toContain("sk-not-a-real-key");
    }
    expect((await api("POST", "/v1/chat/completions", { messages: [{ role: "user", content: "hi" }] }, { authorization: "" })).status).toBe(401);
    expect((await api("GET", "/metrics", undefined, { authorization: "" })).status).toBe(401);
    expect((await api("GET", "/v1/models", undefined, { "x-api-key": TEST_API_KEY, authorization: "" })).status).toBe(200);
  });

  it("keeps /healthz, /openapi.json and the /ui page shell public", async () => {
    for (const path of ["/healthz", "/openapi.json", "/ui"]) expect((await api("GET", path, undefined, { authorization: "" })).status, path).toBe(200);
  });

  it("fails closed when no API keys are configured", async () => {
    const res = await apiWith({ API_KEYS: "" }, "GET", "/v1/models");
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/no API keys are configured/);
  });
});

describe("tenant isolation (workerd)", () => {
  it("another tenant's conversation answers 404 on every route and is never changed", async () => {
    const id = uniqueId("tenant");
    expect((await api("POST", "/v1/conversations", { id })).status).toBe(201);
    expect((await chat({ messages: [{ role: "user", content: `secret of tenant test ${id}` }] }, id)).status).toBe(200);
    const before = await allMessages(id);
    expect(before).toHaveLength(2);

    for (const [method, path, body] of [
      ["GET", `/v1/conversations/${id}`],
      ["GET", `/v1/conversations/${id}/messages`],
      ["GET", `/v1/conversations/${id}/episodes`],
      ["POST", `/v1/conversations/${id}/context`, { query: "secret" }],
      ["POST", `/v1/conversations/${id}/messages`, { messages: [{ role: "user", content: "injected" }] }],
      ["DELETE", `/v1/conversations/${id}`],
    ] as const) {
      const res = await api(method, path, body, other);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.text()).not.toContain("secret of tenant test");
    }
    // A chat turn naming the id reaches the other tenant's own (new) conversation.
    const theirs = await (await api("POST", "/v1/chat/completions", { model: "epikv", messages: [{ role: "user", content: "hello from other" }] }, { ...other, "x-conversation-id": id })).json<{ choices: { message: { content: string } }[] }>();
    expect(theirs.choices[0]!.message.content).toBe("echo 1: hello from other"); // saw none of tenant test's history
    const list = await (await api("GET", "/v1/conversations?limit=200", undefined, other)).json<{ tenant: string; data: { id: string; message_count: number }[] }>();
    expect(list.tenant).toBe("other");
    expect(list.data.find((c) => c.id === id)?.message_count ?? 2).toBe(2);
    expect(await allMessages(id)).toEqual(before);
    expect(before.some((m) => m.content === "injected" || m.content === "echo 1: hello from other")).toBe(false);
  });
});

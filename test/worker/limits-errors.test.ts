// Every limit answers a clear OpenAI-style error with the right status:
// body size 413, messages per request / message length / budget range / id
// format 400, unknown model 404 model_not_found, rate limit 429 + Retry-After.
import { describe, expect, it } from "vitest";
import { allMessages, api, chat, uniqueId } from "./support/epikv-client";
import { apiWith, doubles } from "./support/env-override";

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

async function error(res: Response): Promise<[number, string | null, string | null]> {
  const body = (await res.json()) as ErrorBody;
  expect(body.error.message.length).toBeGreaterThan(10);
  return [res.status, body.error.code, body.error.param];
}

const user = (content: string) => ({ role: "user", content });

describe("request limits (workerd)", () => {
  it("body size → 413 body_too_large", async () => {
    const res = await apiWith({ MAX_BODY_BYTES: "1000" }, "POST", "/v1/chat/completions", { messages: [user("x".repeat(2000))] });
    expect(await error(res)).toEqual([413, "body_too_large", null]);
  });

  it("messages per request → 400 too_many_messages; message length → 400 message_too_long", async () => {
    const many = await apiWith({ MAX_MESSAGES_PER_REQUEST: "3" }, "POST", "/v1/chat/completions", { messages: [user("a"), user("b"), user("c"), user("d")] });
    expect(await error(many)).toEqual([400, "too_many_messages", "messages"]);
    const long = await chat({ messages: [user("ok"), user("y".repeat(600 * 1024))] });
    expect(await error(long)).toEqual([400, "message_too_long", "messages[1].content"]);
  });

  it("budget range and id format → 400 naming the field; nothing is written", async () => {
    const id = uniqueId("limits");
    expect(await error(await chat({ budget_tokens: 0, messages: [user("hi")] }, id))).toEqual([400, "invalid_value", "budget_tokens"]);
    expect(await error(await chat({ budget_tokens: 1e12, messages: [user("hi")] }, id))).toEqual([400, "invalid_value", "budget_tokens"]);
    expect(await error(await api("POST", "/v1/conversations", { id, settings: { budget_tokens: 10 } }))).toEqual([400, "invalid_value", "settings.budget_tokens"]);
    expect(await error(await chat({ messages: [user("hi")] }, "bad id/with slash"))).toEqual([400, "invalid_conversation_id", "X-Conversation-Id"]);
    expect(await error(await api("GET", `/v1/conversations/${"x".repeat(200)}`))).toEqual([400, "invalid_conversation_id", "id"]);
    expect((await api("GET", `/v1/conversations/${id}`)).status).toBe(404);
  });

  it("unknown model → 404 model_not_found when the configured backends list their models", async () => {
    const vars = { BACKENDS: doubles({ name: "gpu-a", models: ["llama-a"] }, { name: "gpu-b", models: ["llama-b"] }) };
    const id = uniqueId("model");
    const res = await apiWith(vars, "POST", "/v1/chat/completions", { model: "gpt-17", messages: [user("hi")] }, { "x-conversation-id": id });
    const [status, code] = await error(res);
    expect([status, code]).toEqual([404, "model_not_found"]);
    const ok = await apiWith(vars, "POST", "/v1/chat/completions", { model: "llama-b", messages: [user("hi")] }, { "x-conversation-id": id });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-epikv-backend")).toBe("gpu-b");
    expect(await allMessages(id)).toHaveLength(2);
    const models = (await (await apiWith(vars, "GET", "/v1/models")).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining(["epikv", "llama-a", "llama-b"]));
  });

  it("rate limit per key → 429 rate_limit_exceeded with Retry-After", async () => {
    const vars = { RATE_LIMIT_RPS: "0.5", RATE_LIMIT_BURST: "3" };
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await apiWith(vars, "GET", "/v1/models");
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await error(limited!)).slice(0, 2)).toEqual([429, "rate_limit_exceeded"]);
    // Public routes are not limited (no key to count against).
    expect((await apiWith(vars, "GET", "/healthz", undefined, { authorization: "" })).status).toBe(200);
  });
});

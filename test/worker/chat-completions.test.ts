// POST /v1/chat/completions against the real ConversationDO and a TEST
// DOUBLE backend (auxiliary Worker, see vitest.config.ts): conversation
// creation, persistence across requests and object restarts, deduplication
// of resent history, OpenAI response shapes.
import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { allMessages, api, backendRequestsWith, chat, info, uniqueId } from "./support/epikv-client";

interface Completion {
  id: string;
  object: string;
  model: string;
  choices: { index: number; message: { role: string; content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

describe("chat completions, non-streaming (workerd)", () => {
  it("creates a conversation when none is named and returns its id in X-Conversation-Id", async () => {
    const marker = uniqueId("create");
    const res = await chat({ messages: [{ role: "user", content: `hello ${marker}` }] });
    expect(res.status).toBe(200);
    const id = res.headers.get("x-conversation-id");
    expect(id).toMatch(/^conv_[0-9a-f]{24}$/);
    const body = await res.json<Completion>();
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0]!.message).toEqual({ role: "assistant", content: `echo 1: hello ${marker}` });
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(Number(res.headers.get("x-epikv-context-tokens"))).toBeGreaterThan(0);
    const stored = await allMessages(id!);
    expect(stored.map((m) => [m.role, m.content])).toEqual([
      ["user", `hello ${marker}`],
      ["assistant", `echo 1: hello ${marker}`],
    ]);
    // the backend got the configured model for the "epikv" alias
    const [sent] = await backendRequestsWith(marker);
    expect(sent!.body.model).toBe("test-double-model");
  });

  it("names the conversation by header or body field, and keeps it across requests", async () => {
    const id = uniqueId("persist");
    const r1 = await chat({ messages: [{ role: "user", content: `my cat is called Miso ${id}` }] }, id);
    expect(r1.headers.get("x-conversation-id")).toBe(id);
    // second turn sends only the new message, by body field
    const marker = uniqueId("q2");
    const r2 = await chat({ conversation_id: id, messages: [{ role: "user", content: `what is my cat called? ${marker}` }] });
    expect(r2.status).toBe(200);
    expect(r2.headers.get("x-conversation-id")).toBe(id);
    const [sent] = await backendRequestsWith(marker);
    // the backend saw the earlier turn from the conversation's state, not from the request
    expect(sent!.body.messages.map((m) => m.content)).toEqual([`my cat is called Miso ${id}`, `echo 1: my cat is called Miso ${id}`, `what is my cat called? ${marker}`]);
    expect((await info(id)).message_count).toBe(4);
  });

  it("records a turn of an existing conversation before it answers, so the next turn and a read both see it", async () => {
    const id = uniqueId("after");
    expect((await chat({ messages: [{ role: "user", content: `first ${id}` }] }, id)).status).toBe(200);
    // The reply is committed before the response (chat-turn.ts completeTurn): Server-Timing names the commit.
    const second = await chat({ messages: [{ role: "user", content: `second ${id}` }] }, id);
    expect(second.status).toBe(200);
    expect(second.headers.get("server-timing")).toMatch(/commit;dur=/);
    expect((await allMessages(id)).map((m) => m.content).at(-1)).toBe(`echo 3: second ${id}`);
    const marker = uniqueId("third");
    const third = await chat({ messages: [{ role: "user", content: `third ${marker}` }] }, id);
    expect(third.status).toBe(200);
    const [sent] = await backendRequestsWith(marker);
    expect(sent!.body.messages.map((m) => m.content)).toEqual([`first ${id}`, `echo 1: first ${id}`, `second ${id}`, `echo 3: second ${id}`, `third ${marker}`]);
    expect((await allMessages(id)).map((m) => m.content).at(-1)).toBe(`echo 5: third ${marker}`);
  });

  it("stores resent history once (clients that send the whole history every turn)", async () => {
    const id = uniqueId("dedup");
    const u1 = { role: "user", content: `first question ${id}` };
    const a1 = (await (await chat({ messages: [u1] }, id)).json<Completion>()).choices[0]!.message;
    const u2 = { role: "user", content: `second question ${id}` };
    const a2 = (await (await chat({ messages: [u1, a1, u2] }, id)).json<Completion>()).choices[0]!.message;
    const u3 = { role: "user", content: `third question ${id}` };
    const res = await chat({ messages: [u1, a1, u2, a2, u3] }, id);
    expect(res.status).toBe(200);
    const stored = await allMessages(id);
    expect(stored.map((m) => m.content)).toEqual([u1.content, a1.content, u2.content, a2.content, u3.content, `echo 5: ${u3.content}`]);
    expect(stored.map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('under history "strict", refuses a resent history that diverges from the stored one with 409 and writes nothing', async () => {
    const id = uniqueId("conflict");
    const u1 = { role: "user", content: `original question ${id}` };
    expect((await api("POST", "/v1/conversations", { id, settings: { history: "strict" } })).status).toBe(201);
    await chat({ messages: [u1] }, id);
    const before = await allMessages(id);
    const res = await chat({ messages: [u1, { role: "assistant", content: "an answer that was never given" }, { role: "user", content: "next" }] }, id);
    expect(res.status).toBe(409);
    const body = await res.json<{ error: { code: string; type: string; message: string } }>();
    expect(body.error).toMatchObject({ code: "history_conflict", type: "invalid_request_error" });
    expect(body.error.message).toMatch(/^the request matches the stored conversation for 1 messages/);
    expect(await allMessages(id)).toEqual(before);
  });

  it("survives a restart of every Durable Object", async () => {
    const id = uniqueId("restart");
    await chat({ messages: [{ role: "user", content: `remember the number 4711 ${id}` }] }, id);
    const before = await allMessages(id);
    await abortAllDurableObjects();
    expect(await allMessages(id)).toEqual(before);
    const marker = uniqueId("after");
    const res = await chat({ messages: [{ role: "user", content: `which number? ${marker}` }] }, id);
    expect(res.status).toBe(200);
    const [sent] = await backendRequestsWith(marker);
    expect(sent!.body.messages.map((m) => m.content)).toContain(`remember the number 4711 ${id}`);
    expect((await info(id)).message_count).toBe(4);
  });

  it("forwards sampling parameters and the request's explicit model, never epikv's own fields", async () => {
    const id = uniqueId("params");
    const res = await chat({ model: "some-real-model", temperature: 0.2, max_tokens: 7, stop: ["\n"], seed: 3, budget_tokens: 500, messages: [{ role: "user", content: `params ${id}` }] }, id);
    expect(res.status).toBe(200);
    const [sent] = await backendRequestsWith(`params ${id}`);
    expect(sent!.body).toMatchObject({ model: "some-real-model", temperature: 0.2, max_tokens: 7, stop: ["\n"], seed: 3, stream: false });
    expect(sent!.body).not.toHaveProperty("conversation_id");
    expect(sent!.body).not.toHaveProperty("budget_tokens");
  });

  it("flattens text content parts before storing and forwarding", async () => {
    const id = uniqueId("parts");
    const res = await chat({ messages: [{ role: "user", content: [{ type: "text", text: "part one" }, { type: "text", text: `part two ${id}` }] }] }, id);
    expect(res.status).toBe(200);
    expect((await allMessages(id))[0]!.content).toBe(`part one\npart two ${id}`);
  });
});

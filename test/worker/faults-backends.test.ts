// Fault injection against the backend pool, the conversation object and the
// client (docs/reliability.md, fault table). Each case checks the error the
// client sees and that no message was lost or duplicated. Backends are the
// TEST DOUBLE (openai-test-double.mjs), forced into a failure with /mode/….
import type { ConversationStore } from "../../durable-objects/conversation/conversation-store";
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { conversationObjectName } from "../../worker/conversations/conversation-stub";
import { TEST_API_KEY, TEST_TENANT } from "../../testing/test-api-keys";
import { allMessages, api, backendRequestsWith, BASE, sseData, uniqueId, waitFor } from "./support/epikv-client";
import { apiWith, doubles } from "./support/env-override";
import { orderCandidates, parseBackends } from "../../worker/backend/pool";

const user = (content: string) => ({ role: "user", content });
const post = (vars: Record<string, string>, id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  apiWith(vars, "POST", "/v1/chat/completions", { model: "epikv", ...body }, { "x-conversation-id": id, ...headers });
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
const conversations = (env as unknown as { CONVERSATIONS: DurableObjectNamespace }).CONVERSATIONS;
const stub = (id: string) => conversations.get(conversations.idFromName(conversationObjectName(TEST_TENANT, id)));

describe("backend faults (workerd)", () => {
  it("backend down (5xx): fails over to the next backend; the turn is recorded once", async () => {
    const id = uniqueId("failover");
    const vars = { BACKENDS: doubles({ name: "down", mode: "test-double-fail-500" }, { name: "up" }), BACKEND_RETRIES: "3" };
    // Make "down" the conversation's first choice, so failover is exercised.
    const preferred = orderCandidates(parseBackends(vars.BACKENDS), `${TEST_TENANT}\u0000${id}`, null, () => true)[0]!.name;
    const res = await post(preferred === "down" ? vars : { ...vars, BACKENDS: doubles({ name: "up", mode: "test-double-fail-500" }, { name: "down" }) }, id, { messages: [user(`failover ${id}`)] });
    expect(res.status).toBe(200);
    const served = res.headers.get("x-epikv-backend");
    expect(served).not.toBe(preferred);
    const tried = (await backendRequestsWith(`failover ${id}`)).map((r) => (r as unknown as { mode: string | null }).mode);
    expect(tried).toEqual(["test-double-fail-500", null]);
    expect((await allMessages(id)).map((m) => m.role)).toEqual(["user", "assistant"]);
  });

  it("every backend down: 502 after retries, nothing written, and the conversation is not left locked", async () => {
    const id = uniqueId("alldown");
    const vars = { BACKENDS: doubles({ name: "d1", mode: "test-double-fail-500" }, { name: "d2", mode: "test-double-fail-500" }), BACKEND_RETRIES: "2" };
    const res = await post(vars, id, { messages: [user(`all down ${id}`)] });
    expect([res.status, await code(res)]).toEqual([502, "upstream_status_500"]);
    expect(await backendRequestsWith(`all down ${id}`)).toHaveLength(3);
    expect((await api("GET", `/v1/conversations/${id}`)).status).toBe(404);
    const next = await post({}, id, { messages: [user(`after outage ${id}`)] });
    expect(next.status).toBe(200);
    expect(await allMessages(id)).toHaveLength(2);
  });

  it("backend unreachable (connection refused): 502 upstream_unreachable, nothing written", async () => {
    const id = uniqueId("refused");
    const res = await post({ BACKENDS: JSON.stringify([{ name: "nowhere", url: "http://127.0.0.1:9/v1" }]), BACKEND_RETRIES: "1" }, id, { messages: [user("hello")] });
    expect([res.status, await code(res)]).toEqual([502, "upstream_unreachable"]);
    expect((await api("GET", `/v1/conversations/${id}`)).status).toBe(404);
  });

  it("backend hangs: 504 upstream_timeout after BACKEND_TIMEOUT_MS, or failover to a live backend", async () => {
    const id = uniqueId("hang");
    const hung = await post({ BACKENDS: doubles({ name: "hung", mode: "test-double-hang" }), BACKEND_TIMEOUT_MS: "300", BACKEND_RETRIES: "0" }, id, { messages: [user(`hang ${id}`)] });
    expect([hung.status, await code(hung)]).toEqual([504, "upstream_timeout"]);
    expect((await api("GET", `/v1/conversations/${id}`)).status).toBe(404);
    const vars = { BACKENDS: doubles({ name: "hung", mode: "test-double-hang" }, { name: "live" }), BACKEND_TIMEOUT_MS: "300", BACKEND_RETRIES: "1" };
    const ok = await post(vars, id, { stream: true, messages: [user(`hang then live ${id}`)] });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-epikv-backend")).toBe("live");
    expect((await sseData(ok)).at(-1)).toBe("[DONE]");
    expect(await allMessages(id)).toHaveLength(2);
  });

  it("stream cut after the first chunk: never retried (the client saw part of it); error event, nothing written", async () => {
    const id = uniqueId("cut");
    const vars = { BACKENDS: doubles({ name: "cutter", mode: "test-double-cut-stream" }, { name: "other", mode: "test-double-cut-stream" }), BACKEND_RETRIES: "3" };
    const res = await post(vars, id, { stream: true, messages: [user(`cut ${id}`)] });
    expect(res.status).toBe(200);
    const data = await sseData(res);
    expect(data).not.toContain("[DONE]");
    expect(JSON.parse(data.at(-1)!).error.code).toBe("upstream_stream_incomplete");
    expect(await backendRequestsWith(`cut ${id}`)).toHaveLength(1);
    expect((await api("GET", `/v1/conversations/${id}`)).status).toBe(404);
  });

  it("malformed SSE: error event upstream_invalid_response; nothing written", async () => {
    const id = uniqueId("badsse");
    const res = await post({ BACKENDS: doubles({ name: "garbled", mode: "test-double-bad-json" }) }, id, { stream: true, messages: [user(`garbled ${id}`)] });
    const data = await sseData(res);
    expect(JSON.parse(data.at(-1)!).error.code).toBe("upstream_invalid_response");
    expect((await api("GET", `/v1/conversations/${id}`)).status).toBe(404);
  });
});

describe("object and client faults (workerd)", () => {
  it("Durable Object restarted mid-turn: the turn is recorded exactly once or not at all, and a keyed retry settles it", async () => {
    const id = uniqueId("restart");
    expect((await api("POST", "/v1/conversations", { id })).status).toBe(201);
    const key = `restart-${id}`;
    const headers = { "x-conversation-id": id, "idempotency-key": key };
    const res = await api("POST", "/v1/chat/completions", { model: "test-double-slow", stream: true, messages: [user(`during restart ${id}`)] }, headers);
    expect(res.status).toBe(200);
    // Reset the object while the stream is in flight (its memory — the turn queue — is lost).
    await runInDurableObject(stub(id), (_instance, state) => {
      try {
        state.abort("fault test: restart mid-turn");
      } catch {
        /* abort throws inside the object by design */
      }
    }).catch(() => {});
    const data = await sseData(res);
    const outcome = data.at(-1) === "[DONE]" ? "committed" : JSON.parse(data.at(-1)!).error.code;
    const afterFirst = await allMessages(id);
    expect(afterFirst.length === 2 || afterFirst.length === 0, `${outcome}: ${afterFirst.length}`).toBe(true);
    const retry = await api("POST", "/v1/chat/completions", { model: "epikv", messages: [user(`during restart ${id}`)] }, headers);
    expect(retry.status).toBe(200);
    const final = await allMessages(id);
    expect(final.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(final[0]!.content).toBe(`during restart ${id}`);
  });

  it("client disconnects before a non-streaming reply: recorded once or not at all; a keyed retry settles it exactly once", async () => {
    const id = uniqueId("hangup");
    const headers = { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json", "x-conversation-id": id, "idempotency-key": `hangup-${id}` };
    const body = JSON.stringify({ model: "epikv", messages: [user(`hang up ${id}`)] });
    const controller = new AbortController();
    const pending = SELF.fetch(`${BASE}/v1/chat/completions`, { method: "POST", signal: controller.signal, headers, body }).catch(() => null);
    setTimeout(() => controller.abort(), 2);
    await pending;
    await new Promise((r) => setTimeout(r, 200));
    const first = await allMessages(id).catch(() => []);
    expect([0, 2]).toContain(first.length);
    const retry = await SELF.fetch(`${BASE}/v1/chat/completions`, { method: "POST", headers, body });
    expect(retry.status).toBe(200);
    const stored = await waitFor(() => allMessages(id), (m) => m.length >= 2);
    expect(stored.map((m) => m.content)).toEqual([`hang up ${id}`, `echo 1: hang up ${id}`]);
  });
});

describe("backend pinning (workerd)", () => {
  it("a tool-call turn pins the conversation to its backend; a plain reply releases it; the alarm releases an expired pin", async () => {
    const two = doubles({ name: "gpu-a" }, { name: "gpu-b" });
    let id = "";
    let preferred = "";
    for (let i = 0; i < 50 && preferred !== "gpu-b"; i++) {
      id = uniqueId("pin");
      preferred = orderCandidates(parseBackends(two), `${TEST_TENANT}\u0000${id}`, null, () => true)[0]!.name;
    }
    expect(preferred).toBe("gpu-b");
    // Turn 1 only gpu-a is configured: it calls a tool, so gpu-a holds the conversation's KV.
    const t1 = await post({ BACKENDS: doubles({ name: "gpu-a" }) }, id, { model: "test-double-tool-call", tools: [{ type: "function", function: { name: "search" } }], messages: [user("find it")] });
    expect(t1.headers.get("x-epikv-backend")).toBe("gpu-a");
    const call = ((await t1.json()) as { choices: { message: { tool_calls: { id: string }[] } }[] }).choices[0]!.message.tool_calls[0]!;
    // Turn 2 (the tool result) with both configured: affinity alone would pick gpu-b; the pin keeps gpu-a.
    const t2 = await post({ BACKENDS: two }, id, { messages: [{ role: "tool", tool_call_id: call.id, content: "42" }] });
    expect(t2.status).toBe(200);
    expect(t2.headers.get("x-epikv-backend")).toBe("gpu-a");
    // Its plain reply released the pin: turn 3 goes where affinity says.
    const t3 = await post({ BACKENDS: two }, id, { messages: [user("thanks")] });
    expect(t3.headers.get("x-epikv-backend")).toBe("gpu-b");
    // The observed tool time was learned; an expired pin is released by the alarm.
    await runInDurableObject(stub(id), async (instance, state) => {
      const timings = JSON.parse(state.storage.sql.exec("SELECT value FROM meta WHERE key = 'tool_timings'").one().value as string);
      expect(timings.search.n).toBe(1);
      // Written through the object's store, which caches meta rows (conversation-store.ts): a write behind its back would go unseen.
      const store = (instance as unknown as { store: ConversationStore }).store;
      store.setMeta("backend_pin", JSON.stringify({ backend: "gpu-a", tools: ["search"], started_at: 0, until: 1 }));
      store.schedule("unpin", 1);
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    await runInDurableObject(stub(id), (_i, state) => {
      expect(state.storage.sql.exec("SELECT value FROM meta WHERE key = 'backend_pin'").one().value).toBe("null");
    });
    expect(await allMessages(id)).toHaveLength(6);
  });
});

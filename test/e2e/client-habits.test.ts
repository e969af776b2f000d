// End to end against `wrangler dev` (real workerd and SQLite Durable
// Objects) and the REFERENCE backend (real model over real HTTP) for both
// modes: what clients written for OpenAI-style APIs do — regenerate, edit,
// resend concurrently, retry, hang up — and the faults around them. The
// first block's titles are rows of `npm run faults` (scripts/load/fault-table.ts);
// the second drives the official `openai` client.
//
// Both backend URLs go through a forwarding proxy in this process (a real TCP
// hop): it can drop the kv backend's connections ("kv backend down" is a
// network failure, as when the backend process is gone), and it can hold the
// chat backend's answers until released, so "concurrent" requests really are
// all in flight before the first reply becomes visible to any client.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type RunningBackend } from "../../backend/server";
import { startWranglerDev, type WranglerDev } from "../../testing/wrangler-dev";
import { TEST_API_KEY } from "../../testing/test-api-keys";

let backend: RunningBackend;
let wrangler: WranglerDev;
let persistTo: string;
let proxy: Server;
let kvDown = false;
/** While set, backend requests wait for it before being forwarded. */
let gate: Promise<void> | null = null;

type Msg = { role: "user" | "assistant" | "system"; content: string | null; tool_calls?: unknown };
const auth = { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" };

/** Forwards to the reference backend; while kvDown, drops every connection (the client sees a network error). */
function startProxy(target: string): Promise<Server> {
  const to = new URL(target);
  const server = createServer(async (req, res) => {
    if (kvDown && req.url?.startsWith("/kv/")) return void req.socket.destroy();
    if (gate && !req.url?.startsWith("/kv/")) await gate;
    const up = httpRequest({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

beforeAll(async () => {
  backend = await startBackend(0);
  proxy = await startProxy(backend.url);
  const kvUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  persistTo = mkdtempSync(join(tmpdir(), "epikv-client-e2e-"));
  wrangler = await startWranglerDev({ persistTo, vars: { KV_BACKEND_URL: kvUrl, BACKEND_URL: `${kvUrl}/v1`, BACKEND_MODEL: "epikv-tiny" }, portRange: [8880, 8899] });
});

afterAll(async () => {
  await wrangler?.stop();
  await new Promise((r) => proxy?.close(r));
  await backend?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${wrangler.url}${path}`, { method: "POST", headers: { ...auth, ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
}

async function turn(id: string, messages: Msg[], extra: Record<string, unknown> = {}, path = "/v1/chat/completions"): Promise<{ status: number; body: any; reply: string }> {
  const res = await post(path, { model: "epikv-tiny", messages, max_tokens: 6, ...extra }, { "x-conversation-id": id });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 300)}`);
  }
  return { status: res.status, body, reply: body?.choices?.[0]?.message?.content ?? "" };
}

async function messagesOf(id: string, includeSuperseded = false): Promise<{ seq: number; role: string; content: string; superseded_at?: number }[]> {
  const res = await fetch(`${wrangler.url}/v1/conversations/${id}/messages?limit=1000${includeSuperseded ? "&include_superseded=true" : ""}`, { headers: auth });
  if (res.status === 404) return [];
  expect(res.status).toBe(200);
  return (await res.json()).data;
}

const live = (ms: { content: string; superseded_at?: number }[]) => ms.filter((m) => m.superseded_at === undefined).map((m) => m.content);
const superseded = (ms: { content: string; superseded_at?: number }[]) => ms.filter((m) => m.superseded_at !== undefined).map((m) => m.content);
const uid = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

describe("client habits and faults, through wrangler dev", () => {
  it("kv hang-up mid-stream: the whole reply is recorded after the client left", async () => {
    const id = uid("kv-hangup");
    const ac = new AbortController();
    const res = await fetch(`${wrangler.url}/v1/kv/chat/completions`, {
      method: "POST", headers: { ...auth, "x-conversation-id": id }, signal: ac.signal,
      body: JSON.stringify({ messages: [{ role: "user", content: "tell me a long story" }], max_tokens: 300, stream: true }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("data: ");
    ac.abort(); // hang up after the first bytes
    let stored: { role: string; content: string }[] = [];
    for (let i = 0; i < 150 && stored.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
      stored = await messagesOf(id);
    }
    expect(stored.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(stored[1]!.content.length).toBeGreaterThan(0);
  });

  it("kv backend down: 502 upstream_unreachable, nothing written (streaming or not), and the next turn works", async () => {
    const id = uid("kv-down");
    const ok = await turn(id, [{ role: "user", content: "hello there" }], {}, "/v1/kv/chat/completions");
    expect(ok.status).toBe(200);
    kvDown = true;
    try {
      for (const stream of [false, true]) {
        const r = await post("/v1/kv/chat/completions", { messages: [{ role: "user", content: "hello there" }, { role: "assistant", content: ok.reply }, { role: "user", content: "are you up?" }], max_tokens: 6, stream }, { "x-conversation-id": id });
        expect(r.status).toBe(502);
        expect((await r.json()).error.code).toBe("upstream_unreachable");
      }
      // A first turn of a new conversation writes nothing either: the conversation does not exist.
      const fresh = uid("kv-down-new");
      expect((await turn(fresh, [{ role: "user", content: "hi" }], {}, "/v1/kv/chat/completions")).status).toBe(502);
      expect((await fetch(`${wrangler.url}/v1/conversations/${fresh}`, { headers: auth })).status).toBe(404);
    } finally {
      kvDown = false;
    }
    expect(live(await messagesOf(id))).toEqual(["hello there", ok.reply]);
    expect((await turn(id, [{ role: "user", content: "hello there" }, { role: "assistant", content: ok.reply }, { role: "user", content: "now?" }], {}, "/v1/kv/chat/completions")).status).toBe(200);
    expect(await messagesOf(id)).toHaveLength(4);
  });

  it("kv retry with the same Idempotency-Key: the first result again, stored once", async () => {
    const id = uid("kv-retry");
    const body = { messages: [{ role: "user", content: "count to three" }], max_tokens: 6 };
    const headers = { "x-conversation-id": id, "idempotency-key": `key-${id}` };
    const a = await post("/v1/kv/chat/completions", body, headers);
    const b = await post("/v1/kv/chat/completions", body, headers);
    const [ja, jb] = [await a.json(), await b.json()];
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.headers.get("x-epikv-idempotent-replay")).toBe("true");
    expect(jb.id).toBe(ja.id);
    expect(jb.choices[0].message.content).toBe(ja.choices[0].message.content);
    expect(await messagesOf(id)).toHaveLength(2);
    expect((await post("/v1/kv/chat/completions", body, { ...headers, "idempotency-key": "k".repeat(256) })).status).toBe(400);
    // A kv conversation's id is the client's, never with the tenant inside it, in the object and in the listing.
    expect((await (await fetch(`${wrangler.url}/v1/conversations/${id}`, { headers: auth })).json()).id).toBe(id);
    const listed = (await (await fetch(`${wrangler.url}/v1/conversations?limit=200`, { headers: auth })).json()).data.map((c: { id: string }) => c.id);
    expect(listed).toContain(id);
    expect(listed.every((x: string) => !x.includes("\u0000"))).toBe(true);
  });

  it("regenerate: the last reply is superseded and a new one appended", async () => {
    const id = uid("regen");
    const r1 = await turn(id, [{ role: "user", content: "first" }]);
    const h: Msg[] = [{ role: "user", content: "first" }, { role: "assistant", content: r1.reply }, { role: "user", content: "second" }];
    const r2 = await turn(id, h);
    const again = await turn(id, h, { temperature: 1, seed: 7 });
    expect([r1.status, r2.status, again.status]).toEqual([200, 200, 200]);
    const all = await messagesOf(id, true);
    expect(live(all)).toEqual(["first", r1.reply, "second", again.reply]);
    expect(superseded(all)).toEqual([r2.reply]);
    expect(await messagesOf(id)).toHaveLength(4);
  });

  it("edit of the first message: everything after it superseded, the edited history appended", async () => {
    const id = uid("edit-first");
    const r = await turn(id, [{ role: "user", content: "A" }]);
    const edited = await turn(id, [{ role: "user", content: "A edited" }, { role: "assistant", content: "x" }, { role: "user", content: "C" }]);
    expect(edited.status).toBe(200);
    const all = await messagesOf(id, true);
    expect(live(all)).toEqual(["A edited", "x", "C", edited.reply]);
    expect(superseded(all)).toEqual(["A", r.reply]);
  });

  it("edit of a middle message: it and what follows superseded, the rest kept", async () => {
    const id = uid("edit-mid");
    const r1 = await turn(id, [{ role: "user", content: "one" }]);
    const h: Msg[] = [{ role: "user", content: "one" }, { role: "assistant", content: r1.reply }];
    const r2 = await turn(id, [...h, { role: "user", content: "two" }]);
    const r3 = await turn(id, [...h, { role: "user", content: "two" }, { role: "assistant", content: r2.reply }, { role: "user", content: "three" }]);
    const edited = await turn(id, [...h, { role: "user", content: "two, edited" }]);
    expect([r3.status, edited.status]).toEqual([200, 200]);
    const all = await messagesOf(id, true);
    expect(live(all)).toEqual(["one", r1.reply, "two, edited", edited.reply]);
    expect(superseded(all)).toEqual(["two", r2.reply, "three", r3.reply]);
  });

  it('strict mode (settings.history "strict"): a diverging resend is 409 history_conflict and nothing changes', async () => {
    const id = uid("strict");
    expect((await post("/v1/conversations", { id, settings: { history: "strict" } })).status).toBe(201);
    const r1 = await turn(id, [{ role: "user", content: "a" }]);
    const h: Msg[] = [{ role: "user", content: "a" }, { role: "assistant", content: r1.reply }, { role: "user", content: "b" }];
    await turn(id, h);
    const before = await messagesOf(id, true);
    const conflict = await turn(id, [...h.slice(0, 2), { role: "user", content: "b, edited" }]);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({ code: "history_conflict", type: "invalid_request_error" });
    expect(conflict.body.error.message).toMatch(/^the request matches/);
    expect(await messagesOf(id, true)).toEqual(before);
    const log = wrangler.log();
    // Expected refusals (409, 400, 429, a kv backend that is down) are answered, not logged as uncaught faults.
    expect(log).not.toMatch(/Uncaught (HistoryConflict|InvalidConversationRequest|ContextOverBudget|KvBackend|ConversationBusy)\w*Error/);
  });

  it("20 concurrent resends of one history plus a new message: all answered, each question and reply appended once, in arrival order", async () => {
    const id = uid("resend");
    const r0 = await turn(id, [{ role: "user", content: "base" }]);
    const h: Msg[] = [{ role: "user", content: "base" }, { role: "assistant", content: r0.reply }];
    const n = 20;
    let release!: () => void;
    gate = new Promise((r) => (release = r));
    const pending = Promise.all(Array.from({ length: n }, (_, i) => turn(id, [...h, { role: "user", content: `m${i}` }])));
    // Every request reaches the Worker while the first turn's backend call is held: none of their clients has seen another's reply.
    await new Promise((r) => setTimeout(r, 1500));
    gate = null;
    release();
    const results = await pending;
    expect(results.map((r) => r.status)).toEqual(Array(n).fill(200));
    const stored = await messagesOf(id, true);
    expect(superseded(stored)).toEqual([]);
    expect(stored).toHaveLength(2 + 2 * n);
    const questions = stored.slice(2).filter((m) => m.role === "user").map((m) => m.content);
    expect([...questions].sort()).toEqual(Array.from({ length: n }, (_, i) => `m${i}`).sort());
    // Each reply right after its own question.
    for (let k = 0; k < n; k++) expect(stored[2 + 2 * k + 1]!.role).toBe("assistant");
  });

  it("nested tool_calls 10,000 deep: 400 naming the depth limit on import, chat and kv chat; nothing stored", async () => {
    const id = uid("deep");
    expect((await post("/v1/conversations", { id })).status).toBe(201);
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    const messages = `[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":${deep}},{"role":"user","content":"x"}]`;
    for (const [path, body] of [
      ["/v1/chat/completions", `{"messages":${messages}}`],
      ["/v1/kv/chat/completions", `{"messages":${messages}}`],
      [`/v1/conversations/${id}/messages`, `{"messages":${messages}}`],
    ] as const) {
      const r = await post(path, body, { "x-conversation-id": id });
      expect([path, r.status]).toEqual([path, 400]);
      const e = (await r.json()).error;
      expect(e.code).toBe("json_too_deep");
      expect(e.message).toMatch(/deeper than 64 levels/);
    }
    expect(await messagesOf(id)).toEqual([]);
  });
});

describe("the official openai client: regenerate and edit, streaming and not", () => {
  for (const stream of [false, true]) {
    it(`${stream ? "streaming" : "non-streaming"}: /messages shows the live history, superseded replies only on request`, async () => {
      const id = uid(`openai-${stream ? "s" : "n"}`);
      const client = new OpenAI({ baseURL: `${wrangler.url}/v1`, apiKey: TEST_API_KEY, defaultHeaders: { "X-Conversation-Id": id }, maxRetries: 0 });
      const ask = async (messages: OpenAI.ChatCompletionMessageParam[], seed?: number): Promise<string> => {
        if (!stream) return (await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 6, seed, temperature: seed === undefined ? 0 : 1 })).choices[0].message.content ?? "";
        let text = "";
        for await (const c of await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 6, seed, temperature: seed === undefined ? 0 : 1, stream: true })) text += c.choices[0]?.delta.content ?? "";
        return text;
      };
      const history: OpenAI.ChatCompletionMessageParam[] = [{ role: "system", content: "be brief" }, { role: "user", content: "hello" }];
      const a1 = await ask(history);
      history.push({ role: "assistant", content: a1 }, { role: "user", content: "what is a fork?" });
      const a2 = await ask(history);
      const a2b = await ask(history, 11); // regenerate the last reply
      // Edit "hello" → "hi": the UI drops everything after it.
      const edited: OpenAI.ChatCompletionMessageParam[] = [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }, { role: "assistant", content: a1 }, { role: "user", content: "what is a fork?" }];
      const a3 = await ask(edited);
      const all = await messagesOf(id, true);
      expect(live(all)).toEqual(["be brief", "hi", a1, "what is a fork?", a3]);
      // Each superseded message after the live one that took its seq; a seq superseded twice lists its forks oldest first.
      expect(superseded(all)).toEqual(["hello", a1, "what is a fork?", a2, a2b]);
      expect((await messagesOf(id)).map((m) => m.content)).toEqual(live(all));
      // The SDK lists models on the kv base URL too.
      const kv = new OpenAI({ baseURL: `${wrangler.url}/v1/kv`, apiKey: TEST_API_KEY, maxRetries: 0 });
      expect((await kv.models.list()).data.map((m) => m.id)).toContain("epikv-tiny");
      // An unknown model is the SDK's NotFoundError (404 model_not_found), not a retried 5xx.
      await expect(client.chat.completions.create({ model: "no-such-model", messages: edited })).rejects.toMatchObject({ status: 404, code: "model_not_found" });
    });
  }
});

// End to end, context mode: `wrangler dev` (real workerd, SQLite Durable
// Objects persisted to a temp dir) in front of a TEST DOUBLE OpenAI-compatible
// backend on loopback, driven by the official `openai` npm client, streaming
// and not, on a conversation of 2,000 imported messages; then a restart of
// wrangler on the same state.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../../testing/wrangler-dev";
import { TEST_API_KEY } from "../../testing/test-api-keys";
// @ts-expect-error plain .mjs test double without types
import { startTestDoubleServer } from "../../testing/test-double-server.mjs";

interface Recorded {
  authorization: string | null;
  body: { model: string; stream: boolean; messages: { role: string; content: string }[] };
}
interface TestDouble {
  url: string;
  requests: () => Recorded[];
  close: () => Promise<void>;
}

const IMPORTED = 2000;
const BUDGET = 1024;
const API_KEY = "sk-e2e-test-double";
const TOPICS = ["sourdough starter hydration", "kubernetes pod eviction", "violin bow rosin", "tax return deadline", "hiking the alps huts"];

function history(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
    content: `turn ${i}: ${TOPICS[Math.floor(i / 12) % TOPICS.length]} note ${(i * 7919) % 997}`,
  }));
}

let backend: TestDouble;
let wrangler: WranglerDev;
let persistTo: string;
const conversationId = `e2e-${Date.now().toString(36)}`;

async function http<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(wrangler.url + path, {
    method,
    headers: { authorization: `Bearer ${TEST_API_KEY}`, ...(body === undefined ? headers : { "content-type": "application/json", ...headers }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function startEpikv() {
  return startWranglerDev({
    persistTo,
    vars: { BACKEND_URL: backend.url, BACKEND_API_KEY: API_KEY, BACKEND_MODEL: "test-double-model", BACKEND_TIMEOUT_MS: "15000" },
  });
}

function client() {
  return new OpenAI({ baseURL: `${wrangler.url}/v1`, apiKey: TEST_API_KEY, defaultHeaders: { "X-Conversation-Id": conversationId }, maxRetries: 0 });
}

const lastRequest = () => backend.requests().at(-1)!;
const messageCount = async () => (await http<{ message_count: number }>("GET", `/v1/conversations/${conversationId}`)).body.message_count;

beforeAll(async () => {
  persistTo = mkdtempSync(join(tmpdir(), "epikv-e2e-"));
  backend = await startTestDoubleServer();
  wrangler = await startEpikv();
}, 90_000);

afterAll(async () => {
  await wrangler?.stop();
  await backend?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("context mode end to end (wrangler dev + openai client + test double backend)", () => {
  it("imports 2,000 messages idempotently", async () => {
    const created = await http<{ id: string }>("POST", "/v1/conversations", { id: conversationId, settings: { budget_tokens: BUDGET } });
    expect(created.status).toBe(201);
    const msgs = history(IMPORTED);
    const a = await http<{ appended: number }>("POST", `/v1/conversations/${conversationId}/messages`, { messages: msgs.slice(0, 1200) }, { "Idempotency-Key": "part-1" });
    expect(a.body.appended).toBe(1200);
    const b = await http<{ appended: number; duplicates: number }>("POST", `/v1/conversations/${conversationId}/messages`, { messages: msgs }, { "Idempotency-Key": "part-2" });
    expect(b.body).toMatchObject({ appended: 800, duplicates: 1200 });
    // a repeated call under the same key answers the original result and changes nothing
    const replay = await http<{ replayed: boolean; appended: number }>("POST", `/v1/conversations/${conversationId}/messages`, { messages: msgs.slice(0, 1200) }, { "Idempotency-Key": "part-1" });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ replayed: true, appended: 1200 });
    expect(await messageCount()).toBe(IMPORTED);
  });

  it("non-streaming: the backend gets a budgeted, deduplicated context; the conversation grows by the turn", async () => {
    const question = "what did we say about violin bow rosin?";
    const preview = (await http<{ messages: { role: string; content: string }[]; used_tokens: number }>("POST", `/v1/conversations/${conversationId}/context`, { query: question })).body;
    const completion = await client().chat.completions.create({ model: "epikv", messages: [{ role: "user", content: question }] });
    const sent = lastRequest();
    expect(sent.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent.body.model).toBe("test-double-model");
    expect(sent.body.messages.length).toBeGreaterThan(2);
    expect(sent.body.messages.length).toBeLessThan(IMPORTED / 4);
    expect(new Set(sent.body.messages.map((m) => m.content)).size).toBe(sent.body.messages.length);
    expect(sent.body.messages.at(-1)).toEqual({ role: "user", content: question });
    expect(sent.body.messages.some((m) => m.content.includes("violin bow rosin"))).toBe(true);
    expect(sent.body.messages).toEqual(preview.messages.map((m) => ({ role: m.role, content: m.content })));
    expect(preview.used_tokens).toBeLessThanOrEqual(BUDGET);
    expect(completion.choices[0]!.message.content).toBe(`echo ${sent.body.messages.length}: ${question}`);
    expect(await messageCount()).toBe(IMPORTED + 2);
  });

  it("resent full history (as OpenAI clients send it) is stored once", async () => {
    const page = await fetch(`${wrangler.url}/v1/conversations/${conversationId}/messages?after=${IMPORTED - 11}&limit=1000`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } }).then((r) => r.json() as Promise<{ data: { role: "user" | "assistant"; content: string }[] }>);
    const full = [...history(IMPORTED - 10), ...page.data.map((m) => ({ role: m.role, content: m.content }))];
    expect(full).toHaveLength(IMPORTED + 2);
    const question = "and the kubernetes pod eviction issue?";
    await client().chat.completions.create({ model: "epikv", messages: [...full, { role: "user", content: question }] });
    expect(lastRequest().body.messages.length).toBeLessThan(IMPORTED / 4);
    expect(await messageCount()).toBe(IMPORTED + 4);
  });

  it("streaming: chunks arrive through the openai client, usage included, the reply recorded", async () => {
    const question = "remind me about the sourdough starter hydration";
    const stream = await client().chat.completions.create({ model: "epikv", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: question }] });
    let text = "";
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    const sent = lastRequest();
    expect(sent.body.stream).toBe(true);
    expect(chunks).toBeGreaterThan(3);
    expect(text).toBe(`echo ${sent.body.messages.length}: ${question}`);
    expect(usage!.prompt_tokens).toBeGreaterThan(0);
    expect(await messageCount()).toBe(IMPORTED + 6);
    const tail = await fetch(`${wrangler.url}/v1/conversations/${conversationId}/messages?after=${IMPORTED + 3}`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } }).then((r) => r.json() as Promise<{ data: { role: string; content: string }[] }>);
    expect(tail.data).toEqual([
      expect.objectContaining({ role: "user", content: question }),
      expect.objectContaining({ role: "assistant", content: text }),
    ]);
  });

  it("a failing backend surfaces as an OpenAI APIError and records nothing", async () => {
    const err = await client().chat.completions.create({ model: "test-double-fail-500", messages: [{ role: "user", content: "fail please" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    const streamErr = await (async () => {
      const s = await client().chat.completions.create({ model: "test-double-cut-stream", stream: true, messages: [{ role: "user", content: "cut please" }] });
      for await (const _ of s) void _;
    })().catch((e: unknown) => e);
    expect(streamErr).toBeInstanceOf(OpenAI.APIError);
    expect(await messageCount()).toBe(IMPORTED + 6);
  });

  it("state survives a restart of wrangler dev on the same persistence directory", async () => {
    await wrangler.stop();
    wrangler = await startEpikv();
    expect(await messageCount()).toBe(IMPORTED + 6);
    const question = "one more about hiking the alps huts";
    await client().chat.completions.create({ model: "epikv", messages: [{ role: "user", content: question }] });
    expect(lastRequest().body.messages.at(-1)!.content).toBe(question);
    expect(await messageCount()).toBe(IMPORTED + 8);
  });
});

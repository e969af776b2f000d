// End to end, kv mode on the constructed recall model (docs/recall-model.md):
// `wrangler dev` (workerd, SQLite Durable Objects) in front of the reference
// backend serving `epikv-recall`, driven by the official `openai` client at
// `/v1/kv`. Facts stated over several turns are answered by value, turn by
// turn, from the object's stored KV; with the full policy every reply equals
// the backend's own completion over the whole history, and with EpiCache at
// a budget below the conversation's length the latest facts are still
// answered.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type RunningBackend } from "../../backend/server";
import { RECALL_MODEL } from "../../scripts/recall/construct";
import { startWranglerDev, type WranglerDev } from "../../testing/wrangler-dev";
import { TEST_API_KEY } from "../../testing/test-api-keys";

let backend: RunningBackend;
let wrangler: WranglerDev;
let persistTo: string;

beforeAll(async () => {
  backend = await startBackend(0, { models: [RECALL_MODEL] });
  persistTo = mkdtempSync(join(tmpdir(), "epikv-kv-recall-"));
  wrangler = await startWranglerDev({ persistTo, vars: { KV_BACKEND_URL: backend.url, BACKEND_URL: `${backend.url}/v1`, BACKEND_MODEL: RECALL_MODEL }, portRange: [8880, 8899] });
});

afterAll(async () => {
  await wrangler?.stop();
  await backend?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

type Message = { role: "user" | "assistant"; content: string };

function kvClient(conversationId: string): OpenAI {
  return new OpenAI({ baseURL: `${wrangler.url}/v1/kv`, apiKey: TEST_API_KEY, defaultHeaders: { "X-Conversation-Id": conversationId }, maxRetries: 0 });
}

async function reference(messages: Message[]): Promise<string> {
  const direct = new OpenAI({ baseURL: `${backend.url}/v1`, apiKey: "unused", maxRetries: 0 });
  const r = await direct.chat.completions.create({ model: RECALL_MODEL, messages, max_tokens: 4, temperature: 0 });
  return r.choices[0].message.content ?? "";
}

/** Turns: a fact, small talk, a question about an earlier fact (expected value), …; facts are updated on the way. */
const TURNS: { say: string; expect: string }[] = [
  { say: "note that my locker is cobalt .", expect: "" },
  { say: "the garden was nice today , and the soil too .", expect: "" },
  { say: "remember that my wifi is amber .", expect: "" },
  { say: "what is my locker ?", expect: "cobalt" },
  { say: "we will talk more about the trip and the ticket .", expect: "" },
  { say: "note that my train is falcon .", expect: "" },
  { say: "actually , my locker is quartz now .", expect: "" },
  { say: "so my wifi is", expect: "amber" },
  { say: "what is my locker ?", expect: "quartz" },
  { say: "what is my train ?", expect: "falcon" },
];

type KvInfo = { cached_entries: number; folded_tokens: number; used_handle: boolean };

/** Runs TURNS; returns the last non-handle turn's kv info. */
async function converse(client: OpenAI, kv: Record<string, unknown>, compare: boolean): Promise<KvInfo | null> {
  const history: Message[] = [];
  let last: KvInfo | null = null;
  for (const [turn, t] of TURNS.entries()) {
    const messages = [...history, { role: "user" as const, content: t.say }];
    const r = (await client.chat.completions.create({ model: RECALL_MODEL, messages, max_tokens: 4, kv } as never)) as OpenAI.ChatCompletion;
    const got = r.choices[0].message.content ?? "";
    expect(got, `turn ${turn}: ${t.say}`).toBe(t.expect);
    if (compare) expect(got).toBe(await reference(messages));
    const info = (r as unknown as { epikv: KvInfo }).epikv;
    if (!info.used_handle) last = info;
    history.push(messages.at(-1)!, { role: "assistant", content: got });
  }
  return last;
}

describe("kv mode through wrangler dev on the recall model", () => {
  it("full policy, fp32: every answer is the stated (latest) value and equals the full recompute", async () => {
    await converse(kvClient(`kv-recall-full-${Date.now().toString(36)}`), { policy: "full", blockSize: 16, encoding: { dtype: "fp32" }, budget: { tokensPerHead: 1 << 20 }, alpha: 0 }, true);
  });

  // fp32 pages: int8 keys move this model's scores (~10⁴ nats) by tens of nats, more than the recency
  // preference between an update and the statement it replaces 60 tokens earlier (docs/recall-model.md).
  it("epicache, a budget below the conversation's length: the answers are still the values", async () => {
    const info = await converse(kvClient(`kv-recall-epi-${Date.now().toString(36)}`), { policy: "epicache", blockSize: 16, encoding: { dtype: "fp32" }, budget: { tokensPerHead: 48 } }, false);
    // Evicted: more tokens folded than one KV head keeps (2 layers × 2 KV heads; layer budgets average 48, floor 12).
    expect(info!.folded_tokens).toBeGreaterThan(48 * 1.25);
    expect(info!.cached_entries).toBeLessThanOrEqual(48 * 1.25 * 2 * 2);
  });
});

// End to end, kv mode: `wrangler dev` (real workerd, SQLite Durable Objects)
// in front of a kv backend over real HTTP — the TypeScript reference backend
// (backend/) and the PyTorch backend (backends/torch/, on CPU here), each
// serving epikv-tiny — driven by the official `openai` client at `/v1/kv`. With the full policy,
// fp32 pages and a budget larger than the conversation, every kv-mode reply
// (the Durable Object decoding against its stored pages + tail + query)
// equals the backend's own chat completion over the whole history — across
// several blocks and turns, streamed and not. Then an evicting policy
// (EpiCache, int8) keeps answering within its budget.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend } from "../../backend/server";
import { startTorchBackend } from "../../testing/torch-backend";
import { startWranglerDev, type WranglerDev } from "../../testing/wrangler-dev";
import { TEST_API_KEY } from "../../testing/test-api-keys";

const TOPICS = ["the garden tomatoes need sun", "the train to Lisbon leaves at nine", "rent is due on the first", "the puppy chewed the sofa"];

/** The kv backends under test: each starts on a free port and serves epikv-tiny. */
const BACKENDS: { name: string; start: () => Promise<{ url: string; close: () => Promise<void> }> }[] = [
  { name: "reference backend", start: () => startBackend(0) },
  { name: "torch backend", start: () => startTorchBackend() },
];

for (const kind of BACKENDS) describe(`kv mode through wrangler dev (${kind.name})`, () => {
  let backend: { url: string; close: () => Promise<void> };
  let wrangler: WranglerDev;
  let persistTo: string;

  beforeAll(async () => {
    backend = await kind.start();
    persistTo = mkdtempSync(join(tmpdir(), "epikv-kv-e2e-"));
    wrangler = await startWranglerDev({ persistTo, vars: { KV_BACKEND_URL: backend.url, BACKEND_URL: `${backend.url}/v1`, BACKEND_MODEL: "epikv-tiny" }, portRange: [8860, 8879] });
  });

  afterAll(async () => {
    await wrangler?.stop();
    await backend?.close();
    if (persistTo) rmSync(persistTo, { recursive: true, force: true });
  });

  function kvClient(conversationId: string): OpenAI {
    return new OpenAI({ baseURL: `${wrangler.url}/v1/kv`, apiKey: TEST_API_KEY, defaultHeaders: { "X-Conversation-Id": conversationId }, maxRetries: 0 });
  }

  /** The backend's own answer over the whole history (full recompute, greedy). */
  async function reference(messages: { role: "user" | "assistant" | "system"; content: string }[], maxTokens: number): Promise<string> {
    const direct = new OpenAI({ baseURL: `${backend.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const r = await direct.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: maxTokens, temperature: 0 });
    return r.choices[0].message.content ?? "";
  }

  it("full policy, fp32, oversized budget: every reply equals the full recompute, across blocks and turns", async () => {
    const id = `kv-exact-${Date.now().toString(36)}`;
    const client = kvClient(id);
    const kv = { policy: "full", blockSize: 64, encoding: { dtype: "fp32" }, budget: { tokensPerHead: 1 << 20 }, alpha: 0 };
    const history: { role: "user" | "assistant"; content: string }[] = [];
    const usedHandles: boolean[] = [];
    for (let turn = 0; turn < 6; turn++) {
      const question = { role: "user" as const, content: `Turn ${turn}: tell me about ${TOPICS[turn % TOPICS.length]}, with details.` };
      const messages = [...history, question];
      const expected = await reference(messages, 12);
      let got = "";
      if (turn % 2 === 0) {
        const stream = await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 12, stream: true, kv } as never);
        for await (const chunk of stream as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>) got += chunk.choices[0]?.delta?.content ?? "";
      } else {
        const r = await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 12, kv } as never);
        got = (r as OpenAI.ChatCompletion).choices[0].message.content ?? "";
        // Earlier turns were folded into the episode cache (in the background) and sent as KV, not as tokens.
        const info = (r as unknown as { epikv: { cached_entries: number; folded_tokens: number } }).epikv;
        if (turn >= 3) expect(info.folded_tokens).toBeGreaterThanOrEqual(128);
        usedHandles.push((info as unknown as { used_handle: boolean }).used_handle);
        if (turn >= 3) expect(info.cached_entries).toBe(info.folded_tokens * 4 * 2); // every position of 4 layers × 2 KV heads
      }
      expect(got).toBe(expected);
      history.push(question, { role: "assistant", content: got });
    }
    console.log(`kv e2e: non-streamed turns used a pinned handle: ${usedHandles.join(", ")}`);
    // The history spans several blocks of 64 tokens.
    expect(history.reduce((s, m) => s + m.content.length + 2, 0)).toBeGreaterThan(5 * 64);
  });

  it("epicache with an evicting budget answers every turn", async () => {
    const client = kvClient(`kv-epi-${Date.now().toString(36)}`);
    const kv = { policy: "epicache", blockSize: 64, encoding: { dtype: "int8", groupSize: 64 }, budget: { tokensPerHead: 24 } };
    const history: { role: "user" | "assistant"; content: string }[] = [];
    let byBytes = 0;
    for (let turn = 0; turn < 5; turn++) {
      const messages = [...history, { role: "user" as const, content: `Question ${turn} about ${TOPICS[turn % TOPICS.length]}?` }];
      const r = (await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 16, kv } as never)) as OpenAI.ChatCompletion;
      const text = r.choices[0].message.content ?? "";
      expect(r.usage?.completion_tokens).toBeGreaterThan(0);
      const info = (r as unknown as { epikv: { cached_entries: number; folded_tokens: number; used_handle: boolean } }).epikv;
      // Evicted: layer budgets b_l average M = 24 per KV head (pooled); the floor max(1, M/4) per layer adds at most M/4 each.
      // (A turn by handle also counts the pinned tail after the cache.)
      if (!info.used_handle) {
        expect(info.cached_entries).toBeLessThanOrEqual(24 * 1.25 * 4 * 2);
        byBytes++;
      }
      if (turn >= 3) expect(info.folded_tokens).toBeGreaterThan(24);
      history.push(messages.at(-1)!, { role: "assistant", content: text });
    }
    expect(byBytes).toBeGreaterThan(1);
  });

  it("between folds, the object decodes by pinned handle and sends only the new tokens, with the same replies", async () => {
    const client = kvClient(`kv-pin-${Date.now().toString(36)}`);
    const kv = { policy: "full", blockSize: 1024, encoding: { dtype: "fp32" }, budget: { tokensPerHead: 1 << 20 }, alpha: 0, pinTtlS: 120 };
    const history: { role: "user" | "assistant"; content: string }[] = [];
    const used: boolean[] = [];
    for (let turn = 0; turn < 4; turn++) {
      const messages = [...history, { role: "user" as const, content: `Q${turn}?` }];
      const r = (await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 8, kv } as never)) as OpenAI.ChatCompletion;
      const text = r.choices[0].message.content ?? "";
      expect(text).toBe(await reference(messages, 8));
      used.push((r as unknown as { epikv: { used_handle: boolean } }).epikv.used_handle);
      history.push(messages.at(-1)!, { role: "assistant", content: text });
    }
    // Turn 0 has nothing pinned; turn 1 runs while the first episode cache is being created (its pin named no cache yet).
    expect(used[0]).toBe(false);
    expect(used.slice(2)).toEqual([true, true]);
    // The handle hits show in /metrics (per isolate: wrangler dev runs one).
    const metrics = await (await fetch(`${wrangler.url}/metrics`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } })).text();
    const hits = Number(/^epikv_kv_pin_hits_total (\d+)$/m.exec(metrics)?.[1]);
    expect(hits).toBeGreaterThanOrEqual(2);
  });

  it("a long imported history (160 messages) is folded on its first kv turn, then answered within budget", async () => {
    const id = `kv-import-${Date.now().toString(36)}`;
    const messages = Array.from({ length: 160 }, (_, i) => ({ role: i % 2 === 0 ? "user" : "assistant", content: `turn ${i}: about ${TOPICS[Math.floor(i / 10) % TOPICS.length]}` }));
    const auth = { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" };
    expect((await fetch(`${wrangler.url}/v1/conversations`, { method: "POST", headers: auth, body: JSON.stringify({ id }) })).status).toBe(201);
    const imported = await fetch(`${wrangler.url}/v1/conversations/${id}/messages`, { method: "POST", headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" }, body: JSON.stringify({ messages }) });
    expect(imported.status).toBeLessThan(300);
    const kv = { policy: "epicache", blockSize: 256, encoding: { dtype: "int8", groupSize: 64 }, budget: { tokensPerHead: 64 }, promptTokens: 128 };
    const t0 = Date.now();
    const r = (await kvClient(id).chat.completions.create({ model: "epikv-tiny", messages: [{ role: "user", content: "When does the train leave?" }], max_tokens: 8, kv } as never).catch((e) => {
      console.log(wrangler.log().slice(-3000));
      throw e;
    })) as OpenAI.ChatCompletion;
    console.log(`first kv turn on 160 imported messages (catch-up fold included): ${Date.now() - t0} ms`);
    const info = (r as unknown as { epikv: { cached_entries: number; folded_tokens: number; used_handle: boolean } }).epikv;
    expect(r.choices[0].message.content?.length).toBeGreaterThan(0);
    expect(info.folded_tokens).toBeGreaterThan(4 * 256);
    expect(info.cached_entries).toBeLessThanOrEqual(64 * 1.25 * 4 * 2);
  });
});

// KvService, what the Durable Object delegates kv mode to: the mirrored token
// stream is exactly the backend's chat template of the stored messages; a
// decoded turn streams as OpenAI chat.completion.chunk SSE (worker/kv/
// kv-chunks.ts) whose text equals the non-streaming decode of the same
// request; committed turns and background folding keep the stream and the
// caches in step.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvService } from "../../durable-objects/kv/kv-service";
import { KvMode, DEFAULT_KV_SETTINGS } from "../../durable-objects/kv/kv-mode";
import { MemoryPageStore } from "../../durable-objects/kv/page-store";
import { MemoryKvStateStore } from "../../durable-objects/kv/state-store";
import { kvChatChunks, sseLines } from "../../worker/kv/kv-chunks";
import { startKvTestBackend, topicMessages, type KvTestBackend } from "./kv-helpers";

let t: KvTestBackend;
beforeAll(async () => {
  t = await startKvTestBackend();
});
afterAll(() => t.backend.close());

describe("KvService", () => {
  it("mirrors messages in the chat template, streams OpenAI chunks, folds in the background", async () => {
    const state = new MemoryKvStateStore();
    const mode = await KvMode.open({ client: t.client, pages: new MemoryPageStore(), state, kernels: t.kernels }, { ...DEFAULT_KV_SETTINGS, blockSize: 64, budget: { tokensPerHead: 48 } });
    const service = new KvService(mode, t.client);
    const messages = [{ role: "system", content: "You are terse." }, ...topicMessages(10)];
    await service.appendMessages(messages.slice(0, 4));
    await service.appendMessages(messages.slice(4));
    const template = (await (await fetch(t.backend.url + "/kv/v1/tokenize", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ messages, add_generation_prompt: false }) })).json()) as { tokens: number[] };
    expect(state.readTokens(0, state.tokenCount())).toEqual(template.tokens);

    expect(await service.setEpisodes([{ id: 0, prompt: "About the garden: tomatoes." }, { id: 1, prompt: "About the trip." }])).toEqual({ queued: [] });
    const bg = await service.background();
    expect(bg.blocks).toBe(Math.floor(template.tokens.length / 64));

    const question = [{ role: "user", content: "When should I water the tomatoes?" }];
    const chunks = [];
    for await (const c of kvChatChunks(service.decode(question, 0, { maxTokens: 6 }), { id: "chatcmpl-test", created: 1, model: "epikv-tiny", includeUsage: true })) chunks.push(c);
    expect(chunks[0].choices[0]).toMatchObject({ delta: { role: "assistant" } });
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(["stop", "length"]).toContain(finish!.choices[0].finish_reason);
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: expect.any(Number) });
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");

    // The same request, not streamed, decodes the same text.
    const query = [...t.model.rolePrefixes.user, ...new TextEncoder().encode(question[0].content), ...t.model.messageSuffix, ...t.model.rolePrefixes.assistant];
    const turn = mode.turn(0, query, { maxTokens: 6 });
    const whole = await t.client.frameCall("/kv/v1/decode", { ...turn.request, return_kv: false }, turn.kv);
    expect(text).toBe(whole.response.text);

    const lines = [];
    for await (const l of sseLines(kvChatChunks(service.decode(question, 1, { maxTokens: 3 }), { id: "x", created: 1, model: "m", includeUsage: false }))) lines.push(l);
    expect(lines.at(-1)).toBe("data: [DONE]\n\n");
    expect(lines.every((l) => l.startsWith("data: "))).toBe(true);
    expect(lines.some((l) => l.includes('"usage"'))).toBe(false);

    // The turn arrives with the commit, like any stored message; the stream grows and folds.
    await service.appendMessages([...question, { role: "assistant", content: text }]);
    expect(state.tokenCount()).toBe(template.tokens.length + query.length - 1 + 1 + new TextEncoder().encode(text).length + 1);
    await service.background();
    expect(mode.folded()).toBe(Math.floor(state.tokenCount() / 64) * 64);
  });

  it("reports the folded position its request was built against when a fold runs during the decode", async () => {
    const state = new MemoryKvStateStore();
    const mode = await KvMode.open({ client: t.client, pages: new MemoryPageStore(), state, kernels: t.kernels }, { ...DEFAULT_KV_SETTINGS, policy: "full", blockSize: 64, budget: { tokensPerHead: 1 << 20 } });
    const service = new KvService(mode, t.client);
    await service.appendMessages(topicMessages(4));
    await service.setEpisodes([{ id: 0, prompt: "About the garden." }]);
    await service.background();
    await service.appendMessages(topicMessages(6).slice(4)); // complete blocks that the next fold takes
    const before = mode.folded();
    let done: Extract<import("../../durable-objects/kv/kv-service").KvTurnEvent, { type: "done" }> | undefined;
    let folded = false;
    for await (const e of service.decode([{ role: "user", content: "When to water?" }], 0, { maxTokens: 6 })) {
      if (e.type === "token" && !folded) {
        folded = true;
        await service.background(); // the alarm's fold, between two streamed tokens
      }
      if (e.type === "done") done = e;
    }
    expect(mode.folded()).toBeGreaterThan(before);
    expect(done!.folded).toBe(before);
    // Full policy, budget past the stream: the backend's cache held every folded position of each layer and KV head.
    expect(done!.cachedEntries).toBe(before * t.model.layers * t.model.kvHeads);
  });

  it("pins a turn's KV on the backend and sends only the new tokens next turn, until a fold", async () => {
    const state = new MemoryKvStateStore();
    const mode = await KvMode.open({ client: t.client, pages: new MemoryPageStore(), state, kernels: t.kernels }, { ...DEFAULT_KV_SETTINGS, blockSize: 128, budget: { tokensPerHead: 48 } });
    const service = new KvService(mode, t.client);
    await service.appendMessages(topicMessages(6));
    await service.setEpisodes([{ id: 0, prompt: "About the garden." }]);
    await service.background();
    const run = async (content: string, pinTtlS: number) => {
      let text = "";
      let done: Extract<import("../../durable-objects/kv/kv-service").KvTurnEvent, { type: "done" }> | undefined;
      for await (const e of service.decode([{ role: "user", content }], 0, { maxTokens: 6, pinTtlS })) {
        if (e.type === "token") text += e.text;
        else done = e;
      }
      return { text, done: done! };
    };
    const first = await run("Water the tomatoes when?", 60);
    expect(first.done.usedHandle).toBe(false);
    expect(mode.pinFor(mode.episodes()[0].cache)).toBeNull(); // the reply is not committed yet
    await service.appendMessages([{ role: "user", content: "Water the tomatoes when?" }, { role: "assistant", content: first.text }]);
    // The pin covers cache + tail + question + reply, which the committed messages re-tokenize to.
    expect(mode.pinFor(mode.episodes()[0].cache)).not.toBeNull();
    const second = await run("And the basil?", 60);
    const viaBytes = await run("And the basil?", 0);
    expect(second.text).toBe(viaBytes.text);
    expect(second.done.usedHandle).toBe(true);
    expect(second.done.bytesSent).toBeLessThan(viaBytes.done.bytesSent / 10);
    // A fold moves the cache on: the pin no longer matches and the bytes are sent.
    await service.appendMessages(topicMessages(8));
    expect((await service.background()).blocks).toBeGreaterThan(0);
    expect(mode.pinFor(mode.episodes()[0].cache)).toBeNull();
    // A handle the backend dropped falls back to the bytes with the same answer.
    const third = await run("What about slugs?", 60);
    await service.appendMessages([{ role: "user", content: "What about slugs?" }, { role: "assistant", content: third.text }]);
    const pin = mode.pinFor(mode.episodes()[0].cache)!;
    expect(pin).not.toBeNull();
    await fetch(`${t.backend.url}/kv/v1/handles/${pin.handle}`, { method: "DELETE" });
    const afterMiss = await run("And the compost?", 60);
    const reference = await run("And the compost?", 0);
    expect(afterMiss.done.usedHandle).toBe(false);
    expect(afterMiss.text).toBe(reference.text);
  });
});

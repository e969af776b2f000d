// Exactness of kv mode (issue 5, "Must show"): with a budget larger than
// the conversation nothing is evicted, so decoding against the episode
// caches built block by block (pages in the store, streamed frames, absolute
// positions, appended turns) must equal a full recompute of the whole
// conversation through the same backend — logits and greedy tokens — across
// many blocks and turns. fp32 pages: within 1e-4 (the block-wise and
// one-shot forward passes sum attention in different orders); int8 pages:
// within the stated quantization tolerance.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readF32, requireTensor } from "../../protocol/safetensors";
import { appendTurn, cacheName, chatOpening, episodeKv, foldPendingBlocks, messageTokens, rolePrefix, turnRequest, type KvConversationState, type KvSettings } from "../../durable-objects/kv/conversation-kv";
import { MemoryKvStateStore } from "../../durable-objects/kv/state-store";
import type { PageEncoding } from "../../durable-objects/kv/pages";
import type { PolicyName } from "../../durable-objects/kv/policies/index";
import { encodeUtf8, maxAbsDiff, startKvTestBackend, topicMessages, type KvTestBackend } from "./kv-helpers";

let t: KvTestBackend;
beforeAll(async () => {
  t = await startKvTestBackend();
});
afterAll(() => t.backend.close());

const B = 64;

async function fullLogits(tokens: number[]): Promise<Float32Array> {
  const r = await t.client.frameCall("/kv/v1/prefill", { tokens, start_position: 0, return_kv: false, return_logits: "last" }, { frame: null });
  return readF32(requireTensor(r.file, "logits", "F32"));
}

async function runConversation(policy: PolicyName, encoding: PageEncoding, turns: number): Promise<{ logitDiffs: number[]; tokenMatches: boolean[]; folded: number; entries: number }> {
  const engine = t.engine(encoding);
  const m = t.model;
  const settings: KvSettings = { policy, blockSize: B };
  const state: KvConversationState = {
    tokens: new MemoryKvStateStore(),
    folded: 0,
    episodes: [0, 1].map((id) => ({ id, cache: cacheName(id, 0), generation: 0, promptTokens: encodeUtf8(`Episode ${id}: the garden and the trip, notes.`) })),
    budgets: Array.from({ length: m.layers }, () => 1 << 20),
  };
  state.tokens.appendTokens([...chatOpening(m), ...topicMessages(14).flatMap((msg) => messageTokens(m, msg.role, encodeUtf8(msg.content)))]);
  const logitDiffs: number[] = [], tokenMatches: boolean[] = [];
  const all = () => state.tokens.readTokens(0, state.tokens.tokenCount());
  for (let turn = 0; turn < turns; turn++) {
    await foldPendingBlocks(engine, settings, state);
    const query = messageTokens(m, "user", encodeUtf8(`Question ${turn}: what about the garden?`));
    const queryWithPrompt = [...query, ...rolePrefix(m, "assistant")];
    const episode = state.episodes[turn % state.episodes.length];
    const request = turnRequest(engine, state, queryWithPrompt, { maxTokens: 6 });
    // Logits of the next token: kv mode (cache + tail + query) against the full recompute.
    const kv = await t.client.frameCall("/kv/v1/prefill", { tokens: request.tokens, start_position: state.folded, return_kv: false, return_logits: "last" }, episodeKv(engine, episode.cache));
    const full = await fullLogits([...all(), ...queryWithPrompt]);
    logitDiffs.push(maxAbsDiff(readF32(requireTensor(kv.file, "logits", "F32")), full));
    // Greedy decode both ways.
    const kvTurn = await t.client.frameCall("/kv/v1/decode", { ...request, return_kv: false }, episodeKv(engine, episode.cache));
    const fullTurn = await t.client.frameCall("/kv/v1/decode", { tokens: [...all(), ...queryWithPrompt], start_position: 0, max_tokens: 6, return_kv: false }, { frame: null });
    tokenMatches.push(JSON.stringify(kvTurn.response.tokens) === JSON.stringify(fullTurn.response.tokens));
    appendTurn(m, state, queryWithPrompt, kvTurn.response.tokens);
  }
  const entries = Array.from({ length: m.layers }, (_, l) => engine.store.headCounts(state.episodes[0].cache, l, m.kvHeads)).flat().reduce((a, b) => a + b, 0);
  return { logitDiffs, tokenMatches, folded: state.folded, entries };
}

describe("kv mode exactness (budget larger than the conversation)", () => {
  it("full policy, fp32 pages: logits within 1e-4 and identical greedy tokens over many blocks and turns", async () => {
    const r = await runConversation("full", { dtype: "fp32" }, 4);
    expect(r.folded).toBeGreaterThanOrEqual(8 * B);
    expect(r.entries).toBe(r.folded * t.model.layers * t.model.kvHeads);
    for (const d of r.logitDiffs) expect(d).toBeLessThanOrEqual(1e-4);
    expect(r.tokenMatches).toEqual(r.tokenMatches.map(() => true));
    console.log(`fp32 pages, ${r.folded / B} blocks: max |Δlogit| per turn = ${r.logitDiffs.map((d) => d.toExponential(2)).join(", ")}`);
  });

  it.each(["recent", "h2o", "snapkv", "epicache"] as PolicyName[])("%s with an oversized budget evicts nothing and matches the recompute (fp32)", async (policy) => {
    const r = await runConversation(policy, { dtype: "fp32" }, 2);
    expect(r.entries).toBe(r.folded * t.model.layers * t.model.kvHeads);
    for (const d of r.logitDiffs) expect(d).toBeLessThanOrEqual(1e-4);
    expect(r.tokenMatches).toEqual([true, true]);
  });

  it("int8 pages stay within the quantization tolerance", async () => {
    const r = await runConversation("full", { dtype: "int8", groupSize: 64 }, 2);
    for (const d of r.logitDiffs) expect(d).toBeLessThanOrEqual(0.05);
    console.log(`int8 pages: max |Δlogit| = ${Math.max(...r.logitDiffs).toExponential(2)}`);
  });
});

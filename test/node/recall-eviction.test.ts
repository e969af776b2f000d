// Eviction judged by answers (docs/recall-model.md, issue 12 "Must show"):
// on the constructed recall model, a fact stated in the OLDEST session is
// needed by a question asked after three later sessions. The cache is
// compressed block by block before the question is known, to a budget that
// could easily hold every fact. The check `keepsFact` fails when a policy
// dropped the entry the question needs: EpiCache with the matching episode
// (its prompt: that session's messages) keeps it and answers right; the
// recency baseline at the same budget drops it and answers wrong, which
// shows the check can fail.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readF32, requireTensor } from "../../protocol/safetensors";
import { prefillBlock } from "../../durable-objects/kv/block-prefill";
import { episodeKv, rolePrefix } from "../../durable-objects/kv/conversation-kv";
import type { MemoryPageStore } from "../../durable-objects/kv/page-store";
import { decodeHeadPages } from "../../durable-objects/kv/pages";
import { POLICIES, type PolicyName } from "../../durable-objects/kv/policies/index";
import { recallChat } from "../../scripts/recall/conversation";
import { RECALL_MODEL } from "../../scripts/recall/construct";
import { argmax } from "../../scripts/bench/kv-metrics";
import { startKvTestBackend, type KvTestBackend } from "./kv-helpers";

let t: KvTestBackend;
beforeAll(async () => {
  t = await startKvTestBackend({ models: [RECALL_MODEL] });
});
afterAll(() => t.backend.close());

const B = 128;

/** Position of the value in the last "E is V" of the stream (the statement the answer must come from). */
function lastStatement(stream: readonly number[], e: number, is: number, v: number): number {
  for (let p = stream.length - 1; p >= 2; p--) if (stream[p] === v && stream[p - 1] === is && stream[p - 2] === e) return p;
  return -1;
}

describe("recall under eviction (block-wise, before the question is known)", () => {
  it("EpiCache with the matching episode keeps the oldest session's fact; recency at the same budget drops it", async () => {
    const chat = recallChat({ seed: 3, words: 1400, topics: 4 });
    const stream = await t.client.tokenizeMessages(t.model.id, chat.messages);
    const folded = Math.floor(stream.length / B) * B;
    const budget = Math.floor(folded / 6); // 6× compression
    // The question: an entity of the oldest topic (0) whose latest statement lies in the first block of the conversation.
    const [is] = await t.client.tokenize(t.model.id, "is");
    const candidates = [];
    for (const q of chat.questions.filter((q) => q.topic === 0)) {
      const [e] = await t.client.tokenize(t.model.id, q.entity);
      const [v] = await t.client.tokenize(t.model.id, q.answer);
      candidates.push({ q, v, at: lastStatement(stream, e, is, v) });
    }
    const target = candidates.sort((a, b) => a.at - b.at)[0];
    expect(target.at).toBeGreaterThan(0);
    expect(target.at).toBeLessThan(folded - 3 * budget); // older than anything a recency window of the budget reaches
    // The budget could hold it: every fact statement of the chat (user and assistant) fits twice over.
    const statements = chat.messages.filter((m) => / is \w+ (now )?\.$/.test(m.content)).length;
    expect(budget).toBeGreaterThan(2 * statements);

    const query = [...(await t.client.tokenizeMessages(t.model.id, [{ role: "user", content: target.q.text }])).slice(1), ...rolePrefix(t.model, "assistant")];
    const episodePrompt = await t.client.tokenizeMessages(t.model.id, chat.messages.filter((m) => m.topic === 0).slice(0, 12));

    async function run(policy: PolicyName): Promise<{ kept: boolean; answer: number }> {
      const engine = t.engine({ dtype: "fp32" });
      const spec = { cache: "c", policy: POLICIES[policy], budgets: Array.from({ length: t.model.layers }, () => budget), promptTokens: episodePrompt.slice(1, 257) };
      for (let at = 0; at < folded; at += B) await prefillBlock(engine, spec, stream.slice(at, at + B), at);
      const r = await t.client.frameCall("/kv/v1/prefill", { model: t.model.id, tokens: [...stream.slice(folded), ...query], start_position: folded, return_logits: "last", return_kv: false }, episodeKv(engine, "c"));
      return { kept: keepsFact(engine.store as MemoryPageStore, target.at), answer: argmax(readF32(requireTensor(r.file, "logits", "F32"))) };
    }

    /** Whether layer 1 (the lookup layer) still holds the statement's value entry in some KV head. */
    function keepsFact(store: MemoryPageStore, position: number): boolean {
      return Array.from({ length: t.model.kvHeads }, (_, h) => decodeHeadPages(store.readHead("c", 1, h), t.model.headDim, { dtype: "fp32" }, t.kernels)).some((e) => e.positions.includes(position));
    }

    const epicache = await run("epicache");
    expect(epicache.kept).toBe(true);
    expect(epicache.answer).toBe(target.v);
    const recent = await run("recent");
    expect(recent.kept).toBe(false);
    expect(recent.answer).not.toBe(target.v);
  });
});

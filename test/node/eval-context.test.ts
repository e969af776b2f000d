// The context evaluation's own parts (scripts/eval/): the conversation
// generator, the recency and BM25 baselines, the epikv policy built from
// durable-objects' modules (its ranking is the DO's own rank-candidates.ts,
// tested in conversation-rank-candidates.test.ts), and the metric.
// The whole-selection comparison with the real Durable Object is
// `npm run eval:context -- --check-do` (it needs workerd, so not here).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateConversation } from "../../scripts/eval/generate-conversations";
import { factKind, factKinds } from "../../scripts/eval/corpus/facts";
import { termsOf } from "../../durable-objects/episodes/top-terms";
import { bm25Policy, bm25Scores, buildBm25Index, scoreRanking } from "../../scripts/eval/baselines/bm25";
import { recencyPolicy } from "../../scripts/eval/baselines/recency";
import { epikvPolicy } from "../../scripts/eval/epikv-policy";
import { evidenceRecall, lexicalOverlap, mean } from "../../scripts/eval/metrics";
import { historyUnits, storeConversation, turnTokens, type StoredConversation } from "../../scripts/eval/policy";
import type { ChatMessage } from "../../durable-objects/conversation/conversation-api";
import { REPLY_PRIMING_TOKENS } from "../../durable-objects/selection/token-estimator";
import { oracleKernels } from "../../wasm/oracle/index";
import { loadWasmModule } from "../../wasm/src/node-module";
import { wasmKernels } from "../../wasm/src/wasm-kernels";
import { ResidentColumns } from "../../wasm/src/bindings/retrieval";
import { ResidentBm25 } from "../../wasm/src/bindings/resident-bm25";
import { copyingBm25Scorer } from "../../wasm/src/bm25-scorer";
import { arrayRowStore } from "../../durable-objects/selection/segment-index";

const small = { id: "t", seed: 5, messages: 1_500 };

describe("generateConversation", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = JSON.stringify(generateConversation(small));
    expect(JSON.stringify(generateConversation(small))).toBe(a);
    expect(JSON.stringify(generateConversation({ ...small, seed: 6 }))).not.toBe(a);
  });

  it("records evidence that holds every answer, stated many sessions before the question", () => {
    for (const seed of [1, 2, 3]) {
      const conv = generateConversation({ ...small, seed });
      const S = conv.sessions.length;
      expect(conv.style).toBe("plain");
      expect(conv.messages.length).toBeGreaterThanOrEqual(small.messages - 1);
      expect(conv.questions.length).toBeGreaterThan(30);
      expect(new Set(conv.questions.map((q) => q.category))).toEqual(new Set(["single", "latest", "history"]));
      for (const q of conv.questions) {
        expect(q.evidence.length).toBe(q.category === "history" ? 2 : 1);
        expect(q.kind).toBe(q.category === "history" ? "temporal" : q.paraphrased ? "paraphrased" : "direct");
        expect([...q.evidence].sort((x, y) => x - y)).toEqual(q.evidence);
        for (const seq of q.evidence) expect(conv.messages[seq]?.role).toBe("user");
        const texts = q.evidence.map((seq) => conv.messages[seq]!.content);
        for (const answer of q.answers) expect(texts.some((t) => t.includes(answer)), `${q.id}: ${answer} in ${texts}`).toBe(true);
        // The question is asked after the last session; the fact is at least 8% of the sessions back.
        expect(q.sessionsAgo).toBeGreaterThanOrEqual(Math.floor(0.08 * S));
        const span = conv.sessions[q.factSession]!;
        expect(q.evidence[0]).toBeGreaterThanOrEqual(span.first);
        expect(q.evidence[0]).toBeLessThanOrEqual(span.last);
      }
      // A changed fact's current value is not in the original statement.
      for (const q of conv.questions.filter((x) => x.category === "history")) {
        expect(conv.messages[q.evidence[0]!]!.content.includes(q.answers[1]!)).toBe(false);
      }
    }
  });

  it("tiles the messages into sessions", () => {
    const conv = generateConversation(small);
    expect(conv.sessions[0]!.first).toBe(1); // seq 0 is the pinned system message
    for (let s = 1; s < conv.sessions.length; s++) expect(conv.sessions[s]!.first).toBe(conv.sessions[s - 1]!.last + 1);
    expect(conv.sessions.at(-1)!.last).toBe(conv.messages.length - 1);
  });

  it("topical placement states a fact (and its update) in a session about the fact's topic", () => {
    const conv = generateConversation({ ...small, placement: "topical" });
    const withTopic = conv.questions.filter((q) => factKind(q.fact).topic);
    expect(withTopic.length).toBeGreaterThan(10);
    for (const q of withTopic) {
      for (const seq of q.evidence) {
        const session = conv.sessions.find((s) => seq >= s.first && seq <= s.last)!;
        expect(session.topics).toContain(factKind(q.fact).topic);
      }
    }
    // Incidental placement does not arrange that: some facts come up amid other topics.
    const incidental = generateConversation(small);
    expect(incidental.questions.some((q) => factKind(q.fact).topic && !incidental.sessions[q.factSession]!.topics.includes(factKind(q.fact).topic!))).toBe(true);
  });

  it("paraphrased questions share fewer words with their evidence than direct ones", () => {
    const conv = generateConversation({ ...small, seed: 9 });
    const overlap = (paraphrased: boolean): number =>
      mean(conv.questions.filter((q) => q.paraphrased === paraphrased && q.category !== "history")
        .map((q) => lexicalOverlap(q.query, q.evidence.map((s) => conv.messages[s]!.content))));
    expect(overlap(true)).toBeLessThan(overlap(false) / 2);
  });

  it("paraphrase templates share no content word with their fact's statements", () => {
    const words = (t: string) => termsOf(t.replace(/\{\w+\}/g, " "));
    for (const kind of factKinds) {
      const stated = new Set([...kind.state, ...(kind.update ?? [])].flatMap(words));
      for (const p of kind.paraphrase) expect(words(p).filter((w) => stated.has(w)), `${kind.key}: ${p}`).toEqual([]);
    }
  });

  it("rejects sizes that are not long conversations", () => {
    expect(() => generateConversation({ ...small, messages: 10 })).toThrow(/messages/);
  });
});

describe("BM25 baseline", () => {
  const docs = [
    "We watched a film about the sea last night.",
    "The code for the garden gate is 4471.",
    "My neighbour's garden has a lovely gate.",
    "The weather was lovely, we sat in the garden.",
  ];

  it("ranks the exact-match message first", () => {
    const scores = bm25Scores(buildBm25Index(docs), "what is the gate code 4471");
    const best = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]!)[0];
    expect(best).toBe(1);
    expect(scores[0]).toBeGreaterThan(0); // "the" occurs there, with a small but positive idf
    expect(scores[0]).toBeLessThan(scores[2]!);
  });

  it("matches a hand-computed Okapi score, weights rare terms up and long messages down", () => {
    // N = 2, df(banana) = 1: idf = ln(1 + 1.5/1.5) = ln 2; avgdl = 1.5, |d0| = 2:
    // score = ln 2 · 1·2.2 / (1 + 1.2·(0.25 + 0.75·2/1.5)) = ln 2 · 2.2 / 2.5
    const pair = bm25Scores(buildBm25Index(["apple banana", "apple"]), "banana");
    expect(pair[0]).toBeCloseTo((Math.log(2) * 2.2) / 2.5, 12);
    expect(pair[1]).toBe(0);
    const index = buildBm25Index(["apple pie", "apple pie with cream and a little cinnamon on top", "banana bread"]);
    const apple = bm25Scores(index, "apple");
    expect(apple[0]).toBeGreaterThan(apple[1]!);
    expect(apple[2]).toBe(0);
    const both = bm25Scores(index, "apple banana");
    expect(both[2]).toBeGreaterThan(both[0]!); // banana is in one document of three, apple in two
    expect(bm25Scores(buildBm25Index([]), "x").length).toBe(0);
  });

  it("ranks by score, ties and the zero tail by recency", () => {
    const units = [0, 1, 2, 3].map((seq) => [{ seq: seq + 1, tokens: 10, role: "user" as const, content: "", unitHead: seq + 1 }]);
    expect(scoreRanking(units, [0, 5, 0, 5]).map((c) => c.messages[0]!.seq)).toEqual([4, 2, 3, 1]);
    expect(() => scoreRanking(units, [1])).toThrow(RangeError);
  });
});

// Small conversations of random words; budgets from the smallest possible (pinned + turn + priming) up to everything.
const words = ["gate", "code", "sister", "coffee", "flight", "the", "a", "garden", "apple", "4471", "ayla"];
const conversationArb = fc.array(fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 50 })
  .map((bodies): ChatMessage[] => [
    { role: "system", content: "You are a helpful assistant." },
    ...bodies.map((b, i): ChatMessage => ({ role: i % 2 ? "assistant" : "user", content: b.join(" ") })),
  ]);
const query = "what is the gate code";
const oracle = { kernels: oracleKernels, rowStore: arrayRowStore, bm25Scorer: () => copyingBm25Scorer(oracleKernels) };
const fixedCost = (conv: StoredConversation): number => REPLY_PRIMING_TOKENS + turnTokens(conv, query) + conv.messages[0]!.tokens;
const historyTokens = (conv: StoredConversation, seqs: number[]): number => seqs.filter((s) => s !== 0).reduce((sum, s) => sum + conv.messages[s]!.tokens, 0);

describe("baselines spend the budget by select-context's rule", () => {
  it("recency: pinned + a maximal contiguous most-recent run, never over budget", async () => {
    await fc.assert(fc.asyncProperty(conversationArb, fc.double({ min: 0, max: 1, noNaN: true }), async (messages, f) => {
      const conv = storeConversation(messages);
      const budget = Math.floor(fixedCost(conv) + f * (conv.totalTokens - conv.messages[0]!.tokens));
      const sel = await (await recencyPolicy.prepare(conv, oracle)).select(query, budget);
      expect(sel.usedTokens).toBeLessThanOrEqual(budget);
      expect(sel.usedTokens).toBe(fixedCost(conv) + historyTokens(conv, sel.seqs));
      expect(sel.seqs[0]).toBe(0);
      const history = sel.seqs.slice(1);
      for (let i = 1; i < history.length; i++) expect(history[i]).toBe(history[i - 1]! + 1);
      if (history.length) expect(history.at(-1)).toBe(conv.messages.length - 1);
      const next = conv.messages[conv.messages.length - 1 - history.length];
      if (next && next.seq !== 0) expect(sel.usedTokens + next.tokens).toBeGreaterThan(budget);
    }), { numRuns: 200 });
  });

  it("bm25: never over budget, keeps the best-scoring message when it fits", async () => {
    await fc.assert(fc.asyncProperty(conversationArb, fc.double({ min: 0, max: 1, noNaN: true }), async (messages, f) => {
      const conv = storeConversation(messages);
      const budget = Math.floor(fixedCost(conv) + f * (conv.totalTokens - conv.messages[0]!.tokens));
      const sel = await (await bm25Policy.prepare(conv, oracle)).select(query, budget);
      expect(sel.usedTokens).toBeLessThanOrEqual(budget);
      expect(sel.usedTokens).toBe(fixedCost(conv) + historyTokens(conv, sel.seqs));
      expect([...sel.seqs].sort((a, b) => a - b)).toEqual(sel.seqs);
      const units = historyUnits(conv);
      const scores = bm25Scores(buildBm25Index(units.map((u) => u[0]!.content)), query);
      const best = scoreRanking(units, scores)[0]!.messages[0]!;
      if (fixedCost(conv) + best.tokens <= budget) expect(sel.seqs).toContain(best.seq);
    }), { numRuns: 200 });
  });
});

describe("epikv policy (durable-objects modules, WASM kernels)", () => {
  it("sends pinned and recent messages, stays within budget, and finds a fact quoted verbatim", async () => {
    const conv = generateConversation({ id: "e", seed: 3, messages: 600 });
    const stored = storeConversation(conv.messages);
    const module = loadWasmModule();
    const wasm = { kernels: wasmKernels(module), rowStore: (capacity: number, dim: number) => ResidentColumns.create(module, capacity, dim), bm25Scorer: () => ResidentBm25.create(module) };
    const prepared = await epikvPolicy().prepare(stored, wasm);
    for (const fraction of [2, 16]) {
      const budget = Math.floor(stored.totalTokens / fraction);
      for (const q of conv.questions) {
        const sel = await prepared.select(q.query, budget);
        expect(sel.usedTokens).toBeLessThanOrEqual(budget);
        expect(sel.seqs).toContain(0);
        expect(sel.seqs).toContain(conv.messages.length - 1);
        expect(typeof sel.matchedEpisode).toBe("number");
      }
    }
    // With one episode every segment is ranked by relevance: a query repeating a fact's
    // message word for word finds it even at a tight budget.
    const single = await epikvPolicy({ settings: { episodes: 1 } }).prepare(stored, wasm);
    for (const q of conv.questions.slice(0, 10)) {
      const evidence = q.evidence[0]!;
      const sel = await single.select(conv.messages[evidence]!.content, Math.floor(stored.totalTokens / 16));
      expect(sel.seqs).toContain(evidence);
    }
  });
});

describe("evidenceRecall", () => {
  it("is the fraction of evidence selected", () => {
    expect(evidenceRecall([3, 9], new Set([1, 3]))).toBe(0.5);
    expect(evidenceRecall([3], new Set())).toBe(0);
    expect(evidenceRecall([], new Set())).toBe(1);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Role } from "../../durable-objects/conversation/conversation-api";
import { DEFAULT_MESSAGE_RANKING, fusePool, rankMessages, type RankingSources } from "../../durable-objects/selection/message-ranking";
import { neighbourWindow, rankedCandidates } from "../../durable-objects/selection/neighbours";
import { selectContext } from "../../durable-objects/selection/select-context";
import { oracleKernels } from "../../wasm/oracle/index";

function sources(lexical: number[], overrides: Partial<RankingSources> = {}): RankingSources {
  const scores = Float32Array.from(lexical);
  return {
    lexical: scores,
    lexicalBase: 0,
    topK: (k, after) => oracleKernels.topK(scores, k, after),
    densePool: [],
    dense: (seqs) => new Float32Array(seqs.length),
    episodeOf: () => null,
    eligible: () => true,
    ...overrides,
  };
}

describe("rankMessages", () => {
  it("yields every eligible message exactly once: the fused pool, the other lexical matches, then the rest newest first", () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.constant(0), fc.float({ min: 0, max: 20, noNaN: true })), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (lexical, poolSize) => {
      const ineligible = new Set(lexical.map((_, i) => i).filter((i) => i % 11 === 5));
      const order = [...rankMessages(sources(lexical, { eligible: (s) => !ineligible.has(s) }), { ...DEFAULT_MESSAGE_RANKING, poolSize })];
      const seqs = order.map((m) => m.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs.sort((a, b) => a - b)).toEqual(lexical.map((_, i) => i).filter((i) => !ineligible.has(i)));
      const firstZero = order.findIndex((m) => !(m.lexical > 0));
      if (firstZero >= 0) for (const m of order.slice(firstZero)) expect(m.lexical > 0).toBe(false);
    }), { numRuns: 200 });
  });

  it("the order does not depend on the first page's length (later pages start where the last ended)", () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.constant(0), fc.constant(3), fc.float({ min: 0, max: 20, noNaN: true })), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (lexical, poolSize) => {
      const weights = { ...DEFAULT_MESSAGE_RANKING, poolSize };
      const pages: number[] = [];
      const s = sources(lexical);
      const counted: RankingSources = { ...s, topK: (k, after) => (pages.push(k), s.topK(k, after)) };
      const whole = [...rankMessages(sources(lexical), weights, 10_000)].map((m) => m.seq);
      for (const expected of [0, 1, 2 * poolSize]) {
        pages.length = 0;
        expect([...rankMessages(counted, weights, expected)].map((m) => m.seq), `first page ${poolSize} + ${expected}`).toEqual(whole);
        expect(pages[0]).toBe(poolSize + expected);
        for (let p = 1; p < pages.length; p++) expect(pages[p]).toBe(2 * pages[p - 1]!); // each page twice the last
      }
    }), { numRuns: 200 });
  });

  it("a lexical window from lexicalBase ranks as the whole conversation with the messages before it out of reach", () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.constant(0), fc.float({ min: 0, max: 20, noNaN: true })), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: 0, max: 100 }),
      fc.array(fc.nat(250), { maxLength: 20 }),
      (window, base, densePool) => {
        const dense = (seqs: readonly number[]) => Float32Array.from(seqs, (q) => (q % 7) / 7);
        const windowed: RankingSources = { ...sources(window, { densePool, dense }), lexicalBase: base };
        const whole = sources([...Array<number>(base).fill(0), ...window], { densePool, dense, eligible: (s) => s >= base });
        const weights = { ...DEFAULT_MESSAGE_RANKING, poolSize: 16 };
        expect([...rankMessages(windowed, weights, 16)]).toEqual([...rankMessages(whole, weights, 16)]);
      },
    ), { numRuns: 200 });
  });

  it("fuses lexical and dense by one weight, and prefers the later of two equal statements (the update rule)", () => {
    const s = sources([4, 0, 4, 2], { densePool: [1], dense: (seqs) => Float32Array.from(seqs, (q) => (q === 1 ? 0.9 : 0.1)) });
    const pool = fusePool(s, DEFAULT_MESSAGE_RANKING);
    expect(pool.map((m) => m.seq)).toEqual([2, 0, 3, 1]);
    const { dense: λ, recency: ρ } = DEFAULT_MESSAGE_RANKING;
    expect(pool[0]!.fused).toBeCloseTo((1 - λ) * 1 + λ * 0.1 + ρ * (2 / 4), 6);
    // With λ = 1 only the dense score counts: the dense-pool message leads.
    expect(fusePool(s, { ...DEFAULT_MESSAGE_RANKING, dense: 1 })[0]!.seq).toBe(1);
  });
});

describe("neighbours", () => {
  const roles: Role[] = ["system", "user", "assistant", "user", "user", "assistant", "tool", "assistant"];
  const roleOf = (seq: number) => roles[seq] ?? null;

  it("takes up to `radius` stored non-system messages on each side, contiguous; null when there are none", () => {
    expect(neighbourWindow(4, roleOf, 2)).toEqual({ first: 2, last: 6 });
    expect(neighbourWindow(1, roleOf, 2)).toEqual({ first: 1, last: 3 }); // the system message is pinned, not a neighbour
    expect(neighbourWindow(7, roleOf, 2)).toEqual({ first: 5, last: 7 }); // nothing stored after the last message
    expect(neighbourWindow(4, roleOf, 1)).toEqual({ first: 3, last: 5 });
    expect(neighbourWindow(4, roleOf, 0)).toBeNull();
    expect(neighbourWindow(0, (s) => (s === 0 ? "user" : null), 2)).toBeNull();
  });

  it("offers the best messages with their window first, then alone, with one provenance naming the window", () => {
    const order = [...rankMessages(sources([0, 1, 0, 0, 5, 0, 0, 0], { eligible: (s) => s !== 0 }), DEFAULT_MESSAGE_RANKING)];
    const widen = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => ({ seq: first + i, tokens: 10 }));
    const candidates = [...rankedCandidates(order, widen, roleOf, { top: 1, radius: 1 })];
    expect(candidates[0]!.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(candidates[0]!.provenance).toMatchObject({ kind: "ranked", seq: 4, window: { first: 3, last: 5 } });
    expect(candidates[1]!.messages.map((m) => m.seq)).toEqual([4]);
    expect(candidates[2]!.provenance).toMatchObject({ kind: "ranked", seq: 1, window: null });
  });

  it("never exceeds the budget, and spends it when the conversation is larger (property)", () => {
    fc.assert(fc.property(
      fc.array(fc.record({ tokens: fc.integer({ min: 5, max: 400 }), score: fc.float({ min: 0, max: 10, noNaN: true }), user: fc.boolean() }), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: 20, max: 6000 }),
      (messages, budget) => {
        const roleOf = (s: number): Role | null => (messages[s] ? (messages[s]!.user ? "user" : "assistant") : null);
        const widen = (first: number, last: number) => messages.slice(first, last + 1).map((m, i) => ({ seq: first + i, tokens: m.tokens }));
        const order = rankMessages(sources(messages.map((m) => m.score)), DEFAULT_MESSAGE_RANKING);
        const result = selectContext({ budgetTokens: budget, baseTokens: 3, required: [], turnTokens: [10], recent: [], ranked: rankedCandidates(order, widen, roleOf, { top: 4, radius: 2 }) });
        expect(result.usedTokens).toBeLessThanOrEqual(budget);
        const total = 13 + messages.reduce((s, m) => s + m.tokens, 0);
        const left = messages.filter((_, s) => !result.stored.some((x) => x.seq === s));
        // Whatever was left out did not fit.
        for (const m of left) expect(result.usedTokens + m.tokens).toBeGreaterThan(budget);
        if (total <= budget) expect(result.stored.length).toBe(messages.length);
      },
    ), { numRuns: 300 });
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ContextOverBudgetError, conversationErrorCode } from "../../durable-objects/conversation/conversation-api";
import { selectContext, type Candidate } from "../../durable-objects/selection/select-context";
import { MESSAGE_LOOP_BOUNDS, messageLoopBounds } from "../../durable-objects/selection/turn-ranking";

const msg = (seq: number, tokens: number) => ({ seq, tokens });
const pinned = (seq: number, tokens: number): Candidate => ({ messages: [msg(seq, tokens)], provenance: { kind: "pinned" } });
const recentUnit = (...m: [number, number][]): Candidate => ({ messages: m.map(([s, t]) => msg(s, t)), provenance: { kind: "recent" } });
const segment = (episode: number, score: number, ...m: [number, number][]): Candidate => ({
  messages: m.map(([s, t]) => msg(s, t)),
  provenance: { kind: "episode", episode, score },
});

describe("selectContext", () => {
  it("takes pinned, turn, recent (newest first), then ranked, and emits in conversation order", () => {
    const result = selectContext({
      budgetTokens: 70,
      baseTokens: 3,
      required: [pinned(0, 10)],
      turnTokens: [7],
      recent: [recentUnit([9, 10]), recentUnit([8, 10])],
      ranked: [segment(1, 0.9, [2, 10], [3, 10]), segment(1, 0.5, [4, 10], [5, 10]), segment(2, 0.3, [6, 10])],
    });
    // 20 required + 20 recent + segment {2,3}; {4,5} would overshoot, {6} still fits.
    expect(result.stored.map((m) => m.seq)).toEqual([0, 2, 3, 6, 8, 9]);
    expect(result.usedTokens).toBe(70);
    expect(result.stored.find((m) => m.seq === 2)!.provenance).toEqual({ kind: "episode", episode: 1, score: 0.9 });
    expect(result.stored.find((m) => m.seq === 9)!.provenance).toEqual({ kind: "recent" });
  });

  it("skips a ranked segment that does not fit and keeps trying smaller ones", () => {
    const result = selectContext({
      budgetTokens: 30,
      baseTokens: 0,
      required: [],
      turnTokens: [],
      recent: [],
      ranked: [segment(1, 0.9, [1, 25], [2, 25]), segment(1, 0.8, [3, 20]), segment(1, 0.1, [4, 10])],
    });
    expect(result.stored.map((m) => m.seq)).toEqual([3, 4]);
  });

  it("stops the recent window at the first unit that does not fit (it stays contiguous)", () => {
    const result = selectContext({
      budgetTokens: 30,
      baseTokens: 0,
      required: [],
      turnTokens: [],
      recent: [recentUnit([9, 10]), recentUnit([7, 15], [8, 10]), recentUnit([6, 1])],
      ranked: [],
    });
    expect(result.stored.map((m) => m.seq)).toEqual([9]);
  });

  it("counts a message once when several candidates contain it, keeping the first provenance", () => {
    const result = selectContext({
      budgetTokens: 40,
      baseTokens: 0,
      required: [],
      turnTokens: [],
      recent: [recentUnit([5, 10])],
      ranked: [segment(3, 0.7, [4, 10], [5, 10], [6, 10])],
    });
    expect(result.usedTokens).toBe(30);
    expect(result.stored.find((m) => m.seq === 5)!.provenance.kind).toBe("recent");
  });

  it("throws ContextOverBudgetError when pinned + turn alone exceed the budget", () => {
    let error: unknown;
    try {
      selectContext({ budgetTokens: 50, baseTokens: 3, required: [pinned(0, 30)], turnTokens: [30], recent: [], ranked: [] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContextOverBudgetError);
    expect(conversationErrorCode(error)).toBe("context_over_budget");
    expect((error as ContextOverBudgetError).requiredTokens).toBe(63);
  });

  it("consumes lazy ranked candidates only while budget remains", () => {
    let pulled = 0;
    function* ranked(): Iterable<Candidate> {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield segment(0, 1 - i / 1000, [i, 10]);
      }
    }
    selectContext({ budgetTokens: 50, baseTokens: 0, required: [], turnTokens: [], recent: [], ranked: ranked() });
    expect(pulled).toBeLessThanOrEqual(6);
  });

  it("rejects a non-positive budget", () => {
    expect(() => selectContext({ budgetTokens: 0, baseTokens: 0, required: [], turnTokens: [], recent: [], ranked: [] })).toThrow(RangeError);
  });

  it("never exceeds the budget on random inputs, and fails only when required parts do", () => {
    const tokens = fc.integer({ min: 1, max: 60 });
    const unit = fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), tokens), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), tokens), { maxLength: 4 }),
        fc.array(tokens, { maxLength: 4 }),
        fc.array(unit, { maxLength: 8 }),
        fc.array(fc.tuple(unit, fc.double({ min: -1, max: 1, noNaN: false })), { maxLength: 30 }),
        (budget, base, pins, turn, recent, ranked) => {
          // A seq has one token count everywhere (it is one stored message).
          const tokenOf = new Map<number, number>();
          const norm = ([s, t]: [number, number]): [number, number] => {
            if (!tokenOf.has(s)) tokenOf.set(s, t);
            return [s, tokenOf.get(s)!];
          };
          const input = {
            budgetTokens: budget,
            baseTokens: base,
            required: pins.map((p) => pinned(...norm(p))),
            turnTokens: turn,
            recent: recent.map((u) => recentUnit(...u.map(norm))),
            // Any order: the budget rules hold whatever the ranking.
            ranked: ranked.map(([u, score]): Candidate => ({
              messages: u.map(norm).map(([seq, t]) => ({ seq, tokens: t })),
              provenance: { kind: "episode", episode: 1, score: Number.isFinite(score) ? score : 0 },
            })),
          };
          const pinnedCost = new Map(input.required.flatMap((c) => c.messages.map((m) => [m.seq, m.tokens] as const)));
          const requiredTokens = base + turn.reduce((s, t) => s + t, 0) + [...pinnedCost.values()].reduce((s, t) => s + t, 0);
          if (requiredTokens > budget) {
            expect(() => selectContext(input)).toThrow(ContextOverBudgetError);
            return;
          }
          const result = selectContext(input);
          expect(result.usedTokens).toBeLessThanOrEqual(budget);
          const recount = base + turn.reduce((s, t) => s + t, 0) + result.stored.reduce((s, m) => s + m.tokens, 0);
          expect(result.usedTokens).toBe(recount);
          const seqs = result.stored.map((m) => m.seq);
          expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
          expect(new Set(seqs).size).toBe(seqs.length);
          for (const seq of pinnedCost.keys()) expect(seqs).toContain(seq);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("selectContext work bounds", () => {
  it("stops after maxConsecutiveSkips misses and when less than minCandidateTokens remain", () => {
    let pulled = 0;
    function* ranked(): Iterable<Candidate> {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield segment(0, 0, [i, i === 500 ? 5 : 100]);
      }
    }
    selectContext({ budgetTokens: 50, baseTokens: 0, required: [], turnTokens: [], recent: [], ranked: ranked(), maxConsecutiveSkips: 10 });
    expect(pulled).toBe(10);
    pulled = 0;
    const r = selectContext({ budgetTokens: 50, baseTokens: 0, required: [], turnTokens: [], recent: [recentUnit([2000, 45])], ranked: ranked(), minCandidateTokens: 8 });
    expect(pulled).toBe(0);
    expect(r.usedTokens).toBe(45);
  });

  it("messageLoopBounds (the lightest message's tokens as the floor) selects exactly what MESSAGE_LOOP_BOUNDS does, pulling no more", () => {
    const tokens = fc.integer({ min: 1, max: 60 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 80 }), tokens), { minLength: 1, maxLength: 3 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 300 }),
        (budget, units, maxSkips) => {
          // A seq has one token count everywhere; candidates overlap (a later one may cost nothing).
          const tokenOf = new Map<number, number>();
          const ranked = units.map((u): Candidate => ({
            messages: u.map(([seq, t]) => ({ seq, tokens: tokenOf.get(seq) ?? (tokenOf.set(seq, t), t) })),
            provenance: { kind: "episode", episode: 1, score: 0 },
          }));
          const smallest = Math.min(...tokenOf.values());
          const run = (bounds: { minCandidateTokens: number; maxConsecutiveSkips: number }) => {
            let pulled = 0;
            const source = (function* () { for (const c of ranked) { pulled++; yield c; } })();
            const result = selectContext({ budgetTokens: budget, baseTokens: 0, required: [], turnTokens: [], recent: [], ranked: source, ...bounds });
            return { result, pulled };
          };
          const plain = run({ ...MESSAGE_LOOP_BOUNDS, maxConsecutiveSkips: maxSkips });
          const floored = run({ ...messageLoopBounds(smallest), maxConsecutiveSkips: maxSkips });
          expect(floored.result).toEqual(plain.result);
          expect(floored.pulled).toBeLessThanOrEqual(plain.pulled);
        },
      ),
      { numRuns: 400 },
    );
    expect(messageLoopBounds(1)).toEqual(MESSAGE_LOOP_BOUNDS);
    expect(messageLoopBounds(40).minCandidateTokens).toBe(40);
  });
});

// rank-candidates.ts: routing, the order of ranked segments, the per-turn
// bounds, and lazy widening. The same functions run in ConversationDO and in
// the context evaluation (scripts/eval/epikv-policy.ts).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RANKING, MAX_CONSECUTIVE_SKIPS, MAX_RANK_LIMIT, MAX_RANKED_CANDIDATES, orderSpans, rankByRelevance, rankLimit, rankedLoopBounds, rankedSpans, routeQuery,
  spanCandidates, type RankingEpisode, type RankingPolicy, type ScoredSpan,
} from "../../durable-objects/selection/rank-candidates";
import { arrayRowStore, SegmentIndex } from "../../durable-objects/selection/segment-index";
import { MESSAGE_OVERHEAD_TOKENS } from "../../durable-objects/selection/token-estimator";
import { oracleKernels } from "../../wasm/oracle/index";
import { ResidentColumns } from "../../wasm/src/bindings/retrieval";
import { loadWasmModule } from "../../wasm/src/node-module";

const kernels = oracleKernels;

/** epikv's ranking before the evaluation, which the ablation table still runs (scripts/eval/policies.ts). */
const MATCHED_FIRST_RANKING: RankingPolicy = { route: "dot", matchBonus: Infinity, others: "representatives" };

/** rankedSpans computed eagerly: every list fetched at full length at once. */
function rankIndexed(index: SegmentIndex, q: Float32Array, matched: RankingEpisode, episodes: readonly RankingEpisode[], policy: RankingPolicy, limit: number): ScoredSpan[] {
  return [...rankedSpans(index, q, matched, episodes, policy, limit, limit)];
}

function unit(v: number[]): Float32Array {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
}

/** Three episodes in 2-d: 0 along x, 1 along y, 2 diagonal; segment id i+1 covers seqs 4i..4i+3. */
function fixture(): { index: SegmentIndex; episodes: RankingEpisode[] } {
  const vecs: [number, number[]][] = [
    [0, [1, 0]], [0, [0.9, 0.1]], [1, [0, 1]], [1, [0.2, 1]], [2, [1, 1]], [0, [0.6, 0.4]], [1, [0.1, 0.9]],
  ];
  const index = new SegmentIndex(arrayRowStore, 2);
  vecs.forEach(([e, v], i) => index.append(i + 1, e, 4 * i, 4 * i + 3, unit(v)));
  const episodes: RankingEpisode[] = [
    { id: 0, centroid: Float32Array.of(0.9, 0.1), representatives: [1] },
    { id: 1, centroid: Float32Array.of(0.05, 0.3), representatives: [3] },
    { id: 2, centroid: Float32Array.of(0.7, 0.7), representatives: [5] },
  ];
  return { index, episodes };
}

const span = (id: number, episode: number, score: number): ScoredSpan => ({ id, first: id * 4, last: id * 4 + 3, episode, score });

describe("routeQuery", () => {
  it("routes by raw dot product or by cosine", () => {
    const { episodes } = fixture();
    const q = unit([0.3, 1]);
    // Episode 1's centroid is short: raw dot prefers the long diagonal centroid, cosine the aligned one.
    expect(routeQuery(kernels, q, episodes, "dot")!.id).toBe(2);
    expect(routeQuery(kernels, q, episodes, "cosine")!.id).toBe(1);
  });

  it("returns null without episodes and rejects a dimension mismatch", () => {
    expect(routeQuery(kernels, unit([1, 0]), [], "cosine")).toBeNull();
    expect(() => routeQuery(kernels, Float32Array.of(1, 0, 0), fixture().episodes, "dot")).toThrow(/dims/);
  });
});

describe("orderSpans", () => {
  it("puts every matched span first with an infinite bonus", () => {
    const order = orderSpans([span(1, 0, 0.1), span(2, 0, 0.3)], [span(3, 1, 0.9)], Infinity, 10);
    expect(order.map((s) => s.id)).toEqual([2, 1, 3]);
  });

  it("lets a clearly better other segment outrank a weak matched one with a finite bonus", () => {
    const order = orderSpans([span(1, 0, 0.1), span(2, 0, 0.3)], [span(3, 1, 0.9), span(4, 1, 0.305)], 0.01, 10);
    expect(order.map((s) => s.id)).toEqual([3, 2, 4, 1]);
  });

  it("breaks ties toward the matched episode, then input order; NaN last; at most limit", () => {
    const order = orderSpans([span(1, 0, NaN), span(2, 0, 0.5)], [span(3, 1, 0.5), span(4, 1, 0.5)], 0, 3);
    expect(order.map((s) => s.id)).toEqual([2, 3, 4]);
  });

  it("is a permutation of its input (up to limit), ordered by score plus bonus", () => {
    fc.assert(fc.property(
      fc.array(fc.float({ noNaN: true, min: -1, max: 1 }), { maxLength: 20 }),
      fc.array(fc.float({ noNaN: true, min: -1, max: 1 }), { maxLength: 20 }),
      fc.float({ noNaN: true, min: 0, max: 1 }),
      fc.integer({ min: 0, max: 50 }),
      (m, o, bonus, limit) => {
        const matched = m.map((s, i) => span(i, 0, s));
        const others = o.map((s, i) => span(100 + i, 1, s));
        const order = orderSpans(matched, others, bonus, limit);
        expect(order.length).toBe(Math.min(limit, m.length + o.length));
        const key = (s: ScoredSpan) => s.score + (s.episode === 0 ? bonus : 0);
        for (let i = 1; i < order.length; i++) expect(key(order[i - 1]!)).toBeGreaterThanOrEqual(key(order[i]!));
        expect(new Set(order.map((s) => s.id)).size).toBe(order.length);
      },
    ));
  });
});

describe("rankedSpans, eagerly", () => {
  it("offers every episode's segments by relevance under the default ranking", () => {
    const { index, episodes } = fixture();
    const q = unit([0, 1]);
    const matched = routeQuery(kernels, q, episodes, DEFAULT_RANKING.route)!;
    expect(matched.id).toBe(1);
    const order = rankIndexed(index, q, matched, episodes, DEFAULT_RANKING, 10);
    expect(order.map((s) => s.id)).toEqual([3, 7, 4, 5, 6, 2, 1]);
    expect(order.every((s) => s.episode === (s.id === 5 ? 2 : [3, 4, 7].includes(s.id) ? 1 : 0))).toBe(true);
  });

  it("offers only the other episodes' representatives, after the matched episode, under the old ranking", () => {
    const { index, episodes } = fixture();
    const q = unit([0, 1]);
    const order = rankIndexed(index, q, episodes[1]!, episodes, MATCHED_FIRST_RANKING, 10);
    expect(order.map((s) => s.id)).toEqual([3, 7, 4, 5, 1]);
  });

  it("returns at most limit spans", () => {
    const { index, episodes } = fixture();
    expect(rankIndexed(index, unit([1, 0]), episodes[0]!, episodes, DEFAULT_RANKING, 2)).toHaveLength(2);
  });
});

describe("rankedSpans", () => {
  /**
   * A counting row store: what the lazy merge asked of it ("scan" a scan of every row, "e:k" a top-k of
   * episode e's rows over that scan's scores, "all:k" a top-k of every row).
   */
  function countingIndex(requests: (number | string)[]) {
    return (capacity: number, dim: number) => {
      const store = arrayRowStore(capacity, dim);
      const dotScoresView = store.dotScoresView.bind(store);
      const topKOf = store.topKOf.bind(store);
      const topKLastScores = store.topKLastScores.bind(store);
      store.dotScoresView = (query) => (requests.push("scan"), dotScoresView(query));
      store.topKOf = (rows, n, k) => (requests.push(`${rows[0]! < 100 ? 0 : 1}:${k}`), topKOf(rows, n, k));
      store.topKLastScores = (k) => (requests.push(`all:${k}`), topKLastScores(k));
      return store;
    };
  }

  it("is every segment sorted by relevance plus the matched episode's bonus (ties → the matched episode, then the lower id; NaN last)", () => {
    const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const next = random(17);
    const dim = 5;
    const index = new SegmentIndex(arrayRowStore, dim);
    const vectors = new Map<number, { episode: number; v: Float32Array }>();
    const tie = unit([0, 0, 1, 0, 0]);
    // Four episodes whose ids are not in segment order; every 7th segment is the same (tied) vector, a few are NaN.
    for (let id = 1; id <= 400; id++) {
      const episode = [3, 0, 2, 1][(id * 7) % 4]!;
      const v = id % 7 === 0 ? tie : id % 53 === 0 ? new Float32Array(dim).fill(NaN) : unit(Array.from({ length: dim }, next));
      vectors.set(id, { episode, v });
      index.append(id, episode, 4 * id, 4 * id + 3, v);
    }
    const episodes: RankingEpisode[] = [3, 0, 2, 1].map((id) => ({ id, centroid: unit(Array.from({ length: dim }, next)), representatives: [] }));
    for (let trial = 0; trial < 8; trial++) {
      const q = trial % 2 ? tie : unit(Array.from({ length: dim }, next));
      const matched = episodes[trial % 4]!;
      const key = (id: number) => {
        const { episode, v } = vectors.get(id)!;
        let s = 0;
        for (let d = 0; d < dim; d++) s += q[d]! * v[d]!;
        return Math.fround(s) + (episode === matched.id ? DEFAULT_RANKING.matchBonus : 0);
      };
      const want = [...vectors.keys()].sort((a, b) => {
        const ka = key(a), kb = key(b);
        const ma = vectors.get(a)!.episode === matched.id, mb = vectors.get(b)!.episode === matched.id;
        const byKey = Number.isNaN(ka) || Number.isNaN(kb) ? Number(Number.isNaN(ka)) - Number(Number.isNaN(kb)) : kb - ka;
        return byKey || Number(mb) - Number(ma) || a - b;
      });
      for (const limit of [1, 7, 64, 400]) {
        for (const chunk of [1, 5, 64]) expect([...rankedSpans(index, q, matched, episodes, DEFAULT_RANKING, limit, chunk)].map((s) => s.id)).toEqual(want.slice(0, limit));
      }
    }
  });

  it("is the eager sequence for any first chunk, with ties and unequal episodes", () => {
    const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const next = random(3);
    const dim = 6;
    const index = new SegmentIndex(arrayRowStore, dim);
    const tie = unit([1, 0, 0, 0, 0, 0]);
    // Episode sizes 1, 40, 150, 300; every 9th segment is the same (tied) vector.
    for (let id = 1; id <= 491; id++) {
      const episode = id === 1 ? 0 : id <= 41 ? 1 : id <= 191 ? 2 : 3;
      index.append(id, episode, 4 * id, 4 * id + 3, id % 9 === 0 ? tie : unit(Array.from({ length: dim }, next)));
    }
    const episodes: RankingEpisode[] = [0, 1, 2, 3].map((id) => ({ id, centroid: unit(Array.from({ length: dim }, next)), representatives: [] }));
    for (let trial = 0; trial < 6; trial++) {
      const q = trial % 2 ? tie : unit(Array.from({ length: dim }, next));
      const matched = episodes[trial % 4]!;
      for (const limit of [0, 1, 5, 64, 200, 600]) {
        const eager = rankIndexed(index, q, matched, episodes, DEFAULT_RANKING, limit);
        expect(eager).toHaveLength(Math.min(limit, 491));
        for (const chunk of [1, 3, 16, 64, 1000]) expect([...rankedSpans(index, q, matched, episodes, DEFAULT_RANKING, limit, chunk)]).toEqual(eager);
      }
    }
  });

  it("extends an episode's list only when the merge reaches its end", () => {
    const requests: (number | string)[] = [];
    const index = new SegmentIndex(countingIndex(requests), 2);
    // Episode 0 holds the 100 best segments for x; episode 1 the 100 worst.
    for (let id = 1; id <= 200; id++) index.append(id, id <= 100 ? 0 : 1, 4 * id, 4 * id + 3, id <= 100 ? unit([1, id / 1000]) : unit([id / 1000, 1]));
    const episodes: RankingEpisode[] = [{ id: 0, centroid: unit([1, 0]), representatives: [] }, { id: 1, centroid: unit([0, 1]), representatives: [] }];
    const spans = rankedSpans(index, unit([1, 0]), episodes[0]!, episodes, DEFAULT_RANKING, 150, 8)[Symbol.iterator]();
    expect(requests).toEqual([]); // nothing is scanned before the first span is asked for
    for (let n = 0; n < 8; n++) spans.next();
    // The matched episode's top-8 and the top-8 of all segments (all episode 0's: episode 1's best cannot come before them).
    expect(requests).toEqual(["scan", "0:8", "all:8"]);
    spans.next(); // the 9th span needs episode 0's next: a longer top-k of that episode only, from the same scan's scores
    expect(requests).toEqual(["scan", "0:8", "all:8", "0:16"]);
    let rest = 0;
    while (!spans.next().done) rest++;
    expect(rest).toBe(150 - 9);
    // The store is scanned once; 128 asked of episode 0 is clipped to its 100 rows; all segments' ranking is read on only once episode 0's is spent.
    expect(requests).toEqual(["scan", "0:8", "all:8", "0:16", "0:32", "0:64", "0:100", "all:16", "all:32", "all:64", "all:128", "all:150"]);
  });
});

describe("rankedSpans on the column store (ResidentColumns, as in workerd)", () => {
  it("gives the plain-array index's sequence on sparse queries (same ids, scores within f32 rounding)", () => {
    const module = loadWasmModule();
    const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const next = random(9);
    const dim = 64;
    // Sparse unit vectors, as the hashing embedder makes them: a few nonzero dims each.
    const sparse = (nnz: number) => {
      const v = new Array<number>(dim).fill(0);
      for (let k = 0; k < nnz; k++) v[Math.floor(((next() + 1) / 2) * dim) % dim] = next() || 0.5;
      return unit(v);
    };
    const plain = new SegmentIndex(arrayRowStore, dim);
    const columns = new SegmentIndex((capacity, d) => ResidentColumns.create(module, capacity, d), dim);
    for (let id = 1; id <= 700; id++) {
      const v = sparse(2 + (id % 9));
      plain.append(id, id % 4, 4 * id, 4 * id + 3, v);
      columns.append(id, id % 4, 4 * id, 4 * id + 3, v);
    }
    const episodes: RankingEpisode[] = [0, 1, 2, 3].map((id) => ({ id, centroid: sparse(20), representatives: [id + 4] }));
    for (let trial = 0; trial < 8; trial++) {
      const q = sparse(1 + trial * 3);
      const want = rankIndexed(plain, q, episodes[trial % 4]!, episodes, DEFAULT_RANKING, 300);
      const got = [...rankedSpans(columns, q, episodes[trial % 4]!, episodes, DEFAULT_RANKING, 300, 8)];
      expect(got.map((s) => s.id)).toEqual(want.map((s) => s.id));
      got.forEach((s, i) => expect(Math.abs(s.score - want[i]!.score)).toBeLessThanOrEqual(1e-6));
    }
  });
});

describe("spanCandidates and rankedLoopBounds", () => {
  it("widens lazily, at most limit, with provenance and finite scores", () => {
    const widened: number[] = [];
    const candidates = spanCandidates([span(1, 0, 0.5), span(2, 1, NaN), span(3, 1, 0.1)], (first, last) => {
      widened.push(first);
      return [{ seq: first, tokens: last - first }];
    }, 2);
    const it = candidates[Symbol.iterator]();
    expect(widened).toEqual([]);
    const first = it.next().value!;
    expect(first.provenance).toEqual({ kind: "episode", episode: 0, score: 0.5 });
    expect(it.next().value!.provenance).toEqual({ kind: "episode", episode: 1, score: 0 });
    expect(it.next().done).toBe(true);
    expect(widened).toEqual([4, 8]);
  });

  it("bounds the ranked loop by the cheapest possible segment and the skip cap", () => {
    expect(rankedLoopBounds(4)).toEqual({ minCandidateTokens: 4 * (MESSAGE_OVERHEAD_TOKENS + 1), maxConsecutiveSkips: MAX_CONSECUTIVE_SKIPS });
    expect(MAX_RANKED_CANDIDATES).toBeGreaterThan(0);
  });
});

describe("rankedSpans' merge", () => {
  it("equals orderSpans over every episode's scored segments, for any bonus and limit", () => {
    // 2-d unit rows at chosen cosines to the query x = (1, 0); repeated cosines make ties.
    const cosines = fc.array(fc.constantFrom(-0.5, 0, 0.25, 0.5, 0.75, 1), { maxLength: 12 });
    fc.assert(fc.property(cosines, cosines, cosines, fc.constantFrom(0, 0.01, 0.3), fc.integer({ min: 0, max: 40 }),
      (a, b, c, bonus, limit) => {
        const index = new SegmentIndex(arrayRowStore, 2);
        let id = 1;
        [a, b, c].forEach((list, episode) => list.forEach((cos) => index.append(id++, episode, 4 * id, 4 * id + 3, Float32Array.of(cos, Math.sqrt(1 - cos * cos)))));
        const episodes: RankingEpisode[] = [0, 1, 2].map((e) => ({ id: e, centroid: unit([1, e]), representatives: [] }));
        const q = Float32Array.of(1, 0);
        const policy: RankingPolicy = { route: "cosine", matchBonus: bonus, others: "all" };
        const all = (e: number) => index.topOfEpisode(e, q, 100);
        const want = orderSpans(all(0), [...all(1), ...all(2)], bonus, limit);
        expect([...rankedSpans(index, q, episodes[0]!, episodes, policy, limit, 2)].map((s) => s.id)).toEqual(want.map((s) => s.id));
      }));
  });
});

describe("rankByRelevance", () => {
  it("puts the matched episode first, each part by score, NaN last, ties in input order", () => {
    const order = rankByRelevance(
      [{ id: 1, score: 0.2 }, { id: 2, score: NaN }, { id: 3, score: 0.9 }, { id: 4, score: 0.2 }],
      [{ id: 5, score: 1 }],
    );
    expect(order.map((x) => x.id)).toEqual([3, 1, 4, 2, 5]);
  });
});

describe("rankLimit", () => {
  it("fills the budget with the cheapest segments, within [MAX_RANKED_CANDIDATES, MAX_RANK_LIMIT]", () => {
    expect(rankLimit(4096, 4)).toBe(MAX_RANKED_CANDIDATES);
    expect(rankLimit(31_259, 4)).toBe(Math.ceil(31_259 / (4 * (MESSAGE_OVERHEAD_TOKENS + 1))));
    expect(rankLimit(1e9, 1)).toBe(MAX_RANK_LIMIT);
  });
});

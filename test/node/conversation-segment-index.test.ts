import { describe, expect, it } from "vitest";
import { arrayRowStore, grownCapacity, reusingFactory, ROW_STORE_SCRATCH_BYTES, SegmentIndex } from "../../durable-objects/selection/segment-index";
import { loadWasmModule } from "../../wasm/src/node-module";
import { ResidentColumns } from "../../wasm/src/bindings/retrieval";
import { ResidentRows } from "../../wasm/src/bindings/resident-rows";

const unit = (dim: number, hot: number, second = -1) => {
  const v = new Float32Array(dim);
  v[hot] = 1;
  if (second >= 0) v[second] = 1;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

describe("SegmentIndex", () => {
  for (const [name, factory] of [
    ["plain arrays", arrayRowStore],
    ["WASM ResidentRows", (capacity: number, dim: number) => ResidentRows.create(loadWasmModule(), capacity, dim)],
    ["WASM ResidentColumns", (capacity: number, dim: number) => ResidentColumns.create(loadWasmModule(), capacity, dim)],
  ] as const) {
    it(`scores only the asked episode, across growth (${name})`, () => {
      const dim = 8;
      const index = new SegmentIndex(factory, dim);
      // 600 segments alternating between episodes 3 and 5 (forces growth past the initial capacity).
      for (let id = 1; id <= 600; id++) index.append(id, id % 2 ? 3 : 5, id * 4, id * 4 + 3, unit(dim, id % dim, (id * 3) % dim));
      expect(index.size).toBe(600);
      const q = unit(dim, 1);
      const scored = index.scoreEpisode(3, q);
      expect(scored.count).toBe(300);
      for (let i = 0; i < scored.count; i++) {
        const id = scored.ids[i]!;
        expect(id % 2).toBe(1);
        expect(scored.firstSeq[i]).toBe(id * 4);
        const expected = unit(dim, id % dim, (id * 3) % dim)[1]!;
        expect(scored.scores[i]).toBeCloseTo(expected, 5);
      }
      expect(index.scoreEpisode(99, q).count).toBe(0);
      const reps = index.scoreSegments(5, [2, 4, 7, 1000], q);
      expect(reps.map((r) => r.id)).toEqual([2, 4]); // 7 is in episode 3, 1000 unknown
    });
  }

  it("rejects out-of-order ids and wrong dimensions", () => {
    const index = new SegmentIndex(arrayRowStore, 4);
    index.append(5, 0, 0, 3, unit(4, 0));
    expect(() => index.append(4, 0, 4, 7, unit(4, 1))).toThrow(/out of order/);
    expect(() => index.append(6, 0, 4, 7, unit(3, 1))).toThrow(RangeError);
  });
});

describe("SegmentIndex.topOfEpisode", () => {
  const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (const [name, factory] of [
    ["plain arrays", arrayRowStore],
    ["WASM ResidentRows", (capacity: number, dim: number) => ResidentRows.create(loadWasmModule(), capacity, dim)],
    ["WASM ResidentColumns", (capacity: number, dim: number) => ResidentColumns.create(loadWasmModule(), capacity, dim)],
  ] as const) {
    it(`equals scoreEpisode sorted best first, ties to the lower id (${name})`, () => {
      const dim = 12;
      const next = random(7);
      const index = new SegmentIndex(factory, dim);
      const tie = Float32Array.from({ length: dim }, (_, d) => (d === 0 ? 1 : 0));
      for (let id = 1; id <= 700; id++) index.append(id, id % 3, id * 4, id * 4 + 3, id % 50 === 0 ? tie : Float32Array.from({ length: dim }, next));
      const q = Float32Array.from({ length: dim }, next);
      q[0] = 5; // the tie rows (every 50th id) score equally and high
      for (const episode of [0, 1, 2]) {
        const all = index.scoreEpisode(episode, q);
        const oracle = Array.from({ length: all.count }, (_, i) => ({ id: all.ids[i]!, score: all.scores[i]! })).sort((a, b) => b.score - a.score || a.id - b.id);
        for (const k of [0, 1, 17, 233, 1000]) {
          const top = index.topOfEpisode(episode, q, k);
          expect(top.length).toBe(Math.min(k, all.count));
          expect(top.map((t) => t.id)).toEqual(oracle.slice(0, k).map((o) => o.id));
          top.forEach((t, r) => {
            expect(t.score).toBeCloseTo(oracle[r]!.score, 5);
            expect(t.first).toBe(t.id * 4);
            expect(t.last).toBe(t.id * 4 + 3);
          });
        }
      }
      expect(index.topOfEpisode(42, q, 10)).toEqual([]);
    });
  }
});

describe("SegmentIndex window (evictThrough)", () => {
  for (const [name, factory] of [
    ["plain arrays", arrayRowStore],
    ["WASM ResidentRows", (capacity: number, dim: number) => ResidentRows.create(loadWasmModule(), capacity, dim)],
    ["WASM ResidentColumns", (capacity: number, dim: number) => ResidentColumns.create(loadWasmModule(), capacity, dim)],
  ] as const) {
    it(`drops the oldest segments of every episode and then equals an index built from the rest (${name})`, () => {
      const dim = 8;
      const vec = (id: number) => unit(dim, id % dim, (id * 3) % dim);
      const episodeOf = (id: number) => (id % 3 === 0 ? 7 : id % 3 === 1 ? 8 : 9);
      const windowed = new SegmentIndex(factory, dim);
      for (let id = 1; id <= 700; id++) windowed.append(id, episodeOf(id), id * 4, id * 4 + 3, vec(id));
      const capacity = windowed.capacity;
      windowed.evictThrough(450);
      expect(windowed.size).toBe(250);
      expect(windowed.capacity).toBe(capacity); // the stores keep their memory for the rows that follow
      for (let id = 701; id <= 760; id++) windowed.append(id, episodeOf(id), id * 4, id * 4 + 3, vec(id));
      const fresh = new SegmentIndex(arrayRowStore, dim);
      for (let id = 451; id <= 760; id++) fresh.append(id, episodeOf(id), id * 4, id * 4 + 3, vec(id));
      const q = unit(dim, 1, 2);
      for (const e of [7, 8, 9]) {
        const a = windowed.scoreEpisode(e, q), b = fresh.scoreEpisode(e, q);
        expect(a.count).toBe(b.count);
        expect(Array.from(a.ids.subarray(0, a.count))).toEqual(Array.from(b.ids.subarray(0, b.count)));
        expect(Array.from(a.firstSeq.subarray(0, a.count))).toEqual(Array.from(b.firstSeq.subarray(0, b.count)));
        expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
        expect(windowed.topOfEpisode(e, q, 5).map((s) => s.id)).toEqual(fresh.topOfEpisode(e, q, 5).map((s) => s.id));
      }
      windowed.evictThrough(10_000);
      expect(windowed.size).toBe(0);
      expect(windowed.scoreEpisode(7, q).count).toBe(0);
    });
  }
});

describe("SegmentIndex memory", () => {
  it("one store for every episode: reserve sizes it once (the counts' sum + 1/16), appends past it grow it in place by 1/8", () => {
    const created: number[] = [];
    const factory = (capacity: number, dim: number) => {
      created.push(capacity);
      return arrayRowStore(capacity, dim);
    };
    const dim = 4;
    const index = new SegmentIndex(factory, dim);
    index.reserve(1, 600);
    index.reserve(2, 400);
    expect(created).toEqual([]); // created with the first row
    for (let id = 1; id <= 1063; id++) index.append(id, id % 2 ? 1 : 2, id, id, unit(dim, id % dim));
    expect(created).toEqual([1063]);
    index.append(1064, 1, 1064, 1064, unit(dim, 0));
    expect(created).toEqual([1063]); // grown in place: no second store beside it
    expect(index.capacity).toBe(grownCapacity(1063));
    expect(grownCapacity(1063)).toBe(1196);
    const scored = index.scoreEpisode(1, unit(dim, 0));
    expect(scored.count).toBe(533);
    expect(scored.ids[532]).toBe(1064);
    expect(scored.scores[532]).toBe(1);
    expect(() => index.reserve(3, 10)).toThrow(/before appending/);
  });

  it("a rebuild refills the released store: best fit, else a smaller one grown, else a larger one; a new one only past them", () => {
    let creations = 0;
    const create = (capacity: number, dim: number) => {
      creations++;
      return arrayRowStore(capacity, dim);
    };
    const dim = 4;
    const old = new SegmentIndex(create, dim);
    old.reserve(1, 800);
    old.reserve(2, 200);
    for (let id = 1; id <= 1000; id++) old.append(id, id <= 800 ? 1 : 2, id, id, unit(dim, id % dim));
    expect(creations).toBe(1);
    const released = old.release();
    expect(old.size).toBe(0);
    expect(released.map((s) => s.capacity)).toEqual([1063]);

    const pool = reusingFactory(released, create);
    const rebuilt = new SegmentIndex(pool.factory, dim);
    rebuilt.reserve(7, 700);
    rebuilt.reserve(8, 100);
    for (let id = 1; id <= 900; id++) rebuilt.append(id, id <= 700 ? 7 : id <= 800 ? 8 : 9, id, id, unit(dim, (id * 5) % dim));
    pool.done();
    expect(creations).toBe(1); // 850 asked: the released 1063 fits
    const q = unit(dim, 1);
    // Reused rows are overwritten, not mixed with the old index's rows.
    expect(rebuilt.scoreEpisode(7, q).count).toBe(700);
    const eight = rebuilt.scoreEpisode(8, q);
    expect(Array.from(eight.ids.subarray(0, eight.count))).toEqual(Array.from({ length: 100 }, (_, i) => 701 + i));
    expect(rebuilt.scoreEpisode(9, q).count).toBe(100);

    // A store past 1.5× the request is taken only when no other fits or can grow to it.
    const larger = [arrayRowStore(1000, dim), arrayRowStore(2000, dim), arrayRowStore(100, dim)];
    const big = reusingFactory(larger, create);
    expect(big.factory(300, dim)).toBe(larger[2]); // the smaller one, grown
    expect(big.factory(300, dim)).toBe(larger[0]); // then the smallest larger one
    expect(creations).toBe(1);

    // Too small for every request: the largest smaller store is grown (rows of the old index are not kept), not a new one made.
    const small = [arrayRowStore(100, dim), arrayRowStore(400, dim)];
    const grown = reusingFactory(small, create).factory(500, dim);
    expect(creations).toBe(1);
    expect(grown).toBe(small[1]);
    expect(grown.capacity).toBe(500);
    expect(grown.count).toBe(0);
    reusingFactory([], create).factory(10, dim);
    expect(creations).toBe(2);
  });
});

describe("SegmentIndex on ResidentColumns (the workerd store)", () => {
  const module = loadWasmModule();
  const columns = (capacity: number, dim: number) => ResidentColumns.create(module, capacity, dim);
  const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;

  /** A weighted-unit-like sparse vector: `nnz` random dims nonzero, L2-normalised. */
  const sparse = (next: () => number, dim: number, nnz: number) => {
    const v = new Float32Array(dim);
    for (let k = 0; k < nnz; k++) v[Math.floor(((next() + 1) / 2) * dim) % dim] = next();
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  };

  it("ranks like the plain-array index on sparse and dense queries, across growth (scores within f32 rounding)", () => {
    const dim = 48;
    const next = random(11);
    const a = new SegmentIndex(arrayRowStore, dim);
    const c = new SegmentIndex(columns, dim);
    c.reserve(2, 100); // reserved, then grown past 112 rows
    for (let id = 1; id <= 900; id++) {
      const v = sparse(next, dim, 1 + (id % 20));
      const episode = id % 3;
      a.append(id, episode, id * 2, id * 2 + 1, v);
      c.append(id, episode, id * 2, id * 2 + 1, v);
    }
    for (const nnz of [0, 1, 5, dim, 4 * dim]) {
      const q = sparse(next, dim, nnz);
      for (const episode of [0, 1, 2]) {
        const ea = a.scoreEpisode(episode, q);
        const ec = c.scoreEpisode(episode, q);
        expect(Array.from(ec.ids.subarray(0, ec.count))).toEqual(Array.from(ea.ids.subarray(0, ea.count)));
        for (let i = 0; i < ea.count; i++) expect(Math.abs(ec.scores[i]! - ea.scores[i]!)).toBeLessThanOrEqual(1e-6);
        const ta = a.topOfEpisode(episode, q, 25);
        const tc = c.topOfEpisode(episode, q, 25);
        expect(tc.length).toBe(ta.length);
        tc.forEach((t, r) => expect(Math.abs(t.score - ta[r]!.score)).toBeLessThanOrEqual(1e-6));
      }
      const reps = [3, 6, 9, 300, 897];
      const ra = a.scoreSegments(0, reps, q);
      const rc = c.scoreSegments(0, reps, q);
      expect(rc.map((r) => r.id)).toEqual(ra.map((r) => r.id));
      rc.forEach((r, i) => expect(Math.abs(r.score - ra[i]!.score)).toBeLessThanOrEqual(1e-6));
    }
  });

  it("queryRanking scans once; longer lists come from the last scores; ofAll ranks every episode's segments together", () => {
    const dim = 16;
    const next = random(5);
    const index = new SegmentIndex(columns, dim);
    for (let id = 1; id <= 300; id++) index.append(id, id % 2, id, id, sparse(next, dim, 4));
    const q = sparse(next, dim, 3);
    const rank = index.queryRanking(q);
    const first = rank.ofEpisode(0, 10);
    // The longer list is a top-k of the first scan's scores (no rescan), so it extends the shorter one.
    const longer = rank.ofEpisode(0, 40);
    expect(longer.slice(0, 10)).toEqual(first);
    expect(longer).toEqual(index.topOfEpisode(0, q, 40));
    // Every segment's best 60: both episodes' lists merged by score (ties → lower id).
    const both = [...index.topOfEpisode(0, q, 150), ...index.topOfEpisode(1, q, 150)].sort((a, b) => b.score - a.score || a.id - b.id).slice(0, 60);
    expect(rank.ofAll(60)).toEqual(both);
    expect(rank.ofAll(0)).toEqual([]);
  });

  it("bytes are what the column store reserves plus the id, span and episode columns and the episodes' row lists", () => {
    const dim = 32;
    const stores: ResidentColumns[] = [];
    const index = new SegmentIndex((capacity, d) => {
      const s = columns(capacity, d);
      stores.push(s);
      return s;
    }, dim);
    index.reserve(0, 1000);
    index.reserve(1, 10);
    for (let id = 1; id <= 20; id++) index.append(id, id % 2, id, id, unit(dim, id % dim));
    expect(stores.length).toBe(1);
    expect(stores[0]!.bytes).toBe(1074 * (dim + 1) * 4 + 3 * dim * 4 + ROW_STORE_SCRATCH_BYTES); // 1010 + 1/16
    expect(index.bytes).toBe(stores[0]!.bytes + 4 * 4 * 1074 + 4 * (1000 + 16));
  });
});

// Conformance suite of the BM25 kernel (wasm/assembly/bm25.ts): the WASM
// binding against the plain-TS oracle (wasm/oracle/bm25.ts), bit for bit
// (the operation order is documented and both round every step to f32),
// and both against BM25 written out in f64 from its definition. Run in
// Node (test/node/kernels-bm25.test.ts) and inside workerd
// (test/worker/kernels-bm25.test.ts); nothing here needs Node APIs.
import { describe, expect, it } from "vitest";
import type { Bm25Query, Kernels } from "../../wasm/src/kernels";
import { mulberry32 } from "../../protocol/mulberry32";

export interface Bm25SuiteOptions {
  runtime: string;
  wasm: Pick<Kernels, "bm25Scores">;
  oracle: Pick<Kernels, "bm25Scores">;
}

/** A random query over `n` documents: `terms` terms, each with postings on distinct ascending documents. */
function randomQuery(random: () => number, n: number, terms: number, density: number): Bm25Query {
  const lengths = Uint32Array.from({ length: n }, () => 1 + Math.floor(random() * 60));
  const starts = new Int32Array(terms + 1);
  const posts: number[] = [];
  for (let t = 0; t < terms; t++) {
    for (let d = 0; d < n; d++) if (random() < density) posts.push((d << 8) | (1 + Math.floor(random() * Math.min(255, lengths[d]!))));
    starts[t + 1] = posts.length;
  }
  const idf = Float32Array.from({ length: terms }, () => random() * 8);
  return { posts: Uint32Array.from(posts), starts, idf, lengths, avgDocLength: 5 + random() * 30, k1: 1.2, b: 0.75 };
}

/** BM25 from its definition, in f64. */
function reference(q: Bm25Query): Float64Array {
  const out = new Float64Array(q.lengths.length);
  for (let t = 0; t < q.idf.length; t++) {
    for (let p = q.starts[t]!; p < q.starts[t + 1]!; p++) {
      const d = q.posts[p]! >>> 8;
      const tf = q.posts[p]! & 255;
      out[d]! += (q.idf[t]! * tf * (q.k1 + 1)) / (tf + q.k1 * (1 - q.b + (q.b * q.lengths[d]!) / q.avgDocLength));
    }
  }
  return out;
}

export function bm25Conformance({ runtime, wasm, oracle }: Bm25SuiteOptions): void {
  describe(`bm25Scores (${runtime})`, () => {
    it("equals the oracle bit for bit, and BM25's definition within f32 rounding, on random postings", () => {
      const random = mulberry32(11);
      for (const [n, terms, density] of [[1, 1, 1], [7, 3, 0.5], [200, 5, 0.2], [5000, 8, 0.05], [3000, 2, 1]] as const) {
        const q = randomQuery(random, n, terms, density);
        const a = wasm.bm25Scores(q);
        const b = oracle.bm25Scores(q);
        expect(a.length).toBe(n);
        expect(Array.from(a)).toEqual(Array.from(b));
        const r = reference(q);
        for (let d = 0; d < n; d++) expect(Math.abs(a[d]! - r[d]!)).toBeLessThanOrEqual(1e-5 * (1 + r[d]!));
      }
    });

    it("handles no terms, no postings, tf 255, b = 0 and b = 1", () => {
      const lengths = Uint32Array.of(3, 500, 1);
      const none: Bm25Query = { posts: new Uint32Array(0), starts: Int32Array.of(0), idf: new Float32Array(0), lengths, avgDocLength: 4, k1: 1.2, b: 0.75 };
      expect(Array.from(wasm.bm25Scores(none))).toEqual([0, 0, 0]);
      const empty: Bm25Query = { ...none, starts: Int32Array.of(0, 0), idf: Float32Array.of(2) };
      expect(Array.from(wasm.bm25Scores(empty))).toEqual([0, 0, 0]);
      for (const b of [0, 1]) {
        const q: Bm25Query = { posts: Uint32Array.of((1 << 8) | 255, (2 << 8) | 1), starts: Int32Array.of(0, 2), idf: Float32Array.of(3), lengths, avgDocLength: 4, k1: 1.2, b };
        expect(Array.from(wasm.bm25Scores(q))).toEqual(Array.from(oracle.bm25Scores(q)));
        // b = 0: length does not matter, tf saturates towards idf·(k1 + 1).
        if (b === 0) expect(wasm.bm25Scores(q)[1]!).toBeCloseTo((3 * 255 * 2.2) / (255 + 1.2), 4);
      }
    });

    it("rejects postings outside the documents, tf 0, and inconsistent starts, in both implementations", () => {
      const lengths = Uint32Array.of(3, 4);
      const bad: Bm25Query[] = [
        { posts: Uint32Array.of(5 << 8 | 1), starts: Int32Array.of(0, 1), idf: Float32Array.of(1), lengths, avgDocLength: 3, k1: 1.2, b: 0.75 },
        { posts: Uint32Array.of(1 << 8), starts: Int32Array.of(0, 1), idf: Float32Array.of(1), lengths, avgDocLength: 3, k1: 1.2, b: 0.75 },
        { posts: Uint32Array.of(1 << 8 | 1), starts: Int32Array.of(0, 2), idf: Float32Array.of(1), lengths, avgDocLength: 3, k1: 1.2, b: 0.75 },
        { posts: Uint32Array.of(1 << 8 | 1), starts: Int32Array.of(0), idf: Float32Array.of(1), lengths, avgDocLength: 3, k1: 1.2, b: 0.75 },
        { posts: Uint32Array.of(1 << 8 | 1), starts: Int32Array.of(0, 1), idf: Float32Array.of(1), lengths, avgDocLength: 0, k1: 1.2, b: 0.75 },
        { posts: Uint32Array.of(1 << 8 | 1), starts: Int32Array.of(0, 1), idf: Float32Array.of(1), lengths, avgDocLength: 3, k1: 1.2, b: 2 },
      ];
      for (const q of bad) {
        expect(() => wasm.bm25Scores(q)).toThrow(RangeError);
        expect(() => oracle.bm25Scores(q)).toThrow(RangeError);
      }
    });

    it("writes into a reused `out` buffer: the same scores, stale entries cleared, a short buffer refused", () => {
      const random = mulberry32(12);
      for (const impl of [wasm, oracle]) {
        const out = new Float32Array(6000).fill(7);
        for (const [n, terms, density] of [[5000, 4, 0.1], [300, 2, 0.3], [1, 1, 1]] as const) {
          const q = randomQuery(random, n, terms, density);
          const scores = impl.bm25Scores(q, out);
          expect(scores.length).toBe(n);
          expect(scores.buffer).toBe(out.buffer);
          expect(Array.from(scores)).toEqual(Array.from(oracle.bm25Scores(q))); // a larger query's scores do not leak into a smaller one's
        }
        const q = randomQuery(random, 10, 1, 1);
        expect(() => impl.bm25Scores(q, new Float32Array(9))).toThrow(RangeError);
        expect(() => impl.bm25Scores(q, undefined, true)).toThrow(RangeError);
      }
    });

    it("adds a second pass's terms to the first pass's scores, bit for bit as one pass over all the terms", () => {
      const random = mulberry32(13);
      for (const impl of [wasm, oracle]) {
        const all = randomQuery(random, 3000, 6, 0.1);
        const split = (from: number, to: number): Bm25Query => {
          const base = all.starts[from]!;
          return {
            ...all, posts: all.posts.subarray(base, all.starts[to]!), idf: all.idf.subarray(from, to),
            starts: Int32Array.from(all.starts.subarray(from, to + 1), (s) => s - base),
          };
        };
        const out = new Float32Array(3000);
        impl.bm25Scores(split(0, 4), out);
        const twoPasses = Array.from(impl.bm25Scores(split(4, 6), out, true));
        expect(twoPasses).toEqual(Array.from(oracle.bm25Scores(all)));
        // A refused second pass leaves the first pass's scores as they were.
        const before = Array.from(out);
        const bad: Bm25Query = { ...split(4, 6), posts: Uint32Array.of(9999 << 8 | 1), starts: Int32Array.of(0, 1), idf: Float32Array.of(1) };
        expect(() => impl.bm25Scores(bad, out, true)).toThrow(RangeError);
        expect(Array.from(out)).toEqual(before);
      }
    });
  });
}

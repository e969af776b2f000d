// Conformance suite of the retrieval kernels: the WASM bindings against the
// plain-TS oracles on random and edge-case inputs. Run in Node
// (test/node/kernels-retrieval.test.ts) and inside workerd
// (test/worker/kernels-retrieval.test.ts); nothing here needs Node APIs.
//
// Tolerances (stated once, used below):
// - scans: |wasm − oracle| ≤ 2e-5 · Σ|qⱼ·rⱼ| + 1e-7 (f32 SIMD lanes vs an f64 loop);
// - cosine: ≤ 2e-5 absolute (both are in [−1, 1]);
// - top-k: exact (same indices, bit-equal scores);
// - k-means: labels and iteration counts equal, inertia within 1e-5
//   relative, centroids within 1e-5 absolute, on data without near-ties
//   (distances are f32 lanes in WASM, f64 in the oracle; see wasm/oracle/kmeans.ts);
// - embedText: ≤ 1e-6 absolute per component (same hashes; f64 sums in both).
import { describe, expect, it } from "vitest";
import type { RetrievalKernels } from "../../wasm/src/bindings/retrieval";
import { ResidentRows } from "../../wasm/src/bindings/resident-rows";
import { assign as oracleAssign, update as oracleUpdate } from "../../wasm/oracle/kmeans";
import { mulberry32 } from "../../protocol/mulberry32";
import { randomArray } from "./random-arrays";
import { expectClose } from "./expect-close";
import { embedConformance } from "./kernels-embed-suite";

export interface RetrievalSuiteOptions {
  /** Name of the runtime, for test titles. */
  runtime: string;
  wasm: RetrievalKernels;
  oracle: RetrievalKernels;
  /** The compiled kernels module, for ResidentRows. */
  module: WebAssembly.Module;
}


/** Scan results agree within the stated tolerance; NaN where the oracle has NaN, same infinities. */
function expectScansClose(actual: Float32Array, expected: Float32Array, query: Float32Array, rows: Float32Array, dim: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(e)) {
      expect(a, `row ${i}`).toBeNaN();
      continue;
    }
    if (!Number.isFinite(e)) {
      expect(a, `row ${i}`).toBe(e);
      continue;
    }
    let mag = 0;
    for (let j = 0; j < dim; j++) mag += Math.abs(query[j % query.length]! * rows[i * dim + j]!);
    expect(Math.abs(a - e), `row ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(2e-5 * mag + 1e-7);
  }
}

/** Points around k well-separated centres (no near-ties between clusters). */
function blobs(random: () => number, n: number, dim: number, k: number, spread: number): Float32Array {
  const centres = randomArray(random, k * dim, 1);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(random() * k);
    for (let j = 0; j < dim; j++) out[i * dim + j] = centres[c * dim + j]! + (random() * 2 - 1) * spread;
  }
  return out;
}

export function retrievalConformance({ runtime, wasm, oracle, module }: RetrievalSuiteOptions): void {
  const shapes: [n: number, dim: number][] = [
    [0, 1], [0, 384], [1, 1], [1, 384], [3, 1], [5, 3], [7, 5], [4, 16], [33, 17], [9, 18], [100, 384], [1003, 64], [257, 385],
  ];

  describe(`similarity scans (${runtime})`, () => {
    it("dotScores and cosineScores match the oracle on random shapes (n = 0, 1, not ×4, large; d = 1, odd)", () => {
      const random = mulberry32(11);
      for (const [n, dim] of shapes) {
        const q = randomArray(random, dim);
        const rows = randomArray(random, n * dim, 3);
        expectScansClose(wasm.dotScores(q, rows, dim), oracle.dotScores(q, rows, dim), q, rows, dim);
        expectClose(wasm.cosineScores(q, rows, dim), oracle.cosineScores(q, rows, dim), 2e-5, `cosine ${n}x${dim}`);
      }
    });

    it("dotScoresBatch matches the oracle for 0…5 queries", () => {
      const random = mulberry32(12);
      for (const [n, dim] of [[0, 4], [1, 1], [6, 7], [101, 384], [13, 33]] as const) {
        for (const nq of [0, 1, 2, 5]) {
          const qs = randomArray(random, nq * dim);
          const rows = randomArray(random, n * dim);
          const got = wasm.dotScoresBatch(qs, rows, dim);
          const want = oracle.dotScoresBatch(qs, rows, dim);
          expect(got.length).toBe(nq * n);
          for (let qi = 0; qi < nq; qi++) {
            const q = qs.subarray(qi * dim, (qi + 1) * dim);
            expectScansClose(got.subarray(qi * n, (qi + 1) * n), want.subarray(qi * n, (qi + 1) * n), q, rows, dim);
          }
        }
      }
    });

    it("NaN propagates and ±Inf gives ±Inf as IEEE says, the same in both", () => {
      const dim = 6;
      const q = Float32Array.from([1, 2, 3, 4, 5, 6]);
      const rows = new Float32Array(5 * dim).fill(0.5);
      rows[0 * dim + 2] = NaN; // row 0: NaN
      rows[1 * dim + 5] = Infinity; // row 1: +Inf
      rows[2 * dim + 0] = -Infinity; // row 2: −Inf
      rows[3 * dim + 1] = Infinity; // row 3: +Inf − Inf = NaN
      rows[3 * dim + 4] = -Infinity;
      const got = wasm.dotScores(q, rows, dim);
      expectScansClose(got, oracle.dotScores(q, rows, dim), q, rows, dim);
      expect(got[0]).toBeNaN();
      expect(got[1]).toBe(Infinity);
      expect(got[2]).toBe(-Infinity);
      expect(got[3]).toBeNaN();
      expect(got[4]).toBeCloseTo(10.5, 5);
      const cos = wasm.cosineScores(q, rows, dim);
      expect(cos[0]).toBeNaN();
      expect(oracle.cosineScores(q, rows, dim)[0]).toBeNaN();
    });

    it("cosine is 0 for a zero row or a zero query, and ±1 for parallel vectors", () => {
      const dim = 5;
      const q = Float32Array.from([1, -2, 3, 0.5, 2]);
      const rows = new Float32Array(3 * dim);
      rows.set(q.map((v) => v * 3), dim); // row 1 parallel
      rows.set(q.map((v) => -v / 7), 2 * dim); // row 2 anti-parallel
      const got = wasm.cosineScores(q, rows, dim);
      expect(got[0]).toBe(0);
      expect(got[1]).toBeCloseTo(1, 6);
      expect(got[2]).toBeCloseTo(-1, 6);
      expect(Array.from(wasm.cosineScores(new Float32Array(dim), rows, dim))).toEqual([0, 0, 0]);
    });

    it("rejects mismatched shapes with a RangeError, like the oracle", () => {
      for (const k of [wasm, oracle]) {
        expect(() => k.dotScores(new Float32Array(3), new Float32Array(7), 3)).toThrow(/multiple of dim/);
        expect(() => k.dotScores(new Float32Array(2), new Float32Array(6), 3)).toThrow(/query has length 2/);
        expect(() => k.cosineScores(new Float32Array(3), new Float32Array(6), 0)).toThrow(RangeError);
        expect(() => k.dotScoresBatch(new Float32Array(4), new Float32Array(6), 3)).toThrow(/queries/);
      }
    });
  });

  describe(`topK (${runtime})`, () => {
    it("matches the oracle exactly: ties → lower index, NaN last, -Inf/Inf, k = 0, k = n, k > n", () => {
      const random = mulberry32(21);
      for (const n of [0, 1, 2, 3, 5, 8, 17, 100, 1000, 4099]) {
        // few distinct values → many ties; sprinkle NaN and infinities
        const scores = Float32Array.from({ length: n }, () => {
          const r = random();
          if (r < 0.05) return NaN;
          if (r < 0.08) return -Infinity;
          if (r < 0.1) return Infinity;
          return Math.floor(random() * 20) - 10;
        });
        for (const k of [0, 1, 2, 3, 10, 64, n - 1, n, n + 5]) {
          if (k < 0) continue;
          const got = wasm.topK(scores, k);
          const want = oracle.topK(scores, k);
          expect(Array.from(got.indices), `n=${n} k=${k}`).toEqual(Array.from(want.indices));
          expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
          expect(got.indices.length).toBe(Math.min(k, n));
        }
      }
    });

    it("hand-computed: ties keep index order and NaN comes after -Infinity", () => {
      const scores = Float32Array.from([1, NaN, 3, 3, -Infinity, 1, NaN]);
      const all = wasm.topK(scores, 10);
      expect(Array.from(all.indices)).toEqual([2, 3, 0, 5, 4, 1, 6]);
      expect(Array.from(wasm.topK(scores, 3).indices)).toEqual([2, 3, 0]);
    });

    it("random distinct scores at n = 100k, k = 10: same as sorting", () => {
      const random = mulberry32(22);
      const scores = randomArray(random, 100_000);
      const got = wasm.topK(scores, 10);
      const want = oracle.topK(scores, 10);
      expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
    });

    it("keeps the k best through many buffer compactions: ascending, descending, all equal, sparse positive", () => {
      const random = mulberry32(23);
      const n = 20_000;
      const inputs = [
        Float32Array.from({ length: n }, (_, i) => i), // every entry beats the threshold: a compaction every k entries
        Float32Array.from({ length: n }, (_, i) => n - i),
        new Float32Array(n).fill(2),
        Float32Array.from({ length: n }, () => (random() < 0.3 ? random() * 10 : 0)), // BM25-like
        Float32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? NaN : Math.floor(random() * 50))),
        // rare large scores in long runs of blocks the threshold skips (sixteen at a time), and in the tail past the last block of four
        Float32Array.from({ length: n + 3 }, (_, i) => (random() < 0.002 || i >= n - 1 ? random() * 100 : random() * 0.01)),
      ];
      for (const scores of inputs) {
        for (const k of [1, 7, 512, 4096]) {
          const got = wasm.topK(scores, k);
          const want = oracle.topK(scores, k);
          expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
          expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
        }
      }
    });

    it("pages (`after`): equal to the oracle from any start, and pages read one after another are the whole ranking", () => {
      const random = mulberry32(24);
      const n = 5_000;
      const inputs = [
        Float32Array.from({ length: n }, (_, i) => i), // ascending: every entry enters the buffer
        new Float32Array(n).fill(2), // all tied: a page continues by index
        Float32Array.from({ length: n }, () => (random() < 0.3 ? random() * 10 : 0)), // BM25-like
        Float32Array.from({ length: n + 3 }, (_, i) => (random() < 0.004 || i >= n - 1 ? random() * 100 : 0)), // rare matches, some in the tail
        Float32Array.from({ length: n }, () => { // few values, NaN and infinities
          const r = random();
          return r < 0.05 ? NaN : r < 0.08 ? -Infinity : r < 0.1 ? Infinity : Math.floor(random() * 20) - 10;
        }),
      ];
      for (const scores of inputs) {
        const whole = oracle.topK(scores, scores.length);
        // Starts: entries of the ranking (first, middle, tied runs, last, NaN) and numbers between them.
        const starts = [0, 1, 7, 100, 2500, n - 2, n - 1].map((r) => ({ score: whole.scores[r]!, index: whole.indices[r]! }));
        starts.push({ score: 5.5, index: 0 }, { score: NaN, index: -1 }, { score: -Infinity, index: n }, { score: Infinity, index: 3 });
        for (const after of starts) {
          for (const k of [1, 3, 64, 700, n]) {
            const got = wasm.topK(scores, k, after);
            const want = oracle.topK(scores, k, after);
            expect(Array.from(got.indices), `after ${after.score}@${after.index}, k ${k}`).toEqual(Array.from(want.indices));
            expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
          }
        }
        for (const page of [1, 37, 512]) {
          const read: number[] = [];
          let top = wasm.topK(scores, page);
          while (top.indices.length) {
            read.push(...top.indices);
            const last = top.indices.length - 1;
            top = wasm.topK(scores, page, { score: top.scores[last]!, index: top.indices[last]! });
          }
          expect(read, `pages of ${page}`).toEqual(Array.from(whole.indices));
        }
      }
    });

    it("rejects a negative or fractional k", () => {
      for (const k of [wasm, oracle]) {
        expect(() => k.topK(new Float32Array(3), -1)).toThrow(RangeError);
        expect(() => k.topK(new Float32Array(3), 1.5)).toThrow(RangeError);
      }
    });
  });

  describe(`kmeans (${runtime})`, () => {
    it("matches the oracle on clustered data: labels, iterations, inertia, centroids", () => {
      const random = mulberry32(31);
      for (const [n, dim, k, spread] of [[200, 16, 4, 0.3], [301, 7, 5, 0.4], [120, 1, 3, 0.05], [500, 64, 8, 0.5]] as const) {
        const data = blobs(random, n, dim, k, spread);
        for (const seed of [0, 7]) {
          const opts = { k, seed, nInit: 3 };
          const got = wasm.kmeans(data, dim, opts);
          const want = oracle.kmeans(data, dim, opts);
          expect(Array.from(got.labels), `${n}x${dim} k=${k} seed=${seed}`).toEqual(Array.from(want.labels));
          expect(got.iterations).toBe(want.iterations);
          expect(Math.abs(got.inertia - want.inertia)).toBeLessThanOrEqual(1e-5 * want.inertia + 1e-9);
          expectClose(got.centroids, want.centroids, 1e-5, "centroids");
        }
      }
    });

    it("matches the oracle on uniform random data (no cluster structure)", () => {
      const random = mulberry32(32);
      const data = randomArray(random, 400 * 12);
      const got = wasm.kmeans(data, 12, { k: 6, seed: 3 });
      const want = oracle.kmeans(data, 12, { k: 6, seed: 3 });
      expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
      expect(got.inertia).toBeCloseTo(want.inertia, 3);
    });

    it("is deterministic for a seed; labels are nearest centroids; inertia is their sum", () => {
      const random = mulberry32(33);
      const dim = 5;
      const data = blobs(random, 150, dim, 3, 0.6);
      const a = wasm.kmeans(data, dim, { k: 3, seed: 42 });
      const b = wasm.kmeans(data, dim, { k: 3, seed: 42 });
      expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
      expect(Array.from(a.centroids)).toEqual(Array.from(b.centroids));
      let inertia = 0;
      for (let i = 0; i < 150; i++) {
        let best = Infinity;
        let bestC = -1;
        for (let c = 0; c < 3; c++) {
          let d = 0;
          for (let j = 0; j < dim; j++) d += (data[i * dim + j]! - a.centroids[c * dim + j]!) ** 2;
          if (d < best) [best, bestC] = [d, c];
        }
        expect(a.labels[i]).toBe(bestC);
        inertia += best;
      }
      expect(a.inertia).toBeCloseTo(inertia, 4);
      expect(a.iterations).toBeGreaterThanOrEqual(1);
      expect(a.iterations).toBeLessThanOrEqual(300);
    });

    it("edge cases: n = 0, n = 1, k > n (clipped), maxIter = 0, identical points (empty clusters keep their centroid)", () => {
      for (const k of [wasm, oracle]) {
        const empty = k.kmeans(new Float32Array(0), 4, { k: 3, seed: 1 });
        expect(empty.labels.length).toBe(0);
        expect(empty.centroids.length).toBe(0);
        expect(empty.inertia).toBe(0);

        const one = k.kmeans(Float32Array.from([1, 2]), 2, { k: 5, seed: 1 });
        expect(Array.from(one.labels)).toEqual([0]);
        expect(Array.from(one.centroids)).toEqual([1, 2]);
        expect(one.inertia).toBe(0);

        const three = k.kmeans(Float32Array.from([0, 10, 20]), 1, { k: 9, seed: 2 });
        expect(three.centroids.length).toBe(3); // k clipped to n
        expect(three.inertia).toBe(0);
        expect(new Set(three.labels).size).toBe(3);

        // four identical points, k = 2: seeding picks the same point twice; cluster 1 stays empty
        const same = k.kmeans(new Float32Array(8).fill(0.25), 2, { k: 2, seed: 5 });
        expect(Array.from(same.labels)).toEqual([0, 0, 0, 0]);
        expect(Array.from(same.centroids)).toEqual([0.25, 0.25, 0.25, 0.25]);
        expect(same.inertia).toBe(0);

        const seeded = k.kmeans(Float32Array.from([0, 0, 1, 1, 9, 9, 10, 10]), 2, { k: 2, seed: 3, maxIter: 0 });
        expect(seeded.iterations).toBe(0);
      }
      const d = Float32Array.from([0, 0, 1, 1, 9, 9, 10, 10]);
      expect(Array.from(wasm.kmeans(d, 2, { k: 2, seed: 3, maxIter: 0 }).centroids)).toEqual(Array.from(oracle.kmeans(d, 2, { k: 2, seed: 3, maxIter: 0 }).centroids));
    });

    it("rejects NaN/Inf data and bad options with a RangeError", () => {
      for (const k of [wasm, oracle]) {
        expect(() => k.kmeans(Float32Array.from([1, NaN]), 1, { k: 1, seed: 0 })).toThrow(/not finite/);
        expect(() => k.kmeans(Float32Array.from([1, Infinity]), 1, { k: 1, seed: 0 })).toThrow(/not finite/);
        expect(() => k.kmeans(new Float32Array(4), 2, { k: 0, seed: 0 })).toThrow(/k must be/);
        expect(() => k.kmeans(new Float32Array(4), 2, { k: 1, seed: 0.5 })).toThrow(/seed/);
        expect(() => k.kmeans(new Float32Array(4), 2, { k: 1, seed: 0, nInit: 0 })).toThrow(/nInit/);
        expect(() => k.kmeans(new Float32Array(5), 2, { k: 1, seed: 0 })).toThrow(/multiple of dim/);
      }
    });
  });

  embedConformance({ runtime, wasm, oracle });

  describe(`ResidentRows (${runtime})`, () => {
    it("scans rows written straight into WASM memory, as the oracle does", () => {
      const random = mulberry32(41);
      for (const [n, dim] of [[0, 3], [1, 1], [37, 19], [1000, 384]] as const) {
        const rows = randomArray(random, n * dim);
        const q = randomArray(random, dim);
        const r = ResidentRows.create(module, n, dim);
        r.rows().set(rows);
        expectScansClose(r.dotScores(q), oracle.dotScores(q, rows, dim), q, rows, dim);
        expectClose(r.cosineScores(q), oracle.cosineScores(q, rows, dim), 2e-5, "resident cosine");
        const top = r.topKDot(q, 5);
        expect(Array.from(top.indices)).toEqual(Array.from(wasm.topK(wasm.dotScores(q, rows, dim), 5).indices));
        const qs = randomArray(random, 3 * dim);
        expectClose(r.dotScoresBatch(qs), wasm.dotScoresBatch(qs, rows, dim), 0, "resident batch");
      }
    });

    it("views stay valid across scans and top-k (no memory growth)", () => {
      const r = ResidentRows.create(module, 50, 8);
      const view = r.rows();
      view.fill(0.5);
      const scores = r.dotScoresView(new Float32Array(8).fill(1));
      r.topKDot(new Float32Array(8).fill(1), 50);
      r.topKCosine(new Float32Array(8).fill(1), 3);
      expect(view.length).toBe(400); // a detached view would read as length 0
      expect(scores.length).toBe(50);
      expect(scores[0]).toBeCloseTo(1, 6); // the view shows the last scan (cosine), not the dot scan
      expect(r.dotScoresView(new Float32Array(8).fill(1))[0]).toBe(4);
      expect(view[0]).toBe(0.5);
    });

    it("grow keeps the rows in place and zeroes the new ones, scans unchanged", () => {
      const random = mulberry32(44);
      const dim = 19;
      const rows = randomArray(random, 37 * dim);
      const r = ResidentRows.create(module, 37, dim);
      r.rows().set(rows);
      r.count = 30;
      r.grow(20_000);
      expect(r.capacity).toBe(20_000);
      expect(r.count).toBe(30);
      expect(Array.from(r.rows().subarray(0, 37 * dim))).toEqual(Array.from(rows));
      expect(r.rows().subarray(37 * dim).every((x) => x === 0)).toBe(true);
      const q = randomArray(random, dim);
      expectScansClose(r.dotScores(q), oracle.dotScores(q, rows.subarray(0, 30 * dim), dim), q, rows.subarray(0, 30 * dim), dim);
      expect(() => r.grow(10)).toThrow(RangeError);
    });

    it("count limits the scans; row(i) is a live view", () => {
      const r = ResidentRows.create(module, 10, 2);
      r.row(3).set([1, 1]);
      r.row(7).set([5, 5]);
      expect(r.topKDot(Float32Array.from([1, 0]), 1).indices[0]).toBe(7);
      r.count = 5;
      expect(r.dotScores(Float32Array.from([1, 0])).length).toBe(5);
      expect(r.topKDot(Float32Array.from([1, 0]), 1).indices[0]).toBe(3);
      expect(() => (r.count = 11)).toThrow(RangeError);
      expect(() => r.row(10)).toThrow(RangeError);
      expect(() => r.dotScores(new Float32Array(3))).toThrow(/query has length 3/);
    });

    it("one lloydIteration equals the oracle's assignment + update (odd n, k not a multiple of 4, odd dim, runs of SUM_BLOCK points)", () => {
      const random = mulberry32(43);
      // [301, 37, 2], [700, 16, 3], [2000, 384, 8]: > SUM_BLOCK points per cluster, so runs flush mid-pass and at the end
      for (const [n, dim, k] of [[1, 3, 1], [7, 7, 5], [101, 19, 6], [64, 384, 8], [33, 1, 3], [301, 37, 2], [700, 16, 3], [2000, 384, 8]] as const) {
        const data = randomArray(random, n * dim);
        const r = ResidentRows.create(module, n, dim);
        r.rows().set(data);
        const cent = data.slice(0, k * dim);
        const oCent = cent.slice();
        const labels = new Int32Array(n).fill(-1);
        const oLabels = new Int32Array(n).fill(-1);
        const step = r.lloydIteration(cent, labels);
        const changed = oracleAssign(data, n, dim, oCent, k, oLabels, new Float64Array(n));
        const shift = oracleUpdate(data, n, dim, oLabels, k, oCent);
        expect(Array.from(labels), `${n}x${dim} k=${k}`).toEqual(Array.from(oLabels));
        expect(step.changed).toBe(changed);
        expect(Array.from(cent)).toEqual(Array.from(oCent)); // same labels → bit-equal f64 means
        expect(step.shift).toBeCloseTo(shift, 10);
      }
    });

    it("kmeans and lloydIteration on resident rows agree with the copy-in kernels", () => {
      const random = mulberry32(42);
      const dim = 24;
      const data = blobs(random, 300, dim, 4, 0.3);
      const r = ResidentRows.create(module, 300, dim);
      r.rows().set(data);
      const got = r.kmeans({ k: 4, seed: 9 });
      const want = wasm.kmeans(data, dim, { k: 4, seed: 9 });
      expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
      expect(got.inertia).toBe(want.inertia);

      // Lloyd iterations from the seeding converge to the same fixed point as kmeans with nInit 1
      const seeded = wasm.kmeans(data, dim, { k: 4, seed: 9, maxIter: 0, nInit: 1 });
      const full = wasm.kmeans(data, dim, { k: 4, seed: 9, nInit: 1, tol: 0 });
      const cent = seeded.centroids.slice();
      const labels = new Int32Array(300).fill(-1);
      let step = r.lloydIteration(cent, labels);
      expect(step.changed).toBe(300);
      for (let i = 0; i < 300 && step.changed > 0; i++) step = r.lloydIteration(cent, labels);
      expect(step.changed).toBe(0);
      expect(step.shift).toBe(0);
      expect(Array.from(labels)).toEqual(Array.from(full.labels));
      expectClose(cent, full.centroids, 0, "centroids");
    });
  });
}

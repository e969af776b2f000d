// Conformance suite of the column-major scan (wasm/assembly/column-scores.ts)
// and of ResidentColumns, the store built on it: the WASM kernel against the
// plain-TS oracle (wasm/oracle/column-scores.ts), and both against the
// row-major dot product they replace. Run in Node
// (test/node/kernels-column-scores.test.ts) and inside workerd
// (test/worker/kernels-column-scores.test.ts); nothing here needs Node APIs.
//
// Tolerances: kernel vs oracle is exact (the summation order is documented
// and both round every step to f32); against the dense dot product (the
// row-major oracle, f64 sums) the scan tolerance of the retrieval suite,
// |Δ| ≤ 2e-5 · Σ|qⱼ·rⱼ| + 1e-7.
import { describe, expect, it } from "vitest";
import type { RetrievalKernels } from "../../wasm/src/bindings/retrieval";
import { ResidentColumns } from "../../wasm/src/bindings/retrieval";
import { mulberry32 } from "../../protocol/mulberry32";
import { randomArray } from "./random-arrays";

export interface ColumnScoresSuiteOptions {
  runtime: string;
  wasm: RetrievalKernels;
  oracle: RetrievalKernels;
  /** The compiled kernels module, for ResidentColumns. */
  module: WebAssembly.Module;
}


/** n rows of dim (row-major) as dim columns of `stride` floats (rows past n are filled with junk that must never be read into a score). */
function toColumns(rows: Float32Array, n: number, dim: number, stride: number): Float32Array {
  const cols = new Float32Array(dim * stride).fill(1e30);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) cols[j * stride + i] = rows[i * dim + j]!;
  return cols;
}

/** A query with `nnz` distinct random dims nonzero (all dims when nnz ≥ dim). */
function sparseQuery(random: () => number, dim: number, nnz: number): Float32Array {
  const q = new Float32Array(dim);
  const dims = Array.from({ length: dim }, (_, j) => j);
  for (let k = 0; k < Math.min(nnz, dim); k++) {
    const pick = k + Math.floor(random() * (dim - k));
    [dims[k], dims[pick]] = [dims[pick]!, dims[k]!];
    q[dims[k]!] = random() * 2 - 1 || 0.5;
  }
  return q;
}

/** The query's nonzero dims, ascending, and their values (what ResidentColumns passes the kernel). */
function nonzero(q: Float32Array): { indices: Int32Array; values: Float32Array } {
  const idx: number[] = [];
  q.forEach((v, j) => v !== 0 && idx.push(j));
  return { indices: Int32Array.from(idx), values: Float32Array.from(idx, (j) => q[j]!) };
}

function expectBitEqual(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i]!)) expect(actual[i], `${what}[${i}]`).toBeNaN();
    else expect(actual[i], `${what}[${i}]`).toBe(expected[i]);
  }
}

function expectNearDense(actual: Float32Array, q: Float32Array, rows: Float32Array, dim: number, dense: Float32Array, what: string): void {
  expect(actual.length, what).toBe(dense.length);
  for (let i = 0; i < dense.length; i++) {
    let mag = 0;
    for (let j = 0; j < dim; j++) mag += Math.abs(q[j]! * rows[i * dim + j]!);
    expect(Math.abs(actual[i]! - dense[i]!), `${what}[${i}]: ${actual[i]} vs ${dense[i]}`).toBeLessThanOrEqual(2e-5 * mag + 1e-7);
  }
}

export function columnScoresConformance({ runtime, wasm, oracle, module }: ColumnScoresSuiteOptions): void {
  describe(`columnScores (${runtime})`, () => {
    it("is bit-equal to the oracle and near the dense dot product (n = 0, 1, not ×4, large; d = 1; nnz = 0, 1, 4..9, all dims)", () => {
      const random = mulberry32(71);
      const shapes: [n: number, dim: number, pad: number][] = [[0, 1, 0], [0, 5, 3], [1, 1, 0], [1, 384, 2], [3, 1, 1], [5, 7, 0], [7, 5, 4], [33, 17, 1], [64, 9, 0], [1003, 384, 5]];
      for (const [n, dim, pad] of shapes) {
        const rows = randomArray(random, n * dim, 3);
        const stride = Math.max(1, n + pad);
        const cols = toColumns(rows, n, dim, stride);
        for (const nnz of [0, 1, 3, 4, 7, 8, 9, 13, 16, 17, 40, dim]) {
          if (nnz > dim) continue;
          const q = sparseQuery(random, dim, nnz);
          const { indices, values } = nonzero(q);
          const got = wasm.columnScores(cols, stride, n, indices, values);
          const want = oracle.columnScores(cols, stride, n, indices, values);
          expectBitEqual(got, want, `${n}x${dim} nnz ${nnz}`);
          expectNearDense(got, q, rows, dim, oracle.dotScores(q, rows, dim), `${n}x${dim} nnz ${nnz} vs dense`);
        }
      }
    });

    it("nnz = 0 gives +0 everywhere, whatever the output memory held", () => {
      const cols = new Float32Array(4 * 6).fill(7);
      wasm.columnScores(cols, 6, 6, Int32Array.of(0, 1, 2, 3), new Float32Array(4).fill(1e30)); // leaves junk in the arena
      const got = wasm.columnScores(cols, 6, 6, new Int32Array(0), new Float32Array(0));
      expect(Array.from(got)).toEqual([0, 0, 0, 0, 0, 0]);
      expect(Object.is(got[0], 0)).toBe(true);
      expect(Array.from(oracle.columnScores(cols, 6, 6, new Int32Array(0), new Float32Array(0)))).toEqual([0, 0, 0, 0, 0, 0]);
    });

    it("follows the documented order: unsorted and duplicate indices each add their term in k order", () => {
      const random = mulberry32(72);
      const n = 23, dim = 11;
      const cols = randomArray(random, dim * n);
      const indices = Int32Array.of(9, 2, 9, 0, 10, 2, 2, 5, 9, 1, 3);
      const values = randomArray(random, indices.length);
      expectBitEqual(wasm.columnScores(cols, n, n, indices, values), oracle.columnScores(cols, n, n, indices, values), "duplicates");
      // A pair of equal terms is exactly twice one term (both kernels, f32).
      const twice = wasm.columnScores(cols, n, n, Int32Array.of(4, 4), Float32Array.of(0.375, 0.375));
      expectBitEqual(twice, wasm.columnScores(cols, n, n, Int32Array.of(4), Float32Array.of(0.75)), "x + x = 2x");
    });

    it("NaN and ±Inf follow IEEE in the columns read, and a column left out never counts", () => {
      const n = 6, dim = 4;
      const cols = new Float32Array(dim * n).fill(0.5);
      cols[0 * n + 0] = NaN; // row 0, dim 0
      cols[1 * n + 1] = Infinity; // row 1, dim 1
      cols[2 * n + 2] = -Infinity; // row 2, dim 2
      cols[1 * n + 3] = Infinity; // row 3: +Inf (dim 1) …
      cols[2 * n + 3] = -Infinity; // … − Inf (dim 2) = NaN
      cols[3 * n + 4] = NaN; // row 4, dim 3: never read below
      const indices = Int32Array.of(0, 1, 2);
      const values = Float32Array.of(1, 2, 3);
      const got = wasm.columnScores(cols, n, n, indices, values);
      expectBitEqual(got, oracle.columnScores(cols, n, n, indices, values), "non-finite");
      expect(got[0]).toBeNaN();
      expect(got[1]).toBe(Infinity);
      expect(got[2]).toBe(-Infinity);
      expect(got[3]).toBeNaN();
      expect(got[4]).toBe(3); // dim 3 (NaN) is not named: 0.5 + 1 + 1.5
      expect(got[5]).toBe(3);
      // Naming a column with weight 0 does read it: 0 · Inf = NaN, as in a dense dot product.
      const zeroWeight = wasm.columnScores(cols, n, n, Int32Array.of(1), Float32Array.of(0));
      expect(zeroWeight[1]).toBeNaN();
      expect(zeroWeight[0]).toBe(0);
    });

    it("rejects bad shapes and indices with the same RangeError in both", () => {
      const cols = new Float32Array(12);
      const bad: [string, () => unknown][] = [
        ["stride 0", () => ["columnScores", cols, 0, 0, new Int32Array(0), new Float32Array(0)]],
        ["length not × stride", () => ["", cols, 5, 5, new Int32Array(0), new Float32Array(0)]],
        ["n > stride", () => ["", cols, 4, 5, new Int32Array(0), new Float32Array(0)]],
        ["negative n", () => ["", cols, 4, -1, new Int32Array(0), new Float32Array(0)]],
        ["index = columns", () => ["", cols, 4, 4, Int32Array.of(3), Float32Array.of(1)]],
        ["negative index", () => ["", cols, 4, 4, Int32Array.of(-1), Float32Array.of(1)]],
        ["length mismatch", () => ["", cols, 4, 4, Int32Array.of(0, 1), Float32Array.of(1)]],
      ];
      for (const [what, args] of bad) {
        const [, c, stride, n, idx, val] = args() as [string, Float32Array, number, number, Int32Array, Float32Array];
        let message = "";
        try {
          oracle.columnScores(c, stride, n, idx, val);
        } catch (e) {
          message = (e as Error).message;
        }
        expect(message, what).toMatch(/^columnScores: /);
        expect(() => wasm.columnScores(c, stride, n, idx, val), what).toThrow(message);
      }
    });
  });

  describe(`ResidentColumns (${runtime})`, () => {
    it("rows written into columns scan as the oracle says (exact) and near the dense dot product", () => {
      const random = mulberry32(73);
      for (const [n, dim, capacity] of [[0, 3, 0], [1, 1, 1], [5, 1, 9], [37, 19, 40], [1000, 384, 1003]] as const) {
        const rows = randomArray(random, n * dim);
        const r = ResidentColumns.create(module, capacity, dim);
        for (let i = 0; i < n; i++) r.writeRow(i, rows.subarray(i * dim, (i + 1) * dim));
        r.count = n;
        for (const nnz of [0, 1, 8, 30, dim]) {
          const q = sparseQuery(random, dim, nnz);
          const { indices, values } = nonzero(q);
          const scores = r.dotScores(q);
          expect(r.lastNonzeroDims).toBe(indices.length);
          expectBitEqual(scores, oracle.columnScores(toColumns(rows, n, dim, Math.max(1, capacity)), Math.max(1, capacity), n, indices, values), `${n}x${dim} nnz ${nnz}`);
          expectNearDense(scores, q, rows, dim, oracle.dotScores(q, rows, dim), `${n}x${dim} nnz ${nnz} vs dense`);
          const top = r.topKDot(q, 7);
          const want = wasm.topK(scores, 7);
          expect(Array.from(top.indices)).toEqual(Array.from(want.indices));
          expectBitEqual(top.scores, want.scores, "top-k scores");
        }
        for (let i = 0; i < n; i += 97) expect(Array.from(r.readRow(i))).toEqual(Array.from(rows.subarray(i * dim, (i + 1) * dim)));
      }
    });

    it("top-k: ties → lower index, NaN last; topKLastScores reuses the last scan", () => {
      const r = ResidentColumns.create(module, 9, 3);
      const rowsOf = [[1, 0, 0], [2, 0, 0], [2, 0, 0], [NaN, 0, 0], [-1, 0, 0], [2, 0, 0], [0, 0, 0], [0, 5, 0], [-Infinity, 0, 0]];
      rowsOf.forEach((v, i) => r.writeRow(i, Float32Array.from(v)));
      const q = Float32Array.of(1, 0, 0);
      const top = r.topKDot(q, 9);
      expect(Array.from(top.indices)).toEqual([1, 2, 5, 0, 6, 7, 4, 8, 3]);
      expect(top.scores[8]).toBeNaN();
      // dim 1 holds 5 in row 7 but the query is 0 there: not read, row 7 scores 0.
      expect(top.scores[5]).toBe(0);
      expect(Array.from(r.topKLastScores(3).indices)).toEqual([1, 2, 5]);
      r.dotScoresView(Float32Array.of(0, 1, 0));
      expect(Array.from(r.topKLastScores(1).indices)).toEqual([7]);
    });

    it("views stay valid across scans, writes and top-k (no memory growth)", () => {
      const r = ResidentColumns.create(module, 50, 8);
      const col = r.column(2);
      const scores = r.dotScoresView(new Float32Array(8).fill(1));
      for (let i = 0; i < 50; i++) r.writeRow(i, new Float32Array(8).fill(i));
      r.topKDot(new Float32Array(8).fill(1), 50);
      expect(col.length).toBe(50); // a detached view would read as length 0
      expect(col[10]).toBe(10);
      expect(scores.length).toBe(50);
      expect(scores[3]).toBe(24); // the view shows the last scan
    });

    it("topKOf ranks a subset of the last scan's scores as the oracle's top-k of those scores (positions, ties → earlier, NaN last); dropFirst shifts the rows", () => {
      const random = mulberry32(75);
      const dim = 11;
      const n = 300;
      const r = ResidentColumns.create(module, n, dim);
      const rows = randomArray(random, n * dim);
      for (let i = 0; i < n; i++) r.writeRow(i, i % 7 === 0 ? rows.subarray(0, dim) : rows.subarray(i * dim, (i + 1) * dim)); // ties every 7th row
      r.writeRow(5, new Float32Array(dim).fill(NaN));
      const q = sparseQuery(random, dim, 6);
      const all = r.dotScores(q);
      const subset = Int32Array.from({ length: 120 }, (_, p) => (p * 37) % n);
      for (const [m, k] of [[120, 10], [120, 120], [1, 1], [0, 5], [57, 200]] as const) {
        r.dotScoresView(q);
        const got = r.topKOf(subset, m, k);
        const want = oracle.topK(Float32Array.from(subset.subarray(0, m), (i) => all[i]!), k);
        expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
        expectBitEqual(got.scores, want.scores, `topKOf ${m} ${k}`);
      }
      expect(() => r.topKOf(Int32Array.of(n), 1, 1)).toThrow(RangeError);
      r.dropFirst(40);
      expect(r.count).toBe(n - 40);
      for (const i of [0, 1, 100, n - 41]) expect(Array.from(r.readRow(i))).toEqual(Array.from(i + 40 === 5 ? new Float32Array(dim).fill(NaN) : (i + 40) % 7 === 0 ? rows.subarray(0, dim) : rows.subarray((i + 40) * dim, (i + 41) * dim)));
      expect(Array.from(r.readRow(n - 1))).toEqual(new Array(dim).fill(0));
    });

    it("grow widens the columns in place: rows, count and scans kept, new rows zero, one memory", () => {
      const random = mulberry32(74);
      const dim = 13;
      const rows = randomArray(random, 20 * dim);
      const fresh = ResidentColumns.create(module, 20, dim);
      const grown = ResidentColumns.create(module, 20, dim);
      for (let i = 0; i < 20; i++) {
        fresh.writeRow(i, rows.subarray(i * dim, (i + 1) * dim));
        grown.writeRow(i, rows.subarray(i * dim, (i + 1) * dim));
      }
      grown.count = 17;
      grown.grow(31);
      // Several memory.grow steps (each large enough to need new pages), rows moving to a wider stride each time.
      grown.grow(20_000);
      expect(grown.capacity).toBe(20_000);
      expect(grown.count).toBe(17);
      for (let i = 0; i < 20; i++) expect(Array.from(grown.readRow(i))).toEqual(Array.from(fresh.readRow(i)));
      expect(Array.from(grown.readRow(20))).toEqual(new Array(dim).fill(0));
      expect(Array.from(grown.readRow(19_999))).toEqual(new Array(dim).fill(0));
      const q = sparseQuery(random, dim, 5);
      fresh.count = 17;
      expectBitEqual(grown.dotScores(q), fresh.dotScores(q), "grown");
      grown.writeRow(19_999, rows.subarray(0, dim));
      grown.count = 20_000;
      expect(grown.topKDot(q, 1).scores[0]).toBe(grown.dotScores(q)[0]);
      expect(() => grown.grow(100)).toThrow(RangeError);
    });

    it("rejects bad arguments", () => {
      expect(() => ResidentColumns.create(module, -1, 3)).toThrow(RangeError);
      expect(() => ResidentColumns.create(module, 3, 0)).toThrow(RangeError);
      const r = ResidentColumns.create(module, 10, 2);
      expect(() => (r.count = 11)).toThrow(RangeError);
      expect(() => r.writeRow(10, new Float32Array(2))).toThrow(RangeError);
      expect(() => r.writeRow(0, new Float32Array(3))).toThrow(/length 3/);
      expect(() => r.readRow(-1)).toThrow(RangeError);
      expect(() => r.column(2)).toThrow(RangeError);
      expect(() => r.dotScores(new Float32Array(3))).toThrow(/query has length 3/);
      expect(() => r.topKDot(new Float32Array(2), -1)).toThrow(RangeError);
    });
  });
}

// Conformance suite of the BM25 kernel (wasm/assembly/bm25.ts): the WASM
// binding against the plain-TS oracle (wasm/oracle/bm25.ts), bit for bit
// (the operation order is documented and both round every step to f32),
// and both against BM25 written out in f64 from its definition. Run in
// Node (test/node/kernels-bm25.test.ts) and inside workerd
// (test/worker/kernels-bm25.test.ts); nothing here needs Node APIs.
import { describe, expect, it } from "vitest";
import { MAX_SCORER_TOP_K, type Bm25Query, type Bm25Scorer, type Kernels } from "../../wasm/src/kernels";
import { ResidentBm25 } from "../../wasm/src/bindings/resident-bm25";
import { copyingBm25Scorer } from "../../wasm/src/bm25-scorer";
import { mulberry32 } from "../../protocol/mulberry32";
import { decodePostings, encodePostings } from "../../wasm/src/bm25-postings";

export interface Bm25SuiteOptions {
  runtime: string;
  wasm: Pick<Kernels, "bm25Scores">;
  oracle: Pick<Kernels, "bm25Scores" | "topK">;
  /** The compiled kernels module, for ResidentBm25. */
  module: WebAssembly.Module;
}

/** Terms' (document, tf) lists encoded one after another, zero padding after some (as the index's blocks end): posts and starts. */
function encodeTerms(terms: readonly (readonly (readonly [number, number])[])[], random: () => number = () => 0): { posts: Uint8Array; starts: Int32Array } {
  const parts = terms.map((t) => {
    const bytes = encodePostings(t);
    const pad = Math.floor(random() * 4);
    const padded = new Uint8Array(bytes.length + pad);
    padded.set(bytes);
    return padded;
  });
  const starts = new Int32Array(terms.length + 1);
  parts.forEach((b, i) => (starts[i + 1] = starts[i]! + b.length));
  const posts = new Uint8Array(starts[terms.length]!);
  parts.forEach((b, i) => posts.set(b, starts[i]!));
  return { posts, starts };
}

/** A random query over `n` documents: `terms` terms, each with postings on distinct ascending documents (tf up to 255). */
function randomQuery(random: () => number, n: number, terms: number, density: number): Bm25Query {
  const lengths = Uint32Array.from({ length: n }, () => 1 + Math.floor(random() * 300));
  const lists = Array.from({ length: terms }, () => {
    const list: [number, number][] = [];
    for (let d = 0; d < n; d++) if (random() < density) list.push([d, 1 + Math.floor(random() ** 3 * Math.min(255, lengths[d]!))]);
    return list;
  });
  const idf = Float32Array.from({ length: terms }, () => random() * 8);
  return { ...encodeTerms(lists, random), idf, lengths, avgDocLength: 5 + random() * 30, k1: 1.2, b: 0.75 };
}

/** BM25 from its definition, in f64. */
function reference(q: Bm25Query): Float64Array {
  const out = new Float64Array(q.lengths.length);
  for (let t = 0; t < q.idf.length; t++) {
    for (const [d, tf] of decodePostings(q.posts.subarray(q.starts[t]!, q.starts[t + 1]!))) {
      out[d]! += (q.idf[t]! * tf * (q.k1 + 1)) / (tf + q.k1 * (1 - q.b + (q.b * q.lengths[d]!) / q.avgDocLength));
    }
  }
  return out;
}

/** The first `n` documents of `q`'s postings (an index that had only those yet); lengths a prefix of q's. */
function prefixQuery(q: Bm25Query, n: number): Bm25Query {
  const lists = Array.from({ length: q.idf.length }, (_, t) => decodePostings(q.posts.subarray(q.starts[t]!, q.starts[t + 1]!)).filter(([d]) => d < n));
  return { ...q, ...encodeTerms(lists), lengths: q.lengths.subarray(0, n) };
}

export function bm25Conformance({ runtime, wasm, oracle, module }: Bm25SuiteOptions): void {
  describe(`ResidentBm25 (${runtime})`, () => {
    it("scores, adds a second pass and pages its ranking as the oracle does, as documents arrive and when a new index takes it over", () => {
      const random = mulberry32(14);
      const resident = ResidentBm25.create(module);
      const plain = copyingBm25Scorer(oracle);
      const full = randomQuery(random, 6000, 6, 0.08);
      const extra = { ...randomQuery(random, 6000, 3, 0.05), lengths: full.lengths, avgDocLength: full.avgDocLength };
      // The index grows (lengths copied once each, across the regions' growth), then a new index (clear) starts over smaller.
      for (const n of [1, 40, 1023, 1025, 3000, 6000, 0, 500]) {
        if (n === 0) {
          for (const s of [resident, plain]) s.clear();
          expect(() => resident.topK(1)).toThrow(RangeError); // nothing scored since
          continue;
        }
        const q = prefixQuery(full, n);
        const more = prefixQuery(extra, n);
        for (const [first, second] of [[q, more], [more, q]] as const) {
          const a = Array.from(resident.score(first));
          expect(a, `n ${n}`).toEqual(Array.from(plain.score(first)));
          expect(Array.from(resident.score(second, true))).toEqual(Array.from(plain.score(second, true)));
          for (const k of [1, 3, 128, n]) {
            const top = resident.topK(Math.min(k, MAX_SCORER_TOP_K));
            expect(top, `n ${n}, k ${k}`).toEqual(plain.topK(Math.min(k, MAX_SCORER_TOP_K)));
            if (!top.indices.length) continue;
            const end = { score: top.scores[top.indices.length - 1]!, index: top.indices[top.indices.length - 1]! };
            expect(resident.topK(k > 64 ? 64 : k, end)).toEqual(plain.topK(k > 64 ? 64 : k, end));
          }
        }
        expect(Array.from(resident.zero(n))).toEqual(new Array(n).fill(0));
        expect(resident.topK(2)).toEqual(plain.zero(n) && plain.topK(2));
      }
      expect(resident.bytes).toBeGreaterThanOrEqual(6000 * 8);
      expect(resident.bytesFor(6000)).toBe(resident.bytes); // what a cap counts for an index it already holds is what it holds
    });

    it("refuses what it cannot answer: add without scores of the same documents, lengths that shrank, a top-k past its scratch, malformed postings (then has no scores)", () => {
      const random = mulberry32(15);
      const scorers: Bm25Scorer[] = [ResidentBm25.create(module), copyingBm25Scorer(oracle)];
      for (const s of scorers) {
        const q = randomQuery(random, 300, 2, 0.2);
        expect(() => s.score(q, true)).toThrow(/add needs/);
        s.score(q);
        expect(() => s.score(prefixQuery(q, 200), true)).toThrow(/add needs/);
        expect(() => s.topK(MAX_SCORER_TOP_K + 1)).toThrow(RangeError);
        expect(() => s.zero(-1)).toThrow(RangeError);
      }
      const resident = scorers[0]!;
      const q = randomQuery(random, 300, 2, 0.2);
      resident.score(q);
      expect(() => resident.score(prefixQuery(q, 100))).toThrow(/fewer than/);
      const bad: Bm25Query = { ...q, ...encodeTerms([[[9999, 1]]]), idf: Float32Array.of(1) };
      expect(() => resident.score(bad, true)).toThrow(RangeError);
      expect(() => resident.topK(1)).toThrow(/no scores/); // the half-written pass is dropped
    });
  });

  describe(`bm25Scores (${runtime})`, () => {
    it("equals the oracle bit for bit, and BM25's definition within f32 rounding, on random postings", () => {
      const random = mulberry32(11);
      // Sparse terms at 200k documents: gaps of 3- and 4-byte varints.
      for (const [n, terms, density] of [[1, 1, 1], [7, 3, 0.5], [200, 5, 0.2], [5000, 8, 0.05], [3000, 2, 1], [200_000, 2, 0.0005]] as const) {
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
      const none: Bm25Query = { posts: new Uint8Array(0), starts: Int32Array.of(0), idf: new Float32Array(0), lengths, avgDocLength: 4, k1: 1.2, b: 0.75 };
      expect(Array.from(wasm.bm25Scores(none))).toEqual([0, 0, 0]);
      const empty: Bm25Query = { ...none, starts: Int32Array.of(0, 0), idf: Float32Array.of(2) };
      expect(Array.from(wasm.bm25Scores(empty))).toEqual([0, 0, 0]);
      for (const b of [0, 1]) {
        const q: Bm25Query = { ...encodeTerms([[[1, 255], [2, 1]]]), idf: Float32Array.of(3), lengths, avgDocLength: 4, k1: 1.2, b };
        expect(Array.from(wasm.bm25Scores(q))).toEqual(Array.from(oracle.bm25Scores(q)));
        // b = 0: length does not matter, tf saturates towards idf·(k1 + 1).
        if (b === 0) expect(wasm.bm25Scores(q)[1]!).toBeCloseTo((3 * 255 * 2.2) / (255 + 1.2), 4);
      }
    });

    it("rejects malformed postings and inconsistent arguments, in both implementations, with the same message", () => {
      const lengths = Uint32Array.of(3, 4);
      const one = (bytes: number[]): Bm25Query => ({ posts: Uint8Array.from(bytes), starts: Int32Array.of(0, bytes.length), idf: Float32Array.of(1), lengths, avgDocLength: 3, k1: 1.2, b: 0.75 });
      const malformed = [
        [0x0c], // gap 6: document 5 of 2
        [0x02, 0x02, 0x02], // documents 0 and 1, then 2 of 2
        [0x80], // a varint cut off
        [0x80, 0x80, 0x80, 0x80, 0x01], // a varint past 4 bytes
        [0x03], // tf > 1 announced, no tf byte
        [0x03, 0x01], // tf byte 1 (not above 1)
        [0x03, 0x00], // tf byte 0
        [0x01, 0x05], // gap 0
      ];
      for (const bytes of malformed) {
        const q = one(bytes);
        expect(() => wasm.bm25Scores(q), JSON.stringify(bytes)).toThrow(RangeError);
        expect(() => oracle.bm25Scores(q)).toThrow(RangeError);
        let wasmMessage = "";
        try { wasm.bm25Scores(q); } catch (e) { wasmMessage = (e as Error).message; }
        expect(() => oracle.bm25Scores(q)).toThrow(wasmMessage);
      }
      expect(Array.from(wasm.bm25Scores(one([0, 0, 0x02, 0, 0x03, 0x07, 0])))).toEqual(Array.from(oracle.bm25Scores(one([0, 0, 0x02, 0, 0x03, 0x07, 0])))); // padding skipped
      const ok = one([0x02]);
      const badArgs: Bm25Query[] = [
        { ...ok, starts: Int32Array.of(0, 2) },
        { ...ok, starts: Int32Array.of(0) },
        { ...ok, avgDocLength: 0 },
        { ...ok, b: 2 },
      ];
      for (const q of badArgs) {
        expect(() => wasm.bm25Scores(q)).toThrow(RangeError);
        expect(() => oracle.bm25Scores(q)).toThrow(RangeError);
      }
    });

    it("random bytes: both implementations refuse the same postings or give the same scores", () => {
      const random = mulberry32(14);
      for (let i = 0; i < 300; i++) {
        const n = 1 + Math.floor(random() * 300);
        const bytes = Uint8Array.from({ length: Math.floor(random() * 12) }, () => (random() < 0.3 ? 0 : Math.floor(random() * 256)));
        const q: Bm25Query = { posts: bytes, starts: Int32Array.of(0, bytes.length), idf: Float32Array.of(2), lengths: new Uint32Array(n).fill(3), avgDocLength: 3, k1: 1.2, b: 0.75 };
        let a: number[] | string, b: number[] | string;
        try { a = Array.from(wasm.bm25Scores(q)); } catch (e) { a = (e as Error).message; }
        try { b = Array.from(oracle.bm25Scores(q)); } catch (e) { b = (e as Error).message; }
        expect(a).toEqual(b);
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
        const bad: Bm25Query = { ...split(4, 6), ...encodeTerms([[[9999, 1]]]), idf: Float32Array.of(1) };
        expect(() => impl.bm25Scores(bad, out, true)).toThrow(RangeError);
        expect(Array.from(out)).toEqual(before);
      }
    });
  });
}

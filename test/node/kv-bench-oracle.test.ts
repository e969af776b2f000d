// The benchmark's reference selections (scripts/bench/kv-oracle-cache.ts):
// they are the evidence docs/kv-mode.md rests its EpiCache reading on, so
// check they keep what they say, on a synthetic cache with fp32 pages.
import { describe, expect, it } from "vitest";
import { lastTokenAttentionSpread, writeOracleCache, type OracleKind } from "../../scripts/bench/kv-oracle-cache";
import type { KvModelInfo } from "../../durable-objects/kv/model-info";
import { MemoryPageStore } from "../../durable-objects/kv/page-store";
import { decodeHeadPages, encodeHeadPages, type PageEncoding } from "../../durable-objects/kv/pages";
import { mulberry32 } from "../../protocol/mulberry32";
import { loadWasmModule } from "../../wasm/src/node-module";
import { wasmKernels } from "../../wasm/src/wasm-kernels";

const kernels = wasmKernels(loadWasmModule());
const FP32: PageEncoding = { dtype: "fp32" };
const model = { id: "synthetic", layers: 2, heads: 4, kvHeads: 2, headDim: 5 } as KvModelInfo;
const N = 37, T = 6, QUESTION = 4, BUDGET = 9;

function setup(zeroKeys = false) {
  const rand = mulberry32(7);
  const d = model.headDim;
  const store = new MemoryPageStore();
  const queries: Float32Array[] = [];
  for (let l = 0; l < model.layers; l++) {
    const heads = Array.from({ length: model.kvHeads }, () => ({
      positions: Int32Array.from({ length: N }, (_, i) => 3 * i + 1),
      keys: Float32Array.from({ length: N * d }, () => (zeroKeys ? 0 : 4 * rand() - 2)),
      values: Float32Array.from({ length: N * d }, () => rand()),
    }));
    store.replaceLayer("all", l, heads.flatMap((h, i) => encodeHeadPages(h, i, d, FP32, kernels)));
    queries.push(Float32Array.from({ length: model.heads * T * d }, () => 4 * rand() - 2));
  }
  return { store, queries };
}

/** Plain-TS reference: per key, max over the given query rows of the GQA group of softmax(q·k/√d). */
function maxAttention(Q: Float32Array, keys: Float32Array, kvHead: number, from: number): number[] {
  const d = model.headDim, g = model.heads / model.kvHeads, n = keys.length / d;
  const best = new Array<number>(n).fill(0);
  for (let qh = kvHead * g; qh < (kvHead + 1) * g; qh++)
    for (let t = from; t < T; t++) {
      const s = Array.from({ length: n }, (_, j) => {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += Q[(qh * T + t) * d + i] * keys[j * d + i];
        return dot / Math.sqrt(d);
      });
      const max = Math.max(...s);
      const e = s.map((x) => Math.exp(x - max));
      const sum = e.reduce((a, b) => a + b, 0);
      e.forEach((x, j) => (best[j] = Math.max(best[j], x / sum)));
    }
  return best;
}

function cut(kind: OracleKind, seed?: number) {
  const { store, queries } = setup();
  writeOracleCache({ kernels, model, encoding: FP32, store, fullCache: "all", target: "o", queries: (l) => queries[l], rows: T, questionRows: QUESTION, budget: BUDGET, kind, seed });
  return { store, queries, heads: (l: number) => Array.from({ length: model.kvHeads }, (_, h) => decodeHeadPages(store.readHead("o", l, h), model.headDim, FP32, kernels)) };
}

describe("bench oracle caches", () => {
  for (const [kind, from] of [["attn-last", T - 1], ["attn-query", T - QUESTION]] as const) {
    it(`${kind} keeps the top-${BUDGET} keys by max attention of the question rows, order preserved`, () => {
      const { store, queries, heads } = cut(kind);
      for (let l = 0; l < model.layers; l++)
        heads(l).forEach((kept, h) => {
          const full = decodeHeadPages(store.readHead("all", l, h), model.headDim, FP32, kernels);
          const score = maxAttention(queries[l], full.keys, h, from);
          const expected = score.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, BUDGET).map(([, i]) => full.positions[i]).sort((a, b) => a - b);
          expect([...kept.positions]).toEqual(expected);
          const at = kept.positions.map((p) => (p - 1) / 3);
          expect([...kept.keys]).toEqual(Array.from(at).flatMap((i) => [...full.keys.subarray(i * model.headDim, (i + 1) * model.headDim)]));
        });
    });
  }

  it("random keeps the budget per head, order preserved, reproducibly per seed", () => {
    const a = cut("random", 3).heads(1), b = cut("random", 3).heads(1), c = cut("random", 4).heads(1);
    for (const h of a) {
      expect(h.positions.length).toBe(BUDGET);
      for (let i = 1; i < h.positions.length; i++) expect(h.positions[i]).toBeGreaterThan(h.positions[i - 1]);
    }
    expect(a.map((h) => [...h.positions])).toEqual(b.map((h) => [...h.positions]));
    expect(a.map((h) => [...h.positions])).not.toEqual(c.map((h) => [...h.positions]));
  });

  it("attention spread: 1 for uniform attention, below 1 otherwise", () => {
    const spread = (zero: boolean) => {
      const { store, queries } = setup(zero);
      return lastTokenAttentionSpread({ kernels, model, encoding: FP32, store, fullCache: "all", queries: (l) => queries[l], rows: T });
    };
    const uniform = spread(true);
    expect(uniform.entropyRatio).toBeCloseTo(1, 5);
    expect(uniform.maxWeight).toBeCloseTo(1 / N, 6);
    const peaked = spread(false);
    expect(peaked.entropyRatio).toBeLessThan(0.99);
    expect(peaked.maxWeight).toBeGreaterThan(1 / N);
  });
});

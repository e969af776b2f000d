// Reference selections for the kv policy benchmark (`npm run bench:kv -- --oracle`):
// one-shot caches cut from the full cache with knowledge no policy has, to
// tell a selection bug from a property of the model's attention
// (docs/kv-mode.md, "Why EpiCache loses here").
//
// - attn-last:  per KV head, the top-M keys by the question's own last-token
//               attention (max over the GQA group) — what the attention-output
//               error measures, so the best a score-ranked selection can do;
// - attn-query: the top-M keys by max attention over all of the question's
//               rows — EpiCache's rule with a perfect prompt at the right
//               positions, evicted once;
// - random:     M keys per head drawn uniformly (seeded), order preserved.
import type { Kernels } from "../../wasm/src/kernels";
import { mulberry32 } from "../../protocol/mulberry32";
import type { KvModelInfo } from "../../durable-objects/kv/model-info";
import type { KvPageStore } from "../../durable-objects/kv/page-store";
import { decodeHeadPages, encodeHeadPages, type PageEncoding } from "../../durable-objects/kv/pages";
import { gatherHead } from "../../durable-objects/kv/layer-cache";
import { groupRows } from "../../durable-objects/kv/policy";

export const ORACLE_KINDS = ["attn-last", "attn-query", "random"] as const;
export type OracleKind = (typeof ORACLE_KINDS)[number];

export interface OracleInput {
  kernels: Kernels;
  model: KvModelInfo;
  encoding: PageEncoding;
  store: KvPageStore;
  /** The full (never evicted) cache to cut from. */
  fullCache: string;
  /** Where the cut cache is written. */
  target: string;
  /** Per layer, the decode request's post-RoPE queries [heads, T, headDim] (tail + question). */
  queries: (layer: number) => Float32Array;
  /** Rows in `queries` (tail + question) and how many of the last are the question's. */
  rows: number;
  questionRows: number;
  budget: number;
  kind: OracleKind;
  seed?: number;
}

/** Indices of the `k` largest scores (ties → lower index), ascending. */
function topIndices(scores: Float32Array, k: number): number[] {
  return Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, k).sort((a, b) => a - b);
}

/** Writes the `kind` selection of the full cache, `budget` entries per KV head in every layer, under `target`. */
export function writeOracleCache(o: OracleInput): void {
  const { model: m, kernels } = o;
  const random = mulberry32(o.seed ?? 2509_17396);
  const shape = { heads: m.heads, kvHeads: m.kvHeads, headDim: m.headDim };
  for (let l = 0; l < m.layers; l++) {
    const Q = o.queries(l);
    const heads = Array.from({ length: m.kvHeads }, (_, h) => {
      const full = decodeHeadPages(o.store.readHead(o.fullCache, l, h), m.headDim, o.encoding, kernels);
      const n = full.positions.length;
      const scores =
        o.kind === "random"
          ? Float32Array.from({ length: n }, () => random())
          : kernels.attentionScores(groupRows(Q, shape, h, o.rows, o.kind === "attn-last" ? o.rows - 1 : o.rows - o.questionRows, o.rows), full.keys, m.headDim, { kind: "max" });
      const keep = new Uint8Array(n);
      for (const i of topIndices(scores, o.budget)) keep[i] = 1;
      return gatherHead(full, keep, m.headDim);
    });
    o.store.replaceLayer(o.target, l, heads.flatMap((head, h) => encodeHeadPages(head, h, m.headDim, o.encoding, kernels)));
  }
}

/**
 * How spread out the question's last-token attention over the full cache is,
 * averaged over layers and query heads: entropy / ln n (1 = uniform) and the
 * largest single weight. Near-uniform attention makes the output ≈ the mean
 * of the values, which an unbiased subset estimates better than the top-ranked keys.
 */
export function lastTokenAttentionSpread(o: Pick<OracleInput, "kernels" | "model" | "encoding" | "store" | "fullCache" | "queries" | "rows">): { entropyRatio: number; maxWeight: number } {
  const { model: m, kernels } = o;
  const g = m.heads / m.kvHeads, d = m.headDim;
  let entropy = 0, max = 0, count = 0;
  for (let l = 0; l < m.layers; l++) {
    const Q = o.queries(l);
    for (let h = 0; h < m.kvHeads; h++) {
      const keys = decodeHeadPages(o.store.readHead(o.fullCache, l, h), d, o.encoding, kernels).keys;
      const n = keys.length / d;
      if (n < 2) continue;
      for (let qh = h * g; qh < (h + 1) * g; qh++) {
        const p = kernels.attentionScores(Q.subarray((qh * o.rows + o.rows - 1) * d, (qh * o.rows + o.rows) * d), keys, d, { kind: "max" });
        let e = 0;
        for (const x of p) if (x > 0) e -= x * Math.log(x);
        entropy += e / Math.log(n);
        max = Math.max(max, ...p);
        count++;
      }
    }
  }
  return { entropyRatio: count ? entropy / count : NaN, maxWeight: max };
}

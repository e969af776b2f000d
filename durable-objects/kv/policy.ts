// The one interface every KV eviction policy implements (kvpress-style,
// docs/kv-mode.md): a policy is its scoring rule plus what it protects.
// Selection (union layout, protection of sinks and recent tokens, pooled or
// per-head top-k through the `selectKeep` kernel), budgets and storage are
// written once, in evict.ts, budgets.ts and the page store.
import type { Kernels } from "../../wasm/src/kernels";
import type { LayerEntries } from "./layer-cache";

/** Everything a scoring rule may read for one layer of one episode after a block was appended. */
export interface LayerScoreInput {
  layer: number;
  /** Per KV head: the retained entries followed by the block's (every head holds every block position). */
  entries: LayerEntries;
  /** Tokens in the block just appended (the last blockTokens entries of each head). */
  blockTokens: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** The representative prompt's post-RoPE queries for this layer, [heads, P, headDim] (EpiCache step 4). */
  promptQueries?: Float32Array;
  /** The block's own post-RoPE queries for this layer, [heads, blockTokens, headDim]. */
  blockQueries?: Float32Array;
  /** The layer's budget: entries kept per KV head (on average across heads when pooled). */
  budget: number;
  kernels: Pick<Kernels, "attentionScores" | "accumulateAttention">;
}

/** Positions kept whatever their score: the first `sinks` of the conversation and the `recent` latest of the layer. */
export interface Protection {
  sinks: number;
  recent: number;
}

export interface EvictionPolicy {
  /** Its key in the registry (policies/index.ts), which settings name. */
  name: string;
  /** False for `full`: the cache is never evicted, whatever the budget. */
  evicts: boolean;
  /** "pooled": top budget·H across the heads of a layer (AdaKV); "per-head": top budget in each head. */
  mode: "pooled" | "per-head";
  /** What the prefill call must return for this policy's scores. */
  needs: { promptQueries: boolean; blockQueries: boolean; accumulator: boolean };
  protection(budget: number, blockTokens: number): Protection;
  /** One score per entry of each head (higher = keep); may update running state in `entries` (H2O). */
  score(input: LayerScoreInput): Float32Array[];
}

/** Rows of the GQA group of KV head `kvHead` from queries [heads, T, d], token rows [from, to): (G·(to−from)) × d. */
export function groupRows(queries: Float32Array, input: Pick<LayerScoreInput, "heads" | "kvHeads" | "headDim">, kvHead: number, tokens: number, from = 0, to = tokens): Float32Array {
  const { heads, kvHeads, headDim: d } = input;
  const g = heads / kvHeads;
  const rows = to - from;
  const out = new Float32Array(g * rows * d);
  for (let j = 0; j < g; j++) {
    const qh = kvHead * g + j;
    out.set(queries.subarray((qh * tokens + from) * d, (qh * tokens + to) * d), j * rows * d);
  }
  return out;
}

// Budgets (docs/architecture.md, EpiCache step 6): a conversation's budget is given in
// tokens per KV head per layer (M) or in bytes for the whole conversation;
// bytes become M through the stored size of one entry. Per-layer budgets come
// from the model's sensitivity profile through `allocateLayerBudgets`
// (ŝ = (s − min)/(max − min), w = (1 − ŝ)^α, floored at max(1, M/4)), so no
// layer's budget is ever zero.
import type { Kernels } from "../../wasm/src/kernels";
import type { KvModelInfo } from "./model-info";
import type { PageEncoding } from "./pages";

/** Published α for Llama-family models (arXiv 2509.17396, §4). */
export const DEFAULT_ALPHA = 1.1;

export type KvBudget = { tokensPerHead: number } | { bytesPerConversation: number };

/** Bytes one entry (one position of one KV head) takes in storage: position, keys, values and their quantization groups. */
export function entryBytes(headDim: number, enc: PageEncoding): number {
  const perValue = enc.dtype === "fp32" ? 4 : enc.dtype === "int8" ? 1 : 0.5;
  const groupOverhead = enc.dtype === "fp32" ? 0 : (2 * 4 * headDim) / enc.groupSize;
  return 4 + 2 * (headDim * perValue + groupOverhead);
}

/** M, the average entries per KV head per layer, for a budget over `episodes` caches of the model. */
export function tokensPerHead(budget: KvBudget, model: KvModelInfo, episodes: number, enc: PageEncoding): number {
  if ("tokensPerHead" in budget) {
    if (!Number.isSafeInteger(budget.tokensPerHead) || budget.tokensPerHead < 1) throw new RangeError(`kv budget tokensPerHead must be a positive integer, got ${budget.tokensPerHead}`);
    return budget.tokensPerHead;
  }
  const perEntry = entryBytes(model.headDim, enc) * model.layers * model.kvHeads * Math.max(1, episodes);
  const m = Math.floor(budget.bytesPerConversation / perEntry);
  if (!(m >= 1)) throw new RangeError(`kv budget of ${budget.bytesPerConversation} bytes is below one entry per head per layer (${perEntry} bytes for ${episodes} episode caches)`);
  return m;
}

/** Per-layer budgets b_l; `sensitivity` absent (not profiled) or α = 0 gives every layer M. */
export function layerBudgets(kernels: Pick<Kernels, "allocateLayerBudgets">, layers: number, m: number, sensitivity: readonly number[] | null, alpha = DEFAULT_ALPHA): number[] {
  if (!sensitivity || alpha === 0) return Array.from({ length: layers }, () => m);
  if (sensitivity.length !== layers) throw new RangeError(`sensitivity has ${sensitivity.length} layers, model has ${layers}`);
  return Array.from(kernels.allocateLayerBudgets(Float64Array.from(sensitivity), m, alpha));
}

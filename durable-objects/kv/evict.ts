// Selection, written once for every policy (docs/architecture.md, EpiCache step 5):
// lay the layer's heads out on the union of their positions, protect sinks
// and recent positions, and keep the top entries with the `selectKeep` kernel,
// pooled across heads (AdaKV) or per head. Order is preserved, so positions
// stay strictly increasing and keys keep their original RoPE rotation.
import type { Kernels } from "../../wasm/src/kernels";
import { gatherHead, unionLayout, type LayerEntries } from "./layer-cache";
import type { EvictionPolicy, LayerScoreInput, Protection } from "./policy";

export interface LayerSelection {
  /** Union positions the selection ran over. */
  positions: Int32Array;
  /** heads × n scores fed to selectKeep (NaN where a head holds no entry at that position). */
  scores: Float32Array;
  /** Length-n protect mask. */
  protect: Uint8Array;
  mode: "pooled" | "per-head";
  budget: number;
  /** Per head, the kept positions. */
  kept: Int32Array[];
}

/** Length-n mask over sorted union positions: the first `sinks` positions of the stream and the last `recent` of the layer. */
export function protectMask(positions: Int32Array, p: Protection): Uint8Array {
  const n = positions.length;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n && positions[i] < p.sinks; i++) mask[i] = 1;
  for (let i = Math.max(0, n - p.recent); i < n; i++) mask[i] = 1;
  return mask;
}

/** Protection never exceeds the budget (sinks first, then the recent window), so a layer's cache stays within it. */
export function clampProtection(p: Protection, budget: number): Protection {
  const sinks = Math.min(p.sinks, budget);
  return { sinks, recent: Math.min(p.recent, budget - sinks) };
}

/** Does the layer exceed its budget under this policy's accounting? */
export function overBudget(policy: EvictionPolicy, layer: LayerEntries, budget: number): boolean {
  if (!policy.evicts) return false;
  if (policy.mode === "pooled") return layer.reduce((s, h) => s + h.positions.length, 0) > budget * layer.length;
  return layer.some((h) => h.positions.length > budget);
}

/**
 * Scores the layer with the policy and evicts it back to `input.budget`.
 * Returns the layer unchanged (same arrays) when it is within budget; the
 * policy's running state (H2O) is updated either way.
 */
export function evictLayer(kernels: Pick<Kernels, "selectKeep">, policy: EvictionPolicy, input: LayerScoreInput): { layer: LayerEntries; selection: LayerSelection | null } {
  const layer = input.entries;
  if (!policy.evicts) return { layer, selection: null };
  const headScores = policy.score(input);
  if (!overBudget(policy, layer, input.budget)) return { layer, selection: null };
  const { positions, index } = unionLayout(layer);
  const n = positions.length, H = layer.length;
  const scores = new Float32Array(H * n).fill(NaN);
  layer.forEach((_, h) => index[h].forEach((u, i) => (scores[h * n + u] = headScores[h][i])));
  const protect = protectMask(positions, clampProtection(policy.protection(input.budget, input.blockTokens), input.budget));
  const mask = kernels.selectKeep(scores, H, { budget: input.budget, mode: policy.mode, protect });
  const next = layer.map((head, h) => gatherHead(head, Int32Array.from(index[h], (u) => mask[h * n + u]), input.headDim));
  return { layer: next, selection: { positions, scores, protect, mode: policy.mode, budget: input.budget, kept: next.map((h) => h.positions) } };
}

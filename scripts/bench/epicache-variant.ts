// EpiCache with one design choice changed, for the benchmarks' ablations
// (docs/kv-mode.md): selection pooled across a layer's KV heads or per head,
// max or mean over the prompt's rows, and protected sinks/recent entries.
// The published settings (durable-objects/kv/policies/epicache.ts) are
// pooled, max, nothing protected.
import { epicachePolicy } from "../../durable-objects/kv/policies/epicache";
import { groupRows, type EvictionPolicy } from "../../durable-objects/kv/policy";

export interface EpicacheVariant {
  select: "pooled" | "per-head";
  reduce: "max" | "mean";
  protect: [sinks: number, recent: number];
}

export const PUBLISHED_EPICACHE: EpicacheVariant = { select: epicachePolicy.mode, reduce: "max", protect: [0, 0] };

export function epicacheVariant(v: EpicacheVariant): EvictionPolicy {
  return {
    ...epicachePolicy,
    mode: v.select,
    protection: () => ({ sinks: v.protect[0], recent: v.protect[1] }),
    score: (input) => input.entries.map((head, kvHead) => input.kernels.attentionScores(groupRows(input.promptQueries!, input, kvHead, input.promptQueries!.length / (input.heads * input.headDim)), head.keys, input.headDim, { kind: v.reduce })),
  };
}

/** Parses --select / --reduce / --protect (absent flags keep the published settings). */
export function parseEpicacheVariant(flag: (name: string) => string | undefined): EpicacheVariant {
  const select = flag("--select") ?? PUBLISHED_EPICACHE.select;
  if (select !== "pooled" && select !== "per-head") throw new RangeError(`--select must be pooled or per-head, got ${select}`);
  const reduce = flag("--reduce") ?? "max";
  if (reduce !== "max" && reduce !== "mean") throw new RangeError(`--reduce must be max or mean, got ${reduce}`);
  const protect = (flag("--protect") ?? "0,0").split(",").map(Number);
  if (protect.length !== 2 || protect.some((x) => !Number.isSafeInteger(x) || x < 0)) throw new RangeError(`--protect must be SINKS,RECENT (non-negative integers), got ${flag("--protect")}`);
  return { select, reduce, protect: [protect[0], protect[1]] };
}

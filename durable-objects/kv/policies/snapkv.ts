// snapkv — SnapKV (Li et al., arXiv 2404.14469): the last window of the
// input ("observation window", here the block's last SNAPKV_WINDOW tokens)
// votes for the keys before it: mean attention over the window's queries of
// the GQA group, smoothed by a 1-D max-pool (kernel SNAPKV_POOL). The window
// itself is kept.
import { groupRows, type EvictionPolicy } from "../policy";

export const SNAPKV_WINDOW = 32;
export const SNAPKV_POOL = 7;

export const snapkvPolicy: EvictionPolicy = {
  name: "snapkv",
  evicts: true,
  mode: "per-head",
  needs: { promptQueries: false, blockQueries: true, accumulator: false },
  protection: (_budget, blockTokens) => ({ sinks: 0, recent: Math.min(SNAPKV_WINDOW, blockTokens) }),
  score(input) {
    const { entries, blockTokens: T, blockQueries, headDim: d, kernels } = input;
    if (!blockQueries) throw new Error("snapkv needs the block's queries (return_block_queries)");
    const w = Math.min(SNAPKV_WINDOW, T);
    return entries.map((head, kvHead) => {
      const before = head.positions.length - w;
      const out = new Float32Array(head.positions.length);
      if (before > 0) out.set(kernels.attentionScores(groupRows(blockQueries, input, kvHead, T, T - w, T), head.keys.subarray(0, before * d), d, { kind: "mean", pool: SNAPKV_POOL }));
      return out;
    });
  },
};

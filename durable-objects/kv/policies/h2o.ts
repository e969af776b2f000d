// h2o — Heavy-Hitter Oracle (Zhang et al., arXiv 2306.14048): a key's score
// is the attention it has accumulated from every later query; half of the
// budget goes to the heavy hitters, half to the most recent tokens. The sum
// runs over the whole stream, so it lives with the entries (HeadEntries.acc).
//
// Causality: the block's queries are fed in chunks of H2O_CHUNK tokens; chunk c
// attends to the entries before its first token. The softmax therefore omits
// keys inside the chunk itself (at most H2O_CHUNK − 1 of them), a documented
// approximation that keeps this to a few kernel calls per head.
import { groupRows, type EvictionPolicy } from "../policy";

export const H2O_CHUNK = 16;

export const h2oPolicy: EvictionPolicy = {
  name: "h2o",
  evicts: true,
  mode: "per-head",
  needs: { promptQueries: false, blockQueries: true, accumulator: true },
  protection: (budget) => ({ sinks: 0, recent: Math.floor(budget / 2) }),
  score(input) {
    const { entries, blockTokens: T, blockQueries, headDim: d, kernels } = input;
    if (!blockQueries) throw new Error("h2o needs the block's queries (return_block_queries)");
    return entries.map((head, kvHead) => {
      const acc = head.acc ?? (head.acc = new Float32Array(head.positions.length));
      const blockStart = head.positions.length - T;
      for (let from = 0; from < T; from += H2O_CHUNK) {
        const to = Math.min(T, from + H2O_CHUNK);
        const visible = blockStart + from;
        if (visible === 0) continue;
        const part = acc.subarray(0, visible);
        kernels.accumulateAttention(part, groupRows(blockQueries, input, kvHead, T, from, to), head.keys.subarray(0, visible * d), d);
      }
      return acc;
    });
  },
};

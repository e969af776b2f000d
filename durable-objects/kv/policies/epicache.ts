// epicache — EpiCache (arXiv 2509.17396; docs/architecture.md, steps 4–5): the episode's
// representative prompt, run after the block, scores every cached key of KV
// head h by the max over prompt positions and the GQA group's query heads of
// softmax(Q·Kᵀ/√d); scores are pooled across the heads of the layer and the
// top budget·H kept (AdaKV-style head budgets). Nothing is protected: the
// uncompressed tail since the last block travels with every query anyway.
import { groupRows, type EvictionPolicy } from "../policy";

export const epicachePolicy: EvictionPolicy = {
  name: "epicache",
  evicts: true,
  mode: "pooled",
  needs: { promptQueries: true, blockQueries: false, accumulator: false },
  protection: () => ({ sinks: 0, recent: 0 }),
  score(input) {
    const { entries, promptQueries, heads, headDim: d, kernels } = input;
    if (!promptQueries) throw new Error("epicache needs the representative prompt's queries (prompts + return_queries)");
    const P = promptQueries.length / (heads * d);
    return entries.map((head, kvHead) => kernels.attentionScores(groupRows(promptQueries, input, kvHead, P), head.keys, d, { kind: "max" }));
  },
};

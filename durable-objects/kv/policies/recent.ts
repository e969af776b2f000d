// recent — StreamingLLM (Xiao et al., "Efficient Streaming Language Models
// with Attention Sinks", arXiv 2309.17453): keep the first tokens of the
// stream (attention sinks, 4 in the paper) plus a window of the most recent
// ones. The score is the position itself, so top-k keeps the latest entries.
import type { EvictionPolicy } from "../policy";

export const STREAMING_SINKS = 4;

export const recentPolicy: EvictionPolicy = {
  name: "recent",
  evicts: true,
  mode: "per-head",
  needs: { promptQueries: false, blockQueries: false, accumulator: false },
  protection: () => ({ sinks: STREAMING_SINKS, recent: 0 }),
  score: (input) => input.entries.map((h) => Float32Array.from(h.positions)),
};

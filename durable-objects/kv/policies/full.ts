// full: no eviction — the uncompressed reference every other policy is
// measured against (and what the exactness tests run).
import type { EvictionPolicy } from "../policy";

export const fullPolicy: EvictionPolicy = {
  name: "full",
  evicts: false,
  mode: "per-head",
  needs: { promptQueries: false, blockQueries: false, accumulator: false },
  protection: () => ({ sinks: 0, recent: 0 }),
  score: (input) => input.entries.map((h) => new Float32Array(h.positions.length)),
};

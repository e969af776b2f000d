// The policies `npm run eval:context` compares, by name. A new policy is one
// ContextPolicy (scripts/eval/policy.ts) added here.
import { bm25Policy } from "./baselines/bm25";
import { recencyPolicy } from "./baselines/recency";
import { epikvPolicy } from "./epikv-policy";
import type { ContextPolicy } from "./policy";

export const contextPolicies: readonly ContextPolicy[] = [
  epikvPolicy(),
  recencyPolicy,
  bm25Policy,
];

/** Variants of epikv run with `--ablations`, to explain its numbers (not baselines). */
export const ablationPolicies: readonly ContextPolicy[] = [
  epikvPolicy({ name: "epikv E=1", settings: { episodes: 1 } }),
  epikvPolicy({ name: "epikv E=16", settings: { episodes: 16 } }),
  epikvPolicy({ name: "epikv w=1", settings: { window: 1 } }),
  epikvPolicy({ name: "epikv cos-route", routeByCosine: true }),
];

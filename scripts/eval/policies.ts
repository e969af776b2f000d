// The policies `npm run eval:context` compares, by name. A new policy is one
// ContextPolicy (scripts/eval/policy.ts) added here.
import { bm25Policy } from "./baselines/bm25";
import { recencyPolicy } from "./baselines/recency";
import type { RankingPolicy } from "../../durable-objects/selection/rank-candidates";
import { epikvPolicy } from "./epikv-policy";
import type { ContextPolicy } from "./policy";

/** epikv's ranking before the evaluation (dot-product routing, the matched episode strictly first, other episodes' representatives only), kept for the ablation table. */
const MATCHED_FIRST_RANKING: RankingPolicy = { route: "dot", matchBonus: Infinity, others: "representatives" };

export const contextPolicies: readonly ContextPolicy[] = [
  epikvPolicy(),
  recencyPolicy,
  bm25Policy,
];

/** Variants of epikv run with `--ablations`, to explain its numbers (not baselines). */
export const ablationPolicies: readonly ContextPolicy[] = [
  epikvPolicy({ name: "lexical only (BM25+stem, no dense, no neighbours, no update rule)", noDensePool: true, messages: { dense: 0, partnerTop: 0, recency: 0 } }),
  epikvPolicy({ name: "fused (+ dense λ 0.3)", noDensePool: true, messages: { partnerTop: 0, recency: 0 } }),
  epikvPolicy({ name: "fused + episodes (dense pool)", messages: { partnerTop: 0, recency: 0 } }),
  epikvPolicy({ name: "fused + episodes + neighbours", messages: { recency: 0 } }),
  epikvPolicy({ name: "fused + episodes + update rule (no neighbours)", messages: { partnerTop: 0 } }),
  epikvPolicy({ name: "all, λ 0.5", messages: { dense: 0.5 } }),
  epikvPolicy({ name: "all, λ 0.15", messages: { dense: 0.15 } }),
  epikvPolicy({ name: "all, neighbours for top 16", messages: { partnerTop: 16 } }),
  epikvPolicy({ name: "segments (the previous ranking)", unit: "segments" }),
  epikvPolicy({ name: "epikv E=1", settings: { episodes: 1 } }),
  epikvPolicy({ name: "epikv E=16", settings: { episodes: 16 } }),
  epikvPolicy({ name: "epikv w=1", settings: { window: 1 } }),
  epikvPolicy({ name: "epikv before (dot routing, matched episode first, others' representatives)", ranking: MATCHED_FIRST_RANKING }),
  epikvPolicy({ name: "epikv cos-route + matched first + representatives", ranking: { ...MATCHED_FIRST_RANKING, route: "cosine" } }),
  epikvPolicy({ name: "epikv matched first (bonus ∞)", ranking: { matchBonus: Infinity } }),
  epikvPolicy({ name: "epikv bonus 0 (no routing effect)", ranking: { matchBonus: 0 } }),
  epikvPolicy({ name: "epikv bonus 0.1", ranking: { matchBonus: 0.1 } }),
  epikvPolicy({ name: "epikv dot routing", ranking: { route: "dot" } }),
  epikvPolicy({ name: "epikv others: representatives only", ranking: { others: "representatives" } }),
];

// The policies `npm run eval:context` compares, by name. A new policy is one
// ContextPolicy (scripts/eval/policy.ts) added here.
import { bm25Policy } from "./baselines/bm25";
import { recencyPolicy } from "./baselines/recency";
import { denseBaseline } from "./baselines/dense";
import type { RankingPolicy } from "../../durable-objects/selection/rank-candidates";
import { epikvPolicy } from "./epikv-policy";
import type { ContextPolicy } from "./policy";

/** epikv's ranking before the evaluation (dot-product routing, the matched episode strictly first, other episodes' representatives only), kept for the ablation table. */
const MATCHED_FIRST_RANKING: RankingPolicy = { route: "dot", matchBonus: Infinity, others: "representatives" };
/** Rows 1–7 of the ablation table are built up without pseudo-relevance feedback; row 8 adds it. */
const NO_FEEDBACK = { feedbackDocuments: 0 } as const;

export const contextPolicies: readonly ContextPolicy[] = [
  epikvPolicy(),
  recencyPolicy,
  bm25Policy,
  denseBaseline,
];

/**
 * Variants of epikv run with `--ablations`, to explain its numbers (not
 * baselines). The first eight add one component at a time, in the order of
 * docs/context-selection.md; the rest vary one parameter of the default.
 */
export const ablationPolicies: readonly ContextPolicy[] = [
  epikvPolicy({ name: "1 lexical only (BM25 over stemmed messages)", noDensePool: true, messages: { ...NO_FEEDBACK, dense: 0, neighbourTop: 0, recency: 0, expansion: 0, dropQuestionWords: false } }),
  epikvPolicy({ name: "2 + dense, fused (segment scores, no episode prior)", ranking: { matchBonus: 0 }, messages: { ...NO_FEEDBACK, neighbourTop: 0, recency: 0, expansion: 0, dropQuestionWords: false } }),
  epikvPolicy({ name: "3 + episodes (prior on the routed episode)", messages: { ...NO_FEEDBACK, neighbourTop: 0, recency: 0, expansion: 0, dropQuestionWords: false } }),
  epikvPolicy({ name: "4 + neighbours (±2 messages around the top 16)", messages: { ...NO_FEEDBACK, recency: 0, expansion: 0, dropQuestionWords: false } }),
  epikvPolicy({ name: "5 + update rule", messages: { ...NO_FEEDBACK, expansion: 0, dropQuestionWords: false } }),
  epikvPolicy({ name: "6 + query expansion (WordNet, γ 1)", messages: { ...NO_FEEDBACK, dropQuestionWords: false } }),
  epikvPolicy({ name: "7 + question words not searched", messages: NO_FEEDBACK }),
  epikvPolicy({ name: "8 + feedback (3 messages, 20 terms, λ 0.5; = epikv)" }),
  epikvPolicy({ name: "lexical only + query expansion + question words not searched", noDensePool: true, messages: { ...NO_FEEDBACK, dense: 0, neighbourTop: 0, recency: 0 } }),
  epikvPolicy({ name: "the same + feedback", noDensePool: true, messages: { dense: 0, neighbourTop: 0, recency: 0 } }),
  epikvPolicy({ name: "epikv, feedback from 1 message", messages: { feedbackDocuments: 1 } }),
  epikvPolicy({ name: "epikv, feedback from 10 messages (RM3's usual)", messages: { feedbackDocuments: 10 } }),
  epikvPolicy({ name: "epikv, 10 feedback terms", messages: { feedbackTerms: 10 } }),
  epikvPolicy({ name: "epikv, feedback λ 0.3", messages: { feedbackWeight: 0.3 } }),
  epikvPolicy({ name: "epikv, expansion γ 0.5", messages: { expansion: 0.5 } }),
  epikvPolicy({ name: "epikv, dense per message from its own text", perMessageDense: true }),
  epikvPolicy({ name: "epikv, λ 0.15", messages: { dense: 0.15 } }),
  epikvPolicy({ name: "epikv, λ 0.5", messages: { dense: 0.5 } }),
  epikvPolicy({ name: "epikv, no neighbours", messages: { neighbourTop: 0 } }),
  epikvPolicy({ name: "epikv, neighbours for the top 4", messages: { neighbourTop: 4 } }),
  epikvPolicy({ name: "epikv, neighbours for the top 8", messages: { neighbourTop: 8 } }),
  epikvPolicy({ name: "epikv, neighbours for the top 32", messages: { neighbourTop: 32 } }),
  epikvPolicy({ name: "epikv, neighbour radius 1", messages: { neighbourRadius: 1 } }),
  epikvPolicy({ name: "epikv, neighbour radius 3", messages: { neighbourRadius: 3 } }),
  epikvPolicy({ name: "epikv, recency ρ 0.1", messages: { recency: 0.1 } }),
  epikvPolicy({ name: "epikv, lexical pool 32", messages: { poolSize: 32 } }),
  epikvPolicy({ name: "epikv, matched episode first (bonus ∞)", ranking: { matchBonus: Infinity } }),
  epikvPolicy({ name: "epikv E=1", settings: { episodes: 1 } }),
  epikvPolicy({ name: "epikv E=16", settings: { episodes: 16 } }),
  epikvPolicy({ name: "segments (the previous ranking)", unit: "segments" }),
  epikvPolicy({ name: "segments, before the evaluation (dot routing, matched first, representatives)", unit: "segments", ranking: MATCHED_FIRST_RANKING }),
];

// Step 4 of context selection (select-context.ts): which stored segments a
// turn offers after the pinned messages and the recent window, in which
// order, and within which per-turn bounds (docs/context-mode.md;
// EpiCache step 7, arXiv 2509.17396 §3: route the query to its episode).
//
// Pure: a query vector, the episodes (centroids, representatives) and the
// in-memory SegmentIndex in; an ordered list of scored segment spans out.
// ConversationDO (I/O: SQLite, the embedder) and the context evaluation
// (scripts/eval/epikv-policy.ts) both call these functions, so what the
// evaluation measures is the Durable Object's own ranking.
//
// Order: every segment's relevance (cosine of IDF-weighted unit vectors)
// plus MATCHED_EPISODE_BONUS when it belongs to the episode the query is
// routed to. The bonus keeps EpiCache's shape (the matched episode's
// segments first, then other episodes' best) where relevance is close, but
// lets a clearly better segment of another episode outrank a weak one of
// the matched episode: on the evaluation's long synthetic chats routing
// alone finds the evidence's episode near chance (docs/evaluation.md).
import type { Kernels } from "../../wasm/src/kernels";
import { matchQueryEpisode } from "../episodes/episodes";
import type { MessageRef, Candidate } from "./select-context";
import type { IndexedSpan, SegmentIndex } from "./segment-index";
import { MESSAGE_OVERHEAD_TOKENS } from "./token-estimator";

/** Ranked candidates a turn considers at least (rankLimit); each one is widened from metadata. */
export const MAX_RANKED_CANDIDATES = 512;
/** Ranked candidates that may fail to fit in a row before selection stops (each costs two small SQL reads past the metadata mirror). */
export const MAX_CONSECUTIVE_SKIPS = 32;

export interface RankingEpisode {
  id: number;
  centroid: Float32Array;
  /** Segment ids of the episode's representatives (REPRESENTATIVES_PER_EPISODE), ascending. */
  representatives: readonly number[];
}

/** A segment's span and relevance, tagged with its episode (what SegmentIndex hands out). */
export type ScoredSpan = IndexedSpan;

/** How segments are routed and ordered; DEFAULT_RANKING is what the Durable Object uses. */
export interface RankingPolicy {
  /**
   * "dot": the centroid with the largest dot product with the query
   * (EpiCache step 7 as first built, docs/architecture.md: a large diffuse episode has a short
   * centroid and loses); "cosine": the largest cosine.
   */
  route: "dot" | "cosine";
  /** Added to the matched episode's relevance; Infinity puts all of its segments first. */
  matchBonus: number;
  /** Other episodes compete with "all" their segments, or only their "representatives". */
  others: "all" | "representatives";
}

/**
 * Measured with `npm run eval:context -- --ablations` (docs/evaluation.md):
 * cosine routing, every segment competing, and a bonus small enough that it
 * only breaks near-ties in the matched episode's favour. Larger bonuses, and
 * the matched episode strictly first (Infinity), lowered recall at every budget.
 */
export const MATCHED_EPISODE_BONUS = 0.01;
export const DEFAULT_RANKING: RankingPolicy = { route: "cosine", matchBonus: MATCHED_EPISODE_BONUS, others: "all" };
/** The episode a weighted query is routed to (null when there are none). */
export function routeQuery<E extends RankingEpisode>(kernels: Kernels, q: Float32Array, episodes: readonly E[], route: RankingPolicy["route"]): E | null {
  if (!episodes.length) return null;
  const dim = q.length;
  const { index } = matchQueryEpisode(kernels, q, centroidMatrix(episodes, route, dim), dim);
  return index >= 0 ? episodes[index]! : null;
}

/**
 * The episodes' centroids (unit vectors for "cosine") as one row-major
 * matrix, built once per episode list: a list is replaced, never changed,
 * when an episode is (ConversationStore.sharedEpisodes), and normalising
 * every centroid again was ≈ 0.04 ms of each turn.
 */
const centroidMatrices = new WeakMap<readonly RankingEpisode[], { route: RankingPolicy["route"]; matrix: Float32Array }>();
function centroidMatrix(episodes: readonly RankingEpisode[], route: RankingPolicy["route"], dim: number): Float32Array {
  const known = centroidMatrices.get(episodes);
  if (known?.route === route && known.matrix.length === episodes.length * dim) return known.matrix;
  const matrix = new Float32Array(episodes.length * dim);
  episodes.forEach((e, j) => {
    if (e.centroid.length !== dim) throw new RangeError(`episode ${e.id} centroid has ${e.centroid.length} dims, query ${dim}`);
    matrix.set(route === "cosine" ? unitVector(e.centroid) : e.centroid, j * dim);
  });
  centroidMatrices.set(episodes, { route, matrix });
  return matrix;
}

/**
 * Orders scored spans: by relevance plus `matchBonus` for the matched
 * episode, best first; ties keep input order (matched first, then others as
 * given), NaN last; at most `limit`.
 */
export function orderSpans(matched: readonly ScoredSpan[], others: readonly ScoredSpan[], matchBonus: number, limit: number): ScoredSpan[] {
  if (!Number.isFinite(matchBonus)) return rankByRelevance(matched, others).slice(0, limit);
  const all = [...matched.map((s) => ({ s, key: s.score + matchBonus })), ...others.map((s) => ({ s, key: s.score }))];
  all.sort((a, b) => byKeyDesc(a.key, b.key));
  return all.slice(0, limit).map(({ s }) => s);
}

/**
 * First length of each episode's top-k list in rankedSpans: selection
 * usually stops after a few dozen candidates (docs/context-mode.md), so the
 * lists start short and a list is extended only when the merge reaches its
 * end. Four top-512 heaps over 25k scores cost nearly as much as the scan
 * (≈ 0.8 vs 1.15 ms in workerd); four top-64 ones almost nothing.
 */
export const FIRST_RANK_CHUNK = 64;

/**
 * Ranked spans from the in-memory index, computed as they are consumed.
 * The matched episode contributes its best `limit` (one SIMD scan and top-k
 * in the row store); other episodes their best `limit` each, or only their
 * representatives.
 *
 * With `others: "all"` two lists are merged: the matched episode's ranking
 * (with the bonus) and the ranking of every segment with the matched
 * episode's left out, so a turn costs one scan, one top-k over the matched
 * episode's rows and one over all rows, however many episodes there are
 * (one top-k per episode was ≈ 0.1 ms of a 100k-message turn). That is
 * exact: a segment of another episode in the best `limit` has fewer than
 * `limit` segments above it by relevance (the bonus only lifts), so it is in
 * the best `limit` of all segments. Each list starts at `firstChunk` and
 * doubles (a top-k over the scan's scores, no rescan) only when the merge
 * needs its next span. Order: relevance plus the bonus, ties → the matched
 * episode, then the lower segment id; NaN last. Consume the sequence before
 * the index changes (an append between two chunks would be seen by the
 * later one).
 */
export function rankedSpans(index: SegmentIndex, q: Float32Array, matched: RankingEpisode, episodes: readonly RankingEpisode[], policy: RankingPolicy, limit: number, firstChunk = FIRST_RANK_CHUNK): Iterable<ScoredSpan> {
  if (policy.others === "all" && Number.isFinite(policy.matchBonus)) {
    const ranking = index.queryRanking(q);
    const ofMatched = (k: number): RankedList => {
      const spans = ranking.ofEpisode(matched.id, k);
      return { spans, more: spans.length === k, bound: spans.at(-1)?.score ?? NaN };
    };
    const ofOthers = (k: number): RankedList => {
      const all = ranking.ofAll(k);
      return { spans: all.filter((s) => s.episode !== matched.id), more: all.length === k, bound: all.at(-1)?.score ?? NaN };
    };
    return mergeGrowing([ofMatched, ofOthers], [policy.matchBonus, 0], limit, firstChunk);
  }
  const matchedScored = index.topOfEpisode(matched.id, q, limit);
  const othersScored = episodes.filter((e) => e.id !== matched.id).flatMap((e) =>
    policy.others === "all" ? index.topOfEpisode(e.id, q, limit) : index.scoreSegments(e.id, e.representatives, q));
  return orderSpans(matchedScored, othersScored, policy.matchBonus, limit);
}

/** A prefix of a ranking: its best spans, whether asking for more may give more, and the score no later span beats. */
interface RankedList {
  spans: readonly ScoredSpan[];
  more: boolean;
  bound: number;
}

/**
 * The best `limit` of several lists, each best first, by score + its list's
 * bonus; ties → the earlier list (what orderSpans' stable sort of their
 * concatenation gives), NaN last. O(limit × lists). Lists are fetched as
 * needed: `fetch[l](k)` returns a prefix of list l from a top-k of k (at
 * most `limit`); a list is fetched again with twice k when the merge
 * reaches the end of a fetch that may have more and its next span could
 * be the next one out.
 */
function* mergeGrowing(fetch: readonly ((k: number) => RankedList)[], bonus: readonly number[], limit: number, firstChunk: number): Generator<ScoredSpan> {
  if (limit <= 0) return;
  const k = fetch.map(() => Math.max(1, Math.min(limit, firstChunk)));
  const lists = fetch.map((f, l) => f(k[l]!));
  const at = lists.map(() => 0);
  for (let n = 0; n < limit; n++) {
    let best = -1;
    let bestKey = NaN;
    for (let l = 0; l < lists.length; l++) {
      // A fetch that may have more, and k below limit: fetch it longer before comparing its next span,
      // unless an earlier list's candidate already ranks at or above anything it can hold (ties → the earlier list).
      while (at[l] === lists[l]!.spans.length && lists[l]!.more && k[l]! < limit) {
        if (best >= 0 && byKeyDesc(bestKey, lists[l]!.bound + bonus[l]!) <= 0) break;
        k[l] = Math.min(limit, k[l]! * 2);
        lists[l] = fetch[l]!(k[l]!);
      }
      const s = lists[l]!.spans[at[l]!];
      if (!s) continue;
      const key = s.score + bonus[l]!;
      if (best < 0 || byKeyDesc(key, bestKey) < 0) {
        best = l;
        bestKey = key;
      }
    }
    if (best < 0) return;
    yield lists[best]!.spans[at[best]!++]!;
  }
}

/** selectContext's bounds on the ranked loop for segments of `window` utterances. */
export function rankedLoopBounds(window: number): { minCandidateTokens: number; maxConsecutiveSkips: number } {
  // A segment holds `window` utterances, each at least the per-message overhead plus one token.
  return { minCandidateTokens: window * (MESSAGE_OVERHEAD_TOKENS + 1), maxConsecutiveSkips: MAX_CONSECUTIVE_SKIPS };
}

/** Most ranked candidates a turn may consider, however large its budget. */
export const MAX_RANK_LIMIT = 4096;

/**
 * Ranked candidates a turn considers: enough to fill `budget` with the
 * cheapest possible segments, at least MAX_RANKED_CANDIDATES, at most
 * MAX_RANK_LIMIT, so a large budget is not left unused (one-message
 * segments) and a turn's work stays bounded.
 */
export function rankLimit(budget: number, window: number): number {
  const fill = Math.ceil(budget / rankedLoopBounds(window).minCandidateTokens);
  return Math.min(MAX_RANK_LIMIT, Math.max(MAX_RANKED_CANDIDATES, fill));
}

/** Spans as candidates, widened lazily (`widen`: a span's messages as whole tool-call units), at most `limit`. */
export function* spanCandidates(order: Iterable<ScoredSpan>, widen: (first: number, last: number) => readonly MessageRef[], limit: number): Iterable<Candidate> {
  let n = 0;
  for (const s of order) {
    if (n++ >= limit) return;
    yield { messages: widen(s.first, s.last), provenance: { kind: "episode", episode: s.episode, score: Number.isFinite(s.score) ? s.score : 0 } };
  }
}

/**
 * The matched episode's spans by relevance (desc), then the other
 * episodes' by relevance (desc); ties keep input order, NaN scores rank
 * last (orderSpans with an infinite bonus).
 */
export function rankByRelevance<T extends { score: number }>(matched: readonly T[], others: readonly T[]): T[] {
  const byScore = (list: readonly T[]) =>
    list.map((s, i) => ({ s, i })).sort((a, b) => byKeyDesc(a.s.score, b.s.score) || a.i - b.i).map(({ s }) => s);
  return [...byScore(matched), ...byScore(others)];
}

function unitVector(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  if (!(norm > 0)) return v;
  const inv = 1 / Math.sqrt(norm);
  return v.map((x) => x * inv);
}

/** Descending with NaN after every number. */
function byKeyDesc(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return b - a;
}

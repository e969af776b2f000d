// epikv's context selection as the evaluation runs it. The conversation's
// episodic state is built with durable-objects' own pure modules into the
// state a ConversationDO holds after a bulk import once its re-clustering
// alarm has run (ConversationDO.recluster: per-conversation bucket IDF, k-means
// on the stride sample, every segment assigned to its nearest centroid, top-n
// representatives per episode, empty episodes dropped; then segmentIndex():
// IDF-weighted unit rows per episode in a SegmentIndex over the same row
// store). Each question is answered the way ConversationDO.selectFor /
// rankedSegments / scoreIndexed answer a turn: pinned system messages, the
// recent window, the matched episode's segments by relevance, the other
// episodes' representatives, at most MAX_RANKED_CANDIDATES of them, through
// select-context.ts with the DO's default settings.
//
// The DO's glue (recluster, selectFor, rankedSegments) lives inside the class
// in durable-objects/conversation-do.ts, which imports cloudflare:workers and
// so cannot load under Node; the few lines of glue below mirror it step by
// step and name the method they follow. The caps it applies are mirrored as
// constants, and test/node/eval-context.test.ts checks them against the DO's
// source so they cannot drift silently; `npm run eval:context -- --check-do`
// compares whole selections with the real object in workerd.
import { addDocumentFrequency, idfWeights, reweight, reweightRows } from "../../durable-objects/bucket-idf";
import type { ConversationSettings } from "../../durable-objects/conversation-api";
import { HASH_EMBEDDING_DIM, hashEmbedder } from "../../durable-objects/embedder";
import { fitEpisodes, matchQueryEpisode, nearestCentroid, REPRESENTATIVES_PER_EPISODE, strideSample, TopN } from "../../durable-objects/episodes";
import { MAX_INDEXED_SEGMENTS, SegmentIndex } from "../../durable-objects/segment-index";
import { closeWindows } from "../../durable-objects/segmentation";
import { rankByRelevance, type Candidate } from "../../durable-objects/select-context";
import { DEFAULT_SETTINGS } from "../../durable-objects/settings";
import { MESSAGE_OVERHEAD_TOKENS } from "../../durable-objects/token-estimator";
import { groupUnits } from "../../durable-objects/tool-units";
import { pinnedCandidates, selectWith, type ContextPolicy, type StoredConversation, type StoredEvalMessage } from "./policy";

/** conversation-do.ts MAX_RANKED_CANDIDATES: ranked segments offered to selectContext per turn. */
export const DO_MAX_RANKED_CANDIDATES = 512;
/** conversation-do.ts MAX_CONSECUTIVE_SKIPS: the ranked loop stops after this many misfits in a row. */
export const DO_MAX_CONSECUTIVE_SKIPS = 32;

interface Episode {
  id: number;
  centroid: Float32Array;
  /** Segment ids (1-based, as the DO numbers them) of the top-n representatives, ascending. */
  representatives: number[];
}

export interface EpikvVariant {
  name?: string;
  /** Settings overriding the DO's defaults. */
  settings?: Partial<ConversationSettings>;
  /**
   * Ablation, not what the DO does: match the query to the centroid with the
   * largest cosine instead of the largest dot product with the raw centroid
   * (DESIGN.md step 7), so a diffuse episode's short centroid is not penalised.
   */
  routeByCosine?: boolean;
}

/** epikv as the DO runs it with its default settings, or a variant (ablations). */
export function epikvPolicy(variant: EpikvVariant = {}): ContextPolicy {
  const settings: ConversationSettings = { ...DEFAULT_SETTINGS, ...variant.settings };
  const route = variant.routeByCosine ? "cosine to centroids" : "dot with raw centroids";
  return {
    name: variant.name ?? "epikv",
    summary: `pinned + recent ${settings.recent_messages} + matched episode's segments by relevance + other episodes' representatives (E ${settings.episodes}, window ${settings.window}, routing by ${route})`,
    async prepare(conversation, { kernels, rowStore }) {
      const dim = HASH_EMBEDDING_DIM;
      const embedder = hashEmbedder(kernels, dim);

      // ConversationDO.append: windows of `window` utterances, unweighted unit embeddings, bucket document frequencies.
      const { segments } = closeWindows([], conversation.messages, settings.window);
      const n = segments.length;
      if (n > MAX_INDEXED_SEGMENTS) throw new RangeError(`${n} segments: the evaluation mirrors only the DO's indexed path (≤ ${MAX_INDEXED_SEGMENTS})`);
      const vecs = await embedder.embed(segments.map((s) => s.text));
      const df = new Float64Array(dim);
      if (embedder.usesIdf) for (const v of vecs) addDocumentFrequency(df, v);

      // ConversationDO.recluster: IDF snapshot, fit on the stride sample, assign every segment.
      const idf = embedder.usesIdf ? idfWeights(df, n) : null;
      const weighted = vecs.map((v) => reweight(v, idf));
      const sample = strideSample(n);
      const fitRows = new Float32Array(sample.length * dim);
      sample.forEach((i, j) => fitRows.set(vecs[i]!, j * dim));
      reweightRows(fitRows, dim, idf);
      const fitted = fitEpisodes(kernels, fitRows, dim, settings.episodes);
      const centroids = Array.from({ length: fitted.length / dim }, (_, j) => fitted.slice(j * dim, (j + 1) * dim));
      const sizes = centroids.map(() => 0);
      const reps = centroids.map(() => new TopN(REPRESENTATIVES_PER_EPISODE));
      const labels = weighted.map((v, i) => {
        const { index, cosine } = nearestCentroid(v, centroids);
        sizes[index]!++;
        reps[index]!.offer(i + 1, cosine);
        return index;
      });
      // Only episodes that received segments are saved (ids: the centroid's index; a new conversation has no old ids to keep).
      const episodes: Episode[] = centroids.flatMap((centroid, j) =>
        sizes[j]! ? [{ id: j, centroid, representatives: reps[j]!.idsInOrder() }] : []);
      const centroidRows = new Float32Array(episodes.length * dim);
      episodes.forEach((e, j) => centroidRows.set(variant.routeByCosine ? unit(e.centroid) : e.centroid, j * dim));
      const episodeOfSeq = new Map<number, number>();
      segments.forEach((s, i) => { for (let seq = s.first_seq; seq <= s.last_seq; seq++) episodeOfSeq.set(seq, labels[i]!); });

      // ConversationDO.segmentIndex: weighted unit rows grouped by episode, in segment-id order.
      const index = new SegmentIndex(rowStore, dim);
      segments.forEach((s, i) => index.append(i + 1, labels[i]!, s.first_seq, s.last_seq, weighted[i]!));

      // ConversationDO.selectFor: pinned system messages and the recent window (newest unit first).
      const pinned = pinnedCandidates(conversation);
      const recent = recentCandidates(conversation, settings.recent_messages);

      return {
        async select(query, budgetTokens) {
          // ConversationDO.rankedSegments / scoreIndexed.
          const [raw] = await embedder.embed([query]);
          const q = reweight(raw!, idf);
          const matched = episodes[matchQueryEpisode(kernels, q, centroidRows, dim).index]!;
          const scored = index.scoreEpisode(matched.id, q);
          const matchedScored = Array.from({ length: scored.count }, (_, i) =>
            ({ first: scored.firstSeq[i]!, last: scored.lastSeq[i]!, episode: matched.id, score: scored.scores[i]! }));
          const othersScored = episodes
            .filter((e) => e.id !== matched.id)
            .flatMap((e) => index.scoreSegments(e.id, e.representatives, q).map((x) => ({ ...x, episode: e.id })));
          // scoreIndexed keeps the best MAX_RANKED_CANDIDATES of the matched episode (ties in id order)
          // and the lazy ranking stops after MAX_RANKED_CANDIDATES: together, the first 512 of this order.
          const ranked: Candidate[] = rankByRelevance(matchedScored, othersScored)
            .slice(0, DO_MAX_RANKED_CANDIDATES)
            .map((s) => ({
              messages: conversation.messages.slice(s.first, s.last + 1),
              provenance: { kind: "episode", episode: s.episode, score: Number.isFinite(s.score) ? s.score : 0 },
            }));
          const selection = selectWith(conversation, pinned, query, budgetTokens, {
            recent, ranked,
            // ConversationDO.selectFor's bounds on the ranked loop.
            minCandidateTokens: settings.window * (MESSAGE_OVERHEAD_TOKENS + 1),
            maxConsecutiveSkips: DO_MAX_CONSECUTIVE_SKIPS,
          });
          return { ...selection, matchedEpisode: matched.id };
        },
        episodeOf: (seq) => episodeOfSeq.get(seq) ?? null,
      };
    },
  };
}

function unit(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  return norm > 0 ? v.map((x) => x / Math.sqrt(norm)) : v;
}

/** ConversationStore.recentMeta + selectFor: the last `count` messages as whole units, newest first. */
function recentCandidates(conversation: StoredConversation, count: number): Candidate[] {
  if (count <= 0) return [];
  const from = Math.max(0, conversation.messages.length - count);
  const head = Math.min(conversation.messages[from]?.unitHead ?? from, from);
  const units: StoredEvalMessage[][] = groupUnits(conversation.messages.slice(head));
  return units.reverse().map((unit) => ({ messages: unit, provenance: { kind: "recent" } }));
}

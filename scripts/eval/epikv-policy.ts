// epikv's context selection as the evaluation runs it. The conversation's
// episodic state is built with durable-objects' own pure modules into the
// state a ConversationDO holds after a bulk import once its re-clustering
// alarm has run (alarm-jobs.ts recluster → episode-refit.ts planRefit:
// per-conversation bucket IDF, k-means on the stride sample, every segment
// assigned to its nearest centroid, top-n representatives per episode, empty
// episodes dropped; then ConversationMirrors.segmentIndex: IDF-weighted unit rows
// per episode in a SegmentIndex over the same row store). planRefit reads a
// ConversationStore (SQLite), so those few lines of state building are
// repeated here over the same pure functions.
//
// Each question is then ranked and selected by the very functions the DO
// calls (durable-objects/selection/rank-candidates.ts: routeQuery, rankedSpans,
// rankLimit, spanCandidates, rankedLoopBounds; select-context.ts), with the DO's
// ranking policy unless a variant overrides it. `npm run eval:context --
// --check-do` compares whole selections with the real object in workerd.
import { addDocumentFrequency, reweight, reweightRows } from "../../durable-objects/episodes/bucket-idf";
import { idfFromDocumentFrequency } from "../../wasm/src/text-features";
import type { ConversationSettings } from "../../durable-objects/conversation/conversation-api";
import { HASH_EMBEDDING_DIM, hashEmbedder } from "../../durable-objects/episodes/embedder";
import { fitEpisodes, nearestCentroid, REPRESENTATIVES_PER_EPISODE, strideSample, TopN } from "../../durable-objects/episodes/episodes";
import {
  DEFAULT_RANKING, rankedLoopBounds, rankedSpans, rankLimit, routeQuery, spanCandidates, type RankingEpisode, type RankingPolicy,
} from "../../durable-objects/selection/rank-candidates";
import { LexicalIndex, messageTerms } from "../../durable-objects/selection/lexical-index";
import { DEFAULT_MESSAGE_RANKING, type MessageRankingWeights } from "../../durable-objects/selection/message-ranking";
import { rankedCandidates } from "../../durable-objects/selection/neighbours";
import { DENSE_POOL_SEGMENTS, messageDenseScores, messageLoopBounds, rankTurnMessages } from "../../durable-objects/selection/turn-ranking";
import { MAX_INDEXED_SEGMENTS, SegmentIndex } from "../../durable-objects/selection/segment-index";
import { closeWindows } from "../../durable-objects/episodes/segmentation";
import type { Candidate } from "../../durable-objects/selection/select-context";
import { DEFAULT_SETTINGS } from "../../durable-objects/conversation/settings";
import { groupUnits } from "../../durable-objects/conversation/tool-units";
import { pinnedCandidates, selectWith, type ContextPolicy, type StoredConversation, type StoredEvalMessage } from "./policy";


export interface EpikvVariant {
  name?: string;
  /** Settings overriding the DO's defaults. */
  settings?: Partial<ConversationSettings>;
  /** Ranking overriding the DO's (rank-candidates.ts DEFAULT_RANKING); ablations. */
  ranking?: Partial<RankingPolicy>;
  /** Message-ranking weights overriding DEFAULT_MESSAGE_RANKING (ablations). */
  messages?: Partial<MessageRankingWeights>;
  /** "messages" (the DO's ranking), or "segments": the previous segment-level ranking (ablation). */
  unit?: "messages" | "segments";
  /** Without the episode-aware dense pool (ablation: lexical pool only). */
  noDensePool?: boolean;
  /** Dense scores per message from its own text (hashing embedder), instead of its segment's (ablation). */
  perMessageDense?: boolean;
}

/** epikv as the DO runs it with its default settings, or a variant (ablations). */
export function epikvPolicy(variant: EpikvVariant = {}): ContextPolicy {
  const settings: ConversationSettings = { ...DEFAULT_SETTINGS, ...variant.settings };
  const ranking: RankingPolicy = { ...DEFAULT_RANKING, ...variant.ranking };
  const weights: MessageRankingWeights = { ...DEFAULT_MESSAGE_RANKING, ...variant.messages };
  const unit = variant.unit ?? "messages";
  return {
    name: variant.name ?? "epikv",
    summary: unit === "segments"
      ? `pinned + recent ${settings.recent_messages} + segments by relevance, matched episode +${ranking.matchBonus} (E ${settings.episodes}, window ${settings.window})`
      : `pinned + recent ${settings.recent_messages} + messages by fused BM25/dense (λ ${weights.dense}, recency ρ ${weights.recency}, pool ${weights.poolSize} + ${variant.noDensePool ? "no" : "episode-aware"} dense pool, ±${weights.neighbourRadius} neighbours for the top ${weights.neighbourTop}, query expansion γ ${weights.expansion}${weights.dropQuestionWords ? ", question words not searched" : ""})`,
    async prepare(conversation, { kernels, rowStore, bm25Scorer }) {
      const dim = HASH_EMBEDDING_DIM;
      const embedder = hashEmbedder(kernels, dim);

      // ingest.ts prepareAppend/writeAppend: windows of `window` utterances, unweighted unit embeddings, bucket document frequencies.
      const { segments } = closeWindows([], conversation.messages, settings.window);
      const n = segments.length;
      if (n > MAX_INDEXED_SEGMENTS) throw new RangeError(`${n} segments: the evaluation mirrors only the DO's indexed path (≤ ${MAX_INDEXED_SEGMENTS})`);
      const vecs = await embedder.embed(segments.map((s) => s.text));
      const df = new Float64Array(dim);
      if (embedder.usesIdf) for (const v of vecs) addDocumentFrequency(df, v);

      // alarm-jobs.ts recluster: IDF snapshot, fit on the stride sample, assign every segment.
      const idf = embedder.usesIdf ? idfFromDocumentFrequency(df, n) : null;
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
      const episodes: RankingEpisode[] = centroids.flatMap((centroid, j) =>
        sizes[j]! ? [{ id: j, centroid, representatives: reps[j]!.idsInOrder() }] : []);
      const episodeOfSeq = new Map<number, number>();
      segments.forEach((s, i) => { for (let seq = s.first_seq; seq <= s.last_seq; seq++) episodeOfSeq.set(seq, labels[i]!); });

      // mirrors.ts segmentIndex: weighted unit rows grouped by episode, in segment-id order.
      const index = new SegmentIndex(rowStore, dim);
      segments.forEach((s, i) => index.append(i + 1, labels[i]!, s.first_seq, s.last_seq, weighted[i]!));

      // turn-context.ts turnContext: pinned system messages and the recent window (newest unit first).
      const pinned = pinnedCandidates(conversation);
      const recent = recentCandidates(conversation, settings.recent_messages);

      // ConversationDO's lexical index: every message, BM25 over stemmed terms.
      const lexical = new LexicalIndex(0, bm25Scorer());
      for (const m of conversation.messages) lexical.add(m.seq, m.role, messageTerms(m));
      const messages = conversation.messages;
      // turn-context.ts: the loop's floor is the lightest message's tokens.
      const smallestTokens = messages.reduce((min, m) => Math.min(min, m.tokens), Infinity);

      return {
        async select(query, budgetTokens) {
          // turn-context.ts rankedSegments.
          const [raw] = await embedder.embed([query]);
          const q = reweight(raw!, idf);
          const matched = routeQuery(kernels, q, episodes, ranking.route)!;
          const limit = rankLimit(budgetTokens, settings.window);
          const widen = (first: number, last: number) => messages.slice(first, last + 1);
          if (unit === "segments") {
            const order = [...rankedSpans(index, q, matched, episodes, ranking, limit)];
            const ranked = [...spanCandidates(order, widen, limit)];
            const selection = selectWith(conversation, pinned, query, budgetTokens, { recent, ranked, ...rankedLoopBounds(settings.window) });
            return { ...selection, matchedEpisode: matched.id };
          }
          const order = rankTurnMessages({
            lexical, query, weights,
            spans: variant.noDensePool ? null : rankedSpans(index, q, matched, episodes, ranking, DENSE_POOL_SEGMENTS),
            messageDense: variant.perMessageDense ? (seqs) => messageDenseScores(kernels, q, seqs.map((s) => messages[s]!.content), idf) : null,
            eligible: (seq) => messages[seq]!.role !== "system",
            textsOf: (seqs) => seqs.map((seq) => messages[seq]!.content),
            // turn-context.ts: the budget over the mean message's tokens.
            expectedMessages: Math.ceil(budgetTokens / Math.max(1, conversation.totalTokens / Math.max(1, messages.length))),
          });
          const ranked = rankedCandidates(order, widen, (seq) => lexical.role(seq), { top: weights.neighbourTop, radius: weights.neighbourRadius });
          const selection = selectWith(conversation, pinned, query, budgetTokens, { recent, ranked, ...messageLoopBounds(smallestTokens) });
          return { ...selection, matchedEpisode: matched.id };
        },
        episodeOf: (seq) => episodeOfSeq.get(seq) ?? null,
      };
    },
  };
}

/** ConversationStore.recentMeta + selectFor: the last `count` messages as whole units, newest first. */
function recentCandidates(conversation: StoredConversation, count: number): Candidate[] {
  if (count <= 0) return [];
  const from = Math.max(0, conversation.messages.length - count);
  const head = Math.min(conversation.messages[from]?.unitHead ?? from, from);
  const units: StoredEvalMessage[][] = groupUnits(conversation.messages.slice(head));
  return units.reverse().map((unit) => ({ messages: unit, provenance: { kind: "recent" } }));
}

// The append pipeline: what storing new messages writes besides the messages.
//
// An append (import, or a committed turn) runs in two steps. `prepareAppend`
// computes the rows (hash chain, token estimate, tool-call unit), closes full
// segment windows over the open tail (segmentation.ts) and embeds them; the
// embedding may await a remote endpoint, so it happens before the
// transaction. `writeAppend` then stores messages and segments, counts the
// segments' hash buckets for the IDF (bucket-idf.ts), assigns each segment
// online to its nearest episode (episodes.ts, assignOnline), and schedules a
// full re-clustering when the online fit has drifted (shouldRecluster). The
// caller runs it inside the transaction that also holds the turn's other
// writes, so an append is all-or-nothing.
import type { ChatMessage } from "./conversation-api";
import type { ConversationStore, EpisodeRow, MessageRow, SegmentRow } from "./conversation-store";
import { chainNext, messageDigest, messageId } from "./hash-chain";
import { unitHeadFor, type UnitLink } from "./tool-units";
import { appendBase, type AppendStart } from "./fork";
import { RECLUSTER_DELAY_MS, RECLUSTER_JOB } from "./alarm-jobs";
import { addDocumentFrequency, reweightRows } from "../episodes/bucket-idf";
import type { Embedder } from "../episodes/embedder";
import { assignOnline, shouldRecluster, type OnlineCentroid } from "../episodes/episodes";
import { closeWindows, type SegmentSpan } from "../episodes/segmentation";
import type { IndexedSegment } from "../selection/mirrors";
import { messageWeight, tokensForWeight } from "../selection/token-estimator";

export interface PreparedAppend {
  rows: MessageRow[];
  segments: SegmentSpan[];
  vectors: Float32Array[];
  firstSegmentId: number;
  /** Where the next append continues once this one is stored: what appendBase would read then… */
  next: AppendStart;
  /** …for segment windows of this many utterances. */
  window: number;
}

/** Message rows continuing the stored conversation after `last` (null: it is empty); `digests`: the messages' digests, when the caller has them already. */
export function messageRows(last: ReturnType<ConversationStore["lastMessage"]>, messages: readonly ChatMessage[], charsPerToken: number, now: number, digests?: readonly string[]): MessageRow[] {
  const rows: MessageRow[] = [];
  let chain = last?.chain ?? "";
  let link: UnitLink | null = last ? { seq: last.seq, role: last.role, hasToolCalls: last.tool_calls !== null, unitHead: last.unit_head } : null;
  let seq = last ? last.seq + 1 : 0;
  for (const [i, m] of messages.entries()) {
    const digest = digests?.[i] ?? messageDigest(m);
    chain = chainNext(chain, digest);
    const weight = messageWeight(m);
    const unitHead = unitHeadFor(link, { seq, role: m.role });
    rows.push({
      seq, id: messageId(chain), role: m.role, content: m.content, name: m.name ?? null, tool_call_id: m.tool_call_id ?? null,
      tool_calls: m.tool_calls?.length ? JSON.stringify(m.tool_calls) : null, tokens: tokensForWeight(weight, charsPerToken),
      digest, chain, created_at: now, weight, unit_head: unitHead,
    });
    link = { seq, role: m.role, hasToolCalls: !!m.tool_calls?.length, unitHead };
    seq++;
  }
  return rows;
}

/**
 * Rows, closed segments and their embeddings for `messages` (reads only;
 * awaits the embedder). With `forkAt`, they continue the conversation as it
 * will be once the fork applied (fork.ts, appendBase). `start`: where the
 * conversation continues, when the caller knows it from the previous
 * append's `next` and nothing was written since (three SQL reads saved).
 */
export async function prepareAppend(
  store: ConversationStore, messages: readonly ChatMessage[], window: number, charsPerToken: number, embedder: Embedder, now: number,
  forkAt: number | null = null, digests?: readonly string[], start?: AppendStart,
): Promise<PreparedAppend> {
  const base = start ?? appendBase(store, forkAt, window);
  const rows = messageRows(base.last, messages, charsPerToken, now, digests);
  const { segments, openTail } = closeWindows(base.tail, rows, window);
  if (segments.length) refuseOtherEmbedder(store, embedder);
  const vectors = segments.length ? await embedder.embed(segments.map((s) => s.text)) : [];
  const next: AppendStart = { last: rows.length ? rows[rows.length - 1]! : base.last, tail: openTail, nextSegmentId: base.nextSegmentId + segments.length };
  return { rows, segments, vectors, firstSegmentId: base.nextSegmentId, next, window };
}

/**
 * Segments of one conversation are compared with each other, so they must come from one embedder. Checked
 * while preparing, before anything is written or a turn is accepted (conversation-do.ts stageTurn): a
 * mismatch is a refusal the client sees, not a write that fails after its answer.
 */
function refuseOtherEmbedder(store: ConversationStore, embedder: Embedder): void {
  const stored = store.meta("embedder");
  if (stored !== null && stored !== embedder.name) {
    throw new Error(`this conversation's segments were embedded with ${stored}, the configured embedder is ${embedder.name}; start a new conversation after changing EMBEDDINGS_URL`);
  }
}

/** Stores a prepared append (inside the caller's transaction); returns its segments as the index holds them. */
export function writeAppend(store: ConversationStore, prepared: PreparedAppend, embedder: Embedder, episodesWanted: number, idf: Float32Array | null): IndexedSegment[] {
  const { rows } = prepared;
  if (rows.length) store.insertMessages(rows);
  store.addCounter("messages", rows.length);
  store.addCounter("weight", rows.reduce((s, r) => s + r.weight, 0));
  return addSegments(store, prepared, embedder, episodesWanted, idf);
}

/** Stores new segments, counts their buckets, assigns them online; schedules a re-clustering when due. */
function addSegments(store: ConversationStore, { segments, vectors, firstSegmentId }: PreparedAppend, embedder: Embedder, k: number, idf: Float32Array | null): IndexedSegment[] {
  if (!segments.length) return [];
  if (store.meta("embedder") === null) { // the first segment names the embedder (prepareAppend refused another)
    store.setMeta("embedder", embedder.name);
    store.setMeta("dim", String(vectors[0]!.length));
  }
  const dim = vectors[0]!.length;
  const df = new Float64Array(store.metaJson<number[]>("bucket_df") ?? new Array(dim).fill(0));
  const episodes: (OnlineCentroid & Partial<EpisodeRow>)[] = store.episodes();
  const touched = new Set<number>();
  let nextId = store.counter("next_episode_id");
  let cosineSum = 0;
  const indexed: IndexedSegment[] = [];
  const stored: { segment: SegmentRow; vec: Float32Array }[] = [];
  // One weighted vector at a time (assignOnline copies what it keeps), no array per segment (docs/memory.md).
  const weighted = new Float32Array(dim);
  segments.forEach((s, i) => {
    const vec = vectors[i]!;
    if (embedder.usesIdf) addDocumentFrequency(df, vec);
    weighted.set(vec);
    reweightRows(weighted, dim, idf);
    const assigned = assignOnline(episodes, weighted, k, () => nextId++);
    touched.add(assigned.id);
    cosineSum += assigned.cosine;
    stored.push({ segment: { id: firstSegmentId + i, first_seq: s.first_seq, last_seq: s.last_seq, episode: assigned.id, score: assigned.cosine }, vec });
    indexed.push({ id: firstSegmentId + i, episode: assigned.id, first: s.first_seq, last: s.last_seq, vec });
  });
  store.insertSegments(stored);
  // Online seeds get representatives and top terms at the next full clustering.
  for (const e of episodes) if (touched.has(e.id)) store.saveEpisode({ id: e.id, centroid: e.centroid, size: e.size, representatives: e.representatives ?? [], top_terms: e.top_terms ?? [] });
  store.setCounter("next_episode_id", nextId);
  if (embedder.usesIdf) store.setMeta("bucket_df", JSON.stringify(Array.from(df)));
  store.addCounter("segments", segments.length);
  store.addCounter("since_fit", segments.length);
  store.addCounter("online_cosine_sum", cosineSum);
  const due = shouldRecluster({
    segments: store.counter("segments"),
    sinceFit: store.counter("since_fit"),
    atFit: store.counter("at_fit"),
    fitMeanCosine: Number(store.meta("fit_mean_cosine") ?? 0),
    onlineCosineSum: store.counter("online_cosine_sum"),
    episodesWanted: k,
  });
  if (due) store.schedule(RECLUSTER_JOB, Date.now() + RECLUSTER_DELAY_MS);
  return indexed;
}

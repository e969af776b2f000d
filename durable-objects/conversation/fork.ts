// Applying a fork (history-divergence.ts decides when): the stored messages
// from the divergence point on are superseded — moved, unchanged, to
// superseded_messages with the time of the fork — so the live tables
// (messages, segments, embeddings, the in-memory mirrors built from them)
// hold exactly the live conversation and nothing downstream (selection,
// episodes, listing, kv mode) needs a filter. Derived state that covered them
// is undone: segments reaching the fork point are deleted with their bucket
// document frequencies (the open tail is re-windowed by the append that
// follows), a full re-clustering is scheduled (episode centroids included
// them), the kv mirror restarts, and the lexical window's kept floor moves
// back by as many messages as were superseded. The caller runs this and the append of
// the new messages in one transaction.
import type { StoredMessage } from "./conversation-api";
import { storedMessage, type ConversationStore, type MessageRow, type SegmentRow, type TailMessage } from "./conversation-store";
import type { Utterance } from "../episodes/segmentation";
import { removeDocumentFrequency } from "../episodes/bucket-idf";
import { forgetKvMirror } from "../kv/kv-durable";
import { moveLexicalFloorBack } from "../selection/lexical-window";

/** Where an append continues: the conversation as it will be once a fork at `forkAt` (or none) applied. */
export interface AppendBase {
  last: TailMessage | null;
  lastSegment: SegmentRow | null;
  /** The open window: utterances after the last segment (fewer than a window). */
  tail: Utterance[];
  /** Id of the first new segment (never an id a deleted segment had: episodes may still name it until re-clustered). */
  nextSegmentId: number;
}

/** What an append reads of its base (prepareAppend). */
export type AppendStart = Pick<AppendBase, "last" | "tail" | "nextSegmentId">;

/** Reads only: run before the append embeds, so the embedding sees the post-fork window. */
export function appendBase(store: ConversationStore, forkAt: number | null, window: number): AppendBase {
  const lastSegmentEver = store.lastSegment();
  const last = forkAt === null ? store.lastMessage() : store.lastMessageBefore(forkAt);
  const lastSegment = forkAt === null ? lastSegmentEver : store.lastSegmentBefore(forkAt);
  const tail = store.utterancesAfter(lastSegment?.last_seq ?? -1, window, forkAt ?? undefined);
  return { last, lastSegment, tail, nextSegmentId: (lastSegmentEver?.id ?? 0) + 1 };
}

/** Supersedes messages at and after `at` and undoes what was derived from them (inside the caller's transaction). */
export function supersedeFrom(store: ConversationStore, at: number, now: number, schedule: { reclusterAt: number }): { superseded: number } {
  const moved = store.supersedeMessagesFrom(at, now);
  if (moved.count === 0) return { superseded: 0 };
  store.addCounter("messages", -moved.count);
  store.addCounter("weight", -moved.weight);
  const deleted = store.deleteSegmentsFrom(at);
  if (deleted.length) {
    store.addCounter("segments", -deleted.length);
    const raw = store.metaJson<number[]>("bucket_df");
    if (raw) {
      const df = Float64Array.from(raw);
      for (const vec of deleted) if (vec.length === df.length) removeDocumentFrequency(df, vec);
      store.setMeta("bucket_df", JSON.stringify(Array.from(df)));
    }
    store.schedule("recluster", schedule.reclusterAt);
  }
  forgetKvMirror(store.sql);
  moveLexicalFloorBack(store, moved.count);
  return { superseded: moved.count };
}

/** A listing page with the superseded messages of its seq range, each after the live message that took its seq. */
export function withSuperseded(live: readonly StoredMessage[], superseded: readonly (MessageRow & { superseded_at: number })[]): StoredMessage[] {
  const out: StoredMessage[] = [];
  const marked = (r: MessageRow & { superseded_at: number }): StoredMessage => ({ ...storedMessage(r), superseded_at: r.superseded_at });
  let j = 0;
  for (const m of live) {
    out.push(m);
    while (j < superseded.length && superseded[j]!.seq <= m.seq) out.push(marked(superseded[j++]!));
  }
  while (j < superseded.length) out.push(marked(superseded[j++]!));
  return out;
}

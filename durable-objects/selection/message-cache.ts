// A bounded, least-recently-used cache of stored message rows for the text
// of a turn's context. Consecutive turns of a conversation select largely
// the same messages (the recent window, the matched episode's best
// segments), and those rows are scattered over the whole messages table, so
// reading them again costs one SQLite page per run (profiled: ≈ 1.5 ms of a
// 100k-message turn). Stored messages never change (the conversation only
// grows; delete clears the object), so a cached row is never stale.
//
// Memory: bounded by `maxChars` characters of content and tool calls plus a
// fixed per-row allowance (ROW_OVERHEAD_CHARS), evicting the least recently
// used rows first.
import type { StoredMessageRow } from "../conversation/conversation-store";

/** Allowance per cached row for its id, other fields and the map entry (in characters). */
export const ROW_OVERHEAD_CHARS = 128;

interface Entry {
  seq: number;
  row: StoredMessageRow;
  chars: number;
  /** Neighbours in recency order (older, newer). */
  older: Entry | null;
  newer: Entry | null;
}

export class MessageCache {
  // Recency is a linked list through the entries: a hit moves one entry to
  // the newest end and eviction takes from the oldest, both O(1). (Re-inserting
  // hits into a Map and evicting its first key was ≈ 0.75 ms per 100k-message
  // turn: a Map iterator walks past every deleted slot left at the front.)
  private readonly entries = new Map<number, Entry>();
  private oldest: Entry | null = null;
  private newest: Entry | null = null;
  private chars = 0;

  constructor(readonly maxChars: number) {}

  /** Characters accounted to the cached rows (≤ maxChars). */
  get size(): number {
    return this.chars;
  }

  /** Bytes at most two per character (V8 strings are one or two bytes per UTF-16 unit). */
  get bytes(): number {
    return 2 * this.chars;
  }

  /** The rows of `seqs`; the missing ones are read with one call to `load`. */
  get(seqs: readonly number[], load: (missing: number[]) => Map<number, StoredMessageRow>): Map<number, StoredMessageRow> {
    const out = new Map<number, StoredMessageRow>();
    const missing: number[] = [];
    for (const seq of seqs) {
      const entry = this.entries.get(seq);
      if (entry === undefined) {
        missing.push(seq);
        continue;
      }
      this.unlink(entry);
      this.append(entry);
      out.set(seq, entry.row);
    }
    if (missing.length) {
      for (const [seq, row] of load(missing)) {
        out.set(seq, row);
        this.put(seq, row);
      }
    }
    return out;
  }

  clear(): void {
    this.entries.clear();
    this.oldest = this.newest = null;
    this.chars = 0;
  }

  /** Keeps a row just stored (a committed append's newest rows: the next turn's recent window). */
  put(seq: number, row: StoredMessageRow): void {
    const chars = rowChars(row);
    if (chars > this.maxChars || this.entries.has(seq)) return;
    const entry: Entry = { seq, row, chars, older: null, newer: null };
    this.entries.set(seq, entry);
    this.append(entry);
    this.chars += chars;
    while (this.chars > this.maxChars && this.oldest !== null) {
      const old = this.oldest;
      this.unlink(old);
      this.entries.delete(old.seq);
      this.chars -= old.chars;
    }
  }

  private append(entry: Entry): void {
    entry.older = this.newest;
    entry.newer = null;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  private unlink(entry: Entry): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = entry.newer = null;
  }
}

function rowChars(row: StoredMessageRow): number {
  return ROW_OVERHEAD_CHARS + row.content.length + (row.tool_calls?.length ?? 0) + (row.name?.length ?? 0) + (row.tool_call_id?.length ?? 0);
}

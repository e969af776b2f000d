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
import type { StoredMessageRow } from "./conversation-store";

/** Allowance per cached row for its id, other fields and the map entry (in characters). */
export const ROW_OVERHEAD_CHARS = 128;

export class MessageCache {
  /** Insertion order = recency order (a hit is re-inserted at the end). */
  private readonly rows = new Map<number, StoredMessageRow>();
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
      const row = this.rows.get(seq);
      if (row === undefined) {
        missing.push(seq);
        continue;
      }
      this.rows.delete(seq);
      this.rows.set(seq, row);
      out.set(seq, row);
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
    this.rows.clear();
    this.chars = 0;
  }

  private put(seq: number, row: StoredMessageRow): void {
    const cost = rowChars(row);
    if (cost > this.maxChars || this.rows.has(seq)) return;
    this.rows.set(seq, row);
    this.chars += cost;
    for (const [oldSeq, old] of this.rows) {
      if (this.chars <= this.maxChars) break;
      this.rows.delete(oldSeq);
      this.chars -= rowChars(old);
    }
  }
}

function rowChars(row: StoredMessageRow): number {
  return ROW_OVERHEAD_CHARS + row.content.length + (row.tool_calls?.length ?? 0) + (row.name?.length ?? 0) + (row.tool_call_id?.length ?? 0);
}

// The lexical index's window (docs/context-selection.md, "Past the cap"):
// a conversation whose postings would pass MAX_LEXICAL_BYTES (mirrors.ts)
// is indexed from a floor seq on, the latest messages that fit. Where the
// next floor goes when the window passes the cap, and where the floor is
// kept so a restarted object builds the window directly. Pure apart from
// the meta reads and writes.
import type { ConversationStore } from "../conversation/conversation-store";

/** A lexical window holds at least this many messages; a conversation whose text does not fit that is ranked by segments alone. */
export const MIN_LEXICAL_WINDOW = 1024;
/** Meta key of the lexical window's first seq (absent: 0). */
export const LEXICAL_FLOOR_META = "lexical_floor";

/**
 * The next lexical window's first seq, when the window from `floor` passed
 * the cap at message `reached`: the latest ¾ as many messages as fitted,
 * ending at `last`, so a quarter of the cap is left for appends before the
 * window moves again (one rebuild per quarter window of appends). Null when
 * that is under MIN_LEXICAL_WINDOW messages.
 */
export function nextLexicalFloor(floor: number, reached: number, last: number): number | null {
  const keep = Math.floor(((reached - floor) * 3) / 4);
  if (keep < MIN_LEXICAL_WINDOW) return null;
  return Math.max(floor + 1, last + 1 - keep);
}

/** The persisted window start (0 when none). */
export function lexicalFloor(store: ConversationStore): number {
  const raw = Number(store.meta(LEXICAL_FLOOR_META) ?? 0);
  return Number.isInteger(raw) && raw > 0 ? raw : 0;
}

/** A fork that supersedes messages from `at` on moves the lexical window back to the start if it began there or later (fork.ts). */
export function forgetLexicalFloorFrom(store: ConversationStore, at: number): void {
  if (lexicalFloor(store) >= at) store.setMeta(LEXICAL_FLOOR_META, "0");
}

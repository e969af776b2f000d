// The lexical index's window (docs/context-selection.md, "Past the cap"):
// a conversation whose postings would pass MAX_LEXICAL_BYTES (mirrors.ts)
// is indexed from a floor seq on, the latest messages that fit. Where the
// next floor goes when the window passes the cap, and where the floor is
// kept so a restarted object builds the window directly. Pure apart from
// the meta reads and writes.
import type { ConversationStore } from "../conversation/conversation-store";

/** A lexical window holds at least this many messages; a conversation whose text does not fit that is ranked by segments alone. */
export const MIN_LEXICAL_WINDOW = 1024;
/** Meta key of the lexical window's first seq and the cap it was chosen under ("floor/capBytes"; absent: 0). */
export const LEXICAL_FLOOR_META = "lexical_floor";
/**
 * A window is built to at most this share of the cap: the rest is room for
 * what a query adds (the gathered postings buffer grows to the largest
 * query's postings, ≈ 7–8% of the index for questions) and for appends, so
 * a window does not move on the turn after it was built.
 */
export const LEXICAL_BUILD_SHARE = 7 / 8;

/**
 * The next lexical window's first seq, when the window from `floor` passed
 * the cap at message `reached`: the latest ¾ as many messages as fitted,
 * ending at `last`, so a quarter of the cap is left for appends before the
 * window moves again (one rebuild per quarter window of appends). Null when
 * that is under MIN_LEXICAL_WINDOW messages. A `last` below `reached` (a
 * stale read) counts as `reached`, so the floor always moves by at least a
 * quarter of what fitted.
 */
export function nextLexicalFloor(floor: number, reached: number, last: number): number | null {
  const keep = Math.floor(((reached - floor) * 3) / 4);
  if (keep < MIN_LEXICAL_WINDOW) return null;
  return Math.max(floor + 1, Math.max(last, reached) + 1 - keep);
}

/** The kept window start for a cap of `capBytes` (0 when none was kept, or it was chosen under another cap). */
export function lexicalFloor(store: ConversationStore, capBytes: number): number {
  const kept = keptFloor(store);
  return kept?.capBytes === capBytes ? kept.floor : 0;
}

/** Keeps the window start with the cap it was chosen under. */
export function keepLexicalFloor(store: ConversationStore, floor: number, capBytes: number): void {
  store.setMeta(LEXICAL_FLOOR_META, `${floor}/${capBytes}`);
}

/** The kept "floor/capBytes", or null when none (or unreadable, or at 0). */
function keptFloor(store: ConversationStore): { floor: number; capBytes: number } | null {
  const [floor, capBytes] = (store.meta(LEXICAL_FLOOR_META) ?? "").split("/").map(Number);
  return Number.isInteger(floor) && Number.isInteger(capBytes) && floor! > 0 ? { floor: floor!, capBytes: capBytes! } : null;
}

/**
 * A fork superseded the newest `superseded` messages: the kept window moves
 * back as far, so it keeps its size in messages (fork.ts). Without it, a
 * fork just after the floor would leave a window of a few messages that
 * only a window's worth of appends would widen again.
 */
export function moveLexicalFloorBack(store: ConversationStore, superseded: number): void {
  const kept = keptFloor(store);
  if (kept && superseded > 0) keepLexicalFloor(store, Math.max(0, kept.floor - superseded), kept.capBytes);
}

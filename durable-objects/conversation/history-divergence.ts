// How a chat turn's resent history relates to the stored conversation, with
// forks: the rule chat UIs are written for (docs/conversation-state.md,
// "Regenerate, edit and concurrent resends"). Pure: the hash chain
// (hash-chain.ts) in, a decision out; the object applies it (fork.ts).
//
// Request R (k messages), stored live conversation S (N messages), c = the
// longest common prefix of R and S (by chain value):
//  (a) full history: c = N — R[N..] is appended.
//  (q) queued behind others: when the request arrived, its client could have
//      seen only S's first `seen` messages (the rest became visible — their
//      reply reached a client — after it arrived; conversation-do.ts reads
//      this from created_at). If R continues all of those (c ≥ seen), the
//      rest were appended by turns running ahead of it, and R[c..] is
//      appended after them. Concurrent resends therefore all land, in arrival
//      order; none supersedes another.
//  (b) tail overlap and (d) new only: as in hash-chain.ts (clients that trim
//      old history, or send only the new turn).
//  (f) fork — R resends a history that leaves S at position c:
//       - regenerate: R is S without its last assistant reply (k = N − 1), or
//         any proper prefix of S with two or more non-system messages;
//       - edit: R and S differ at c < min(k, N), and R carries history (two or
//         more non-system messages, and either agrees with S on one of them
//         from the start or contains an assistant message — a client sending
//         only its new turn sends no assistant message).
//      S[c..] is superseded (kept, marked, out of selection, episodes and
//      listing) and R[c..] appended, in one transaction.
//  A conversation with history "strict" never forks: (f) is the 409
//  history_conflict of hash-chain.ts rule (c), as before forks existed.
import type { ChatMessage, Role } from "./conversation-api";
import { HistoryConflictError } from "./conversation-api";
import { chainValues, commonPrefixLength, matchRequest, messageDigest, type RequestMatch, type StoredChainView } from "./hash-chain";

export type HistoryMode = "fork" | "strict";

export interface HistoryOptions {
  mode: HistoryMode;
  /** Live messages the request's client could have seen: those visible before the request arrived at the edge. */
  seen?: number;
  /** Role of the last stored message (the regenerate rule needs it). */
  lastRole?: Role | null;
}

export interface HistoryDecision extends Omit<RequestMatch, "rule"> {
  rule: RequestMatch["rule"] | "queued" | "fork";
  /** The divergence point: stored messages at and after it are superseded. null: nothing is. */
  forkAt: number | null;
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

export function resolveHistory(request: readonly ChatMessage[], stored: StoredChainView, options: HistoryOptions): HistoryDecision {
  const k = request.length;
  const digests = request.map(messageDigest);
  const common = commonPrefixLength(chainValues(digests), stored);
  if (common === stored.count) return { rule: "full-history", newIndices: range(common, k), duplicates: common, digests, forkAt: null };
  // Past (a), so turns queued ahead of this one appended after what it saw.
  if (options.seen !== undefined && options.seen < stored.count && common >= options.seen) {
    return { rule: "queued", newIndices: range(common, k), duplicates: common, digests, forkAt: null };
  }
  if (options.mode === "strict") return { ...matchRequest(request, stored, digests), forkAt: null };

  let match: RequestMatch;
  try {
    match = matchRequest(request, stored, digests);
  } catch (err) {
    if (!(err instanceof HistoryConflictError)) throw err;
    return fork(common, k, digests);
  }
  if (match.rule !== "new-only") return { ...match, forkAt: null };
  const nonSystem = request.filter((m) => m.role !== "system").length;
  const regenerate = common === k && k === stored.count - 1 && options.lastRole === "assistant" && nonSystem >= 1;
  const resentHistory = nonSystem >= 2 && request.some((m) => m.role === "assistant");
  if (regenerate || resentHistory) return fork(common, k, digests);
  return { ...match, forkAt: null };
}

function fork(at: number, k: number, digests: string[]): HistoryDecision {
  return { rule: "fork", newIndices: range(at, k), duplicates: at, digests, forkAt: at };
}

/** Whether a stored message is still part of the live conversation under a pending fork (the ranking's exclusion test while a fork turn is planned). */
export function liveBefore(forkAt: number | null): (seq: number) => boolean {
  return forkAt === null ? () => true : (seq) => seq < forkAt;
}

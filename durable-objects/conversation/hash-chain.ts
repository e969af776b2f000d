// Hash chain over a conversation's messages, and the rule that decides which
// messages of a chat request are new.
//
// Each message has a digest d = H(role, content, name, tool_call_id,
// tool_calls) and a chain value c_i = H(c_{i-1}, d_i) with c_{-1} = "". The
// chain value names a message together with everything before it, so "the
// request starts with the whole stored conversation" is one comparison.
//
// Matching rule (documented in docs/conversation-state.md). Request R of k
// messages, stored conversation S of N messages:
//  (a) full history — R's first N chain values equal S's: the new messages
//      are R[N..]. (OpenAI clients resend everything; N = 0 makes all new.)
//  (b) tail overlap — drop R's leading system messages that are already
//      stored (any stored system message with the same digest), giving R'.
//      If a prefix of R' of length j ≥ 1 equals the last j stored messages
//      (longest such j), R'[j..] is new. (Clients that trim old history, or
//      resend only the last exchange.)
//  (c) conflict — otherwise, if R and S agree from the start on at least one
//      non-system message but R does not continue all of S (it differs or
//      stops before S ends), and R holds two or more non-system messages,
//      the history was edited or rewound: rejected with
//      HistoryConflictError (HTTP 409). Stored history is never rewritten.
//  (d) new only — otherwise every message of R' is new (clients that send
//      only the new turn).
import { sha256TextHex } from "../../protocol/sha256";
import type { ChatMessage } from "./conversation-api";
import { HistoryConflictError } from "./conversation-api";

const HEX_CHARS = 32; // 128 bits of SHA-256: collisions are not a practical concern for one conversation

function sha256Hex(text: string): string {
  return sha256TextHex(text, HEX_CHARS);
}

/** Digest of one message's identity (unambiguous JSON framing of its fields). */
export function messageDigest(m: ChatMessage): string {
  return sha256Hex(JSON.stringify([m.role, m.content, m.name ?? null, m.tool_call_id ?? null, m.tool_calls ?? null]));
}

/** c_i = H(c_{i-1}, d_i); the genesis previous value is "". */
export function chainNext(previous: string, digest: string): string {
  return sha256Hex(`${previous}|${digest}`);
}

/** Chain values of `digests` continuing from `previous`. */
export function chainValues(digests: readonly string[], previous = ""): string[] {
  const out: string[] = new Array(digests.length);
  let c = previous;
  for (let i = 0; i < digests.length; i++) out[i] = c = chainNext(c, digests[i]!);
  return out;
}

/** Stable public id of a stored message. */
export function messageId(chain: string): string {
  return `msg_${chain.slice(0, 24)}`;
}

/**
 * Longest j such that pattern[0..j) equals the last j entries of text (KMP,
 * O(|pattern| + |text|), immune to repeated messages such as "ok").
 */
export function longestPrefixSuffixOverlap(pattern: readonly string[], text: readonly string[]): number {
  const m = pattern.length;
  if (m === 0 || text.length === 0) return 0;
  const fail = new Int32Array(m);
  for (let i = 1, k = 0; i < m; i++) {
    while (k > 0 && pattern[i] !== pattern[k]) k = fail[k - 1]!;
    if (pattern[i] === pattern[k]) k++;
    fail[i] = k;
  }
  let state = 0;
  for (const t of text) {
    if (state === m) state = fail[m - 1]!;
    while (state > 0 && t !== pattern[state]) state = fail[state - 1]!;
    if (t === pattern[state]) state++;
  }
  return state;
}

/** What the matcher needs to know about the stored conversation (read lazily: O(log N) chain lookups plus a tail). */
export interface StoredChainView {
  count: number;
  /** Chain value of stored message `seq` (0 ≤ seq < count). */
  chainAt(seq: number): string;
  /** Digests of the last `n` stored messages, oldest first. */
  tailDigests(n: number): string[];
  /** Whether a stored system message has this digest. */
  hasSystemDigest(digest: string): boolean;
}

export type MatchRule = "full-history" | "tail-overlap" | "new-only";

export interface RequestMatch {
  rule: MatchRule;
  /** Indices into the request of the messages to append, in order. */
  newIndices: number[];
  /** Request messages recognised as already stored. */
  duplicates: number;
  /** Digests of the request's messages (reused for appending). */
  digests: readonly string[];
}

/** Longest common prefix, from the start, of the request's chain and the stored chain (chain equality is monotone, so binary search). */
export function commonPrefixLength(requestChains: readonly string[], stored: StoredChainView): number {
  let lo = 0;
  let hi = Math.min(requestChains.length, stored.count);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (requestChains[mid - 1] === stored.chainAt(mid - 1)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Applies the matching rule above. Throws HistoryConflictError for rule (c). */
/** `digests`: the request's message digests, when the caller has them already. */
export function matchRequest(request: readonly ChatMessage[], stored: StoredChainView, digests: readonly string[] = request.map(messageDigest)): RequestMatch {
  const k = request.length;
  const range = (from: number) => Array.from({ length: k - from }, (_, i) => from + i);
  const requestChains = chainValues(digests);
  const common = commonPrefixLength(requestChains, stored);
  if (common === stored.count) return { rule: "full-history", newIndices: range(common), duplicates: common, digests };

  let skip = 0;
  while (skip < k && request[skip]!.role === "system" && stored.hasSystemDigest(digests[skip]!)) skip++;
  const rest = digests.slice(skip);
  const overlap = longestPrefixSuffixOverlap(rest, stored.tailDigests(Math.min(rest.length, stored.count)));
  if (overlap > 0) return { rule: "tail-overlap", newIndices: range(skip + overlap), duplicates: skip + overlap, digests };

  const nonSystem = request.filter((m) => m.role !== "system").length;
  const commonHasUtterance = request.slice(0, common).some((m) => m.role !== "system");
  if (commonHasUtterance && nonSystem >= 2) {
    throw new HistoryConflictError(common, stored.count);
  }
  return { rule: "new-only", newIndices: range(skip), duplicates: skip, digests };
}

/** The chain value of a request's messages (order and content): an Idempotency-Key replays only for the same request. */
export function requestFingerprint(messages: readonly ChatMessage[], digests: readonly string[] = messages.map(messageDigest)): string {
  return digests.reduce((c, d) => chainNext(c, d), "");
}

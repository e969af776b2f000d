// Context selection under a token budget (docs/context-mode.md).
//
// Priority, each step only while the budget allows:
//   1. required — pinned system messages, and the stored head of a tool-call
//      unit the new messages answer (never optional);
//   2. the current turn's new messages (never optional);
//   3. the recent window, newest unit first, stopping at the first unit that
//      does not fit (so the verbatim window stays contiguous);
//   4. ranked segments: the matched episode's segments by relevance to the
//      query, then the other episodes' best (representative) segments by
//      relevance; a segment that does not fit is skipped, later smaller ones
//      may still fit (bounded by minCandidateTokens and maxConsecutiveSkips).
// Output is in conversation order (stored messages by seq, then the turn).
// The estimate never exceeds the budget: if 1 + 2 alone do, selection throws
// ContextOverBudgetError instead of silently dropping what must be sent.
//
// A candidate is an atomic unit: a message, a segment, or either widened to
// whole tool-call units (an assistant message with tool_calls plus the tool
// results answering it), so the backend never sees half of a tool exchange.
// Messages chosen by several candidates keep the first provenance.
//
// Pure: metadata in (seq, tokens), seqs and provenance out. The caller loads
// only the chosen messages' text, so memory is bounded by the budget.
import type { Provenance } from "../conversation/conversation-api";
import { ContextOverBudgetError } from "../conversation/conversation-api";

export interface MessageRef {
  seq: number;
  tokens: number;
}

export interface Candidate {
  messages: readonly MessageRef[];
  provenance: Provenance;
}

export interface SelectionInput {
  budgetTokens: number;
  /** Per-request overhead outside any message (reply priming). */
  baseTokens: number;
  required: readonly Candidate[];
  /** Token estimates of the turn's new messages (not stored yet). */
  turnTokens: readonly number[];
  /** Recent units, newest first. */
  recent: Iterable<Candidate>;
  /** Segments in priority order (may be lazy: consumed only while budget remains). */
  ranked: Iterable<Candidate>;
  /** Stop taking ranked candidates once fewer tokens than this remain (no candidate can be cheaper). Default 1. */
  minCandidateTokens?: number;
  /** Stop after this many ranked candidates in a row did not fit (bounds work when the budget is nearly spent). Default unlimited. */
  maxConsecutiveSkips?: number;
}

export interface SelectedMessage {
  seq: number;
  tokens: number;
  provenance: Provenance;
}

export interface SelectionResult {
  /** Stored messages, in conversation order. */
  stored: SelectedMessage[];
  usedTokens: number;
}

export function selectContext(input: SelectionInput): SelectionResult {
  const { budgetTokens } = input;
  if (!Number.isFinite(budgetTokens) || budgetTokens <= 0) throw new RangeError(`budget must be positive, got ${budgetTokens}`);
  const chosen = new Map<number, SelectedMessage>();
  const costOf = (c: Candidate) => {
    // Most ranked candidates are one message: no set needed to count it once.
    if (c.messages.length === 1) return chosen.has(c.messages[0]!.seq) ? 0 : c.messages[0]!.tokens;
    let cost = 0;
    const seen = new Set<number>();
    for (const m of c.messages) {
      if (chosen.has(m.seq) || seen.has(m.seq)) continue;
      seen.add(m.seq);
      cost += m.tokens;
    }
    return cost;
  };
  const take = (c: Candidate) => {
    for (const m of c.messages) if (!chosen.has(m.seq)) chosen.set(m.seq, { seq: m.seq, tokens: m.tokens, provenance: c.provenance });
  };

  let used = input.baseTokens;
  for (const t of input.turnTokens) used += t;
  for (const c of input.required) {
    used += costOf(c);
    take(c);
  }
  if (used > budgetTokens) throw new ContextOverBudgetError(used, budgetTokens);

  for (const c of input.recent) {
    const cost = costOf(c);
    if (used + cost > budgetTokens) break;
    used += cost;
    take(c);
  }
  const minCost = Math.max(1, input.minCandidateTokens ?? 1);
  const maxSkips = input.maxConsecutiveSkips ?? Infinity;
  let skips = 0;
  const candidates = input.ranked[Symbol.iterator]();
  // Checked before pulling: a lazy source does its work (SQL reads) only for candidates that may fit.
  while (budgetTokens - used >= minCost) {
    const next = candidates.next();
    if (next.done) break;
    const c = next.value;
    const cost = costOf(c);
    if (used + cost > budgetTokens) {
      if (++skips >= maxSkips) break;
      continue;
    }
    skips = 0;
    used += cost;
    take(c);
  }
  candidates.return?.();
  const stored = [...chosen.values()].sort((a, b) => a.seq - b.seq);
  return { stored, usedTokens: used };
}

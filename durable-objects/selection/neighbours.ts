// Neighbours: a ranked message brings the messages around it — the turns
// before and after, up to NEIGHBOUR radius on each side — as one candidate
// with one provenance, when the budget allows (docs/context-selection.md,
// step 7). In conversations the answer to a question often sits a turn or
// two away from the words that match it ("the company I'm joining changed" /
// "which one?" / "Pinecrest Schools"): the sentence-window retrieval of
// retrieval-augmented generation, with turns as sentences.
//
// Only the best `neighbourTop` messages bring a window: each costs up to
// 2·radius + 1 messages of budget, so lower down a second strong match is
// worth more than a window. A window that does not fit is followed by the
// message alone, which may still fit (selectContext counts only messages
// not yet chosen).
import type { Provenance, Role } from "../conversation/conversation-api";
import type { Candidate, MessageRef } from "./select-context";
import type { ScoredMessage } from "./message-ranking";

/** The stored non-system messages within `radius` of `seq`, as a contiguous range; null when there is none besides `seq`. */
export function neighbourWindow(seq: number, roleOf: (seq: number) => Role | null, radius: number): { first: number; last: number } | null {
  const inWindow = (s: number) => { const r = roleOf(s); return r !== null && r !== "system"; };
  let first = seq;
  let last = seq;
  while (first > seq - radius && inWindow(first - 1)) first--;
  while (last < seq + radius && inWindow(last + 1)) last++;
  return first === last ? null : { first, last };
}

/** Ranked messages as selection candidates: whole tool units (`widen`), the best `neighbourTop` with their window first. */
export function* rankedCandidates(
  order: Iterable<ScoredMessage>,
  widen: (first: number, last: number) => readonly MessageRef[],
  roleOf: (seq: number) => Role | null,
  neighbours: { top: number; radius: number },
): Generator<Candidate> {
  let rank = 0;
  for (const m of order) {
    const window = rank++ < neighbours.top ? neighbourWindow(m.seq, roleOf, neighbours.radius) : null;
    if (window !== null) yield { messages: widen(window.first, window.last), provenance: rankedProvenance(m, window) };
    yield { messages: widen(m.seq, m.seq), provenance: rankedProvenance(m, null) };
  }
}

function rankedProvenance(m: ScoredMessage, window: { first: number; last: number } | null): Provenance {
  return { kind: "ranked", seq: m.seq, episode: m.episode, lexical: m.lexical, dense: m.dense, fused: m.fused, window };
}

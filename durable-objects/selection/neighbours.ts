// Neighbours: a ranked message brings its partner turn — the question it
// answers, or the reply it got — as one candidate with one provenance, when
// the budget allows (docs/context-selection.md, step 5). In conversations
// the answer to a question often sits in the turn after the words that
// match it ("what did you paint?" / "a sunset over the lake").
//
// Only the best `partnerTop` messages bring a partner: each pair costs two
// messages of budget, so lower down a second strong match is worth more
// than a partner. A pair that does not fit is followed by the message alone,
// which may still fit (selectContext counts only messages not yet chosen).
import type { Provenance, Role } from "../conversation/conversation-api";
import type { Candidate, MessageRef } from "./select-context";
import type { ScoredMessage } from "./message-ranking";

/** The partner turn of `seq`: a user message's reply, or the user message an assistant reply answers; null when there is none. */
export function partnerOf(seq: number, roleOf: (seq: number) => Role | null): number | null {
  const role = roleOf(seq);
  if (role === "user") return roleOf(seq + 1) === "assistant" ? seq + 1 : null;
  if (role === "assistant") return roleOf(seq - 1) === "user" ? seq - 1 : null;
  return null;
}

/** Ranked messages as selection candidates: whole tool units (`widen`), the best `partnerTop` with their partner. */
export function* rankedCandidates(
  order: Iterable<ScoredMessage>,
  widen: (first: number, last: number) => readonly MessageRef[],
  roleOf: (seq: number) => Role | null,
  partnerTop: number,
): Generator<Candidate> {
  let rank = 0;
  for (const m of order) {
    const partner = rank++ < partnerTop ? partnerOf(m.seq, roleOf) : null;
    if (partner !== null) {
      const pair = widen(Math.min(m.seq, partner), Math.max(m.seq, partner));
      yield { messages: pair, provenance: rankedProvenance(m, partner) };
    }
    yield { messages: widen(m.seq, m.seq), provenance: rankedProvenance(m, null) };
  }
}

function rankedProvenance(m: ScoredMessage, partner: number | null): Provenance {
  return { kind: "ranked", seq: m.seq, episode: m.episode, lexical: m.lexical, dense: m.dense, fused: m.fused, partner };
}

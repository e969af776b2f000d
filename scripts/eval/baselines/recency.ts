// Recency-only baseline: the most recent history that fits the budget — a
// sliding window, what a chat client that simply truncates history sends.
// Offered to selectContext as its recent window (newest unit first, stopping
// at the first unit that does not fit), so the window stays contiguous and is
// counted by exactly the rule epikv's selection uses.
import type { Candidate } from "../../../durable-objects/selection/select-context";
import { historyUnits, pinnedCandidates, selectWith, type ContextPolicy, type StoredEvalMessage } from "../policy";

/** Every history unit, newest first. */
export function recencyRanking(units: readonly (readonly StoredEvalMessage[])[]): Candidate[] {
  return units.map((unit): Candidate => ({ messages: unit, provenance: { kind: "recent" } })).reverse();
}

export const recencyPolicy: ContextPolicy = {
  name: "recency",
  summary: "most recent messages that fit (sliding window)",
  async prepare(conversation) {
    const pinned = pinnedCandidates(conversation);
    const recent = recencyRanking(historyUnits(conversation));
    return { select: (query, budget) => selectWith(conversation, pinned, query, budget, { recent }) };
  },
};

// Evidence recall and its aggregation for the context evaluation.
import { termsOf } from "../../durable-objects/episodes/top-terms";

/** Fraction of `evidence` seqs that are in `selected` (1 when there is no evidence to find). */
export function evidenceRecall(evidence: readonly number[], selected: ReadonlySet<number>): number {
  if (evidence.length === 0) return 1;
  let hit = 0;
  for (const seq of evidence) if (selected.has(seq)) hit++;
  return hit / evidence.length;
}

/**
 * Share of a question's content words (3+ letters, no stop words; the
 * durable-objects/episodes/top-terms.ts rule) that also occur in its evidence: how much
 * a purely lexical retriever has to go on.
 */
export function lexicalOverlap(query: string, evidenceTexts: readonly string[]): number {
  const q = new Set(termsOf(query));
  if (q.size === 0) return 0;
  const e = new Set(evidenceTexts.flatMap((t) => termsOf(t)));
  let shared = 0;
  for (const t of q) if (e.has(t)) shared++;
  return shared / q.size;
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

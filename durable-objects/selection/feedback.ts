// Pseudo-relevance feedback (docs/context-selection.md, "Feedback"): the
// words of the question's best few matches join the question, so a second
// BM25 pass finds messages that share the matches' words but not the
// question's — the other half of a fact stated over two messages, the
// second hop of a two-fact question ("the hotel for my sister's wedding" →
// the message naming the wedding's city → the city's hotel).
//
// The relevance model of Lavrenko & Croft (SIGIR 2001) as RM3 uses it
// (Abdul-Jaleel et al., TREC 2004): over the top m messages R,
//   P(w | R) ∝ Σ_{d ∈ R} P(w | d) · P(d | q),  P(w | d) = tf(w, d) / |d|,
//   P(d | q) = the message's BM25 score over the top m's total;
// the `terms` most likely words are added with weight λ · P(w | R) / max P,
// so the strongest feedback word counts λ times its idf and a question word
// always counts more. Left out: function and question words (they carry no
// topic) and words in half the messages or more, whose Robertson–Spärck
// Jones weight is not positive (Robertson & Zaragoza 2009, §3.3: no
// evidence of relevance) and whose postings would cost a pass over most of
// the conversation for nothing (a template's "msg" or "detail").
import { expansionStopStems } from "./lexicon/expansion-stopwords";
import { MIN_INFORMATIVE_IDF } from "./lexical-index";

export interface FeedbackDocument {
  /** The message's index terms (content only: its speaker name is not a topic). */
  terms: readonly string[];
  /** Its first-pass BM25 score (> 0). */
  score: number;
}

/**
 * Feedback terms and their weights (λ · P(w | R) / max P), strongest first, at most `count`,
 * never one of `exclude` (the question's own terms) nor a word whose `idf` (Lucene's, the
 * index's) is at most ln 2, i.e. in half the documents or more. Empty when no document scores above 0.
 */
export function feedbackTerms(
  documents: readonly FeedbackDocument[], exclude: ReadonlySet<string>, count: number, lambda: number, idf: (term: string) => number,
): Map<string, number> {
  const relevant = documents.filter((d) => d.score > 0 && d.terms.length > 0);
  const total = relevant.reduce((s, d) => s + d.score, 0);
  const stop = expansionStopStems(); // function and question words
  const p = new Map<string, number>();
  for (const d of relevant) {
    const share = d.score / total / d.terms.length;
    for (const t of d.terms) if (!exclude.has(t) && !stop.has(t)) p.set(t, (p.get(t) ?? 0) + share);
  }
  // Ties: the alphabetically first term, so the result does not depend on the documents' order.
  const best = [...p].filter(([t]) => idf(t) > MIN_INFORMATIVE_IDF).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, Math.max(0, count));
  const max = best[0]?.[1] ?? 1;
  return new Map(best.map(([t, w]) => [t, (lambda * w) / max]));
}

// Query expansion with related terms (docs/context-selection.md, "Query
// expansion"): a question that says "physician" also looks for "doctor".
// The table (lexicon/related-terms-data.ts, built from WordNet nouns by
// scripts/lexicon/build-related-terms.ts) maps a Porter stem to related
// stems with weights in (0, 1]; expansion terms enter BM25 with their idf
// scaled by that weight times one global factor, so a paraphrase can match
// while an exact match still outranks it (Voorhees, SIGIR 1994).
import { TOKEN } from "../../wasm/src/text-features";
import { lexicalTerms } from "./lexical-index";
import { RELATED_TERMS_DATA } from "./lexicon/related-terms-data";
import { boundedMemo } from "./bounded-memo";

/** The most expansion terms one query gets (a question has a few nouns; 12 related terms each at most). */
export const MAX_EXPANSION_TERMS = 256;

export interface RelatedTerm {
  term: string;
  weight: number;
}

/** Offsets of the table's lines, built on first use (the table is sorted by key). */
let lineStarts: Int32Array | null = null;

function starts(): Int32Array {
  if (lineStarts) return lineStarts;
  const at = [0];
  for (let i = RELATED_TERMS_DATA.indexOf("\n"); i >= 0; i = RELATED_TERMS_DATA.indexOf("\n", i + 1)) at.push(i + 1);
  return (lineStarts = Int32Array.from(at));
}

function lineAt(i: number, starts: Int32Array): string {
  const end = i + 1 < starts.length ? starts[i + 1]! - 1 : RELATED_TERMS_DATA.length;
  return RELATED_TERMS_DATA.slice(starts[i]!, end);
}

/** Stems whose related terms are remembered (a conversation asks about few words; each lookup slices and parses lines). */
const RELATED_CACHE_STEMS = 4096;

/** The stems related to `stem`, strongest first; empty when the table has none. Shared: do not modify. */
export const relatedTerms: (stem: string) => readonly RelatedTerm[] = boundedMemo(RELATED_CACHE_STEMS, lookUpRelated);

function lookUpRelated(stem: string): RelatedTerm[] {
  const s = starts();
  let lo = 0;
  let hi = s.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const line = lineAt(mid, s);
    const key = line.slice(0, line.indexOf(" "));
    if (key === stem) {
      return line.slice(key.length + 1).split(" ").map((entry) => {
        const colon = entry.lastIndexOf(":");
        return { term: entry.slice(0, colon), weight: Number(entry.slice(colon + 1)) / 10 };
      });
    }
    if (key < stem) lo = mid + 1;
    else hi = mid - 1;
  }
  return [];
}

/**
 * The stems of a question worth expanding: every word but names. "What did
 * Jack say about the bill" expands "bill", not "jack" (which WordNet knows
 * as a playing card and a tool), since a name is matched as itself.
 */
export function expandableTerms(text: string): string[] {
  const words: string[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const w = m[0];
    if (w[0] !== w[0]!.toLowerCase() && !opensSentence(text, m.index)) continue; // a capitalised word inside a sentence: a name
    words.push(w);
  }
  return lexicalTerms(words.join(" "));
}

/** Whether the word at `at` opens a sentence: only spaces and tabs since the start, a line break or . ! ? : ; " “ (. */
function opensSentence(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--; // a backward scan, not a slice: a long query stays linear
  return i < 0 || '.!?:;"“(\n\r'.includes(text[i]!);
}

/**
 * Expansion weights for a query's stems: each related stem that is not itself a
 * query term gets `factor` × its strongest table weight over the `expandable` stems.
 */
export function expandQuery(terms: readonly string[], factor: number, expandable: readonly string[] = terms): Map<string, number> {
  const expansion = new Map<string, number>();
  if (!(factor > 0)) return expansion;
  const own = new Set(terms);
  for (const q of new Set(expandable)) {
    for (const { term, weight } of relatedTerms(q)) {
      if (own.has(term)) continue;
      expansion.set(term, Math.max(expansion.get(term) ?? 0, factor * weight));
    }
  }
  if (expansion.size <= MAX_EXPANSION_TERMS) return expansion;
  // A long query (a pasted document) keeps its strongest expansions only, so expansion adds a bounded amount of work.
  return new Map([...expansion].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_EXPANSION_TERMS));
}

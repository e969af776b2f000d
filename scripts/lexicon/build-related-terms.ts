// Builds durable-objects/selection/lexicon/related-terms-data.ts, the table of
// related terms the lexical index expands questions with
// (durable-objects/selection/related-terms.ts, docs/context-selection.md,
// "Query expansion").
//
// Source: WordNet 3.0 (Miller 1995), as Debian's `wordnet-base` installs it
// under /usr/share/wordnet. Nouns are expanded as in Voorhees' WordNet
// query expansion (SIGIR 1994): a noun's synonyms, hypernyms and hyponyms.
// Every part of speech also links its derivationally related forms
// ("allergy" ↔ "allergic", WordNet's "+" pointers between words) and its
// irregular forms ("bought" ↔ "buy", "teeth" ↔ "tooth", the .exc lists),
// which the Porter stemmer cannot join. Verb and adjective synonyms are
// left out: on the tuning half they moved recall by ±2 points, within noise
// (`--parts n` builds nouns only; docs/evaluation.md has the comparison).
// Each sense s of a lemma w weighs p(s | w) ∝ tagged count + 0.1
// (SemCor counts from cntlist.rev), and a related term t gets
//   weight(t) = Σ_s p(s | w) · β(relation of t to s),  β = 1 synonym or derived form, ½ hyper/hyponym,
// keyed and targeted by Porter stems (the index's terms); an irregular
// form and its lemma weigh 1 both ways. Lemmas sharing a stem ("digit",
// "digitalis") are mixed by p(lemma | stem) ∝ tagged count + 1. A key keeps
// its 12 strongest terms (ties: the more often tagged term). Proper names
// (capitalised lemmas, and senses where the word is only a name) are left
// out. The table is committed; CI does not need WordNet. Rebuild:
//   apt install wordnet-base
//   node_modules/.bin/tsx scripts/lexicon/build-related-terms.ts [--parts nva]
import { readFileSync, writeFileSync } from "node:fs";
import { porterStem } from "../../durable-objects/selection/porter-stemmer";
import { expansionStopStems } from "../../durable-objects/selection/lexicon/expansion-stopwords";

const WORDNET = process.env.WORDNET_DIR ?? "/usr/share/wordnet";
const OUT = "durable-objects/selection/lexicon/related-terms-data.ts";
const SENSE_SMOOTHING = 0.1;
/** Kept per key, strongest first; weights below the floor are dropped. */
const MAX_RELATED = 12;
const MIN_WEIGHT = 0.1;
const WORD = /^[a-z]{3,}$/;
const STOP_STEMS = expansionStopStems();

interface Synset {
  lemmas: string[];
  /** Pointers this file's relations use; `source`/`target` are word numbers (1-based; 0: the whole synset). */
  related: { symbol: string; offset: string; source: number; target: number }[];
}

/**
 * WordNet's files per part of speech, its cntlist ss_type digits, whether a
 * key takes its synonyms, and β per pointer symbol: hypernym, instance
 * hypernym, hyponym, instance hyponym; "+" is a derivationally related form
 * ("allergy" ↔ "allergic"), a pointer between two words, across parts.
 */
const PARTS = {
  n: { file: "noun", types: ["1"], synonyms: true, relations: { "@": 0.5, "@i": 0.5, "~": 0.5, "~i": 0.5, "+": 1 } },
  v: { file: "verb", types: ["2"], synonyms: false, relations: { "+": 1 } },
  a: { file: "adj", types: ["3", "5"], synonyms: false, relations: { "+": 1 } },
} as const satisfies Record<string, { file: string; types: readonly string[]; synonyms: boolean; relations: Record<string, number> }>;
type Part = keyof typeof PARTS;
/** A pointer's part-of-speech code → the file its synset is in (satellites are adjectives; adverbs are not read). */
const POINTER_PART: Record<string, Part | undefined> = { n: "n", v: "v", a: "a", s: "a" };
const partsFlag = process.argv.indexOf("--parts");
const USED_PARTS = (partsFlag > 0 ? process.argv[partsFlag + 1]! : "nva").split("") as Part[];
if (!USED_PARTS.every((p) => p in PARTS)) throw new Error("--parts takes letters of n (nouns), v (verbs), a (adjectives)");

function dataLines(file: string): string[] {
  return readFileSync(`${WORDNET}/${file}`, "utf8").split("\n").filter((l) => l && !l.startsWith("  "));
}

/** Synsets by "part offset". */
function parseSynsets(part: Part, into: Map<string, Synset>): void {
  const { file, relations } = PARTS[part];
  for (const line of dataLines(`data.${file}`)) {
    const f = line.split(" | ")[0]!.trim().split(" ");
    const words = parseInt(f[3]!, 16);
    const lemmas = Array.from({ length: words }, (_, i) => f[4 + 2 * i]!.replace(/\(.*\)$/, "")); // case kept: capitalised lemmas are proper names
    let at = 4 + 2 * words;
    const pointers = Number(f[at++]);
    const related: Synset["related"] = [];
    for (let i = 0; i < pointers; i++, at += 4) {
      const [symbol, offset, pos, st] = [f[at]!, f[at + 1]!, f[at + 2]!, f[at + 3]!];
      const target = POINTER_PART[pos];
      if (!target || !(relations as Record<string, number>)[symbol]) continue;
      if (symbol !== "+" && target !== part) continue;
      related.push({ symbol, offset: `${target} ${offset}`, source: parseInt(st.slice(0, 2), 16), target: parseInt(st.slice(2), 16) });
    }
    into.set(`${part} ${f[0]}`, { lemmas, related });
  }
}

/** Tagged counts by "part lemma sense-number" (SemCor, cntlist.rev). */
function senseCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of readFileSync(`${WORDNET}/cntlist.rev`, "utf8").split("\n")) {
    const [key, sense, count] = line.split(" ");
    if (!key) continue;
    const type = key[key.indexOf("%") + 1]!;
    const part = (Object.keys(PARTS) as Part[]).find((p) => (PARTS[p].types as readonly string[]).includes(type));
    if (!part) continue;
    const lemma = key.slice(0, key.indexOf("%")).toLowerCase();
    counts.set(`${part} ${lemma} ${sense}`, Number(count));
  }
  return counts;
}

function relatedOf(part: Part, lemma: string, offsets: string[], synsets: Map<string, Synset>, counts: Map<string, number>): Map<string, number> {
  // A sense where the lemma is only a proper name ("John" the apostle for "john") is not the word's.
  const common = offsets.map((offset) => synsets.get(`${part} ${offset}`)!.lemmas.includes(lemma));
  const mass = offsets.map((_, i) => (common[i] ? (counts.get(`${part} ${lemma} ${i + 1}`) ?? 0) + SENSE_SMOOTHING : 0));
  const total = mass.reduce((a, b) => a + b, 0);
  if (total === 0) return new Map();
  const key = porterStem(lemma);
  const weights = new Map<string, number>();
  offsets.forEach((offset, i) => {
    const p = mass[i]! / total;
    if (p === 0) return;
    const best = new Map<string, number>(); // per sense: the strongest relation to each term
    const offer = (lemmas: string[], beta: number) => {
      for (const l of lemmas) {
        if (!WORD.test(l)) continue; // also drops proper names (capitalised) and multi-word lemmas
        const t = porterStem(l);
        if (STOP_STEMS.has(t)) continue;
        if (t !== key) best.set(t, Math.max(best.get(t) ?? 0, beta));
      }
    };
    const s = synsets.get(`${part} ${offset}`)!;
    if (PARTS[part].synonyms) offer(s.lemmas, 1);
    for (const r of s.related) {
      if (r.source && s.lemmas[r.source - 1] !== lemma) continue; // a word's pointer, from another word of the synset
      const target = synsets.get(r.offset);
      if (!target) continue;
      offer(r.target ? [target.lemmas[r.target - 1]!] : target.lemmas, (PARTS[part].relations as Record<string, number>)[r.symbol]!);
    }
    for (const [t, beta] of best) weights.set(t, (weights.get(t) ?? 0) + p * beta);
  });
  return weights;
}

function build(): string {
  const synsets = new Map<string, Synset>();
  for (const part of Object.keys(PARTS) as Part[]) parseSynsets(part, synsets); // every part: "+" points across them
  const counts = senseCounts();
  // Per key: the (part, lemma) pairs whose forms stem to it, each with its related terms and count.
  const table = new Map<string, Map<string, { related: Map<string, number>; count: number }>>();
  const add = (form: string, entry: string, related: Map<string, number>, count: number) => {
    const key = porterStem(form);
    const entries = table.get(key) ?? new Map();
    entries.set(entry, { related, count });
    table.set(key, entries);
  };
  /** Tagged count by stem (over the lemmas that stem to it). */
  const frequency = new Map<string, number>();
  /** Stems of one word's irregular forms and lemma ("bought" ↔ "buy"): weight 1 both ways, outside the mixing. */
  const sameWord = new Map<string, Set<string>>();
  for (const part of USED_PARTS) {
    const byLemma = new Map<string, Map<string, number>>();
    for (const line of dataLines(`index.${PARTS[part].file}`)) {
      const f = line.trim().split(" ");
      const lemma = f[0]!;
      if (!WORD.test(lemma) || STOP_STEMS.has(porterStem(lemma))) continue;
      const pointerKinds = Number(f[3]);
      const senses = Number(f[2]);
      const offsets = f.slice(4 + pointerKinds + 2, 4 + pointerKinds + 2 + senses);
      const related = relatedOf(part, lemma, offsets, synsets, counts);
      byLemma.set(lemma, related);
      const count = [...offsets.keys()].reduce((a, i) => a + (counts.get(`${part} ${lemma} ${i + 1}`) ?? 0), 0);
      frequency.set(porterStem(lemma), (frequency.get(porterStem(lemma)) ?? 0) + count);
      add(lemma, `${part} ${lemma}`, related, count);
    }
    // Irregular forms ("teeth" → tooth, "bought" → buy) key their lemma's terms and the lemma itself, and
    // the lemma keys them (weight 1: the same word), so "buy" finds "bought" as Porter cannot.
    for (const line of readFileSync(`${WORDNET}/${PARTS[part].file}.exc`, "utf8").split("\n")) {
      const [form, lemma] = line.split(" ");
      if (!form || !lemma || !WORD.test(form) || !WORD.test(lemma) || STOP_STEMS.has(porterStem(form)) || STOP_STEMS.has(porterStem(lemma))) continue;
      const related = byLemma.get(lemma);
      if (related) add(form, `${part} ${lemma}`, related, 0);
      const [f, l] = [porterStem(form), porterStem(lemma)];
      if (f === l) continue;
      sameWord.set(f, (sameWord.get(f) ?? new Set()).add(l));
      sameWord.set(l, (sameWord.get(l) ?? new Set()).add(f));
    }
  }
  const lines: string[] = [];
  for (const key of [...new Set([...table.keys(), ...sameWord.keys()])].sort()) {
    const lemmas = [...(table.get(key)?.values() ?? [])];
    const total = lemmas.reduce((a, l) => a + l.count + 1, 0);
    const mixed = new Map<string, number>();
    for (const l of lemmas) for (const [t, w] of l.related) if (t !== key) mixed.set(t, (mixed.get(t) ?? 0) + ((l.count + 1) / total) * w);
    for (const t of sameWord.get(key) ?? []) mixed.set(t, 1);
    // Strongest first; among equals the term more often tagged in SemCor.
    const kept = [...mixed]
      .filter(([, w]) => w >= MIN_WEIGHT)
      .sort((a, b) => b[1] - a[1] || (frequency.get(b[0]) ?? 0) - (frequency.get(a[0]) ?? 0) || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_RELATED);
    if (kept.length) lines.push(`${key} ${kept.map(([t, w]) => `${t}:${Math.min(10, Math.round(w * 10))}`).join(" ")}`);
  }
  return lines.join("\n");
}

const body = build();
const header = `// Generated by scripts/lexicon/build-related-terms.ts from WordNet 3.0; do not edit.
// One line per key stem: "key term:w term:w …", w in tenths, 1–10 (docs/context-selection.md).
//
// WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.
// THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO
// REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT
// LIMITATION, PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF
// MERCHANTABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE USE OF THE
// LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT INFRINGE ANY THIRD PARTY
// PATENTS, COPYRIGHTS, TRADEMARKS OR OTHER RIGHTS. (Full license: docs/licenses/wordnet.txt.)
`;
writeFileSync(OUT, `${header}export const RELATED_TERMS_DATA = ${JSON.stringify(body)};\n`);
console.log(`wrote ${OUT}: ${body.split("\n").length} keys, ${(body.length / 1024).toFixed(0)} KiB`);

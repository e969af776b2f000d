// Builds durable-objects/selection/lexicon/related-terms-data.ts, the table of
// related terms the lexical index expands questions with
// (durable-objects/selection/related-terms.ts, docs/context-selection.md,
// "Query expansion").
//
// Source: WordNet 3.0 (Miller 1995), as Debian's `wordnet-base` installs it
// under /usr/share/wordnet. Nouns are expanded, as in Voorhees' WordNet
// query expansion (SIGIR 1994): a noun's synonyms, hypernyms and hyponyms.
// `--parts nva` adds verbs (synonyms, hypernyms) and adjectives (synonyms,
// "similar to"); on the tuning half that moved recall by ±2 points, within
// noise, for 25% more table, so the committed table is nouns only. Each sense s of a lemma w weighs p(s | w) ∝ tagged count + 0.1
// (SemCor counts from cntlist.rev), and a related term t gets
//   weight(t) = Σ_s p(s | w) · β(relation of t to s),  β = 1 synonym, ½ hyper/hyponym,
// keyed and targeted by Porter stems (the index's terms). Lemmas sharing a
// stem ("digit", "digitalis") are mixed by p(lemma | stem) ∝ tagged count + 1.
// A key keeps its 12 strongest terms (ties: the more often tagged term).
// The table is committed; CI does not need WordNet. Rebuild: apt install wordnet-base,
//   node_modules/.bin/tsx scripts/lexicon/build-related-terms.ts [--parts n]
import { readFileSync, writeFileSync } from "node:fs";
import { porterStem } from "../../durable-objects/selection/porter-stemmer";
import { EXPANSION_STOPWORDS } from "../../durable-objects/selection/lexicon/expansion-stopwords";

const WORDNET = process.env.WORDNET_DIR ?? "/usr/share/wordnet";
const OUT = "durable-objects/selection/lexicon/related-terms-data.ts";
const SENSE_SMOOTHING = 0.1;
/** Kept per key, strongest first; weights below the floor are dropped. */
const MAX_RELATED = 12;
const MIN_WEIGHT = 0.1;
const WORD = /^[a-z]{3,}$/;
/** Stopwords compared as stems: "wills" is no more a key than "will". */
const STOP_STEMS = new Set([...EXPANSION_STOPWORDS].map(porterStem));

interface Synset {
  lemmas: string[];
  related: { symbol: string; offset: string }[];
}

/** WordNet's files per part of speech, its pointer target codes and its cntlist ss_type digits. */
const PARTS = {
  n: { file: "noun", targets: ["n"], types: ["1"], relations: { "@": 0.5, "@i": 0.5, "~": 0.5, "~i": 0.5 } },
  v: { file: "verb", targets: ["v"], types: ["2"], relations: { "@": 0.5 } },
  a: { file: "adj", targets: ["a", "s"], types: ["3", "5"], relations: { "&": 0.5 } },
} as const satisfies Record<string, { file: string; targets: readonly string[]; types: readonly string[]; relations: Record<string, number> }>;
type Part = keyof typeof PARTS;
const partsFlag = process.argv.indexOf("--parts");
const USED_PARTS = (partsFlag > 0 ? process.argv[partsFlag + 1]! : "n").split("") as Part[];
if (!USED_PARTS.every((p) => p in PARTS)) throw new Error("--parts takes letters of n (nouns), v (verbs), a (adjectives)");

function dataLines(file: string): string[] {
  return readFileSync(`${WORDNET}/${file}`, "utf8").split("\n").filter((l) => l && !l.startsWith("  "));
}

/** Synsets by "part offset". */
function parseSynsets(part: Part, into: Map<string, Synset>): void {
  const { file, targets, relations } = PARTS[part];
  for (const line of dataLines(`data.${file}`)) {
    const f = line.split(" | ")[0]!.trim().split(" ");
    const words = parseInt(f[3]!, 16);
    const lemmas = Array.from({ length: words }, (_, i) => f[4 + 2 * i]!.replace(/\(.*\)$/, "")); // case kept: capitalised lemmas are proper names
    let at = 4 + 2 * words;
    const pointers = Number(f[at++]);
    const related: Synset["related"] = [];
    for (let i = 0; i < pointers; i++, at += 4) {
      if ((targets as readonly string[]).includes(f[at + 2]!) && (relations as Record<string, number>)[f[at]!]) related.push({ symbol: f[at]!, offset: `${part} ${f[at + 1]}` });
    }
    into.set(`${part} ${f[0]}`, { lemmas, related });
  }
}

/** Tagged counts by "part lemma sense-number", and by lemma over every part and sense. */
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
    counts.set(lemma, (counts.get(lemma) ?? 0) + Number(count));
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
    offer(s.lemmas, 1);
    for (const r of s.related) offer(synsets.get(r.offset)!.lemmas, (PARTS[part].relations as Record<string, number>)[r.symbol]!);
    for (const [t, beta] of best) weights.set(t, (weights.get(t) ?? 0) + p * beta);
  });
  return weights;
}

function build(): string {
  const synsets = new Map<string, Synset>();
  for (const part of USED_PARTS) parseSynsets(part, synsets);
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
    // Irregular forms ("teeth" → tooth, "went" → go) key their lemma's terms too.
    for (const line of readFileSync(`${WORDNET}/${PARTS[part].file}.exc`, "utf8").split("\n")) {
      const [form, lemma] = line.split(" ");
      const related = lemma && byLemma.get(lemma);
      if (form && WORD.test(form) && !STOP_STEMS.has(porterStem(form)) && related) add(form, `${part} ${lemma}`, related, 0);
    }
  }
  const lines: string[] = [];
  for (const key of [...table.keys()].sort()) {
    const lemmas = [...table.get(key)!.values()];
    const total = lemmas.reduce((a, l) => a + l.count + 1, 0);
    const mixed = new Map<string, number>();
    for (const l of lemmas) for (const [t, w] of l.related) if (t !== key) mixed.set(t, (mixed.get(t) ?? 0) + ((l.count + 1) / total) * w);
    // Strongest first; among equals the term more often tagged in SemCor.
    const kept = [...mixed]
      .filter(([, w]) => w >= MIN_WEIGHT)
      .sort((a, b) => b[1] - a[1] || (frequency.get(b[0]) ?? 0) - (frequency.get(a[0]) ?? 0) || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_RELATED);
    if (kept.length) lines.push(`${key} ${kept.map(([t, w]) => `${t}:${Math.min(9, Math.round(w * 10))}`).join(" ")}`);
  }
  return lines.join("\n");
}

const body = build();
const header = `// Generated by scripts/lexicon/build-related-terms.ts from WordNet 3.0; do not edit.
// One line per key stem: "key term:w term:w …", w in tenths (docs/context-selection.md).
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

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LexicalIndex, lexicalTerms } from "../../durable-objects/selection/lexical-index";
import { EXPANSION_STOPWORDS } from "../../durable-objects/selection/lexicon/expansion-stopwords";
import { RELATED_TERMS_DATA } from "../../durable-objects/selection/lexicon/related-terms-data";
import { expandableTerms, expandQuery, MAX_EXPANSION_TERMS, relatedTerms } from "../../durable-objects/selection/related-terms";
import { porterStem } from "../../durable-objects/selection/porter-stemmer";
import { oracleKernels } from "../../wasm/oracle/index";
import { copyingBm25Scorer } from "../../wasm/src/bm25-scorer";

const stem = (w: string) => porterStem(w);

describe("the related-terms table (WordNet nouns)", () => {
  const lines = RELATED_TERMS_DATA.split("\n");

  it("is sorted by key, unique, with weights in (0, 1] and never a key related to itself or a stopword", () => {
    const keys = lines.map((l) => l.slice(0, l.indexOf(" ")));
    for (let i = 1; i < keys.length; i++) expect(keys[i - 1]! < keys[i]!).toBe(true);
    const stopStems = new Set([...EXPANSION_STOPWORDS].map(stem));
    for (const line of lines) {
      const [key, ...entries] = line.split(" ");
      expect(stopStems.has(key!)).toBe(false); // "offing" stems to "of": a function word must not become a key
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.length).toBeLessThanOrEqual(12);
      for (const e of entries) {
        const [term, w] = e.split(":");
        expect(term).not.toBe(key);
        expect(stopStems.has(term!)).toBe(false);
        expect(Number(w)).toBeGreaterThanOrEqual(1);
        expect(Number(w)).toBeLessThanOrEqual(10);
      }
    }
  });

  it("finds synonyms, hypernyms and hyponyms by stem, strongest first", () => {
    const physician = relatedTerms(stem("physician"));
    expect(physician[0]!.weight).toBeGreaterThanOrEqual(physician.at(-1)!.weight);
    expect(physician.find((r) => r.term === stem("doctor"))!.weight).toBeGreaterThan(0.5);
    expect(relatedTerms(stem("automobile")).map((r) => r.term)).toContain(stem("car"));
    expect(relatedTerms(stem("molar")).map((r) => r.term)).toContain(stem("tooth")); // hypernym
    const weightOf = (from: string, to: string) => relatedTerms(stem(from)).find((r) => r.term === stem(to))?.weight ?? 0;
    expect(weightOf("teeth", "tooth")).toBe(1); // irregular forms and their lemma: the same word, both ways
    expect(weightOf("tooth", "teeth")).toBe(1);
    expect(weightOf("buy", "bought")).toBe(1);
    expect(weightOf("bought", "buy")).toBe(1);
    expect(weightOf("allergy", "allergic")).toBeGreaterThan(0.5); // derivationally related forms
    expect(weightOf("allergic", "allergy")).toBeGreaterThan(0.5);
  });

  it("answers every key by binary search and nothing for words it does not hold", () => {
    for (const line of lines.filter((_, i) => i % 997 === 0)) {
      const key = line.slice(0, line.indexOf(" "));
      expect(relatedTerms(key).length).toBe(line.split(" ").length - 1);
    }
    expect(relatedTerms("")).toEqual([]);
    expect(relatedTerms("zzzzqx")).toEqual([]);
    expect(relatedTerms(stem("which"))).toEqual([]);
    for (const w of ["of", "in", "at", "or", "us"]) expect(relatedTerms(stem(w))).toEqual([]); // stems of offing, inning, ate, ore, use
  });
});

describe("expandQuery", () => {
  it("weighs related terms by factor × table weight, the strongest over the query's terms, never a query term", () => {
    fc.assert(fc.property(
      fc.array(fc.constantFrom("physician", "doctor", "car", "automobile", "gate", "code", "sister", "what", "my"), { minLength: 1, maxLength: 5 }),
      fc.double({ min: 0.05, max: 2, noNaN: true }),
      (words, factor) => {
        const terms = lexicalTerms(words.join(" "));
        const expansion = expandQuery(terms, factor);
        for (const [t, w] of expansion) {
          expect(terms).not.toContain(t);
          const best = Math.max(...terms.map((q) => relatedTerms(q).find((r) => r.term === t)?.weight ?? 0));
          expect(w).toBeCloseTo(factor * best, 10);
        }
      },
    ));
    expect(expandQuery([stem("physician")], 0).size).toBe(0);
  });

  it("keeps only the strongest MAX_EXPANSION_TERMS of a very long query", () => {
    const keys = RELATED_TERMS_DATA.split("\n").slice(0, 2000).map((l) => l.slice(0, l.indexOf(" ")));
    const all = expandQuery(keys, 1, keys);
    expect(all.size).toBe(MAX_EXPANSION_TERMS);
    const weakestKept = Math.min(...all.values());
    const unbounded = new Map<string, number>();
    for (const k of keys) for (const { term, weight } of relatedTerms(k)) if (!keys.includes(term)) unbounded.set(term, Math.max(unbounded.get(term) ?? 0, weight));
    expect([...unbounded.values()].filter((w) => w > weakestKept).length).toBeLessThanOrEqual(MAX_EXPANSION_TERMS);
  });
});

describe("LexicalIndex with an expanded query", () => {
  it("lets a paraphrase match, never above the same message's exact word (γ ≤ 1), and changes nothing else", () => {
    const index = new LexicalIndex(0, copyingBm25Scorer(oracleKernels));
    const texts = ["my doctor is Dr. Okafor", "my physician is Dr. Okafor", "we walked by the lake", "the gate code is 2547"];
    texts.forEach((t, i) => index.add(i, "user", lexicalTerms(t)));
    const terms = lexicalTerms("which physician do I see?");
    const plain = oracleKernels.bm25Scores(index.query(terms)!);
    const expanded = oracleKernels.bm25Scores(index.query(terms, expandQuery(terms, 1))!);
    expect(plain[0]).toBe(0);
    expect(expanded[0]!).toBeGreaterThan(0); // "doctor" found through the expansion
    expect(expanded[1]!).toBeGreaterThanOrEqual(expanded[0]!); // a related word never outscores the exact one
    expect(expanded[1]!).toBeCloseTo(plain[1]!, 6);
    expect(expanded[2]).toBe(0);
    expect(expanded[3]).toBe(0);
  });

  it("ignores expansion terms that are query terms, unindexed or weighted 0", () => {
    const index = new LexicalIndex(0, copyingBm25Scorer(oracleKernels));
    index.add(0, "user", lexicalTerms("doctor visit"));
    const q = index.query(["doctor"], new Map([["doctor", 0.5], ["visit", 0], ["absent", 1]]))!;
    expect(q.idf.length).toBe(1);
    expect(index.query(["absent"], new Map([["nothing", 1]]))).toBeNull();
  });
});

describe("expandableTerms", () => {
  it("leaves out names (capitalised words inside a sentence), keeps sentence-initial and lower-case words", () => {
    expect(expandableTerms("What did Jack say about the bill?")).toEqual(lexicalTerms("What did say about the bill"));
    expect(expandableTerms("Bill paid. Doctor Okafor called")).toEqual(lexicalTerms("Bill paid Doctor called"));
    expect(expandableTerms("")).toEqual([]);
    // Any text: other scripts, emoji, control characters and lone surrogates give terms or nothing, never a throw.
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
      const terms = expandableTerms(text);
      expect(expandQuery(lexicalTerms(text), 1, terms).size).toBeLessThanOrEqual(MAX_EXPANSION_TERMS);
    }));
    expect(expandableTerms("Ärzte 🩺 \u0000 physician\ud800")).toEqual(lexicalTerms("Ärzte physician"));
    expect(expandableTerms("see notes:\nBill paid")).toEqual(lexicalTerms("see notes Bill paid")); // a line break opens a sentence
    // A pasted 50,000-word text: names inside it left out, the first word opens the text (a quadratic scan would time the test out).
    const long = Array.from({ length: 50_000 }, (_, i) => (i % 7 ? "physician" : "Doctor")).join(" ");
    expect(expandableTerms(long).length).toBe(50_000 - Math.ceil(50_000 / 7) + 1);
    const terms = lexicalTerms("What did Jack say about the bill?");
    const expansion = expandQuery(terms, 1, expandableTerms("What did Jack say about the bill?"));
    for (const { term } of relatedTerms(stem("jack"))) if (!relatedTerms(stem("bill")).some((r) => r.term === term)) expect(expansion.has(term)).toBe(false);
    expect(expansion.size).toBeGreaterThan(0);
  });
});

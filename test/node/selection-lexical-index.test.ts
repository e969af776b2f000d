import fc from "fast-check";
import { decodePostings } from "../../wasm/src/bm25-postings";
import { describe, expect, it } from "vitest";
import { bm25Scores, buildBm25Index } from "../../scripts/eval/baselines/bm25";
import { LexicalIndex, lexicalTerms, messageTerms, questionTerms } from "../../durable-objects/selection/lexical-index";
import { oracleKernels } from "../../wasm/oracle/index";
import { copyingBm25Scorer } from "../../wasm/src/bm25-scorer";

const words = ["gate", "code", "painted", "paint", "sunset", "lake", "my", "the", "is", "2547", "sister", "name", "Caroline", "adoption", "agencies"];

describe("LexicalIndex", () => {
  it("scores as per-message BM25 over the stemmed terms (the evaluation's baseline on the same terms)", () => {
    fc.assert(fc.property(
      fc.array(fc.array(fc.constantFrom(...words), { maxLength: 12 }), { minLength: 1, maxLength: 40 }),
      fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 5 }),
      (docs, query) => {
        const index = new LexicalIndex(0, copyingBm25Scorer(oracleKernels));
        docs.forEach((d, i) => index.add(i, "user", lexicalTerms(d.join(" "))));
        const q = index.query(lexicalTerms(query.join(" ")));
        const nonEmpty = docs.filter((d) => d.length).length;
        // The baseline counts every document in N and avgdl; the index only those with terms: compare where they agree.
        if (nonEmpty !== docs.length) return;
        const baseline = bm25Scores(buildBm25Index(docs.map((d) => lexicalTerms(d.join(" ")).join(" "))), lexicalTerms(query.join(" ")).join(" "));
        const scores = q ? oracleKernels.bm25Scores(q) : new Float32Array(docs.length);
        for (let i = 0; i < docs.length; i++) expect(scores[i]!).toBeCloseTo(baseline[i]!, 4);
      },
    ), { numRuns: 200 });
  });

  it("keeps postings across many blocks and terms, and reports its size", () => {
    const index = new LexicalIndex(0, copyingBm25Scorer(oracleKernels));
    for (let i = 0; i < 5000; i++) index.add(i, i % 2 ? "assistant" : "user", [`w${i % 300}`, "common", ...(i % 7 === 0 ? ["rare"] : [])]);
    const q = index.query(["rare", "common", "absent"])!;
    expect(q.idf.length).toBe(2);
    const docsOfRare = decodePostings(q.posts.subarray(0, q.starts[1]!)).map(([doc]) => doc);
    expect(docsOfRare).toEqual(Array.from({ length: Math.ceil(5000 / 7) }, (_, k) => k * 7));
    expect(decodePostings(q.posts.subarray(q.starts[1]!, q.starts[2]!)).map(([doc]) => doc)).toEqual(Array.from({ length: 5000 }, (_, k) => k));
    expect(q.posts.length).toBeLessThan(2 * (5000 + 5000 / 7) + 64); // compressed: about a byte a posting, plus block padding
    expect(index.documents).toBe(5000);
    expect(index.terms).toBe(302);
    expect(index.bytes).toBeGreaterThan(5000 * 4 * 2);
    expect(index.role(3)).toBe("assistant");
    expect(index.role(5000)).toBeNull();
    // Queries reuse one postings buffer: a small query after a large one sees only its own postings.
    const small = index.query(["rare"])!;
    expect(decodePostings(small.posts).map(([doc]) => doc)).toEqual(docsOfRare);
    const projected = index.bytesOnceQueried;
    expect(projected).toBeGreaterThan(index.bytes); // the scorer's buffer is not allocated before the first query
    const scores = index.scorer.score(index.query(["rare"])!);
    expect(scores.length).toBe(index.windowSize);
    expect(index.bytes).toBe(projected); // what the cap counted is what a query allocated
  });

  it("a window from `base` scores its documents as an index of the same documents from 0 does, and nothing below base", () => {
    fc.assert(fc.property(
      fc.array(fc.array(fc.constantFrom(...words), { maxLength: 12 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 30 }),
      fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 5 }),
      (docs, base, query) => {
        const whole = new LexicalIndex(0, copyingBm25Scorer(oracleKernels));
        const window = new LexicalIndex(base, copyingBm25Scorer(oracleKernels));
        docs.forEach((d, i) => {
          const roleName = i % 3 ? "assistant" : "user";
          whole.add(base + i, roleName, lexicalTerms(d.join(" ")));
          window.add(base + i, roleName, lexicalTerms(d.join(" ")));
        });
        expect(window.size).toBe(whole.size);
        expect(window.documents).toBe(whole.documents);
        for (let doc = 0; doc <= whole.size; doc++) expect(window.role(doc)).toBe(whole.role(doc));
        const terms = lexicalTerms(query.join(" "));
        const qw = whole.query(terms);
        const qb = window.query(terms);
        expect(qb === null).toBe(qw === null);
        if (!qw || !qb) return;
        const expected = oracleKernels.bm25Scores(qw);
        const scores = new Float32Array(window.size);
        oracleKernels.bm25Scores(qb, scores.subarray(base));
        expect(Array.from(scores)).toEqual(Array.from(expected));
        expect(qb.lengths.length).toBe(docs.length); // per-document arrays start at base
      },
    ), { numRuns: 200 });
    expect(() => new LexicalIndex(-1, copyingBm25Scorer(oracleKernels))).toThrow(RangeError);
    expect(() => new LexicalIndex(3, copyingBm25Scorer(oracleKernels)).add(2, "user", ["x"])).toThrow(RangeError);
  });

  it("indexes the speaker name with the content, clamps tf at 255, and rejects out-of-order documents", () => {
    const index = new LexicalIndex(0, copyingBm25Scorer(oracleKernels));
    index.add(0, "user", messageTerms({ content: "I painted a lake", name: "Caroline" }));
    index.add(2, "assistant", Array(300).fill("again"));
    const byName = oracleKernels.bm25Scores(index.query(lexicalTerms("what did caroline paint?"))!);
    expect(byName[0]!).toBeGreaterThan(0);
    expect(decodePostings(index.query(["again"])!.posts)).toEqual([[2, 255]]);
    expect(index.size).toBe(3);
    expect(() => index.add(2, "user", ["x"])).toThrow(RangeError);
    expect(() => index.add(1.5, "user", ["x"])).toThrow(RangeError);
    expect(index.query(["nothing"])).toBeNull();
  });
});

describe("questionTerms", () => {
  it("searches a question without its question words, every other word kept", () => {
    expect(questionTerms("When did I buy the car?")).toEqual(lexicalTerms("I buy the car"));
    expect(questionTerms("Which company do I work for? What does it do?")).toEqual(lexicalTerms("company I work for it"));
    expect(questionTerms("my wife's name")).toEqual(lexicalTerms("my wife's name"));
    // A question of nothing but question words keeps them (there is nothing else to search with).
    expect(questionTerms("who? what? when?")).toEqual(lexicalTerms("who what when"));
    expect(questionTerms("")).toEqual([]);
  });
});


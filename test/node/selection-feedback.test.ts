import { describe, expect, it } from "vitest";
import { feedbackTerms } from "../../durable-objects/selection/feedback";
import { LexicalIndex, lexicalTerms, messageTerms } from "../../durable-objects/selection/lexical-index";
import { DEFAULT_MESSAGE_RANKING } from "../../durable-objects/selection/message-ranking";
import { MAX_FEEDBACK_CHARS, rankTurnMessages } from "../../durable-objects/selection/turn-ranking";
import { oracleKernels } from "../../wasm/oracle/index";
import { copyingBm25Scorer } from "../../wasm/src/bm25-scorer";

describe("feedbackTerms (the relevance model over the first pass's best messages)", () => {
  it("weighs a word by Σ P(w|d)·P(d|q), the strongest at λ, never a question term or a function word", () => {
    const docs = [
      { terms: lexicalTerms("the wedding is in lisbon in june"), score: 3 },
      { terms: lexicalTerms("my sister booked lisbon"), score: 1 },
    ];
    const fb = feedbackTerms(docs, new Set(lexicalTerms("wedding")), 20, 0.5, () => 3);
    const lisbon = (3 / 4) * (1 / 7) + (1 / 4) * (1 / 4);
    const june = (3 / 4) * (1 / 7);
    expect(fb.get("lisbon")).toBeCloseTo(0.5, 12); // the strongest feedback word weighs λ
    expect(fb.get("june")).toBeCloseTo((0.5 * june) / lisbon, 12);
    expect(fb.has("wed")).toBe(false); // the question's own term
    for (const w of ["the", "is", "in", "my"]) expect(fb.has(w)).toBe(false);
    expect([...fb.values()]).toEqual([...fb.values()].sort((a, b) => b - a));
  });

  it("keeps at most `count` terms, ignores documents that did not match, and is empty without matches", () => {
    const docs = [{ terms: lexicalTerms("alpha beta gamma delta epsilon"), score: 2 }, { terms: lexicalTerms("zeta"), score: 0 }];
    expect([...feedbackTerms(docs, new Set(), 2, 0.5, () => 3).keys()]).toEqual(["alpha", "beta"]); // ties: alphabetical
    expect(feedbackTerms(docs, new Set(), 20, 0.5, () => 3).has("zeta")).toBe(false);
    expect(feedbackTerms([{ terms: ["x"], score: 0 }], new Set(), 5, 0.5, () => 3).size).toBe(0);
    expect(feedbackTerms([], new Set(), 5, 0.5, () => 3).size).toBe(0);
    expect(feedbackTerms(docs, new Set(), 0, 0.5, () => 3).size).toBe(0);
  });

  it("leaves out words in half the messages or more (idf ≤ ln 2): no evidence, and a pass over most postings", () => {
    const docs = [{ terms: lexicalTerms("msg 17 about sourdough detail 44"), score: 1 }];
    const idf = (t: string) => (t === "msg" || t === "detail" ? Math.log(2) : 5);
    const fb = feedbackTerms(docs, new Set(), 20, 0.5, idf);
    expect(fb.has("msg")).toBe(false);
    expect(fb.has("detail")).toBe(false);
    expect(fb.has("sourdough")).toBe(true);
  });
});

describe("rankTurnMessages with feedback", () => {
  // A two-hop question: "hotel" names only the link message; its other words lead to the fact.
  const messages = [
    "Remind me to water the plants.",
    "My sister's big day is in Porto this spring.",
    "We talked about the weather.",
    "The Ribeira Palace in Porto looks lovely, I booked it.",
    "Trains are slow on Sundays.",
    "I booked a hotel for my sister's wedding.",
    "Let us plan dinner.",
  ];
  const index = new LexicalIndex(0, copyingBm25Scorer(oracleKernels));
  messages.forEach((content, seq) => index.add(seq, seq % 2 ? "assistant" : "user", messageTerms({ content })));
  const rank = (feedbackDocuments: number) => [...rankTurnMessages({
    lexical: index, query: "Which hotel did I book for the wedding?", spans: null, messageDense: null,
    weights: { ...DEFAULT_MESSAGE_RANKING, feedbackDocuments }, eligible: () => true, textsOf: (seqs) => seqs.map((seq) => messages[seq]!),
  })].filter((m) => m.lexical > 0).map((m) => m.seq);

  it("reaches the message that shares only the best match's words (sister, Porto), after the question's own matches", () => {
    const without = rank(0);
    const withFeedback = rank(3);
    expect(without[0]).toBe(5);
    expect(withFeedback[0]).toBe(5);
    expect(without).not.toContain(1); // no question word occurs in it
    expect(withFeedback).toContain(1);
    expect(withFeedback.indexOf(1)).toBeGreaterThan(withFeedback.indexOf(5));
  });

  it("reads a feedback document's words from its first MAX_FEEDBACK_CHARS characters only", () => {
    const matchedWords = (word: string, at: number) => {
      const long = `hotel booked ${"filler ".repeat(Math.ceil(at / 7))}`.slice(0, at) + ` ${word}`;
      const texts = [long, `${word} trip`, ...Array.from({ length: 8 }, (_, i) => `nothing here ${i}`)];
      const index = new LexicalIndex(0, copyingBm25Scorer(oracleKernels));
      texts.forEach((content, seq) => index.add(seq, "user", messageTerms({ content })));
      return [...rankTurnMessages({
        lexical: index, query: "which hotel?", spans: null, messageDense: null,
        weights: DEFAULT_MESSAGE_RANKING, eligible: () => true, textsOf: (seqs) => seqs.map((seq) => texts[seq]!),
      })].filter((m) => m.lexical > 0).map((m) => m.seq);
    };
    expect(matchedWords("zanzibar", 1000)).toContain(1); // within the first characters: a feedback word
    expect(matchedWords("zanzibar", MAX_FEEDBACK_CHARS + 10)).not.toContain(1);
  });

  it("leaves out question terms in half the messages or more: the ranking is the one without them", () => {
    // "about" is in every message, "tax" in one of ten; the bench's template text (msg …: about …).
    const texts = Array.from({ length: 10 }, (_, i) => `msg ${i} about ${i === 6 ? "tax deadline" : "garden tomatoes"} detail`);
    const index = new LexicalIndex(0, copyingBm25Scorer(oracleKernels));
    texts.forEach((content, seq) => index.add(seq, "user", messageTerms({ content })));
    const ranked = (query: string) => [...rankTurnMessages({
      lexical: index, query, spans: null, messageDense: null,
      weights: DEFAULT_MESSAGE_RANKING, eligible: () => true, textsOf: (seqs) => seqs.map((seq) => texts[seq]!),
    })].map((m) => [m.seq, m.lexical]);
    expect(ranked("what about the tax?")).toEqual(ranked("what tax?"));
    expect(ranked("what about the tax?")[0]).toEqual([6, expect.any(Number)]);
    // Only common terms: no lexical evidence at all, every message scores 0.
    expect(ranked("msg about detail?").every(([, lexical]) => lexical === 0)).toBe(true);
  });
});

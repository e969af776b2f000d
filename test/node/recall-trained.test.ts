// The trained recall model's files (scripts/train/, docs/recall-model.md):
// the training data's word lists equal the TypeScript vocabulary, and the
// committed exported weights load into the TypeScript backend and give the
// same logits as the PyTorch forward pass that wrote them (the file's
// `check` entry), so the layout, RoPE pairing and GQA grouping agree.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createModel } from "../../backend/model/load";
import { parseModelWeights } from "../../backend/model/weights";
import { parseWordVocabulary, wordTokenizer } from "../../backend/model/word-tokenizer";
import { parseSafetensors } from "../../protocol/safetensors";
import { trainingWords, recallVocabulary } from "../../scripts/recall/vocabulary";
import { TRAINED_EXPORT } from "../../scripts/recall/trained";
import { maxAbsDiff } from "./kv-helpers";

describe("trained recall model files", () => {
  it("scripts/train/recall-words.json is the TypeScript vocabulary (run `tsx scripts/make-recall-model.ts --train-words`)", () => {
    expect(JSON.parse(readFileSync(new URL("../../scripts/train/recall-words.json", import.meta.url), "utf8"))).toEqual(JSON.parse(JSON.stringify(trainingWords())));
  });

  it("the exported weights give the PyTorch logits in the TypeScript forward pass", () => {
    expect(existsSync(TRAINED_EXPORT)).toBe(true);
    const bytes = new Uint8Array(readFileSync(TRAINED_EXPORT));
    const check = JSON.parse(parseSafetensors(bytes, { maxHeaderBytes: 1 << 20 }).metadata.check) as { tokens: number[]; logits: number[] };
    const model = createModel(parseModelWeights(bytes), "wasm", wordTokenizer(parseWordVocabulary(recallVocabulary())));
    const out = model.forward({ tokens: check.tokens, positions: check.tokens.map((_, i) => i), logits: "last" });
    expect(check.tokens.length).toBeGreaterThan(50);
    expect(maxAbsDiff(out.logits, check.logits)).toBeLessThan(2e-3);
  });
});

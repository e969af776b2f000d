import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encodeTokens, tokenize } from "../../wasm/src/text-features";

/** The layout token by token, as TextEncoder writes each (the reference for the one-pass encoding). */
function reference(tokens: readonly string[]): { bytes: number[]; offsets: number[] } {
  const enc = new TextEncoder();
  const parts = tokens.map((t) => Array.from(enc.encode(t)));
  const offsets = [0];
  for (const p of parts) offsets.push(offsets[offsets.length - 1]! + p.length);
  return { bytes: parts.flat(), offsets };
}

describe("encodeTokens (wasm/src/text-features.ts)", () => {
  it("equals encoding each token on its own: ASCII, accents, CJK, emoji, lone surrogates (also split across tokens)", () => {
    const cases = [[], ["a"], ["naïve", "café"], ["日本語", "テキスト"], ["🧪", "x🧪y"], ["\ud83e", "\udde8"], ["a\ud800", "\udc00b"], ["\udc00"], tokenize("Émile's 🧪 test of 日本語 text")];
    for (const tokens of cases) {
      const { bytes, offsets } = encodeTokens(tokens);
      const expected = reference(tokens);
      expect(Array.from(bytes)).toEqual(expected.bytes);
      expect(Array.from(offsets)).toEqual(expected.offsets);
    }
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", maxLength: 8 }), { maxLength: 12 }), (tokens) => {
        const { bytes, offsets } = encodeTokens(tokens);
        const expected = reference(tokens);
        expect(Array.from(bytes)).toEqual(expected.bytes);
        expect(Array.from(offsets)).toEqual(expected.offsets);
      }),
    );
  });
});

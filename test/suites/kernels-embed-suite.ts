// Conformance suite of the hashing embedder (embedText) and its TS feature
// functions: the WASM binding against the plain-TS oracle, ≤ 1e-6 absolute
// per component (same hashes; f64 sums in both). Part of
// retrievalConformance (kernels-retrieval-suite.ts), run in Node and workerd.
import { describe, expect, it } from "vitest";
import { documentBuckets, idfFromDocumentFrequency, textFeatures, tokenize, type RetrievalKernels } from "../../wasm/src/bindings/retrieval";
import { expectClose } from "./expect-close";

export function embedConformance({ runtime, wasm, oracle }: { runtime: string; wasm: RetrievalKernels; oracle: RetrievalKernels }): void {
  describe(`embedText (${runtime})`, () => {
    const texts = [
      "",
      "   ...!!! ",
      "hello",
      "Hello, hello HELLO world",
      "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox jumps!",
      "Ünïcödé naïve café — İstanbul ΣΟΦΙΑ straße",
      "東京タワーに行きました 2024年",
      "emoji 🎉 split🎉words, numbers 3.14 and v2",
      "नमस्ते दुनिया",
      "a b a b a b a b c",
    ];

    it("matches the oracle (same buckets, signs, sublinear tf) for many texts and dims", () => {
      for (const text of texts) {
        for (const dim of [1, 7, 64, 384]) {
          expectClose(wasm.embedText(text, { dim }), oracle.embedText(text, { dim }), 1e-6, `${JSON.stringify(text)} dim ${dim}`);
        }
      }
    });

    it("is L2-normalised, all-zero for text without words, and default dim is 384", () => {
      for (const text of texts) {
        const v = wasm.embedText(text);
        expect(v.length).toBe(384);
        const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
        if (tokenize(text).length === 0) expect(norm).toBe(0);
        else expect(norm).toBeCloseTo(1, 5);
      }
    });

    it("hand-computed: one word is ±1 in its bucket; tf 3 weighs 1 + ln 3 relative to tf 1", () => {
      const [f] = textFeatures("word", 384);
      const v = wasm.embedText("word");
      expect(v[f!.bucket]).toBeCloseTo(f!.sign, 6);
      expect(v.filter((x) => x !== 0).length).toBe(1);
      // "x x x y": unigrams x (tf 3) and y (tf 1), bigrams "x x" (tf 2) and "x y" (tf 1)
      const feats = textFeatures("x x x y", 4096);
      expect(feats.map((g) => [g.term, g.tf])).toEqual([["x", 3], ["x x", 2], ["y", 1], ["x y", 1]]);
      const w = wasm.embedText("x x x y", { dim: 4096 });
      const byTerm = Object.fromEntries(feats.map((g) => [g.term, g]));
      const ratio = (w[byTerm.x!.bucket]! * byTerm.x!.sign) / (w[byTerm.y!.bucket]! * byTerm.y!.sign);
      expect(ratio).toBeCloseTo(1 + Math.log(3), 5);
    });

    it("applies per-bucket idf like the oracle; idfFromDocumentFrequency is smoothed", () => {
      const segments = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"];
      const df = new Uint32Array(384);
      for (const s of segments) for (const b of documentBuckets(s)) df[b]++;
      const idf = idfFromDocumentFrequency(df, segments.length);
      const b = documentBuckets("the")[0]!;
      expect(idf[b]).toBeCloseTo(Math.log(4 / (1 + df[b]!)) + 1, 6);
      for (const text of segments) expectClose(wasm.embedText(text, { idf }), oracle.embedText(text, { idf }), 1e-6, text);
      const plain = wasm.embedText("a cat and a dog", {});
      const weighted = wasm.embedText("a cat and a dog", { idf });
      expect(Array.from(plain)).not.toEqual(Array.from(weighted));
    });

    it("tokenises Unicode-aware: NFKC, lower case, letters/marks/digits, Han one per character", () => {
      expect(tokenize("Hello, WORLD! it's 42")).toEqual(["hello", "world", "it", "s", "42"]);
      expect(tokenize("Ｆｕｌｌ－ｗｉｄｔｈ")).toEqual(["full", "width"]);
      expect(tokenize("東京タワー")).toEqual(["東", "京", "タワー"]);
      expect(tokenize("नमस्ते")).toEqual(["नमस्ते"]);
      expect(tokenize("ΣΟΦΙΑ Straße")).toEqual(["σοφια", "straße"]);
    });

    it("rejects a bad dim or an idf of the wrong length", () => {
      for (const k of [wasm, oracle]) {
        expect(() => k.embedText("x", { dim: 0 })).toThrow(RangeError);
        expect(() => k.embedText("x", { dim: 2.5 })).toThrow(RangeError);
        expect(() => k.embedText("x", { dim: 8, idf: new Float32Array(4) })).toThrow(/idf has length 4/);
        expect(() => k.embedText("x", { dim: 2, idf: Float32Array.from([1, NaN]) })).toThrow(/not finite/);
      }
    });
  });
}

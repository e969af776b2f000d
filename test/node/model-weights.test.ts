// Seeded model weights (scripts/make-model.ts) and the byte-level tokenizer.
import { describe, expect, it } from "vitest";
import { MODEL_SIZES, type ModelConfig } from "../../backend/model/config";
import { loadWeights } from "../../backend/model/load";
import { parseModelWeights, randomModelWeights, serializeModelWeights } from "../../backend/model/weights";
import { applyChatTemplate, decodeTokens, encodeText, StreamDecoder, VOCAB_SIZE } from "../../backend/model/tokenizer";

const { seed, ...shape } = MODEL_SIZES.tiny;
const config: ModelConfig = { name: "epikv-tiny", vocabSize: VOCAB_SIZE, ...shape };

describe("seeded model weights", () => {
  it("are deterministic for a seed, differ across seeds, and round-trip through safetensors", () => {
    const a = serializeModelWeights(randomModelWeights(config, seed));
    const b = serializeModelWeights(randomModelWeights(config, seed));
    const c = serializeModelWeights(randomModelWeights(config, seed + 1));
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, c)).not.toBe(0);
    const back = parseModelWeights(a);
    expect(back.config).toEqual(config);
    expect(back.layers[3].wDown).toEqual(randomModelWeights(config, seed).layers[3].wDown);
  });

  it("the built file is the seeded model (npm run build is up to date)", () => {
    const built = loadWeights("epikv-tiny");
    const fresh = randomModelWeights(config, seed);
    expect(built.config).toEqual(config);
    expect(built.lmHead).toEqual(fresh.lmHead);
    expect(built.layers[0].wq).toEqual(fresh.layers[0].wq);
  });

  it("refuses a model file with a wrong tensor shape", () => {
    const w = randomModelWeights(config, seed);
    w.layers[1].wk = new Float32Array(10);
    expect(() => parseModelWeights(serializeModelWeights(w))).toThrow(/tensor "model.layers.1.self_attn.k_proj.weight"/);
  });
});

describe("byte-level tokenizer", () => {
  it("round-trips UTF-8 and drops special tokens unless asked", () => {
    const text = "héllo ☕ 🦊";
    expect(decodeTokens(encodeText(text))).toBe(text);
    const chat = applyChatTemplate([{ role: "system", content: "be brief" }, { role: "user", content: "hi" }]);
    expect(decodeTokens(chat)).toBe("be briefhi");
    expect(decodeTokens(chat, true)).toBe("<|bos|><|system|>be brief<|end|><|user|>hi<|end|><|assistant|>");
  });

  it("streams multi-byte characters whole", () => {
    const d = new StreamDecoder();
    const parts = encodeText("a🦊b").map((id) => d.push(id));
    expect(parts).toEqual(["a", "", "", "", "🦊", "b"]);
  });
});

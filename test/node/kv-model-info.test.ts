// The edge's parser of a kv backend's model metadata (durable-objects/kv/model-info.ts):
// token ids may be 0 (a word vocabulary puts its special tokens first), sizes must be positive,
// and malformed metadata is refused naming the field.
import { describe, expect, it } from "vitest";
import { parseModelInfo } from "../../durable-objects/kv/model-info";

const valid = {
  id: "m", layers: 2, heads: 4, kv_heads: 2, head_dim: 64, vocab_size: 255, bos_token: 0,
  role_tokens: { user: 3, assistant: 4 }, stop_tokens: [6, 1],
  limits: { max_input_tokens: 8192, max_prompts: 16, max_prompt_tokens: 4096, max_profile_tokens: 16384 },
};

describe("kv model metadata", () => {
  it("accepts token id 0 and keeps the first stop token as the message end", () => {
    const m = parseModelInfo(valid);
    expect(m.bosToken).toBe(0);
    expect(m.endToken).toBe(6);
    expect(parseModelInfo({ ...valid, stop_tokens: [0] }).endToken).toBe(0);
  });

  it("refuses malformed metadata, naming the field", () => {
    const bad: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ ...valid, bos_token: -1 }, /bos_token must be a token id/],
      [{ ...valid, bos_token: 1.5 }, /bos_token/],
      [{ ...valid, bos_token: "0" }, /bos_token/],
      [{ ...valid, stop_tokens: [] }, /stop_tokens\[0\]/],
      [{ ...valid, layers: 0 }, /layers must be a positive integer/],
      [{ ...valid, heads: 3 }, /not a multiple/],
      [{ ...valid, limits: {} }, /limits.max_input_tokens/],
    ];
    for (const [raw, msg] of bad) expect(() => parseModelInfo(raw)).toThrow(msg);
  });
});

// The edge's parser of a kv backend's model metadata (durable-objects/kv/model-info.ts):
// token ids may be 0 (a word vocabulary puts its special tokens first), sizes must be positive,
// and malformed metadata is refused naming the field. Message framing: role_prefixes and
// message_suffix when sent, else the legacy single role_tokens and stop_tokens[0].
import { describe, expect, it } from "vitest";
import { parseModelInfo, storedModelInfo, type KvModelInfo } from "../../durable-objects/kv/model-info";

const valid = {
  id: "m", layers: 2, heads: 4, kv_heads: 2, head_dim: 64, vocab_size: 255, bos_token: 0,
  role_tokens: { user: 3, assistant: 4 }, stop_tokens: [6, 1],
  limits: { max_input_tokens: 8192, max_prompts: 16, max_prompt_tokens: 4096, max_profile_tokens: 16384 },
};

describe("kv model metadata", () => {
  it("accepts token id 0 and, without role_prefixes, frames with the legacy single tokens", () => {
    const m = parseModelInfo(valid);
    expect(m.bosToken).toBe(0);
    expect(m.rolePrefixes).toEqual({ user: [3], assistant: [4] });
    expect(m.messageSuffix).toEqual([6]);
    expect(parseModelInfo({ ...valid, stop_tokens: [0] }).messageSuffix).toEqual([0]);
    expect(parseModelInfo({ ...valid, role_tokens: undefined }).rolePrefixes).toEqual({});
  });

  it("reads multi-token role prefixes and message suffix, which win over role_tokens", () => {
    // ChatML-like: <|im_start|> role \n … <|im_end|> \n
    const m = parseModelInfo({ ...valid, role_prefixes: { user: [10, 11, 12], assistant: [10, 13, 12] }, message_suffix: [6, 12] });
    expect(m.rolePrefixes).toEqual({ user: [10, 11, 12], assistant: [10, 13, 12] });
    expect(m.messageSuffix).toEqual([6, 12]);
    expect(parseModelInfo({ ...valid, role_prefixes: { user: [0] }, message_suffix: [] }).messageSuffix).toEqual([]);
  });

  it("takes bos_token null for a format that opens a chat with no bos (ChatML)", () => {
    expect(parseModelInfo({ ...valid, bos_token: null }).bosToken).toBeNull();
  });

  it("upgrades model info stored before message framing to the legacy framing", () => {
    const { rolePrefixes: _p, messageSuffix: _s, ...rest } = parseModelInfo(valid);
    const old = { ...rest, roleTokens: { user: 3, assistant: 4 }, endToken: 6 } as unknown as KvModelInfo;
    expect(storedModelInfo(old)).toEqual(parseModelInfo(valid));
    const current = parseModelInfo(valid);
    expect(storedModelInfo(current)).toBe(current);
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
      [{ ...valid, role_tokens: { user: 255 } }, /role_tokens.user must be below vocab_size 255/],
      [{ ...valid, role_tokens: [3] }, /role_tokens must be an object/],
      [{ ...valid, role_prefixes: [[3]], message_suffix: [6] }, /role_prefixes must be an object/],
      [{ ...valid, role_prefixes: { user: [] }, message_suffix: [6] }, /role_prefixes.user must be a non-empty array/],
      [{ ...valid, role_prefixes: { user: 3 }, message_suffix: [6] }, /role_prefixes.user must be a non-empty array/],
      [{ ...valid, role_prefixes: { user: [3, -1] }, message_suffix: [6] }, /role_prefixes.user\[1\] must be a token id/],
      [{ ...valid, role_prefixes: { user: [3, 255] }, message_suffix: [6] }, /role_prefixes.user\[1\] must be below vocab_size 255/],
      [{ ...valid, role_prefixes: { user: [3] } }, /message_suffix must be an array/],
      [{ ...valid, role_prefixes: { user: [3] }, message_suffix: [6, 2.5] }, /message_suffix\[1\] must be a token id/],
      [{ ...valid, role_prefixes: { user: [3] }, message_suffix: [300] }, /message_suffix\[0\] must be below vocab_size/],
    ];
    for (const [raw, msg] of bad) expect(() => parseModelInfo(raw)).toThrow(msg);
  });
});

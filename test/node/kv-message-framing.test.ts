// Message framing in the kv token stream (durable-objects/kv/conversation-kv.ts,
// docs/kv-protocol.md "Message framing"): role prefix + content + message
// suffix, with the multi-token prefixes and suffix of real chat formats
// (ChatML here), and the turn's reply stored with its stop token replaced by
// the whole suffix, so the stream reads as the backend's chat template would.
import { describe, expect, it } from "vitest";
import { appendTurn, chatOpening, messageTokens, rolePrefix, type KvConversationState } from "../../durable-objects/kv/conversation-kv";
import { parseModelInfo } from "../../durable-objects/kv/model-info";
import { MemoryKvStateStore } from "../../durable-objects/kv/state-store";

// A ChatML-shaped vocabulary: <|im_start|>=100 <|im_end|>=101 "\n"=10 user=20 assistant=21 system=22; <|endoftext|>=102.
const IM_START = 100, IM_END = 101, NL = 10;
const chatml = parseModelInfo({
  id: "chatml", layers: 1, heads: 2, kv_heads: 1, head_dim: 8, vocab_size: 128, bos_token: 102,
  stop_tokens: [IM_END, 102],
  role_tokens: {}, // what a backend without single role tokens sends next to the prefixes
  role_prefixes: { system: [IM_START, 22, NL], user: [IM_START, 20, NL], assistant: [IM_START, 21, NL] },
  message_suffix: [IM_END, NL],
  limits: { max_input_tokens: 64, max_prompts: 1, max_prompt_tokens: 16, max_profile_tokens: 64 },
});

describe("kv message framing", () => {
  it("opens the stream with bos_token, or with nothing when the format has none", () => {
    expect(chatOpening(chatml)).toEqual([102]);
    expect(chatOpening({ ...chatml, bosToken: null })).toEqual([]);
  });

  it("frames a message with a multi-token role prefix and suffix", () => {
    expect(messageTokens(chatml, "user", [1, 2, 3])).toEqual([IM_START, 20, NL, 1, 2, 3, IM_END, NL]);
    expect(messageTokens(chatml, "assistant", [])).toEqual([IM_START, 21, NL, IM_END, NL]);
    expect(rolePrefix(chatml, "assistant")).toEqual([IM_START, 21, NL]);
    expect(() => messageTokens(chatml, "tool", [1])).toThrow(/no role prefix for "tool"/);
  });

  it("stores a turn's reply with its stop token replaced by the whole suffix", () => {
    const tokens = new MemoryKvStateStore();
    const state: KvConversationState = { tokens, folded: 0, episodes: [], budgets: [] };
    const query = messageTokens(chatml, "user", [1]);
    appendTurn(chatml, state, query, [5, 6, IM_END]); // stopped on <|im_end|>
    appendTurn(chatml, state, query, [7, 8]); // ran out of max_tokens
    expect(tokens.readTokens(0, tokens.tokenCount())).toEqual([
      ...query, IM_START, 21, NL, 5, 6, IM_END, NL,
      ...query, IM_START, 21, NL, 7, 8, IM_END, NL,
    ]);
  });
});

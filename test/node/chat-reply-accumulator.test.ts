// Rebuilding the assistant reply from stream chunks: content deltas, usage,
// finish_reason, other choices ignored, and streamed tool calls merged by index.
import { describe, expect, it } from "vitest";
import { ReplyAccumulator } from "../../worker/chat/reply-accumulator";
import type { ChatChunk } from "../../worker/backend/chat-backend";

const delta = (d: Record<string, unknown>, finish: string | null = null, index = 0): ChatChunk => ({ choices: [{ index, delta: d, finish_reason: finish }] });

describe("ReplyAccumulator", () => {
  it("joins content deltas of choice 0 and keeps the last usage", () => {
    const acc = new ReplyAccumulator();
    for (const c of [delta({ role: "assistant", content: "" }), delta({ content: "Hel" }), delta({ content: "lo" }, null, 1), delta({ content: "lo" }), delta({}, "stop")]) acc.add(c);
    acc.add({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } });
    expect(acc.reply()).toEqual({ role: "assistant", content: "Hello" });
    expect(acc.usage()).toEqual({ prompt_tokens: 10, completion_tokens: 2 });
    expect(acc.finishReason).toBe("stop");
  });

  it("has no usage when the backend sent none (or an incomplete one)", () => {
    const acc = new ReplyAccumulator();
    acc.add({ choices: [], usage: { prompt_tokens: 3 } });
    expect(acc.usage()).toBeUndefined();
  });

  it("merges streamed tool-call fragments into whole tool calls", () => {
    const acc = new ReplyAccumulator();
    acc.add(delta({ role: "assistant", content: null, tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } }] }));
    acc.add(delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
    acc.add(delta({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } }] }));
    acc.add(delta({ tool_calls: [{ index: 0, function: { arguments: '"Porto"}' } }] }));
    acc.add(delta({}, "tool_calls"));
    expect(acc.reply()).toEqual({
      role: "assistant",
      content: "",
      tool_calls: [
        { id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Porto"}' } },
        { id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } },
      ],
    });
    expect(acc.finishReason).toBe("tool_calls");
  });
});

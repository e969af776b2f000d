import { describe, expect, it } from "vitest";
import { conversationErrorCode } from "../../durable-objects/conversation/conversation-api";
import { queryText, validateMessages } from "../../durable-objects/conversation/message-validation";
import { MAX_MESSAGE_BYTES } from "../../durable-objects/conversation/schema";

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return [conversationErrorCode(e), String(e)] as const;
  }
  return [null, ""] as const;
};

describe("message validation", () => {
  it("keeps known fields and drops empty tool_calls", () => {
    expect(validateMessages([{ role: "assistant", content: "x", tool_calls: [], name: "a", extra: 1 }], { allowEmpty: false })).toEqual([{ role: "assistant", content: "x", name: "a" }]);
  });
  it("names the bad message and field", () => {
    expect(codeOf(() => validateMessages([{ role: "user", content: "ok" }, { role: "user" }], { allowEmpty: false }))).toEqual(["invalid_request", expect.stringMatching(/messages\[1\]\.content/)]);
    expect(codeOf(() => validateMessages([], { allowEmpty: false }))[0]).toBe("invalid_request");
    expect(validateMessages([], { allowEmpty: true })).toEqual([]);
    expect(codeOf(() => validateMessages("nope", { allowEmpty: true }))[0]).toBe("invalid_request");
  });
  it("keeps rows under the size cap: content in UTF-8 bytes, tool_calls as JSON", () => {
    const multibyte = "é".repeat(MAX_MESSAGE_BYTES / 2 + 1); // fewer characters than the cap, more bytes
    expect(codeOf(() => validateMessages([{ role: "user", content: multibyte }], { allowEmpty: false }))[1]).toMatch(/content is over/);
    expect(validateMessages([{ role: "user", content: "é".repeat(MAX_MESSAGE_BYTES / 2) }], { allowEmpty: false })).toHaveLength(1);
    const bigCalls = [{ id: "1", arguments: "x".repeat(MAX_MESSAGE_BYTES) }];
    expect(codeOf(() => validateMessages([{ role: "assistant", content: "", tool_calls: bigCalls }], { allowEmpty: false }))[1]).toMatch(/tool_calls is over/);
  });
  it("queries with the new user/tool messages, else the request's last user message", () => {
    expect(queryText([{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "tool", content: "c" }], [])).toBe("a\nc");
    expect(queryText([], [{ role: "user", content: "q" }, { role: "assistant", content: "r" }])).toBe("q");
    expect(queryText([], [{ role: "assistant", content: "r" }])).toBe("r");
    expect(queryText([], [])).toBe("");
  });
});

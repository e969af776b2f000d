// The backend's request body is JSON text spliced from the client's fields
// and the context the Durable Object serialised (sent-plan.ts,
// upstream-request.ts): it must parse to exactly the object form.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ContextMessage, TurnPlan } from "../../durable-objects/conversation/conversation-api";
import { backendMessage, sentPlan } from "../../durable-objects/conversation/sent-plan";
import { buildUpstreamBody } from "../../worker/chat/upstream-request";
import type { ChatRequest } from "../../worker/validation/chat-request";

function plan(messages: ContextMessage[]): TurnPlan {
  return { new_messages: 1, context: { messages, matched_episode: 3, budget_tokens: 4096, used_tokens: 120, conversation_tokens: 9000 } };
}

const request = (stream: boolean, passthrough: Record<string, unknown>): ChatRequest => ({ model: undefined, messages: [], stream, includeUsage: false, conversationId: undefined, budgetTokens: undefined, passthrough: passthrough as ChatRequest["passthrough"] });

describe("upstream body", () => {
  const messages: ContextMessage[] = [
    { seq: 0, id: "msg_a", role: "system", content: "be brief", tokens: 6, provenance: { kind: "pinned" } },
    { seq: 7, id: "msg_b", role: "assistant", content: "", tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{\"x\":\"\\u2028\"}" } }], tokens: 9, provenance: { kind: "episode", episode: 2, score: 0.4 } },
    { seq: 8, id: "msg_c", role: "tool", content: "42 \"quoted\"\n", tool_call_id: "call_1", name: "f", tokens: 7, provenance: { kind: "recent" } },
    { seq: null, id: null, role: "user", content: "naïve 日本 🧪", tokens: 8, provenance: { kind: "turn" } },
  ];

  it("carries the selection's figures and the backend's view of each message", () => {
    const sent = sentPlan(plan(messages));
    expect(sent).toMatchObject({ new_messages: 1, message_count: 4, matched_episode: 3, budget_tokens: 4096, used_tokens: 120 });
    expect(JSON.parse(sent.messages_json)).toEqual(messages.map(backendMessage));
    expect(JSON.parse(sent.messages_json)[1]).toEqual({ role: "assistant", content: "", tool_calls: messages[1]!.tool_calls });
  });

  it("parses to the client's fields, the model, stream flags and the context", () => {
    const sent = sentPlan(plan(messages));
    const body = JSON.parse(buildUpstreamBody(request(true, { temperature: 0.2, stop: ["\n"], tools: [{ type: "function" }] }), sent, "m-1"));
    expect(body).toEqual({ temperature: 0.2, stop: ["\n"], tools: [{ type: "function" }], model: "m-1", stream: true, stream_options: { include_usage: true }, messages: messages.map(backendMessage) });
    const plain = JSON.parse(buildUpstreamBody(request(false, {}), sentPlan(plan([])), undefined));
    expect(plain).toEqual({ stream: false, messages: [] });
  });

  it("equals the object form for any passthrough fields and message texts", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string().filter((k) => !["model", "messages", "stream", "stream_options", "__proto__"].includes(k)), fc.jsonValue()), fc.array(fc.string()), fc.boolean(), (passthrough, texts, stream) => {
        const ms: ContextMessage[] = texts.map((content, i) => ({ seq: i, id: `m${i}`, role: i % 2 ? "assistant" : "user", content, tokens: 1, provenance: { kind: "recent" } }));
        const body = JSON.parse(buildUpstreamBody(request(stream, passthrough), sentPlan(plan(ms)), "m"));
        const expected = { ...JSON.parse(JSON.stringify(passthrough)), model: "m", stream, ...(stream ? { stream_options: { include_usage: true } } : {}), messages: ms.map(backendMessage) };
        expect(body).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

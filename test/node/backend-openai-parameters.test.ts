// The reference backend's Chat Completions parameters over real HTTP: logprobs
// are real (they match a softmax of the model's own logits and the greedy
// choice), every unsupported parameter is a 400 naming it, and no input —
// deep nesting, a 600 KiB message, random bodies — crashes it (always a 4xx
// or a 200, never a 500, and it keeps serving).
import OpenAI from "openai";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type RunningBackend } from "../../backend/server";
import { createModel, loadWeights } from "../../backend/model/load";
import { applyChatTemplate } from "../../backend/model/tokenizer";
import { emptyKv } from "../../backend/model/kv";

let backend: RunningBackend;
let client: OpenAI;
const messages = [{ role: "user" as const, content: "Tell me about otters." }];

beforeAll(async () => {
  backend = await startBackend(0);
  client = new OpenAI({ baseURL: backend.url + "/v1", apiKey: "unused", maxRetries: 0 });
});
afterAll(() => backend.close());

async function post(body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${backend.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* SSE or empty */
  }
  return { status: res.status, json };
}

describe("logprobs", () => {
  it("reports each greedy token's log-probability from the model's own logits, with top alternatives led by the chosen token", async () => {
    const r = await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 6, logprobs: true, top_logprobs: 3 });
    const content = r.choices[0].logprobs!.content!;
    expect(content).toHaveLength(6);
    // Recompute the first token's distribution in-process: same prompt, same model.
    const model = createModel(loadWeights("epikv-tiny"), "js");
    const prompt = applyChatTemplate(messages, true);
    const { logits } = model.forward({ tokens: prompt, positions: prompt.map((_, i) => i), past: emptyKv(model.config) });
    const max = Math.max(...logits);
    const logZ = max + Math.log(logits.reduce((s, x) => s + Math.exp(x - max), 0));
    const best = logits.indexOf(max);
    expect(content[0].bytes).toEqual([best]);
    expect(content[0].logprob).toBeCloseTo(max - logZ, 3);
    for (const t of content) {
      expect(t.top_logprobs).toHaveLength(3);
      expect(t.top_logprobs[0].logprob).toBeCloseTo(t.logprob, 6); // greedy: the chosen token is the most likely
      expect(t.top_logprobs[1].logprob).toBeLessThanOrEqual(t.top_logprobs[0].logprob);
      expect(t.logprob).toBeLessThanOrEqual(0);
    }
  });

  it("streams the same logprobs as the non-streaming call", async () => {
    const whole = await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 8, logprobs: true });
    const stream = await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 8, logprobs: true, stream: true });
    const streamed: unknown[] = [];
    for await (const chunk of stream) streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));
    expect(streamed).toEqual(whole.choices[0].logprobs!.content);
  });

  it("top_logprobs without logprobs, or above 20, is a 400 naming top_logprobs", async () => {
    for (const body of [{ messages, top_logprobs: 2 }, { messages, logprobs: true, top_logprobs: 21 }]) {
      const r = await post(body);
      expect(r.status).toBe(400);
      expect(r.json.error.param).toBe("top_logprobs");
    }
  });
});

describe("parameters are used, accepted at a no-op value, or refused by name", () => {
  it.each([
    ["response_format", { type: "json_object" }],
    ["tools", [{ type: "function", function: { name: "f", parameters: {} } }]],
    ["tool_choice", "required"],
    ["frequency_penalty", 0.5],
    ["presence_penalty", -1],
    ["logit_bias", { "65": 10 }],
    ["reasoning_effort", "high"],
    ["made_up_parameter", 1],
  ])("%s → 400 with param %s", async (key, value) => {
    const r = await post({ messages, [key]: value });
    expect(r.status).toBe(400);
    expect(r.json.error.param).toBe(key);
    expect(r.json.error.message).toContain(key);
  });

  it("accepts no-op values and labels", async () => {
    const r = await post({ messages, max_tokens: 2, response_format: { type: "text" }, frequency_penalty: 0, presence_penalty: 0, logit_bias: {}, tools: [], tool_choice: "none", user: "u1", metadata: { a: "b" } });
    expect(r.status).toBe(200);
  });
});

describe("no input crashes the reference backend", () => {
  it("tool_calls nested 10,000 deep is a 400 naming the depth limit", async () => {
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    const r = await post(`{"messages":[{"role":"assistant","content":null,"tool_calls":${deep}}]}`);
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/deeper than 64 levels/);
  });

  it("a 600 KiB message is refused as too long for the model (400), not a stack overflow", async () => {
    const r = await post({ messages: [{ role: "user", content: "x".repeat(600 * 1024) }], max_tokens: 1 });
    expect(r.status).toBe(400);
    expect(r.json.error.param).toBe("messages");
  });

  it("refuses keys named like Object.prototype's members as unrecognized (a property test found valueOf answered 500)", async () => {
    for (const key of ["valueOf", "toString", "constructor", "hasOwnProperty", "__proto__"]) {
      const r = await post(JSON.parse(`{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1, ${JSON.stringify(key)}: false}`));
      expect(r.status, key).toBe(400);
      expect(r.json.error.param).toBe(key);
    }
  });

  it("random bodies get a 4xx or a 200, and the server keeps serving", async () => {
    const anyField = fc.dictionary(fc.constantFrom("model", "messages", "max_tokens", "temperature", "top_p", "seed", "stop", "n", "logprobs", "top_logprobs", "stream", "stream_options", "user"), fc.jsonValue({ maxDepth: 4 }));
    const body = fc.oneof(
      anyField,
      fc.record({ messages: fc.array(fc.record({ role: fc.constantFrom("user", "system", "assistant", "tool", "x"), content: fc.oneof(fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 3 })) }), { maxLength: 3 }), max_tokens: fc.integer({ min: -2, max: 3 }) }),
      fc.jsonValue({ maxDepth: 5 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const r = await post(b);
        expect(r.status === 200 || (r.status >= 400 && r.status < 500)).toBe(true);
      }),
      { numRuns: 150 },
    );
    expect((await post({ messages, max_tokens: 1 })).status).toBe(200);
  });
});

// stream: true — OpenAI chunk format passed through, [DONE], usage only when
// asked for, the reply recorded when the stream completes, and also when the
// client hangs up early (the Worker keeps reading upstream under waitUntil).
import { describe, expect, it } from "vitest";
import { allMessages, api, chat, info, sseData, uniqueId, waitFor } from "./support/epikv-client";

interface Chunk {
  object: string;
  choices: { index: number; delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number };
}

describe("chat completions, streaming (workerd)", () => {
  it("streams OpenAI chunks ending in [DONE] and records the whole reply", async () => {
    const id = uniqueId("stream");
    const res = await chat({ stream: true, messages: [{ role: "user", content: `tell me a story ${id}` }] }, id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("x-conversation-id")).toBe(id);
    const data = await sseData(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks.some((c) => c.usage !== undefined || c.choices.length === 0)).toBe(false);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe(`echo 1: tell me a story ${id}`);
    expect((await allMessages(id)).map((m) => m.content)).toEqual([`tell me a story ${id}`, text]);
  });

  it("sends the usage chunk when stream_options.include_usage is set", async () => {
    const id = uniqueId("usage");
    const res = await chat({ stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: `count ${id}` }] }, id);
    const data = await sseData(res);
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(last.usage!.prompt_tokens).toBeGreaterThan(0);
    // the test double counts completion tokens as words of its reply
    expect(last.usage!.completion_tokens).toBe(text.split(" ").length);
  });

  it("creates a conversation for a stream without an id and returns it in the header", async () => {
    const res = await chat({ stream: true, messages: [{ role: "user", content: `new stream ${uniqueId("x")}` }] });
    const id = res.headers.get("x-conversation-id")!;
    expect(id).toMatch(/^conv_/);
    await res.text();
    expect((await info(id)).message_count).toBe(2);
  });

  it("records the reply when the client disconnects after the first chunk", async () => {
    const id = uniqueId("hangup");
    const prompt = `a long answer please, with many words to stream slowly ${id}`;
    const res = await chat({ model: "test-double-slow", stream: true, messages: [{ role: "user", content: prompt }] }, id);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await reader.cancel();
    // the conversation is created by the commit that runs after the client left
    const count = async () => {
      const res = await api("GET", `/v1/conversations/${id}`);
      return res.status === 200 ? (await res.json<{ message_count: number }>()).message_count : 0;
    };
    expect(await waitFor(count, (n) => n === 2, 8000)).toBe(2);
    const stored = await allMessages(id);
    expect(stored[1]).toMatchObject({ role: "assistant", content: `echo 1: ${prompt}` });
  });
});

// The reference backend's OpenAI-compatible API, driven by the official
// `openai` client over real HTTP (tiny model, port 0).
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type RunningBackend } from "../../backend/server";

let backend: RunningBackend;
let client: OpenAI;
const messages = [
  { role: "system" as const, content: "You are terse." },
  { role: "user" as const, content: "Say something about foxes." },
];

beforeAll(async () => {
  backend = await startBackend(0);
  client = new OpenAI({ baseURL: backend.url + "/v1", apiKey: "unused", maxRetries: 0 });
});
afterAll(() => backend.close());

describe("OpenAI-compatible chat completions", () => {
  it("lists models", async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(["epikv-tiny"]);
  });

  it("greedy decoding is deterministic, honours max_tokens and reports usage", async () => {
    const a = await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 12, temperature: 0 });
    const b = await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 12, temperature: 0 });
    expect(a.choices[0].message.content).toBe(b.choices[0].message.content);
    expect(a.choices[0].finish_reason).toBe("length");
    expect(a.usage).toEqual({ prompt_tokens: 1 + 2 * 2 + 14 + 26 + 1, completion_tokens: 12, total_tokens: 46 + 12 });
  });

  it("streams the same text as the non-streaming call, with usage on request", async () => {
    const whole = await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 20 });
    const stream = await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 20, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let finish: string | null = null;
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(whole.choices[0].message.content);
    expect(finish).toBe("length");
    expect(usage).toEqual(whole.usage);
  });

  it("seeded sampling is reproducible and differs from greedy", async () => {
    const run = (seed: number) => client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 16, temperature: 1.5, seed });
    const [a, b, greedy] = await Promise.all([run(3), run(3), client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 16 })]);
    expect(a.choices[0].message.content).toBe(b.choices[0].message.content);
    expect(a.choices[0].message.content).not.toBe(greedy.choices[0].message.content);
  });

  it("stop strings end the text without being returned", async () => {
    const whole = (await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 20 })).choices[0].message.content!;
    const stop = whole.slice(3, 5);
    const cut = await client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 20, stop });
    expect(cut.choices[0].message.content).toBe(whole.slice(0, whole.indexOf(stop)));
    expect(cut.choices[0].finish_reason).toBe("stop");
  });

  it("bad requests get OpenAI-style errors", async () => {
    await expect(client.chat.completions.create({ model: "nope", messages })).rejects.toMatchObject({ status: 404, code: "model_not_found" });
    await expect(client.chat.completions.create({ model: "epikv-tiny", messages: [] })).rejects.toMatchObject({ status: 400, param: "messages" });
    await expect(client.chat.completions.create({ model: "epikv-tiny", messages: [{ role: "wizard" as "user", content: "x" }] })).rejects.toMatchObject({ status: 400 });
    await expect(client.chat.completions.create({ model: "epikv-tiny", messages, max_tokens: 1e9 })).rejects.toMatchObject({ status: 400, param: "max_tokens" });
  });
});

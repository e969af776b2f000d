// A failed upstream call leaves the conversation exactly as it was: no
// message, no counter, no calibration change. Non-streaming clients get a
// 502 with an OpenAI error; streaming clients get an SSE error event and no
// [DONE].
import { describe, expect, it } from "vitest";
import { allMessages, chat, info, sseData, uniqueId } from "./support/epikv-client";

async function seeded(prefix: string) {
  const id = uniqueId(prefix);
  const ok = await chat({ messages: [{ role: "user", content: `seed ${id}` }] }, id);
  expect(ok.status).toBe(200);
  return { id, messages: await allMessages(id), info: await storedInfo(id) };
}

/** The conversation's stored state as info() reports it, without `memory` (the object's in-memory caches, which a planned turn may fill). */
async function storedInfo(id: string) {
  const { memory: _inMemory, ...stored } = await info(id);
  return stored;
}

describe("upstream failures write nothing (workerd)", () => {
  it("non-2xx backend → 502 with the backend's message; conversation unchanged", async () => {
    const before = await seeded("fail500");
    const res = await chat({ model: "test-double-fail-500", messages: [{ role: "user", content: "this turn must vanish" }] }, before.id);
    expect(res.status).toBe(502);
    const body = await res.json<{ error: { type: string; code: string; message: string } }>();
    expect(body.error.type).toBe("upstream_error");
    expect(body.error.code).toBe("upstream_status_500");
    expect(body.error.message).toContain("simulated backend failure");
    expect(await allMessages(before.id)).toEqual(before.messages);
    expect(await storedInfo(before.id)).toEqual(before.info);
  });

  it("the same for a streaming request refused by the backend: a plain 502, no stream", async () => {
    const before = await seeded("fail500s");
    const res = await chat({ model: "test-double-fail-500", stream: true, messages: [{ role: "user", content: "vanish" }] }, before.id);
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(await allMessages(before.id)).toEqual(before.messages);
  });

  for (const [model, code] of [
    ["test-double-cut-stream", "upstream_stream_incomplete"],
    ["test-double-bad-json", "upstream_invalid_response"],
  ] as const) {
    it(`stream broken mid-way (${model}) → SSE error event, no [DONE], nothing written`, async () => {
      const before = await seeded(model);
      const res = await chat({ model, stream: true, messages: [{ role: "user", content: "this turn must vanish too" }] }, before.id);
      expect(res.status).toBe(200);
      const data = await sseData(res);
      expect(data).not.toContain("[DONE]");
      const last = JSON.parse(data.at(-1)!) as { error: { code: string; type: string } };
      expect(last.error).toMatchObject({ code, type: "upstream_error" });
      expect(await allMessages(before.id)).toEqual(before.messages);
      expect(await storedInfo(before.id)).toEqual(before.info);
    });
  }

  it("a finished stream without [DONE] still counts as complete", async () => {
    const before = await seeded("nodone");
    const res = await chat({ model: "test-double-no-done", stream: true, messages: [{ role: "user", content: `ok ${before.id}` }] }, before.id);
    const data = await sseData(res);
    expect(data.at(-1)).toBe("[DONE]");
    expect((await info(before.id)).message_count).toBe(before.info.message_count + 2);
  });

  it("a failed first turn does not even leave the message of a new conversation", async () => {
    const id = uniqueId("failnew");
    const res = await chat({ model: "test-double-fail-500", messages: [{ role: "user", content: "nothing" }] }, id);
    expect(res.status).toBe(502);
    const after = await chat({ messages: [{ role: "user", content: `now it works ${id}` }] }, id);
    expect(after.status).toBe(200);
    expect((await allMessages(id)).map((m) => m.content)).toEqual([`now it works ${id}`, `echo 1: now it works ${id}`]);
  });
});

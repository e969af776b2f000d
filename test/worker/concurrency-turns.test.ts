// Concurrent turns on one conversation are serialised in arrival order: each
// plans only after the previous one committed, so every reply follows its own
// question, nothing is lost or duplicated, and each turn's backend request
// carries the whole history before it.
import { describe, expect, it } from "vitest";
import { allMessages, api, backendRequestsWith, chat, sseData, uniqueId } from "./support/epikv-client";

describe("concurrent turns (workerd)", () => {
  it("12 simultaneous turns on one conversation: 24 messages, each reply right after its question", async () => {
    const id = uniqueId("concurrent");
    const n = 12;
    // A window that holds the whole conversation, so each reply's count shows the history its turn saw.
    expect((await api("POST", "/v1/conversations", { id, settings: { recent_messages: 1024, budget_tokens: 100_000 } })).status).toBe(201);
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => chat({ messages: [{ role: "user", content: `q${i} ${id}` }] }, id).then(async (r) => [r.status, await r.text()] as const)),
    );
    expect(results.map(([s]) => s)).toEqual(Array(n).fill(200));
    const stored = await allMessages(id); // every turn was recorded before it answered
    expect(stored).toHaveLength(2 * n);
    const questions = stored.filter((m) => m.role === "user").map((m) => m.content);
    expect(new Set(questions).size).toBe(n);
    for (let k = 0; k < n; k++) {
      const q = stored[2 * k]!;
      const a = stored[2 * k + 1]!;
      expect(q.role).toBe("user");
      // The backend saw the k earlier turns (2k messages) plus this question: turns did not overlap.
      expect(a.content).toBe(`echo ${2 * k + 1}: ${q.content}`);
    }
    const requests = await backendRequestsWith(id);
    expect(requests).toHaveLength(n);
  });

  it("a turn that arrives while a slow stream is running waits for it and comes after it", async () => {
    const id = uniqueId("order");
    const slow = await chat({ model: "test-double-slow", stream: true, messages: [{ role: "user", content: `first slow ${id}` }] }, id);
    expect(slow.status).toBe(200); // headers are out: the first turn holds the conversation
    const second = chat({ messages: [{ role: "user", content: `second ${id}` }] }, id);
    const slowData = await sseData(slow);
    expect(slowData.at(-1)).toBe("[DONE]");
    expect((await second).status).toBe(200);
    // Read right after the answer: a non-streaming turn answers once it is recorded (chat-turn.ts completeTurn).
    expect((await allMessages(id)).map((m) => m.content)).toEqual([`first slow ${id}`, `echo 1: first slow ${id}`, `second ${id}`, `echo 3: second ${id}`]);
  });
});

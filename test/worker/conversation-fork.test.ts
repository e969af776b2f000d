// Regenerate and edit in workerd, through the HTTP API and the real Durable
// Object (durable-objects/conversation/fork.ts): the conversation follows the
// history the client sends; what the fork replaced is kept, marked
// superseded_at, listed only with ?include_superseded=true, and never sent as
// context again. history "strict" keeps the 409. Concurrent resends all land.
import { describe, expect, it } from "vitest";
import type { StoredMessage } from "../../durable-objects/conversation/conversation-api";
import { allMessages, api, backendRequestsWith, chat, info, preview, uniqueId } from "./support/epikv-client";

type M = { role: string; content: string };
const u = (content: string): M => ({ role: "user", content });

async function turn(id: string, messages: M[], model?: string): Promise<{ status: number; reply: string; body: any }> {
  const res = await chat(model ? { model, messages } : { messages }, id);
  const body = await res.json<any>();
  return { status: res.status, reply: body.choices?.[0]?.message?.content, body };
}

async function withSuperseded(id: string): Promise<StoredMessage[]> {
  const res = await api("GET", `/v1/conversations/${id}/messages?include_superseded=true&limit=1000`);
  expect(res.status).toBe(200);
  return (await res.json<{ data: StoredMessage[] }>()).data;
}

describe("regenerate and edit fork the conversation (workerd)", () => {
  it("regenerate: the last reply is superseded and replaced; the backend never sees it", async () => {
    const id = uniqueId("regen");
    const r1 = await turn(id, [u(`first ${id}`)]);
    const h = [u(`first ${id}`), { role: "assistant", content: r1.reply }, u(`second ${id}`)];
    const r2 = await turn(id, h);
    expect(r2.status).toBe(200);
    const again = await turn(id, h); // regenerate: same history, without r2
    expect(again.status).toBe(200);
    const live = await allMessages(id);
    expect(live.map((m) => m.content)).toEqual([h[0]!.content, r1.reply, h[2]!.content, again.reply]);
    expect(live.every((m) => m.superseded_at === undefined)).toBe(true);
    // The regenerate's backend request carried 3 messages, not the superseded reply.
    const seen = (await backendRequestsWith(`second ${id}`)).map((r) => r.body.messages.length);
    expect(seen).toEqual([3, 3]);
    const all = await withSuperseded(id);
    expect(all).toHaveLength(5);
    expect(all[4]).toMatchObject({ seq: 3, role: "assistant", content: r2.reply });
    expect(all[4]!.superseded_at).toBeGreaterThan(0);
    expect((await info(id)).message_count).toBe(4);
  });

  it("edit of a middle message: it and everything after are superseded; context never includes them", async () => {
    const id = uniqueId("edit-mid");
    const marker = `zebra${id.slice(-8)}`;
    const r1 = await turn(id, [u(`one ${id}`)]);
    const h1 = [u(`one ${id}`), { role: "assistant", content: r1.reply }];
    const r2 = await turn(id, [...h1, u(`two ${marker}`)]);
    const r3 = await turn(id, [...h1, u(`two ${marker}`), { role: "assistant", content: r2.reply }, u(`three ${id}`)]);
    expect(r3.status).toBe(200);
    const edited = await turn(id, [...h1, u(`two edited ${id}`)]);
    expect(edited.status).toBe(200);
    expect(edited.reply).toBe(`echo 3: two edited ${id}`);
    expect((await allMessages(id)).map((m) => m.content)).toEqual([h1[0]!.content, r1.reply, `two edited ${id}`, edited.reply]);
    const superseded = (await withSuperseded(id)).filter((m) => m.superseded_at !== undefined);
    expect(superseded.map((m) => m.content)).toEqual([`two ${marker}`, r2.reply, `three ${id}`, r3.reply]);
    const ctx = await preview(id, marker, 100_000);
    // Only the preview's own query (seq null) carries the marker: no stored message does.
    expect(ctx.messages.filter((m) => m.seq !== null).some((m) => m.content.includes(marker))).toBe(false);
    expect(ctx.messages.filter((m) => m.seq !== null).map((m) => m.seq)).toEqual([0, 1, 2, 3]);
  });

  it("edit of the first message with later history resent forks at 0 (was: 6 messages)", async () => {
    const id = uniqueId("edit-first");
    const r = await turn(id, [u(`A ${id}`)]);
    expect(r.status).toBe(200);
    const res = await turn(id, [u(`A' ${id}`), { role: "assistant", content: "x" }, u(`C ${id}`)]);
    expect(res.status).toBe(200);
    const live = await allMessages(id);
    expect(live.map((m) => m.content)).toEqual([`A' ${id}`, "x", `C ${id}`, res.reply]);
    expect((await withSuperseded(id)).filter((m) => m.superseded_at).map((m) => m.content)).toEqual([`A ${id}`, r.reply]);
  });

  it('history "strict": a regenerate is 409 history_conflict with its whole message, and nothing changes', async () => {
    const id = uniqueId("strict");
    expect((await api("POST", "/v1/conversations", { id, settings: { history: "strict" } })).status).toBe(201);
    const r1 = await turn(id, [u(`a ${id}`)]);
    const h = [u(`a ${id}`), { role: "assistant", content: r1.reply }, u(`b ${id}`)];
    await turn(id, h);
    const conflict = await turn(id, [...h.slice(0, 2), u(`b edited ${id}`)]);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe("history_conflict");
    expect(conflict.body.error.message).toMatch(/^the request matches the stored conversation/);
    expect(await allMessages(id)).toHaveLength(4);
    expect((await api("POST", "/v1/conversations", { id, settings: { history: "sometimes" } })).status).toBe(400);
  });

  it("20 concurrent resends of one history plus a new message: all 200, each tail appended in arrival order, nothing superseded", async () => {
    const id = uniqueId("resend");
    const r0 = await turn(id, [u(`base ${id}`)]);
    const h = [u(`base ${id}`), { role: "assistant", content: r0.reply }];
    const n = 20;
    // Concurrent means every request arrives before any reply is visible (rule (q) of history-divergence.ts): a
    // backend that answers in 150 ms makes that hold however slowly this machine hands the 20 requests to the Worker.
    const results = await Promise.all(Array.from({ length: n }, (_, i) => turn(id, [...h, u(`m${i} ${id}`)], "test-double-slow")));
    expect(results.map((r) => r.status)).toEqual(Array(n).fill(200));
    const live = await allMessages(id);
    expect(live).toHaveLength(2 + 2 * n);
    const questions = live.filter((m) => m.role === "user").slice(1).map((m) => m.content);
    expect(new Set(questions).size).toBe(n);
    for (let k = 0; k < n; k++) expect(live[3 + 2 * k]!.content).toBe(results.find((r) => r.reply.endsWith(live[2 + 2 * k]!.content))!.reply);
    expect((await withSuperseded(id)).filter((m) => m.superseded_at)).toHaveLength(0);
  });
});

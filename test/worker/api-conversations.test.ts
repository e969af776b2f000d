// /v1/conversations routes against the real ConversationDO: create (with and
// without id), settings update, get, delete, bulk import with
// Idempotency-Key and deduplication, paging, episodes, context preview, 404s.
import { SELF } from "cloudflare:test";
import { TEST_API_KEY } from "../../testing/test-api-keys";
import { describe, expect, it } from "vitest";
import type { ConversationInfo, EpisodeView, ImportResult } from "../../durable-objects/conversation/conversation-api";
import { allMessages, api, preview, runPendingAlarm, syntheticHistory, uniqueId } from "./support/epikv-client";

describe("conversation API (workerd)", () => {
  it("creates with a chosen id and settings (201), updates on repeat (200), reads, deletes", async () => {
    const id = uniqueId("conv");
    const created = await api("POST", "/v1/conversations", { id, settings: { budget_tokens: 2048, episodes: 3 } });
    expect(created.status).toBe(201);
    const body = await created.json<ConversationInfo & { object: string }>();
    expect(body).toMatchObject({ object: "conversation", id, message_count: 0, settings: { budget_tokens: 2048, episodes: 3 } });
    const again = await api("POST", "/v1/conversations", { id, settings: { window: 2 } });
    expect(again.status).toBe(200);
    expect((await again.json<ConversationInfo>()).settings).toMatchObject({ budget_tokens: 2048, episodes: 3, window: 2 });
    expect((await (await api("GET", `/v1/conversations/${id}`)).json<ConversationInfo>()).settings.window).toBe(2);
    const del = await api("DELETE", `/v1/conversations/${id}`);
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ id, object: "conversation.deleted", deleted: true });
    expect((await api("GET", `/v1/conversations/${id}`)).status).toBe(404);
    expect((await api("DELETE", `/v1/conversations/${id}`)).status).toBe(404);
  });

  it("creates with a generated id from an empty body", async () => {
    const res = await SELF.fetch("http://epikv.test/v1/conversations", { method: "POST", headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    expect(res.status).toBe(201);
    const body = await res.json<ConversationInfo>();
    expect(body.id).toMatch(/^conv_[0-9a-f]{24}$/);
    expect(res.headers.get("x-conversation-id")).toBe(body.id);
  });

  it("answers 404 for every sub-resource of an unknown conversation", async () => {
    const id = uniqueId("ghost");
    for (const [method, path, body] of [
      ["GET", `/v1/conversations/${id}`],
      ["GET", `/v1/conversations/${id}/messages`],
      ["POST", `/v1/conversations/${id}/messages`, { messages: [{ role: "user", content: "x" }] }],
      ["GET", `/v1/conversations/${id}/episodes`],
      ["POST", `/v1/conversations/${id}/context`, { query: "x" }],
    ] as const) {
      const res = await api(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await res.json<{ error: { code: string } }>()).error.code).toBe("conversation_not_found");
    }
  });

  it("imports history idempotently and deduplicates resent messages", async () => {
    const id = uniqueId("import");
    await api("POST", "/v1/conversations", { id });
    const history = syntheticHistory(120, id);
    const first = await api("POST", `/v1/conversations/${id}/messages`, { messages: history.slice(0, 80) }, { "idempotency-key": `${id}-k1` });
    expect(first.status).toBe(201);
    expect(await first.json<ImportResult>()).toMatchObject({ appended: 80, duplicates: 0, message_count: 80, replayed: false });
    const replay = await api("POST", `/v1/conversations/${id}/messages`, { messages: history.slice(0, 80) }, { "idempotency-key": `${id}-k1` });
    expect(replay.status).toBe(200);
    expect(await replay.json<ImportResult>()).toMatchObject({ message_count: 80, replayed: true });
    // resending overlapping history without a key: only the new tail is appended
    const overlap = await api("POST", `/v1/conversations/${id}/messages`, { messages: history });
    expect(await overlap.json<ImportResult>()).toMatchObject({ appended: 40, duplicates: 80, message_count: 120, replayed: false });
    const stored = await allMessages(id);
    expect(stored.map((m) => m.content)).toEqual(history.map((m) => m.content));
    expect(stored.map((m) => m.seq)).toEqual(history.map((_, i) => i));
    expect(new Set(stored.map((m) => m.id)).size).toBe(120);
  });

  it("pages through messages with after/limit and rejects bad paging", async () => {
    const id = uniqueId("page");
    await api("POST", "/v1/conversations", { id });
    await api("POST", `/v1/conversations/${id}/messages`, { messages: syntheticHistory(25, id) });
    const p1 = await (await api("GET", `/v1/conversations/${id}/messages?limit=10`)).json<{ data: { seq: number }[]; next_after: number | null }>();
    expect(p1.data.map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const p3 = await (await api("GET", `/v1/conversations/${id}/messages?limit=10&after=19`)).json<{ data: { seq: number }[]; next_after: number | null }>();
    expect(p3.data.map((m) => m.seq)).toEqual([20, 21, 22, 23, 24]);
    expect(p3.next_after).toBeNull();
    expect((await api("GET", `/v1/conversations/${id}/messages?limit=0`)).status).toBe(400);
    expect((await api("GET", `/v1/conversations/${id}/messages?after=abc`)).status).toBe(400);
  });

  it("lists episodes and previews context with provenance, sending nothing to a backend", async () => {
    const id = uniqueId("episodes");
    await api("POST", "/v1/conversations", { id, settings: { budget_tokens: 256, episodes: 4 } });
    await api("POST", `/v1/conversations/${id}/messages`, { messages: syntheticHistory(160, id) });
    await runPendingAlarm(id); // clustering is deferred to an alarm (never on the request path)
    const eps = await (await api("GET", `/v1/conversations/${id}/episodes`)).json<{ object: string; data: EpisodeView[] }>();
    expect(eps.object).toBe("list");
    expect(eps.data.length).toBeGreaterThan(0);
    for (const e of eps.data) {
      expect(e.segments.length).toBe(e.size);
      expect(e.top_terms.length).toBeGreaterThan(0);
    }
    const sel = await preview(id, "how is the garden soil doing");
    expect(sel.used_tokens).toBeLessThanOrEqual(256);
    expect(sel.messages.reduce((n, m) => n + m.tokens, 0)).toBeLessThanOrEqual(sel.used_tokens);
    const seqs = sel.messages.map((m) => m.seq).filter((s): s is number => s !== null);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(sel.conversation_tokens).toBeGreaterThan(sel.used_tokens);
    const smaller = await preview(id, "how is the garden soil doing", 100);
    expect(smaller.used_tokens).toBeLessThanOrEqual(100);
    expect(smaller.messages.length).toBeLessThan(sel.messages.length);
  });
});

// Idempotency-Key on chat turns: a retry returns the first result and appends
// nothing; a key reused with other messages is refused; a failed first try
// stores nothing, so its retry runs the turn once.
import { describe, expect, it } from "vitest";
import { allMessages, api, backendRequestsWith, chat, sseData, uniqueId } from "./support/epikv-client";

const turn = (id: string, body: Record<string, unknown>, key: string) =>
  api("POST", "/v1/chat/completions", { model: "epikv", ...body }, { "x-conversation-id": id, "idempotency-key": key });

describe("idempotent turns (workerd)", () => {
  it("a retried non-streaming turn returns the stored completion and appends nothing twice", async () => {
    const id = uniqueId("idem");
    const body = { messages: [{ role: "user", content: `pay invoice ${id}` }] };
    const first = await turn(id, body, `k-${id}`);
    expect(first.status).toBe(200);
    const firstJson = await first.json();
    const again = await turn(id, body, `k-${id}`);
    expect(again.status).toBe(200);
    expect(again.headers.get("x-epikv-idempotent-replay")).toBe("true");
    expect(again.headers.get("x-conversation-id")).toBe(id);
    expect(await again.json()).toEqual(firstJson);
    expect((await allMessages(id)).map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(await backendRequestsWith(`pay invoice ${id}`)).toHaveLength(1);
  });

  it("a retried streaming turn replays the same reply as a stream", async () => {
    const id = uniqueId("idem-stream");
    const body = { stream: true, messages: [{ role: "user", content: `stream once ${id}` }] };
    const text = async (res: Response) =>
      (await sseData(res)).filter((d) => d !== "[DONE]").map((d) => (JSON.parse(d).choices[0]?.delta?.content ?? "") as string).join("");
    const first = await text(await turn(id, body, `s-${id}`));
    const replay = await turn(id, body, `s-${id}`);
    expect(replay.headers.get("x-epikv-idempotent-replay")).toBe("true");
    expect(await text(replay)).toBe(first);
    expect(first).toBe(`echo 1: stream once ${id}`);
    expect(await allMessages(id)).toHaveLength(2);
  });

  it("refuses a key reused with different messages (400), and a failed try stores nothing", async () => {
    const id = uniqueId("idem-fail");
    const msgs = [{ role: "user", content: `retry me ${id}` }];
    const failed = await turn(id, { model: "test-double-fail-500", messages: msgs }, `f-${id}`);
    expect(failed.status).toBe(502);
    const ok = await turn(id, { messages: msgs }, `f-${id}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-epikv-idempotent-replay")).toBeNull();
    const reused = await turn(id, { messages: [{ role: "user", content: "something else" }] }, `f-${id}`);
    expect(reused.status).toBe(400);
    expect(((await reused.json()) as { error: { message: string } }).error.message).toMatch(/Idempotency-Key was already used/);
    expect((await allMessages(id)).map((m) => m.content)).toEqual([`retry me ${id}`, `echo 1: retry me ${id}`]);
    // Without a key the same request is a regenerate (history-divergence.ts): the stored reply is superseded by a new one. The key prevents that.
    expect((await chat({ messages: msgs }, id)).status).toBe(200);
    expect(await allMessages(id)).toHaveLength(2);
    const all = await (await api("GET", `/v1/conversations/${id}/messages?include_superseded=true`)).json<{ data: { superseded_at?: number }[] }>();
    expect(all.data.filter((m) => m.superseded_at !== undefined)).toHaveLength(1);
  });
});

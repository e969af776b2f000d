// The backend receives a budgeted context: never more estimated tokens than
// the budget, and exactly what POST /context previews for the same query.
import { describe, expect, it } from "vitest";
import { api, backendRequestsWith, chat, preview, runPendingAlarm, syntheticHistory, uniqueId } from "./support/epikv-client";

async function importedConversation(n: number, budget: number) {
  const id = uniqueId("budget");
  expect((await api("POST", "/v1/conversations", { id, settings: { budget_tokens: budget } })).status).toBe(201);
  const res = await api("POST", `/v1/conversations/${id}/messages`, { messages: syntheticHistory(n, id) });
  expect(res.status).toBe(201);
  await runPendingAlarm(id); // episodes exist before the turns (clustering runs in an alarm)
  return id;
}

describe("budgeted context (workerd)", () => {
  it("never sends more than the budget, whatever the conversation's size", async () => {
    const budget = 400;
    const id = await importedConversation(300, budget);
    for (let turn = 0; turn < 4; turn++) {
      const marker = uniqueId(`turn${turn}`);
      const res = await chat({ messages: [{ role: "user", content: `tell me about lisbon trams again ${marker}` }] }, id);
      expect(res.status).toBe(200);
      expect(Number(res.headers.get("x-epikv-budget-tokens"))).toBe(budget);
      const used = Number(res.headers.get("x-epikv-context-tokens"));
      expect(used).toBeGreaterThan(0);
      expect(used).toBeLessThanOrEqual(budget);
      const [sent] = await backendRequestsWith(marker);
      expect(sent!.body.messages.length).toBeGreaterThan(1);
      expect(sent!.body.messages.length).toBeLessThan(300);
      expect(sent!.body.messages.at(-1)!.content).toContain(marker);
    }
    // a per-request budget_tokens overrides the conversation's
    const marker = uniqueId("small");
    const res = await chat({ budget_tokens: 120, messages: [{ role: "user", content: `marathon pace? ${marker}` }] }, id);
    expect(Number(res.headers.get("x-epikv-context-tokens"))).toBeLessThanOrEqual(120);
  });

  it("the /context preview is exactly what the backend then receives", async () => {
    const id = await importedConversation(200, 300);
    for (const topic of ["python asyncio event loop", "garden tomatoes soil"]) {
      const query = `${topic}? ${uniqueId("q")}`;
      const planned = await preview(id, query);
      expect(planned.used_tokens).toBeLessThanOrEqual(planned.budget_tokens);
      expect(planned.messages.at(-1)).toMatchObject({ role: "user", content: query, provenance: { kind: "turn" } });
      expect(planned.messages.some((m) => m.provenance.kind === "episode" || m.provenance.kind === "recent")).toBe(true);
      const res = await chat({ messages: [{ role: "user", content: query }] }, id);
      expect(res.status).toBe(200);
      expect(Number(res.headers.get("x-epikv-context-tokens"))).toBe(planned.used_tokens);
      const [sent] = await backendRequestsWith(query);
      expect(sent!.body.messages).toEqual(planned.messages.map((m) => ({ role: m.role, content: m.content })));
    }
  });
});

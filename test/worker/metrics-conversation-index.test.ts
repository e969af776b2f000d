// GET /v1/conversations lists the tenant's conversations from the conversation
// index (a Durable Object namespace cannot be listed); DELETE removes them,
// and the inspector page's assets are served with a CSP that allows nothing
// from outside.
import { describe, expect, it } from "vitest";
import { api, chat, uniqueId, waitFor } from "./support/epikv-client";
import { OTHER_API_KEY, OTHER_TENANT, TEST_TENANT } from "../../testing/test-api-keys";

interface Listed { id: string; message_count: number; last_seen_at: number }
async function list(query = ""): Promise<{ tenant: string; total: number; data: Listed[] }> {
  const res = await api("GET", `/v1/conversations${query}`);
  expect(res.status).toBe(200);
  return res.json();
}

describe("conversation list (workerd)", () => {
  it("lists conversations created by POST and by chat turns, with their counters, and forgets deleted ones", async () => {
    const created = uniqueId("listed");
    expect((await api("POST", "/v1/conversations", { id: created })).status).toBe(201);
    expect((await api("POST", `/v1/conversations/${created}/messages`, { messages: [{ role: "user", content: "hello index" }] })).status).toBe(201);
    const viaChat = await chat({ messages: [{ role: "user", content: `new conversation by chat ${created}` }] });
    expect(viaChat.status).toBe(200);
    const chatId = viaChat.headers.get("x-conversation-id")!;
    await viaChat.text();

    const page = await waitFor(() => list(), (p) => [created, chatId].every((id) => p.data.some((c) => c.id === id)));
    expect(page.tenant).toBe(TEST_TENANT);
    expect(page.data.find((c) => c.id === created)!.message_count).toBe(1);
    expect(page.data.find((c) => c.id === chatId)!.message_count).toBe(2);
    expect(page.total).toBeGreaterThanOrEqual(2);
    expect((await list("?limit=1")).data.length).toBe(1);

    // Another tenant's key lists only its own conversations.
    const other = await (await api("GET", "/v1/conversations", undefined, { authorization: `Bearer ${OTHER_API_KEY}` })).json<{ tenant: string; data: Listed[] }>();
    expect(other.tenant).toBe(OTHER_TENANT);
    expect(other.data.some((c) => c.id === created || c.id === chatId)).toBe(false);

    expect((await api("DELETE", `/v1/conversations/${created}`)).status).toBe(200);
    const later = await waitFor(() => list(), (p) => !p.data.some((c) => c.id === created));
    expect(later.data.some((c) => c.id === created)).toBe(false);
    expect(later.data.some((c) => c.id === chatId)).toBe(true);
  });

  it("refuses a bad limit with an OpenAI-style error", async () => {
    for (const bad of ["0", "201", "x", "1.5"]) {
      const res = await api("GET", `/v1/conversations?limit=${bad}`);
      expect(res.status).toBe(400);
      const body = await res.json<{ error: { param: string; type: string } }>();
      expect(body.error).toMatchObject({ param: "limit", type: "invalid_request_error" });
    }
  });
});

describe("inspector assets (workerd)", () => {
  it("serves the page, script and stylesheet with a same-origin-only CSP and no external URL", async () => {
    for (const [path, type] of [["/ui", "text/html"], ["/ui/inspector.js", "text/javascript"], ["/ui/inspector.css", "text/css"]] as const) {
      const res = await api("GET", path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toContain(type);
      expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'.*connect-src 'self'/);
      const text = await res.text();
      // the only absolute URL allowed is the SVG namespace (an identifier, never fetched)
      expect(text.replace("http://www.w3.org/2000/svg", "")).not.toMatch(/https?:\/\//);
    }
  });
});

// Helpers for Worker-runtime tests: call epikv through SELF.fetch and read
// what the TEST DOUBLE backend (bound as BACKEND) recorded.
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import type { ContextSelection, ConversationInfo, StoredMessage } from "../../../durable-objects/conversation/conversation-api";
import { conversationObjectName } from "../../../worker/conversations/conversation-stub";
import { TEST_API_KEY, TEST_TENANT } from "../../../testing/test-api-keys";

export const BASE = "http://epikv.test";

export interface RecordedRequest {
  path: string;
  authorization: string | null;
  body: { model?: string; stream?: boolean; stream_options?: unknown; messages: { role: string; content: string }[]; [k: string]: unknown };
}

/** Sends the test tenant's API key unless `headers` carries its own authorization (or "" for none). */
export async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${TEST_API_KEY}`, ...headers } };
  if ((init.headers as Record<string, string>).authorization === "") delete (init.headers as Record<string, string>).authorization;
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  return SELF.fetch(BASE + path, init);
}

export async function chat(body: Record<string, unknown>, conversationId?: string): Promise<Response> {
  return api("POST", "/v1/chat/completions", { model: "epikv", ...body }, conversationId ? { "x-conversation-id": conversationId } : {});
}

export async function info(id: string): Promise<ConversationInfo & { object: string }> {
  const res = await api("GET", `/v1/conversations/${id}`);
  if (res.status !== 200) throw new Error(`GET conversation ${id}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function allMessages(id: string): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  let after: number | null = -1;
  while (after !== null) {
    const res = await api("GET", `/v1/conversations/${id}/messages?limit=1000${after >= 0 ? `&after=${after}` : ""}`);
    if (res.status !== 200) throw new Error(`GET messages: ${res.status} ${await res.text()}`);
    const page = await res.json<{ data: StoredMessage[]; next_after: number | null }>();
    out.push(...page.data);
    after = page.next_after;
  }
  return out;
}

export async function preview(id: string, query: string, budget_tokens?: number): Promise<ContextSelection> {
  const res = await api("POST", `/v1/conversations/${id}/context`, budget_tokens === undefined ? { query } : { query, budget_tokens });
  if (res.status !== 200) throw new Error(`context preview: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Requests the test double received whose last message contains `marker` (tests use unique markers, so parallel files do not mix). */
export async function backendRequestsWith(marker: string): Promise<RecordedRequest[]> {
  const backend = (env as unknown as { BACKEND: Fetcher }).BACKEND;
  const { requests } = await (await backend.fetch("http://test-double-backend.test/__test/requests")).json<{ requests: RecordedRequest[] }>();
  return requests.filter((r) => String(r.body.messages?.at(-1)?.content ?? "").includes(marker));
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Parses an SSE body into its data payloads. */
export async function sseData(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((b) => b.startsWith("data: "))
    .map((b) => b.slice(6));
}

/** A synthetic history: alternating user/assistant messages with topic words, so episodes have something to cluster. */
export function syntheticHistory(n: number, tag: string): { role: "user" | "assistant"; content: string }[] {
  const topics = ["garden tomatoes watering soil", "python asyncio event loop", "trip to lisbon trams pastries", "marathon training intervals pace"];
  return Array.from({ length: n }, (_, i) => ({
    role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
    content: `${tag} message ${i} about ${topics[Math.floor(i / 10) % topics.length]} detail ${i * 7919 % 1000}`,
  }));
}

export async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs the conversation's pending alarm now (deferred re-clustering), instead of sleeping until it fires. */
export async function runPendingAlarm(id: string): Promise<boolean> {
  const ns = (env as unknown as { CONVERSATIONS: DurableObjectNamespace }).CONVERSATIONS;
  return runDurableObjectAlarm(ns.get(ns.idFromName(conversationObjectName(TEST_TENANT, id))));
}

// What the latency and memory benchmarks share: one API key for the run, a
// synthetic conversation imported in batches over HTTP, the conversation's
// info, waiting for the import's deferred re-clustering, argument parsing
// and percentiles.
import { performance } from "node:perf_hooks";
import type { ConversationMemory } from "../../durable-objects/conversation/conversation-api";

/** A key for this run only: the Worker refuses every /v1 request without API_KEYS (worker/auth). */
export const API_KEY = `bench-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
export const AUTH = { authorization: `Bearer ${API_KEY}` };
export const IMPORT_BATCH = 5000;
export const TOPICS = ["sourdough hydration", "kubernetes eviction", "violin rosin", "tax deadline", "alps huts", "python asyncio", "garden tomatoes", "marathon pace"];
export const MIB = 1024 * 1024;

export const log = (msg: string) => process.stderr.write(msg + "\n");

export function nonNegativeInt(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: expected a non-negative integer, got ${s}`);
  return n;
}

export function positiveInt(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got ${s}`);
  return n;
}

/** `--flag value` or `--flag=value` at argv[i]; returns the value and the index of the last argument consumed. */
export function flagValue(argv: string[], i: number): { value: string; next: number } {
  const a = argv[i]!;
  if (a.includes("=")) return { value: a.slice(a.indexOf("=") + 1), next: i };
  const v = argv[i + 1];
  if (!v) throw new Error(`${a} needs a value`);
  return { value: v, next: i + 1 };
}

/** Nearest-rank percentile. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Messages offset … offset+n−1 of the synthetic conversation (alternating roles, eight recurring topics). */
export function history(n: number, offset = 0) {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    return { role: i % 2 === 0 ? "user" : "assistant", content: `msg ${i}: about ${TOPICS[Math.floor(i / 16) % TOPICS.length]}, detail ${(i * 7919) % 10007}` };
  });
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ ms: number; res: Response; json: any }> {
  const t0 = performance.now();
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...AUTH, ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status} ${text.slice(0, 500)}`);
  try {
    return { ms, res, json: JSON.parse(text) };
  } catch {
    throw new Error(`POST ${url}: HTTP ${res.status} but not JSON: ${text.slice(0, 500)}`);
  }
}

/** Creates conversation `id` and imports `n` messages in batches; returns the import's seconds. */
export async function importConversation(baseUrl: string, id: string, n: number, budget: number, batchSize = IMPORT_BATCH): Promise<number> {
  await postJson(`${baseUrl}/v1/conversations`, { id, settings: { budget_tokens: budget } });
  const t0 = performance.now();
  for (let done = 0; done < n; ) {
    const batch = history(Math.min(batchSize, n - done), done);
    await postJson(`${baseUrl}/v1/conversations/${id}/messages`, { messages: batch }, { "idempotency-key": `${id}-${done}` });
    done += batch.length;
    const s = (performance.now() - t0) / 1000;
    log(`  import ${id}: ${done}/${n} messages (${s.toFixed(1)} s, ${Math.round(done / s)} msg/s)`);
  }
  return (performance.now() - t0) / 1000;
}

export interface ConversationInfo {
  episode_count: number;
  segment_count: number;
  recluster_pending?: boolean;
  memory?: ConversationMemory;
}

export async function conversationInfo(baseUrl: string, id: string): Promise<ConversationInfo> {
  const res = await fetch(`${baseUrl}/v1/conversations/${id}`, { headers: AUTH });
  if (!res.ok) throw new Error(`GET conversation ${id}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as ConversationInfo;
}

/**
 * Waits until the import's deferred full clustering (an alarm, RECLUSTER_DELAY_MS
 * after the last write) has run, so turns are measured on a settled
 * conversation and not beside a k-means of the whole import.
 */
export async function settle(baseUrl: string, id: string, timeoutMs = 90_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const info = await conversationInfo(baseUrl, id);
    if (info.episode_count > 0 && info.recluster_pending !== true) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`  warning: ${id} still has a re-clustering pending after ${timeoutMs / 1000} s; measuring anyway`);
}

/** A markdown table with right-aligned cells. */
export function markdownTable(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => c.padStart(widths[i]!)).join(" | ") + " |";
  return [line(head), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...body.map(line)].join("\n");
}

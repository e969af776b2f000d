// Cross-check of the evaluation's epikv policy against the real thing: the
// Worker and its ConversationDO run in workerd (wrangler's local dev server,
// loopback, a port the OS picks, persistence in a temporary directory),
// the conversation is bulk-imported over HTTP, the re-clustering alarm is
// awaited, and every question's context preview
// (POST /v1/conversations/{id}/context) is compared with the selection
// scripts/eval/epikv-policy.ts computes for the same query and budget. Any
// difference means the evaluation no longer measures what the DO does.
// Run by `npm run eval:context -- --check-do`.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EvalConversation } from "./conversation";
import { epikvPolicy } from "./epikv-policy";
import { storeConversation, type PolicyRuntime } from "./policy";

export interface DurableObjectCheck {
  conversation: string;
  selections: number;
  /** Selections whose stored seqs and used tokens both equal the DO's. */
  identical: number;
  conversationTokens: { eval: number; durableObject: number };
  /** Up to five differences, for the report. */
  examples: { question: string; budget: number; onlyEval: number[]; onlyDurableObject: number[]; usedEval: number; usedDurableObject: number }[];
}

interface ContextResponse {
  messages: { seq: number | null }[];
  used_tokens: number;
  conversation_tokens: number;
}

interface EpisodesResponse {
  data?: { top_terms: string[] }[];
}

const RECLUSTER_WAIT_MS = 60_000;

export async function checkAgainstDurableObject(
  conversations: readonly EvalConversation[],
  fractions: readonly number[],
  runtime: PolicyRuntime,
  log: (line: string) => void,
): Promise<DurableObjectCheck[]> {
  // Nothing may reach the network (testing/wrangler-env.mjs); set before wrangler loads.
  Object.assign(process.env, {
    WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_ERROR_REPORTS: "false",
  });
  const { unstable_startWorker } = await import("wrangler");
  const persist = mkdtempSync(join(tmpdir(), "epikv-eval-do-"));
  // A key for this run only (the Worker refuses every request without API_KEYS).
  const apiKey = `eval-${randomBytes(16).toString("hex")}`;
  const worker = await unstable_startWorker({
    config: "wrangler.toml",
    bindings: { API_KEYS: { type: "secret_text", value: `${apiKey}:eval` } },
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist, watch: false, logLevel: "error", remote: false },
  });
  try {
    await worker.ready;
    // workerd reloads the Worker when files it was bundled from change (other work in this tree):
    // such a request answers 503 and is retried; imports carry an Idempotency-Key so a retry appends nothing twice.
    const call = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        const res = await worker.fetch(`http://127.0.0.1${path}`, {
          method, headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}`, ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        if (res.ok) return JSON.parse(text) as T;
        if (res.status === 503 && attempt < 5) {
          log(`  durable object: ${method} ${path} answered 503 (worker reloaded), retrying`);
          await new Promise((r) => setTimeout(r, 1000 * attempt));
          continue;
        }
        throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
      }
    };
    const results: DurableObjectCheck[] = [];
    for (const conv of conversations) {
      const id = `eval-${conv.id}`;
      log(`  durable object: importing ${conv.messages.length} messages of ${conv.id}`);
      await call("POST", "/v1/conversations", { id }); // default settings, as the evaluation's epikv policy
      await call("POST", `/v1/conversations/${id}/messages`, { messages: conv.messages }, { "idempotency-key": `import-${conv.id}` });
      await waitForReclustering(() => call<EpisodesResponse>("GET", `/v1/conversations/${id}/episodes`));
      const stored = storeConversation(conv.messages);
      const prepared = await epikvPolicy().prepare(stored, runtime);
      const check: DurableObjectCheck = {
        conversation: conv.id, selections: 0, identical: 0, conversationTokens: { eval: stored.totalTokens, durableObject: -1 }, examples: [],
      };
      for (const fraction of fractions) {
        const budget = Math.floor(stored.totalTokens / fraction);
        for (const q of conv.questions) {
          const mine = await prepared.select(q.query, budget);
          const theirs = await call<ContextResponse>("POST", `/v1/conversations/${id}/context`, { query: q.query, budget_tokens: budget });
          check.conversationTokens.durableObject = theirs.conversation_tokens;
          const doSeqs = theirs.messages.flatMap((m) => (m.seq === null ? [] : [m.seq]));
          const evalSet = new Set(mine.seqs);
          const doSet = new Set(doSeqs);
          const onlyEval = mine.seqs.filter((s) => !doSet.has(s));
          const onlyDurableObject = doSeqs.filter((s) => !evalSet.has(s));
          check.selections++;
          if (!onlyEval.length && !onlyDurableObject.length && mine.usedTokens === theirs.used_tokens) check.identical++;
          else if (check.examples.length < 5) {
            check.examples.push({ question: q.id, budget, onlyEval: onlyEval.slice(0, 8), onlyDurableObject: onlyDurableObject.slice(0, 8), usedEval: mine.usedTokens, usedDurableObject: theirs.used_tokens });
          }
        }
      }
      log(`  durable object: ${check.identical} of ${check.selections} selections identical for ${conv.id}`);
      results.push(check);
    }
    return results;
  } finally {
    await worker.dispose();
    rmSync(persist, { recursive: true, force: true });
  }
}

/**
 * The bulk import schedules a full re-clustering on an alarm about a second
 * later; episodes get their top terms only there. Waits until every episode
 * has them and two reads agree.
 */
async function waitForReclustering(read: () => Promise<EpisodesResponse>): Promise<void> {
  const deadline = Date.now() + RECLUSTER_WAIT_MS;
  let previous = "";
  while (Date.now() < deadline) {
    const episodes = (await read()).data ?? [];
    const snapshot = JSON.stringify(episodes);
    if (episodes.length && episodes.every((e) => e.top_terms.length > 0) && snapshot === previous) return;
    previous = snapshot;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the conversation was not re-clustered within ${RECLUSTER_WAIT_MS / 1000} s`);
}

// Replays a workload against one target: each session starts at its offset,
// runs its turns one after another with think time, and records latency and
// outcome of every request. epikv gets only the new user message (the
// conversation lives at the edge); the bare proxy gets the whole history
// (a stateless backend needs it). In-flight requests are capped, and no new
// turn starts after the deadline.
import { quantile } from "./distributions";
import { userText, type Session } from "./workload";

export interface Target {
  label: string;
  /** Base URL including /v1. */
  baseUrl: string;
  headers: Record<string, string>;
  /** epikv: the conversation is kept by the server (send only the new message). */
  stateful: boolean;
}

export interface TurnRecord {
  session: number;
  turn: number;
  user: string;
  reply: string | null;
  ms: number;
  error: string | null;
}

export interface PhaseResult {
  target: string;
  records: TurnRecord[];
  elapsedS: number;
  notStarted: number;
}

export interface PhaseSummary {
  target: string;
  requests: number;
  ok: number;
  throughput: number;
  p50: number;
  p99: number;
  max: number;
  errors: Record<string, number>;
  notStarted: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export function conversationId(runTag: string, session: number): string {
  return `load-${runTag}-${session}`;
}

async function oneTurn(target: Target, runTag: string, session: number, turn: number, history: { role: string; content: string }[], user: string, replyWords: number, timeoutMs: number): Promise<TurnRecord> {
  const messages = target.stateful ? [{ role: "user", content: user }] : [...history, { role: "user", content: user }];
  const headers: Record<string, string> = { "content-type": "application/json", ...target.headers };
  if (target.stateful) headers["x-conversation-id"] = conversationId(runTag, session);
  const t0 = performance.now();
  try {
    const res = await fetch(`${target.baseUrl}/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: "epikv", messages, test_double_reply_words: replyWords }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (!res.ok) {
      let code = "";
      try {
        code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? "";
      } catch {
        /* not JSON */
      }
      // Errors without an OpenAI body (e.g. the runtime's own 503) are named by the start of their text.
      return { session, turn, user, reply: null, ms, error: `HTTP ${res.status} ${code || JSON.stringify(text.slice(0, 60))}` };
    }
    const reply = (JSON.parse(text) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
    return { session, turn, user, reply, ms, error: null };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const kind = e.name === "TimeoutError" ? "client timeout" : `network ${e.cause?.code ?? e.name}`;
    return { session, turn, user, reply: null, ms: performance.now() - t0, error: kind };
  }
}

export async function drive(target: Target, sessions: readonly Session[], runTag: string, options: { deadlineS: number; maxInFlight: number; timeoutMs: number; onProgress?: (done: number) => void }): Promise<PhaseResult> {
  const records: TurnRecord[] = [];
  const gate = new Semaphore(options.maxInFlight);
  const start = performance.now();
  const deadline = start + options.deadlineS * 1000;
  let notStarted = 0;
  let done = 0;
  await Promise.all(
    sessions.map(async (s) => {
      await sleep(s.startS * 1000);
      const history: { role: string; content: string }[] = [];
      for (let k = 0; k < s.turns.length; k++) {
        const t = s.turns[k]!;
        if (t.thinkS > 0) await sleep(t.thinkS * 1000);
        if (performance.now() > deadline) {
          notStarted += s.turns.length - k;
          return;
        }
        const user = userText(runTag, s.index, k, t.requestWords);
        await gate.take();
        const r = await oneTurn(target, runTag, s.index, k, history, user, t.replyWords, options.timeoutMs).finally(() => gate.give());
        records.push(r);
        options.onProgress?.(++done);
        if (r.error) return; // a session stops at its first failure (as a client would need to recover)
        history.push({ role: "user", content: user }, { role: "assistant", content: r.reply! });
      }
    }),
  );
  return { target: target.label, records, elapsedS: (performance.now() - start) / 1000, notStarted };
}

export function summarize(p: PhaseResult): PhaseSummary {
  const ok = p.records.filter((r) => !r.error);
  const lat = ok.map((r) => r.ms).sort((a, b) => a - b);
  const errors: Record<string, number> = {};
  for (const r of p.records) if (r.error) errors[r.error] = (errors[r.error] ?? 0) + 1;
  return {
    target: p.target,
    requests: p.records.length,
    ok: ok.length,
    throughput: ok.length / p.elapsedS,
    p50: quantile(lat, 0.5),
    p99: quantile(lat, 0.99),
    max: lat.at(-1) ?? NaN,
    errors,
    notStarted: p.notStarted,
  };
}

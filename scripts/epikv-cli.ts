// npm run cli -- <command> [options]
//
//   import FILE --conversation ID [--batch 500] [--budget N]   import JSON/JSONL history
//   episodes --conversation ID                                 the conversation's episodes
//   context "QUERY" --conversation ID [--budget N]             the context chosen for a query
//   list                                                       the tenant's conversations
//
// Common: --url (default $EPIKV_URL, else http://127.0.0.1:$PORT with PORT as for npm start, default 8787), --key (default
// $EPIKV_API_KEY; sent as Authorization: Bearer), --json (one JSON object on
// stdout). Progress goes to stderr; tables to stdout. docs/inspector.md.
//
// Imports are batched; each batch carries an Idempotency-Key derived from the
// conversation, the batch's position and a hash of its messages, so running
// the same import again (after a failure half-way) changes nothing twice.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { batches, ImportParseError, parseImport, type ImportMessage } from "./cli/import-file";
import { call, type ClientOptions } from "./cli/client";
import { progressBar } from "./cli/progress";
import { clip, renderTable } from "./cli/table";

const USAGE = `usage: npm run cli -- <command> [options]
  import FILE --conversation ID [--batch N] [--budget N]
  episodes --conversation ID
  context "QUERY" --conversation ID [--budget N]
  list
options: --url URL (default $EPIKV_URL, else http://127.0.0.1:$PORT, PORT default 8787)  --key KEY (default $EPIKV_API_KEY)  --json`;

class UsageError extends Error {}

interface Provenance { kind: string; episode?: number; score?: number }
interface ContextMessage { seq: number | null; id: string | null; role: string; content: string; tokens: number; provenance: Provenance }
interface Selection { messages: ContextMessage[]; matched_episode: number | null; budget_tokens: number; used_tokens: number; conversation_tokens: number }
interface Episode { id: number; size: number; segments: { id: number; first_seq: number; last_seq: number; score: number }[]; representative_segments: number[]; top_terms: string[] }
interface ImportResult { appended: number; duplicates: number; message_count: number; replayed: boolean }

function positiveInt(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

export function batchKey(conversation: string, index: number, batch: readonly ImportMessage[]): string {
  const digest = createHash("sha256").update(JSON.stringify(batch)).digest("hex").slice(0, 24);
  return `cli-import:${conversation}:${index}:${digest}`;
}

async function importCommand(opts: ClientOptions, file: string, conversation: string, batchSize: number, budget: number | undefined, json: boolean) {
  const text = readFileSync(file, "utf8");
  const messages = parseImport(text, basename(file));
  const started = performance.now();
  const created = await call<{ message_count: number }>(opts, "POST", "/v1/conversations", budget ? { id: conversation, settings: { budget_tokens: budget } } : { id: conversation });
  const parts = batches(messages, batchSize);
  const bar = progressBar(messages.length, `importing ${conversation}`);
  const totals = { appended: 0, duplicates: 0, replayed_batches: 0, message_count: created.body.message_count };
  let sent = 0;
  for (const [i, part] of parts.entries()) {
    const res = await call<ImportResult>(opts, "POST", `/v1/conversations/${encodeURIComponent(conversation)}/messages`, { messages: part }, { "idempotency-key": batchKey(conversation, i, part) });
    // A replayed batch answers with the first call's result; this run appended nothing for it.
    if (!res.body.replayed) {
      totals.appended += res.body.appended;
      totals.duplicates += res.body.duplicates;
    }
    totals.replayed_batches += res.body.replayed ? 1 : 0;
    totals.message_count = res.body.message_count;
    sent += part.length;
    bar.update(sent, `batch ${i + 1}/${parts.length}`);
  }
  bar.done(`${parts.length} batches`);
  const seconds = (performance.now() - started) / 1000;
  const summary = { conversation, file, messages: messages.length, batches: parts.length, ...totals, seconds: Number(seconds.toFixed(3)) };
  if (json) return console.log(JSON.stringify(summary));
  console.log(renderTable(["conversation", "read", "batches", "appended", "duplicates", "replayed batches", "stored now", "seconds"], [[conversation, messages.length, parts.length, totals.appended, totals.duplicates, totals.replayed_batches, totals.message_count, Number(seconds.toFixed(2))]]));
}

async function episodesCommand(opts: ClientOptions, conversation: string, json: boolean) {
  const { body } = await call<{ data: Episode[] }>(opts, "GET", `/v1/conversations/${encodeURIComponent(conversation)}/episodes`);
  if (json) return console.log(JSON.stringify({ conversation, episodes: body.data }));
  if (!body.data.length) return console.log(`${conversation}: no episodes yet (they form once enough segments exist, after the background re-clustering)`);
  const rows = body.data.map((e) => {
    const first = Math.min(...e.segments.map((s) => s.first_seq));
    const last = Math.max(...e.segments.map((s) => s.last_seq));
    return [e.id, e.size, e.segments.length ? `${first}–${last}` : "—", e.representative_segments.join(","), e.top_terms.slice(0, 6).join(", ")];
  });
  console.log(renderTable(["episode", "segments", "first–last message", "representatives", "top terms"], rows, { 3: 40, 4: 60 }));
}

function provenanceText(p: Provenance): string {
  return p.kind === "episode" ? `episode ${p.episode} (${(p.score ?? 0).toFixed(3)})` : p.kind;
}

async function contextCommand(opts: ClientOptions, conversation: string, query: string, budget: number | undefined, json: boolean) {
  const { body } = await call<Selection>(opts, "POST", `/v1/conversations/${encodeURIComponent(conversation)}/context`, budget ? { query, budget_tokens: budget } : { query });
  if (json) return console.log(JSON.stringify({ conversation, query, ...body }));
  const ratio = body.conversation_tokens / Math.max(1, body.used_tokens);
  console.log(`query: ${query}`);
  console.log(`matched episode ${body.matched_episode ?? "none"} · ${body.messages.length} messages · ${body.used_tokens}/${body.budget_tokens} budget tokens · conversation ${body.conversation_tokens} tokens (${ratio.toFixed(1)}× compression)\n`);
  console.log(renderTable(["seq", "role", "provenance", "tokens", "content"], body.messages.map((m) => [m.seq, m.role, provenanceText(m.provenance), m.tokens, clip(m.content, 70)]), { 4: 70 }));
}

async function listCommand(opts: ClientOptions, json: boolean) {
  const { body } = await call<{ tenant: string; total: number; data: { id: string; message_count: number; episode_count: number; total_tokens: number; last_seen_at: number }[] }>(opts, "GET", "/v1/conversations?limit=200");
  if (json) return console.log(JSON.stringify(body));
  console.log(renderTable(["conversation", "messages", "episodes", "tokens", "last used"], body.data.map((c) => [c.id, c.message_count, c.episode_count, c.total_tokens, new Date(c.last_seen_at).toISOString()])));
  console.log(`\n${body.data.length} of ${body.total} conversations (tenant ${body.tenant})`);
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      conversation: { type: "string", short: "c" },
      url: { type: "string" },
      key: { type: "string" },
      batch: { type: "string" },
      budget: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const opts: ClientOptions = { url: values.url ?? process.env.EPIKV_URL ?? `http://127.0.0.1:${process.env.PORT || "8787"}`, key: values.key ?? process.env.EPIKV_API_KEY };
  const needConversation = () => {
    if (!values.conversation) throw new UsageError(`${command} needs --conversation ID`);
    return values.conversation;
  };
  const budget = positiveInt(values.budget, "budget");
  switch (command) {
    case "import":
      if (!arg) throw new UsageError("import needs a FILE (.json or .jsonl)");
      return importCommand(opts, arg, needConversation(), positiveInt(values.batch, "batch") ?? 500, budget, values.json);
    case "episodes":
      return episodesCommand(opts, needConversation(), values.json);
    case "context":
      if (!arg) throw new UsageError('context needs a QUERY, e.g. context "where does my sister live?"');
      return contextCommand(opts, needConversation(), arg, budget, values.json);
    case "list":
      return listCommand(opts, values.json);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).catch((err) => {
    if (err instanceof UsageError) console.error(`${err.message}\n${USAGE}`);
    else if (err instanceof ImportParseError) console.error(err.message);
    else console.error(`error: ${(err as Error).message}`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  });
}

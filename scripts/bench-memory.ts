// npm run bench:memory [-- --json] [--json-out FILE] [--sizes 1000,10000,30000] [--kv-sizes 1000] [--modes context,kv] [--turns N] [--budget T] [--sample-ms M]
//
// Memory of the conversation's Durable Object, read from its isolate (not
// from the object's own bookkeeping): the V8 heap (used, committed), the
// ArrayBuffer backing stores outside it and the WebAssembly linear memory,
// through workerd's V8 inspector (scripts/load/isolate-inspector.ts). The
// Worker and the Durable Objects it defines share one isolate; each
// (mode, size) runs in a fresh workerd (scripts/load/workerd-server.ts, the
// bundle `wrangler deploy` builds) so the isolate holds that one
// conversation and nothing earlier. For each:
//
//   baseline        after one GET /healthz (module loaded, no conversation)
//   import peak     sampled every --sample-ms while the messages are posted
//                   (batches of 5000, as the latency benchmark imports)
//   re-cluster peak sampled while the import's deferred full clustering (an
//                   alarm) runs, until the conversation reports it done
//   after import    after a forced GC (what stays resident)
//   turns peak      sampled over --turns chat turns (context mode: the TEST
//                   DOUBLE backend; kv mode: the reference kv backend, whose
//                   first turn folds the imported history into the episode
//                   caches, block by block, and later turns fold in the background)
//   after turns     after a forced GC
//
// "total" = heap used + backing stores + WASM memory: what counts against a
// Durable Object's 128 MB. Peaks are sampled (between the isolate's
// JavaScript tasks; no GC forced; WASM memories counted until V8 frees them,
// through the inspector's WASM tracker), so they are lower bounds. A
// memory's size never shrinks; "WASM high-water" is the largest sampled sum. workerd
// CPU/turn is the CPU time of the workerd process per measured turn (/proc).
// The last two sizes give a linear extrapolation to 1M messages (formula printed).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { freePort } from "../testing/wrangler-dev";
import { serveBundle, WORKER_INSPECTOR_TARGET, type WorkerdServer } from "./load/workerd-server";
import { cpuMs, rssMiB } from "./load/processes";
import { IsolateInspector, isolateTotal, samplePeak, type IsolateMemory } from "./load/isolate-inspector";
import { API_KEY, conversationInfo, flagValue, importConversation, log, markdownTable, MIB, positiveInt, postJson, settle, TOPICS } from "./bench/conversation-driver";
import type { ConversationMemory } from "../durable-objects/conversation/conversation-api";
import { startBackend, type RunningBackend } from "../backend/server";
// @ts-expect-error plain .mjs test double without types
import { startTestDoubleServer } from "../testing/test-double-server.mjs";

type Mode = "context" | "kv";

interface Args {
  json: boolean;
  /** Also write the JSON result to this file (with the table on stdout). */
  jsonOut: string | null;
  /** Context-mode sizes. */
  sizes: number[];
  /** kv-mode sizes: the first kv turn folds the whole imported history through the reference backend (≈ 6 min for 1000 messages on 2 busy cores). */
  kvSizes: number[];
  modes: Mode[];
  turns: number;
  budget: number;
  sampleMs: number;
}

interface Phase {
  /** Highest total of any one sample (heap used + backing) plus WASM memory, bytes. */
  peak_total: number;
  peak: IsolateMemory;
  samples: number;
  seconds: number;
}

interface Row {
  mode: Mode;
  messages: number;
  baseline: IsolateMemory;
  import: Phase;
  recluster: Phase;
  after_import: IsolateMemory;
  turns_phase: Phase;
  after_turns: IsolateMemory;
  /** Each live WASM memory after the turns, largest first (bytes): the kernels instance and one per index row store. */
  wasm_memories: number[];
  turns: number;
  workerd_cpu_ms_per_turn: number;
  /** The first turn after the import's re-clustering (mirror builds; kv: the catch-up fold), not in the per-turn figure. */
  workerd_cpu_ms_first_turn: number;
  workerd_rss_mb: number;
  /** The object's own accounting (info().memory), for comparison. */
  do_memory: ConversationMemory | null;
  segments: number;
}

const KV_SETTINGS = { policy: "epicache", blockSize: 256, encoding: { dtype: "int8", groupSize: 64 }, budget: { tokensPerHead: 512 } };
const LIMIT_MB = 96;

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, jsonOut: null, sizes: [1000, 10_000, 30_000], kvSizes: [1000], modes: ["context", "kv"], turns: 20, budget: 4096, sampleMs: 100 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const { value: v, next } = flagValue(argv, i);
      i = next;
      return v;
    };
    if (a === "--json") args.json = true;
    else if (a.startsWith("--sizes")) args.sizes = value().split(",").map((s) => positiveInt(s, "--sizes"));
    else if (a.startsWith("--json-out")) args.jsonOut = value();
    else if (a.startsWith("--kv-sizes")) args.kvSizes = value().split(",").map((s) => positiveInt(s, "--kv-sizes"));
    else if (a.startsWith("--modes")) args.modes = value().split(",").map(mode);
    else if (a.startsWith("--turns")) args.turns = positiveInt(value(), "--turns");
    else if (a.startsWith("--budget")) args.budget = positiveInt(value(), "--budget");
    else if (a.startsWith("--sample-ms")) args.sampleMs = positiveInt(value(), "--sample-ms");
    else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: tsx scripts/bench-memory.ts [--json] [--json-out FILE] [--sizes 1000,10000,30000] [--kv-sizes 1000] [--modes context,kv] [--turns 20] [--budget 4096] [--sample-ms 100]\n");
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return args;
}

function mode(s: string): Mode {
  if (s !== "context" && s !== "kv") throw new Error(`--modes: expected context or kv, got ${s}`);
  return s;
}

const mb = (bytes: number) => bytes / MIB;

/** A phase that failed (the request was refused or its connection reset), with the peak sampled until then. */
class PhaseFailure extends Error {
  constructor(readonly phase: string, readonly sampled: Omit<Phase, "seconds">, cause: unknown) {
    super(`${phase}: ${cause instanceof Error ? `${cause.message}${cause.cause ? ` (${(cause.cause as Error).message})` : ""}` : String(cause)}`);
  }
}

interface Failure {
  mode: Mode;
  messages: number;
  error: string;
  /** Peak total sampled in the failing phase until it failed, bytes. */
  peak_total: number;
  peak: IsolateMemory;
}

/** Runs `work` while sampling the isolate's heap; the peak it saw. */
async function duringPhase(inspector: IsolateInspector, sampleMs: number, phase: string, work: () => Promise<unknown>): Promise<Phase> {
  const t0 = performance.now();
  const sampler = samplePeak(inspector, sampleMs);
  try {
    await work();
  } catch (err) {
    const { peak, total, samples } = await sampler.stop().catch(() => ({ peak: { used: 0, total: 0, backing: 0, wasm: 0 }, total: 0, samples: 0 }));
    throw new PhaseFailure(phase, { peak, peak_total: total, samples }, err);
  }
  const { peak, total, samples } = await sampler.stop();
  return { peak_total: total, peak, samples, seconds: (performance.now() - t0) / 1000 };
}

/** One non-streaming chat turn in the given mode. */
async function turn(server: WorkerdServer, m: Mode, id: string, t: number): Promise<void> {
  const content = `turn ${t}: what about ${TOPICS[t % TOPICS.length]}?`;
  const headers = { "x-conversation-id": id };
  if (m === "context") await postJson(`${server.url}/v1/chat/completions`, { model: "epikv", messages: [{ role: "user", content }] }, headers);
  else await postJson(`${server.url}/v1/kv/chat/completions`, { model: "epikv-tiny", messages: [{ role: "user", content }], max_tokens: 4, kv: KV_SETTINGS }, headers);
}

/** Waits until the workerd process has used under 30 ms of CPU in each of three consecutive seconds (background work, such as a kv fold, has finished). */
async function workerdIdle(server: WorkerdServer, timeoutS: number): Promise<void> {
  const cpu = () => server.workerdPids().reduce((s, pid) => s + cpuMs(pid), 0);
  let quiet = 0;
  for (let s = 0; s < timeoutS && quiet < 3; s++) {
    const c0 = cpu();
    await new Promise((r) => setTimeout(r, 1000));
    quiet = cpu() - c0 < 30 ? quiet + 1 : 0;
  }
}

async function measure(m: Mode, n: number, args: Args, bundleDir: string, prebuilt: boolean, backends: { context: string; kv: RunningBackend | null }): Promise<Row> {
  const persistTo = mkdtempSync(join(tmpdir(), "epikv-mem-"));
  const inspectorPort = await freePort(8950, 8969);
  const vars: Record<string, string> =
    m === "context"
      ? { BACKEND_URL: backends.context, BACKEND_MODEL: "test-double-model", BACKEND_TIMEOUT_MS: "30000", API_KEYS: `${API_KEY}:bench` }
      : { BACKEND_URL: `${backends.kv!.url}/v1`, BACKEND_MODEL: "epikv-tiny", KV_BACKEND_URL: backends.kv!.url, BACKEND_TIMEOUT_MS: "120000", API_KEYS: `${API_KEY}:bench` };
  const server = await serveBundle({ root: process.cwd(), bundleDir, persistTo, vars, inspectorPort, prebuilt });
  let inspector: IsolateInspector | undefined;
  try {
    await (await fetch(`${server.url}/healthz`)).arrayBuffer();
    inspector = await IsolateInspector.connect(inspectorPort, WORKER_INSPECTOR_TARGET);
    await inspector.trackWasm();
    const baseline = await inspector.read();
    const id = `mem-${m}-${n}`;
    log(`[${m} ${n}] import`);
    const importPhase = await duringPhase(inspector, args.sampleMs, "import", () => importConversation(server.url, id, n, args.budget));
    log(`[${m} ${n}] waiting for the deferred re-clustering`);
    const recluster = await duringPhase(inspector, args.sampleMs, "re-cluster", () => settle(server.url, id, 300_000));
    const afterImport = await inspector.read();
    log(`[${m} ${n}] ${args.turns} turns`);
    let cpu0 = 0;
    let firstTurnCpu = 0;
    const workerdCpu = () => server.workerdPids().reduce((s, pid) => s + cpuMs(pid), 0);
    const turnsPhase = await duringPhase(inspector, args.sampleMs, "turns", async () => {
      // The first turn is reported on its own: it builds the object's in-memory mirrors from SQLite after the
      // re-clustering (O(n) once), and in kv mode folds the imported history (its background fold is waited for).
      const before = workerdCpu();
      await turn(server, m, id, -1);
      if (m === "kv") await workerdIdle(server, 600);
      firstTurnCpu = workerdCpu() - before;
      cpu0 = workerdCpu();
      for (let t = 0; t < args.turns; t++) await turn(server, m, id, t);
    });
    const cpuPerTurn = (workerdCpu() - cpu0) / args.turns;
    const afterTurns = await inspector.read();
    const wasmMemories = await inspector.wasmMemories();
    const info = await conversationInfo(server.url, id);
    const row: Row = {
      mode: m, messages: n, baseline, import: importPhase, recluster, after_import: afterImport, turns_phase: turnsPhase, after_turns: afterTurns, wasm_memories: wasmMemories, turns: args.turns,
      workerd_cpu_ms_per_turn: cpuPerTurn, workerd_cpu_ms_first_turn: firstTurnCpu, workerd_rss_mb: server.workerdPids().reduce((s, pid) => s + rssMiB(pid), 0), do_memory: info.memory ?? null, segments: info.segment_count,
    };
    log(`[${m} ${n}] after turns ${mb(isolateTotal(afterTurns)).toFixed(1)} MiB (heap ${mb(afterTurns.used).toFixed(1)}, backing ${mb(afterTurns.backing).toFixed(1)}, wasm ${mb(afterTurns.wasm).toFixed(1)} in ${wasmMemories.length} memories: ${wasmMemories.map((b) => mb(b).toFixed(1)).join(", ")}); peak ${mb(Math.max(importPhase.peak_total, recluster.peak_total, turnsPhase.peak_total)).toFixed(1)} MiB; ${cpuPerTurn.toFixed(1)} ms CPU/turn`);
    return row;
  } finally {
    inspector?.close();
    await server.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

/** Linear fit through the last two sizes of a mode: value(n) = a + b·n. */
function extrapolate(rows: Row[], pick: (r: Row) => number, at: number): { a: number; b: number; value: number } | null {
  if (rows.length < 2) return null;
  const [r1, r2] = rows.slice(-2) as [Row, Row];
  const b = (pick(r2) - pick(r1)) / (r2.messages - r1.messages);
  const a = pick(r1) - b * r1.messages;
  return { a, b, value: a + b * at };
}

function table(rows: Row[]): string {
  const head = ["mode", "messages", "segments", "baseline MiB", "import peak", "re-cluster peak", "after import", "turns peak", "WASM high-water", "after turns: heap used", "heap committed", "backing", "WASM", "total", "workerd CPU/turn ms", "first turn CPU ms", "DO index MiB", "DO meta+cache MiB", "workerd RSS MiB"];
  const f = (x: number, d = 1) => x.toFixed(d);
  const body = rows.map((r) => [
    r.mode, String(r.messages), String(r.segments), f(mb(isolateTotal(r.baseline))), f(mb(r.import.peak_total)), f(mb(r.recluster.peak_total)), f(mb(isolateTotal(r.after_import))), f(mb(r.turns_phase.peak_total)),
    f(mb(Math.max(r.import.peak.wasm, r.recluster.peak.wasm, r.turns_phase.peak.wasm))),
    f(mb(r.after_turns.used)), f(mb(r.after_turns.total)), f(mb(r.after_turns.backing)), f(mb(r.after_turns.wasm)), f(mb(isolateTotal(r.after_turns))), f(r.workerd_cpu_ms_per_turn), f(r.workerd_cpu_ms_first_turn, 0),
    r.do_memory ? f(mb(r.do_memory.index_bytes)) : "?", r.do_memory ? f(mb(r.do_memory.message_meta_bytes + r.do_memory.message_cache_bytes)) : "?", f(r.workerd_rss_mb, 0),
  ]);
  return markdownTable(head, body);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const bundleDir = mkdtempSync(join(tmpdir(), "epikv-mem-bundle-"));
  const testDouble = await startTestDoubleServer();
  const kvBackend = args.modes.includes("kv") ? await startBackend(0) : null;
  const rows: Row[] = [];
  const failures: Failure[] = [];
  try {
    let prebuilt = false;
    for (const m of args.modes)
      for (const n of m === "kv" ? args.kvSizes : args.sizes) {
        try {
          rows.push(await measure(m, n, args, bundleDir, prebuilt, { context: testDouble.url, kv: kvBackend }));
        } catch (err) {
          if (!(err instanceof PhaseFailure)) throw err;
          failures.push({ mode: m, messages: n, error: err.message, peak_total: err.sampled.peak_total, peak: err.sampled.peak });
          log(`[${m} ${n}] FAILED in ${err.message}; sampled peak ${mb(err.sampled.peak_total).toFixed(1)} MiB`);
        }
        prebuilt = true;
      }
  } finally {
    await testDouble.close();
    await kvBackend?.close();
    rmSync(bundleDir, { recursive: true, force: true });
  }
  const peakOf = (r: Row) => Math.max(r.import.peak_total, r.recluster.peak_total, r.turns_phase.peak_total, isolateTotal(r.after_turns));
  const projections = args.modes.map((m) => {
    const mine = rows.filter((r) => r.mode === m);
    return { mode: m, peak: extrapolate(mine, (r) => mb(peakOf(r)), 1_000_000), after_turns: extrapolate(mine, (r) => mb(isolateTotal(r.after_turns)), 1_000_000), cpu: extrapolate(mine, (r) => r.workerd_cpu_ms_per_turn, 1_000_000) };
  });
  const result = {
    command: `npm run bench:memory -- ${process.argv.slice(2).join(" ")}`.trim(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version },
    limit_mb: LIMIT_MB,
    rows,
    failures,
    projections,
    wall_s: (performance.now() - started) / 1000,
  };
  if (args.jsonOut) writeFileSync(args.jsonOut, JSON.stringify(result, null, 1) + "\n");
  if (args.json) {
    process.stdout.write(JSON.stringify(result) + "\n");
    return;
  }
  process.stdout.write(`\nDurable Object isolate memory, from workerd's inspector (MiB; total = heap used + ArrayBuffer backing + WASM; peaks sampled every ${args.sampleMs} ms; ${args.turns} turns; budget ${args.budget} tokens)\n\n`);
  process.stdout.write(table(rows) + "\n\n");
  for (const f of failures) {
    const p = f.peak;
    process.stdout.write(`FAILED: ${f.mode} mode, ${f.messages} messages, in ${f.error}; sampled until then: peak total ${mb(f.peak_total).toFixed(1)} MiB (heap used ≤ ${mb(p.used).toFixed(1)}, committed ≤ ${mb(p.total).toFixed(1)}, backing ≤ ${mb(p.backing).toFixed(1)}, WASM ≤ ${mb(p.wasm).toFixed(1)})\n`);
  }
  for (const p of projections) {
    if (!p.peak || !p.after_turns || !p.cpu) continue;
    const line = (label: string, e: { a: number; b: number; value: number }, unit: string) => `  ${label}: ${e.a.toFixed(2)} + ${(e.b * 1000).toFixed(4)} × n/1000 → ${e.value.toFixed(1)} ${unit} at 1M`;
    process.stdout.write(`${p.mode} mode, linear through the two largest sizes (n = messages):\n${line("peak total MiB", p.peak, "MiB")}\n${line("after turns MiB", p.after_turns, "MiB")}\n${line("workerd CPU/turn ms", p.cpu, "ms")}\n`);
  }
  const worst = Math.max(...rows.map((r) => mb(peakOf(r))), ...failures.map((f) => mb(f.peak_total)));
  process.stdout.write(`\nhighest measured total ${worst.toFixed(1)} MiB; limit ${LIMIT_MB} MB (128 MB isolate, with margin): ${worst <= LIMIT_MB ? "within" : "OVER"}\nwall time ${result.wall_s.toFixed(0)} s\n`);
}

main().catch((err) => {
  process.stderr.write(`bench-memory failed: ${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});

// npm run bench:latency [-- --json] [--sizes 1000,10000,100000] [--turns N] [--budget T] [--seconds-per-size S] [--gap-ms G] [--via workerd|wrangler] [--backend process|in-process]
//
// Latency epikv adds to a chat turn, over calling the same backend directly.
// Starts a TEST DOUBLE OpenAI-compatible backend (testing/, loopback) in a
// process of its own (scripts/load/backend-double.mjs), as every real
// backend is: a client's direct call then crosses processes as it would in
// production. (`--backend in-process` serves it from the bench's own event
// loop, the setup before 2026-12-03: its direct call never leaves the
// process, which made it 0.16–0.36 ms faster than any real call here, and
// "added" as much larger; the "in-proc direct" column measures that baseline in
// every run: docs/context-mode.md, "Where the backend runs".)
// and the Worker as `wrangler deploy` bundles it, in real workerd with SQLite
// Durable Objects persisted to a temp dir: by default served by Miniflare
// (scripts/load/workerd-server.ts, what a deployed Worker runs), or with
// `--via wrangler` through `wrangler dev`, whose local proxy adds a second
// workerd process to every request. For each conversation size it imports that many messages
// (progress on stderr), then runs interleaved pairs of non-streaming turns:
//   direct: POST the backend with exactly the body epikv sent it last turn
//   epikv:  POST /v1/chat/completions (plan → backend → the turn's record
//           accepted → answer; the write follows in the object before it
//           takes another call, docs/context-mode.md "Recording")
// and reports p50/p99 of both and of the added latency: the percentiles of
// the per-turn differences epikv − direct of the same pair (a difference of
// two p99s, taken from different turns, can even be negative). Both paths use the same loopback HTTP client and the same
// backend, so the difference is epikv's work: HTTP edge, validation, the
// Durable Object's beginTurn (queue + selection) and recordTurn's acceptance
// (worker/chat/chat-turn.ts).
// "added − edge" subtracts the p50 of GET /healthz: the HTTP hop into
// workerd and back (with --via wrangler, also through its proxy). "workerd
// CPU/turn" is the CPU time the workerd processes used over the measured
// turns (one turn and one /healthz each), from /proc: unlike wall time, it
// barely moves with the machine's load.
//
// Memory (the isolate's own heap and WASM figures: npm run bench:memory,
// docs/memory.md): this reports from outside: RSS of the workerd process(es) serving it
// (Worker + Durable Object isolates + SQLite caches; one DO is
// active per conversation, so its growth is what the conversation costs)
// before any import and after each size's import and turns, plus the size of
// the persisted SQLite files.
//
// Targets (issue 3): added p50 ≤ 5 ms and p99 ≤ 25 ms at 100k messages.
// Run time is bounded by --turns (default 200 pairs per size), by
// --seconds-per-size (default 60 s of measured turns per size, at least 20
// turns) and by import speed; --json prints one JSON object on stdout (progress stays on stderr).
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startWranglerDev } from "../testing/wrangler-dev";
import { serveBundle } from "./load/workerd-server";
import { buildSnapshot } from "./load/snapshot";
import { cpuMs, groupMembers, rssMiB, startChild } from "./load/processes";
import { API_KEY, conversationInfo, flagValue, importConversation, log, markdownTable, MIB, nonNegativeInt, percentile, positiveInt, postJson, settle, TOPICS } from "./bench/conversation-driver";
// @ts-expect-error plain .mjs test double without types
import { startTestDoubleServer } from "../testing/test-double-server.mjs";

interface Args {
  json: boolean;
  sizes: number[];
  turns: number;
  budget: number;
  /** Time limit for the measured turns of one size; fewer turns are measured when it runs out (at least MIN_TURNS). */
  secondsPerSize: number;
  /** Pause between turn pairs and between a pair's two calls (ms): a chat client's think time, so a turn's background work (its write) lands in no measurement. */
  gapMs: number;
  /** workerd served by Miniflare (as deployed), or through `wrangler dev` and its local proxy. */
  via: "workerd" | "wrangler";
  /** Where the test double backend runs: its own process (default), or the bench's. */
  backend: "process" | "in-process";
}

/** The test double backend, wherever it runs. */
interface Backend {
  /** Base URL, …/v1. */
  url: string;
  /** The body of the last request it received (epikv's last upstream call), read apart from any timing. */
  lastBody: () => Promise<unknown>;
  close: () => Promise<void>;
}

/** The Worker under test, however it is served. */
interface Served {
  url: string;
  workerdPids: () => number[];
  stop: () => Promise<void>;
}

interface SizeResult {
  messages: number;
  import_s: number;
  turns: number;
  direct_ms: { p50: number; p99: number };
  /** The same direct call to a second test double in the bench's own process (no process boundary): the old baseline. */
  direct_in_process_ms: { p50: number; p99: number };
  epikv_ms: { p50: number; p99: number };
  added_ms: { p50: number; p99: number };
  /**
   * Where the added time goes: GET /healthz (HTTP edge through wrangler dev,
   * no Durable Object), and the Worker's Server-Timing of each turn: plan
   * (beginTurn RPC), backend (the call epikv makes), commit (commitTurn RPC:
   * NaN when it finished after the answer, as it does for existing conversations).
   */
  healthz_ms: { p50: number; p99: number };
  plan_ms: { p50: number; p99: number };
  backend_ms: { p50: number; p99: number };
  commit_ms: { p50: number; p99: number };
  /** CPU time of the workerd processes per measured turn (one chat turn and one /healthz), from /proc. */
  workerd_cpu_ms_per_turn: number;
  context_messages: number;
  context_tokens: number;
  workerd_rss_mb: { after_import: number; after_turns: number };
  /** The Durable Object's own accounting of its in-memory structures after the turns (info().memory). */
  do_memory: { index_segments: number; index_mb: number; lexical_mb: number; message_meta_mb: number; message_cache_mb: number } | null;
  segments: number;
  sqlite_mb: number;
}

const PORT_RANGE: [number, number] = [8930, 8949];
const WARMUP_TURNS = 10;
const MIN_TURNS = 20;
const TARGET = { messages: 100_000, p50: 5, p99: 25 };

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, sizes: [1000, 10_000, 100_000], turns: 200, budget: 4096, secondsPerSize: 60, gapMs: 20, via: "workerd", backend: "process" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const { value: v, next } = flagValue(argv, i);
      i = next;
      return v;
    };
    if (a === "--json") args.json = true;
    else if (a.startsWith("--sizes")) args.sizes = value().split(",").map((s) => positiveInt(s, "--sizes"));
    else if (a.startsWith("--turns")) args.turns = positiveInt(value(), "--turns");
    else if (a.startsWith("--budget")) args.budget = positiveInt(value(), "--budget");
    else if (a.startsWith("--seconds-per-size")) args.secondsPerSize = positiveInt(value(), "--seconds-per-size");
    else if (a.startsWith("--gap-ms")) args.gapMs = nonNegativeInt(value(), "--gap-ms");
    else if (a.startsWith("--via")) {
      const v = value();
      if (v !== "workerd" && v !== "wrangler") throw new Error(`--via: expected workerd or wrangler, got ${v}`);
      args.via = v;
    } else if (a.startsWith("--backend")) {
      const v = value();
      if (v !== "process" && v !== "in-process") throw new Error(`--backend: expected process or in-process, got ${v}`);
      args.backend = v;
    }
    else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: tsx scripts/bench-latency.ts [--json] [--sizes 1000,10000,100000] [--turns 200] [--budget 4096] [--seconds-per-size 60] [--gap-ms 20] [--via workerd|wrangler] [--backend process|in-process]\n");
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return args;
}

/** "plan;dur=3, backend;dur=12" → { plan: 3, backend: 12 }. */
function parseServerTiming(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (header ?? "").split(",")) {
    const m = /^\s*([\w-]+);dur=([\d.]+)/.exec(part);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** RSS (MiB) of the workerd processes serving the Worker. */
function workerdRssMb(epikv: Served): number {
  return epikv.workerdPids().reduce((s, pid) => s + rssMiB(pid), 0);
}

function workerdCpuMs(epikv: Served): number {
  return epikv.workerdPids().reduce((s, pid) => s + cpuMs(pid), 0);
}

function dirSqliteMb(dir: string): number {
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.sqlite(-wal|-shm)?$/.test(e.name)) bytes += statSync(p).size;
    }
  };
  walk(dir);
  return bytes / (1024 * 1024);
}

async function measureSize(epikv: Served, backend: Backend, sameProcess: Backend, n: number, args: Args): Promise<SizeResult> {
  const id = `bench-${n}-${Date.now().toString(36)}`;
  log(`[${n} messages] importing`);
  const importS = await importConversation(epikv.url, id, n, args.budget);
  await settle(epikv.url, id);
  const rssAfterImport = workerdRssMb(epikv);
  const direct: number[] = [];
  const directInProcess: number[] = [];
  const viaEpikv: number[] = [];
  /** epikv − direct of the same pair: what epikv added to that turn. */
  const added: number[] = [];
  const healthz: number[] = [];
  const steps: Record<"plan" | "backend" | "commit", number[]> = { plan: [], backend: [], commit: [] };
  let contextMessages = 0;
  let contextTokens = 0;
  log(`[${n} messages] ${WARMUP_TURNS} warm-up + ${args.turns} measured turn pairs`);
  const measureStart = performance.now();
  let cpuStart = 0;
  for (let t = 0; t < WARMUP_TURNS + args.turns; t++) {
    if (t === WARMUP_TURNS) cpuStart = workerdCpuMs(epikv);
    const measured = t - WARMUP_TURNS;
    if (measured >= MIN_TURNS && performance.now() - measureStart > args.secondsPerSize * 1000) {
      log(`  time limit: ${measured} measured turns`);
      break;
    }
    if (args.gapMs > 0) await new Promise((r) => setTimeout(r, args.gapMs));
    const question = `turn ${t}: what about ${TOPICS[t % TOPICS.length]}?`;
    const e = await postJson(`${epikv.url}/v1/chat/completions`, { model: "epikv", messages: [{ role: "user", content: question }] }, { "x-conversation-id": id });
    const sentBody = await backend.lastBody();
    // The same pause before the direct call: the turn's write, which follows its answer, must not run during it
    // (it would slow the direct call down on a 2-core machine and flatter "added").
    if (args.gapMs > 0) await new Promise((r) => setTimeout(r, args.gapMs));
    const d = await postJson(`${backend.url}/chat/completions`, sentBody);
    if (args.gapMs > 0) await new Promise((r) => setTimeout(r, args.gapMs));
    const dIn = sameProcess === backend ? d : await postJson(`${sameProcess.url}/chat/completions`, sentBody);
    const h0 = performance.now();
    await (await fetch(`${epikv.url}/healthz`)).arrayBuffer();
    const h = performance.now() - h0;
    if (t >= WARMUP_TURNS) {
      viaEpikv.push(e.ms);
      direct.push(d.ms);
      directInProcess.push(dIn.ms);
      added.push(e.ms - d.ms);
      healthz.push(h);
      const timing = parseServerTiming(e.res.headers.get("server-timing"));
      for (const k of ["plan", "backend", "commit"] as const) steps[k].push(timing[k] ?? NaN);
    }
    contextMessages = Number(e.res.headers.get("x-epikv-context-messages"));
    contextTokens = Number(e.res.headers.get("x-epikv-context-tokens"));
    if ((t + 1) % 50 === 0) log(`  ${t + 1}/${WARMUP_TURNS + args.turns} turns`);
  }
  if (args.gapMs > 0) await new Promise((r) => setTimeout(r, args.gapMs)); // the last turn's commit
  const cpuPerTurn = (workerdCpuMs(epikv) - cpuStart) / Math.max(1, viaEpikv.length);
  const after = await conversationInfo(epikv.url, id);
  const p = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });
  const dp = p(direct);
  const ep = p(viaEpikv);
  return {
    messages: n,
    import_s: importS,
    turns: viaEpikv.length,
    direct_ms: dp,
    direct_in_process_ms: p(directInProcess),
    epikv_ms: ep,
    added_ms: p(added),
    healthz_ms: p(healthz),
    plan_ms: p(steps.plan),
    backend_ms: p(steps.backend),
    commit_ms: p(steps.commit),
    workerd_cpu_ms_per_turn: cpuPerTurn,
    context_messages: contextMessages,
    context_tokens: contextTokens,
    workerd_rss_mb: { after_import: rssAfterImport, after_turns: workerdRssMb(epikv) },
    do_memory: after.memory
      ? { index_segments: after.memory.index_segments, index_mb: after.memory.index_bytes / MIB, lexical_mb: after.memory.lexical_bytes / MIB, message_meta_mb: after.memory.message_meta_bytes / MIB, message_cache_mb: after.memory.message_cache_bytes / MIB }
      : null,
    segments: after.segment_count,
    sqlite_mb: 0,
  };
}

function table(rows: SizeResult[], baselineRss: number): string {
  const head = ["messages", "turns", "import s", "direct p50", "direct p99", "in-proc direct p50", "epikv p50", "epikv p99", "added p50", "added p99", "healthz p50", "added−edge p50", "plan p50", "plan p99", "backend p50", "workerd CPU/turn", "ctx msgs", "ctx tokens", "segments", "index MiB", "lexical MiB", "meta+cache MiB", "workerd RSS MiB", "Δ RSS MiB", "sqlite MiB"];
  const f = (x: number, d = 2) => x.toFixed(d);
  const body = rows.map((r) => [
    String(r.messages), String(r.turns), f(r.import_s, 1), f(r.direct_ms.p50), f(r.direct_ms.p99), f(r.direct_in_process_ms.p50), f(r.epikv_ms.p50), f(r.epikv_ms.p99), f(r.added_ms.p50), f(r.added_ms.p99), f(r.healthz_ms.p50), f(r.added_ms.p50 - r.healthz_ms.p50), f(r.plan_ms.p50, 0), f(r.plan_ms.p99, 0), f(r.backend_ms.p50, 0), f(r.workerd_cpu_ms_per_turn),
    String(r.context_messages), String(r.context_tokens), String(r.segments), r.do_memory ? f(r.do_memory.index_mb, 1) : "?", r.do_memory ? f(r.do_memory.lexical_mb, 1) : "?", r.do_memory ? f(r.do_memory.message_meta_mb + r.do_memory.message_cache_mb, 1) : "?", f(r.workerd_rss_mb.after_turns, 0), f(r.workerd_rss_mb.after_turns - baselineRss, 0), f(r.sqlite_mb, 1),
  ]);
  return markdownTable(head, body);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const loadStart = loadavg()[0]!;
  const persistTo = mkdtempSync(join(tmpdir(), "epikv-bench-"));
  const bundleDir = mkdtempSync(join(tmpdir(), "epikv-bench-bundle-"));
  const inProcess = await inProcessBackend();
  const backend = args.backend === "in-process" ? inProcess : await ownProcessBackend();
  let epikv: Served | undefined;
  const stopAll = async () => {
    await epikv?.stop();
    await backend.close();
    if (backend !== inProcess) await inProcess.close();
    rmSync(persistTo, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  };
  process.on("SIGINT", () => void stopAll().then(() => process.exit(130)));
  try {
    log(`starting test double backend (${args.backend === "process" ? "own process" : "in this process"}) at ${backend.url} and the Worker via ${args.via} (persist ${persistTo})`);
    const vars = { BACKEND_URL: backend.url, BACKEND_MODEL: "test-double-model", BACKEND_TIMEOUT_MS: "30000", API_KEYS: `${API_KEY}:bench` };
    epikv = await serve(args.via, persistTo, bundleDir, vars);
    const baselineRss = workerdRssMb(epikv);
    const rows: SizeResult[] = [];
    for (const n of args.sizes) {
      const r = await measureSize(epikv, backend, inProcess, n, args);
      r.sqlite_mb = dirSqliteMb(persistTo);
      rows.push(r);
      log(`[${n} messages] added p50 ${r.added_ms.p50.toFixed(2)} ms, p99 ${r.added_ms.p99.toFixed(2)} ms`);
    }
    const at = rows.find((r) => r.messages === TARGET.messages);
    const targets = at
      ? { messages: TARGET.messages, added_p50_ms: at.added_ms.p50, p50_target_ms: TARGET.p50, p50_met: at.added_ms.p50 <= TARGET.p50, added_p99_ms: at.added_ms.p99, p99_target_ms: TARGET.p99, p99_met: at.added_ms.p99 <= TARGET.p99 }
      : null;
    const result = {
      command: `npm run bench:latency -- ${process.argv.slice(2).join(" ")}`.trim(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version },
      load_average: { start: loadStart, end: loadavg()[0]! },
      served_via: args.via,
      backend_process: args.backend,
      budget_tokens: args.budget,
      gap_ms: args.gapMs,
      baseline_workerd_rss_mb: baselineRss,
      sizes: rows,
      targets,
      wall_s: (performance.now() - started) / 1000,
    };
    if (args.json) process.stdout.write(JSON.stringify(result) + "\n");
    else {
      process.stdout.write(`\nepikv added latency per non-streaming turn (served via ${args.via}; test double backend ${args.backend === "process" ? "in its own process" : "in the bench's process"}, loopback, budget ${args.budget} tokens, up to ${args.turns} turn pairs per size, ${args.gapMs} ms between pairs)\n`);
      process.stdout.write(`workerd RSS before any import: ${baselineRss.toFixed(0)} MiB; RSS = all workerd processes serving it (Worker + Durable Objects + SQLite cache)\n\n`);
      process.stdout.write(table(rows, baselineRss) + "\n");
      process.stdout.write("times in ms; added = percentile of the paired per-turn differences (epikv − direct of the same pair); in-proc direct = the direct call to a second test double in the bench's own process (no process boundary to cross: the baseline before 2026-12-03); healthz = the HTTP hop into workerd and back alone (via wrangler: also its local proxy); added−edge = added p50 − healthz p50; plan/backend = the Worker's Server-Timing of the beginTurn RPC and its backend call (ms resolution); workerd CPU/turn = CPU ms of the workerd processes per measured turn (one turn + one /healthz, /proc); index/lexical/meta+cache = the Durable Object's own accounting (info().memory: segment index, lexical index, message metadata and text cache)\n");
      process.stdout.write(`load average (1 min) at start ${result.load_average.start.toFixed(2)}, at end ${result.load_average.end.toFixed(2)} on ${result.machine.cpus} cores\n\n`);
      if (targets) {
        process.stdout.write(`target at ${TARGET.messages} messages: added p50 ${targets.added_p50_ms.toFixed(2)} ms ≤ ${TARGET.p50} ms: ${targets.p50_met ? "met" : "NOT met"}; added p99 ${targets.added_p99_ms.toFixed(2)} ms ≤ ${TARGET.p99} ms: ${targets.p99_met ? "met" : "NOT met"}\n`);
      } else process.stdout.write(`target (at ${TARGET.messages} messages) not measured: add ${TARGET.messages} to --sizes\n`);
      process.stdout.write(`wall time ${result.wall_s.toFixed(0)} s\n`);
    }
  } finally {
    await stopAll();
  }
}

/** The test double in a process of its own (the load test's, scripts/load/backend-double.mjs); the last body is read over its /__test routes. */
async function ownProcessBackend(): Promise<Backend> {
  const child = await startChild(join(process.cwd(), "scripts/load/backend-double.mjs"), []);
  const origin = child.url.replace(/\/v1$/, "");
  return {
    url: child.url,
    lastBody: async () => {
      const { requests } = (await (await fetch(`${origin}/__test/requests`)).json()) as { requests: { body: unknown }[] };
      await (await fetch(`${origin}/__test/reset`, { method: "POST" })).arrayBuffer();
      if (!requests.length) throw new Error("the test double received no request this turn");
      return requests.at(-1)!.body;
    },
    close: child.stop,
  };
}

async function inProcessBackend(): Promise<Backend> {
  const server = await startTestDoubleServer();
  return {
    url: server.url,
    lastBody: async () => {
      const last = server.requests().at(-1);
      server.reset();
      if (!last) throw new Error("the test double received no request this turn");
      return last.body;
    },
    close: server.close,
  };
}

/** The Worker from a fixed bundle (a build, not the working tree: `wrangler dev` would reload on edits mid-run). */
async function serve(via: Args["via"], persistTo: string, bundleDir: string, vars: Record<string, string>): Promise<Served> {
  const root = process.cwd();
  if (via === "workerd") return serveBundle({ root, bundleDir, persistTo, vars });
  const dev = await startWranglerDev({ persistTo, portRange: PORT_RANGE, vars, configPath: buildSnapshot(root, bundleDir) });
  return { url: dev.url, workerdPids: () => groupMembers(dev.pid, "workerd"), stop: dev.stop };
}

main().catch((err) => {
  process.stderr.write(`bench-latency failed: ${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});

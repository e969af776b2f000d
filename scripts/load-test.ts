// `npm run load`: BurstGPT-shaped traffic against epikv and, in the same run,
// against a bare pass-through proxy to the same backend (scripts/load/).
//
// Starts, on loopback only: the TEST DOUBLE OpenAI-compatible backend (its
// own process; it answers at once, so epikv's own cost is what shows),
// the Worker as `wrangler deploy` bundles it in workerd (real SQLite Durable
// Objects, auth and rate limits on; scripts/load/workerd-server.ts, or
// `wrangler dev` with --via wrangler) and the bare proxy. Replays one seeded
// workload against each, reads back every epikv conversation to count lost and duplicated messages,
// reports throughput, p50/p99/max latency, errors by kind and peak RSS of
// each process, and stops everything it started. Bounded: --conversations
// (default 2000, arriving over 60 s), a per-phase deadline (default 75 s); the whole run stays
// under about 3 minutes.
//
// Flags: --conversations N --window S --deadline S --seed N --in-flight N
//        --via wrangler (through `wrangler dev` and its local proxy)
//        --live (with --via wrangler: serve the working tree instead of a pre-built bundle, scripts/load/snapshot.ts)
//        --json (one JSON object) --write-docs (the table into docs/reliability.md)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startWranglerDev } from "../testing/wrangler-dev";
import { serveBundle } from "./load/workerd-server";
import { drive, summarize, type PhaseSummary, type Target } from "./load/drive";
import { groupMembers, sampleMemory, startChild, type Child } from "./load/processes";
import { verify, type Verification } from "./load/verify";
import { buildWorkload, DEFAULT_WORKLOAD, type WorkloadOptions } from "./load/workload";
import { buildSnapshot } from "./load/snapshot";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const num = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const json = flag("json");
const viaWrangler = args.includes("--via") && args[args.indexOf("--via") + 1] === "wrangler";
if (args.includes("--via") && !viaWrangler && args[args.indexOf("--via") + 1] !== "workerd") throw new Error("--via must be workerd or wrangler");
const log = (s: string) => {
  if (!json) process.stderr.write(s + "\n");
};

const workload: WorkloadOptions = {
  ...DEFAULT_WORKLOAD,
  conversations: Math.min(20_000, Math.floor(num("conversations", DEFAULT_WORKLOAD.conversations))),
  arrivalWindowS: Math.min(120, num("window", 60)),
  seed: Math.floor(num("seed", DEFAULT_WORKLOAD.seed)),
};
const deadlineS = Math.min(120, num("deadline", 75));
const maxInFlight = Math.floor(num("in-flight", 64));
const API_KEY = `sk-load-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const PORTS: [number, number] = [8900, 8929];

interface MemoryPeaks {
  [process: string]: number;
}

async function main(): Promise<void> {
  const sessions = buildWorkload(workload);
  const turns = sessions.reduce((n, s) => n + s.turns.length, 0);
  log(`workload: ${sessions.length} conversations, ${turns} turns, arrivals over ${workload.arrivalWindowS} s (Gamma shape ${workload.burstShape}), Zipf(s=${workload.zipfS}) lengths ≤ ${workload.maxRequestWords}/${workload.maxReplyWords} words, think ~Exp(${workload.thinkMeanS} s)`);

  const children: Child[] = [];
  let epikv: { url: string; stop: () => Promise<void> } | undefined;
  let workerdPids: () => number[] = () => [];
  const persistTo = mkdtempSync(join(tmpdir(), "epikv-load-"));
  const stopAll = async () => {
    await epikv?.stop().catch(() => {});
    for (const c of children) await c.stop().catch(() => {});
    rmSync(persistTo, { recursive: true, force: true });
  };
  process.on("SIGINT", () => void stopAll().then(() => process.exit(130)));
  try {
    const backend = await startChild(join(root, "scripts/load/backend-double.mjs"), []);
    children.push(backend);
    const proxy = await startChild(join(root, "scripts/load/bare-proxy.mjs"), [backend.url.replace(/\/v1$/, "")]);
    children.push(proxy);
    const vars = { BACKEND_URL: backend.url, BACKEND_MODEL: "test-double-model", BACKEND_TIMEOUT_MS: "30000", API_KEYS: `${API_KEY}:load`, RATE_LIMIT_RPS: "100000", RATE_LIMIT_BURST: "100000" };
    if (viaWrangler) {
      const configPath = flag("live") ? undefined : buildSnapshot(root, join(persistTo, "bundle"));
      log(`backend (test double) ${backend.url}; bare proxy ${proxy.url}; starting wrangler dev (${configPath ? "pre-built bundle" : "live tree"})…`);
      const dev = await startWranglerDev({ persistTo: join(persistTo, "state"), configPath, portRange: PORTS, vars });
      epikv = dev;
      workerdPids = () => groupMembers(dev.pid, "workerd");
    } else {
      log(`backend (test double) ${backend.url}; bare proxy ${proxy.url}; starting the deploy bundle in workerd…`);
      const server = await serveBundle({ root, bundleDir: join(persistTo, "bundle"), persistTo: join(persistTo, "state"), vars });
      epikv = server;
      workerdPids = server.workerdPids;
    }
    const epikvLabel = viaWrangler ? "epikv (wrangler dev)" : "epikv (workerd)";
    const runTag = Date.now().toString(36);
    const progress = (label: string) => (done: number) => {
      if (done % 500 === 0) log(`  ${label}: ${done} turns done`);
    };

    const targets: { target: Target; memory: Record<string, () => number[]> }[] = [
      {
        target: { label: epikvLabel, baseUrl: `${epikv.url}/v1`, headers: { authorization: `Bearer ${API_KEY}` }, stateful: true },
        memory: { workerd: workerdPids, backend: () => [backend.pid] },
      },
      {
        target: { label: "bare proxy (node:http)", baseUrl: `${proxy.url}/v1`, headers: {}, stateful: false },
        memory: { proxy: () => [proxy.pid], backend: () => [backend.pid] },
      },
    ];
    const summaries: (PhaseSummary & { memory: MemoryPeaks })[] = [];
    let verification: Verification | undefined;
    // Unloaded: a small workload, one request at a time — each target's own per-turn cost.
    const quiet = buildWorkload({ ...workload, conversations: 40, arrivalWindowS: 1, thinkMeanS: 0.05, seed: workload.seed + 1 });
    for (const { target, memory } of targets) {
      log(`phase: ${target.label}, one request at a time`);
      const sampler = sampleMemory(memory);
      const phase = await drive(target, quiet, `${runTag}q`, { deadlineS: 30, maxInFlight: 1, timeoutMs: 30_000 });
      summaries.push({ ...summarize(phase), target: `${target.label}, 1 in flight`, memory: sampler.stop() });
      if (target.stateful) verification = await verify(target.baseUrl, target.headers, `${runTag}q`, phase.records);
    }
    for (const { target, memory } of targets) {
      log(`phase: ${target.label}, BurstGPT arrivals`);
      const sampler = sampleMemory(memory);
      const phase = await drive(target, sessions, runTag, { deadlineS, maxInFlight, timeoutMs: 30_000, onProgress: progress(target.label) });
      const peaks = sampler.stop();
      summaries.push({ ...summarize(phase), target: `${target.label}, BurstGPT arrivals`, memory: peaks });
      if (target.stateful) {
        log("  reading back every conversation…");
        const burst = await verify(target.baseUrl, target.headers, runTag, phase.records);
        verification = sumVerifications(verification, burst);
      }
    }
    const report = { workload: { ...workload, turns, deadlineS, maxInFlight }, phases: summaries, verification, machine: machineLine() };
    if (json) process.stdout.write(JSON.stringify(report) + "\n");
    else process.stdout.write(renderReport(report) + "\n");
    if (flag("write-docs")) writeDocs(renderReport(report));
  } finally {
    await stopAll();
  }
}

function sumVerifications(a: Verification | undefined, b: Verification): Verification {
  if (!a) return b;
  return Object.fromEntries(Object.keys(b).map((k) => [k, a[k as keyof Verification] + b[k as keyof Verification]])) as unknown as Verification;
}

function machineLine(): string {
  const cpus = readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length ?? 0;
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  return `${cpus} CPUs, load average ${load} at the end, Node ${process.version}`;
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "–");

export function renderReport(r: { workload: WorkloadOptions & { turns: number; deadlineS: number; maxInFlight: number }; phases: (PhaseSummary & { memory: MemoryPeaks })[]; verification?: Verification; machine: string }): string {
  const w = r.workload;
  const lines = [
    `Workload: ${w.conversations} conversations, ${w.turns} turns planned; Gamma(shape ${w.burstShape}) inter-arrivals over ${w.arrivalWindowS} s; Zipf(s=${w.zipfS}) request ≤ ${w.maxRequestWords} words, reply ≤ ${w.maxReplyWords} words; ≤ ${w.maxTurns} turns per conversation with Exp(${w.thinkMeanS} s) think time; seed ${w.seed}; ≤ ${w.maxInFlight} requests in flight; phase deadline ${w.deadlineS} s.`,
    `Machine: ${r.machine}.`,
    "",
    "| target | turns ok / sent | not started (deadline) | throughput (turns/s) | p50 ms | p99 ms | max ms | errors by kind | peak RSS MiB |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...r.phases.map((p) =>
      `| ${p.target} | ${p.ok} / ${p.requests} | ${p.notStarted} | ${fmt(p.throughput)} | ${fmt(p.p50, 0)} | ${fmt(p.p99, 0)} | ${fmt(p.max, 0)} | ${Object.entries(p.errors).map(([k, n]) => `${k}: ${n}`).join("; ") || "none"} | ${Object.entries(p.memory).map(([k, v]) => `${k} ${fmt(v, 0)}`).join(", ")} |`,
    ),
  ];
  if (r.phases.length === 4) {
    const [eq, bq, e, b] = r.phases as unknown as [PhaseSummary, PhaseSummary, PhaseSummary, PhaseSummary];
    lines.push(
      "",
      `epikv / bare proxy, same run — one at a time: p50 ${fmt(eq.p50 / bq.p50, 1)}× (+${fmt(eq.p50 - bq.p50, 0)} ms per turn); under BurstGPT arrivals: throughput ${fmt(e.throughput / b.throughput, 2)}×, p50 ${fmt(e.p50 / b.p50, 1)}×, p99 ${fmt(e.p99 / b.p99, 1)}×.`,
    );
  }
  if (r.verification) {
    const v = r.verification;
    lines.push(
      "",
      `Read-back of every epikv conversation (${v.conversations}): ${v.expectedMessages} messages expected from successful turns, ${v.storedMessages} stored; lost ${v.lost}, duplicated ${v.duplicated}, unexpected ${v.unexpected}, committed after a client-side error ${v.committedAfterClientError}, read errors ${v.readErrors}.`,
    );
  }
  return lines.join("\n");
}

function writeDocs(table: string): void {
  const path = join(root, "docs/reliability.md");
  const text = readFileSync(path, "utf8");
  const begin = "<!-- load-report:begin -->";
  const end = "<!-- load-report:end -->";
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < 0) throw new Error(`docs/reliability.md lacks ${begin} … ${end}`);
  writeFileSync(path, `${text.slice(0, i + begin.length)}\n${table}\n${text.slice(j)}`);
  log("wrote the load report into docs/reliability.md");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// Where a context-mode turn spends its CPU inside workerd: serves the deploy
// bundle with workerd's V8 inspector (scripts/load/workerd-server.ts),
// imports a conversation of N messages, waits for its re-clustering, then
// records a sampling CPU profile (the inspector's Profiler domain) over T
// turns and prints the functions with the most self time per turn.
//
//   npm run profile:turns -- [--messages 100000] [--turns 200] [--top 25] [--interval-us 100] [--sort self|total] [--save FILE]
//
// --save writes the raw V8 profile (.cpuprofile JSON: Chrome DevTools opens
// it) for call-tree questions the flat table cannot answer.
//
// Self time is where the samples landed; "total" adds the callees (the
// table is sorted by either). Times
// are per turn. The profile covers the Worker and its Durable Objects (one
// isolate); the HTTP hop into workerd is not in it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error plain .mjs test double without types
import { startTestDoubleServer } from "../testing/test-double-server.mjs";
import { API_KEY, flagValue, importConversation, log, markdownTable, positiveInt, postJson, settle, TOPICS } from "./bench/conversation-driver";
import { IsolateInspector } from "./load/isolate-inspector";
import { serveBundle, WORKER_INSPECTOR_TARGET } from "./load/workerd-server";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self and total microseconds per function (name + location), from a V8 CPU profile. */
export function profileTimes(profile: CpuProfile): { name: string; self: number; total: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) => {
    const f = n.callFrame;
    const file = f.url.split("/").pop() || "(native)";
    return `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) throw new Error(`CPU profile: sample ${i} names node ${id}, which the profile does not have`);
    self.set(label(node), (self.get(label(node)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = label(byId.get(at)!);
      if (seen.has(l)) continue; // recursion counts once
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + dt);
    }
  });
  return [...self.keys()].map((name) => ({ name, self: self.get(name)!, total: total.get(name) ?? 0 }));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flags: Record<string, string> = { "--messages": "100000", "--turns": "200", "--top": "25", "--interval-us": "100", "--sort": "self", "--save": "" };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.split("=")[0]!;
    if (!(name in flags)) throw new Error(`unknown argument ${argv[i]} (use ${Object.keys(flags).join(", ")})`);
    const { value, next } = flagValue(argv, i);
    flags[name] = value;
    i = next;
  }
  const sort = flags["--sort"] as "self" | "total";
  if (sort !== "self" && sort !== "total") throw new Error("--sort takes self or total");
  const [messages, turns, top, intervalUs] = ["--messages", "--turns", "--top", "--interval-us"].map((f) => positiveInt(flags[f]!, f)) as [number, number, number, number];
  const bundleDir = mkdtempSync(join(tmpdir(), "epikv-prof-bundle-"));
  const persistTo = mkdtempSync(join(tmpdir(), "epikv-prof-"));
  const testDouble = await startTestDoubleServer();
  const server = await serveBundle({
    root: process.cwd(), bundleDir, persistTo, inspectorPort: 8971,
    vars: { BACKEND_URL: testDouble.url, BACKEND_MODEL: "test-double-model", BACKEND_TIMEOUT_MS: "30000", API_KEYS: `${API_KEY}:bench`, RATE_LIMIT_RPS: "0" },
  });
  const inspector = await IsolateInspector.connect(8971, WORKER_INSPECTOR_TARGET);
  try {
    const id = `prof-${messages}`;
    log(`importing ${messages} messages`);
    await importConversation(server.url, id, messages, 4096);
    await settle(server.url, id, 300_000);
    const turn = (t: number) => postJson(`${server.url}/v1/chat/completions`, { model: "epikv", messages: [{ role: "user", content: `turn ${t}: what about ${TOPICS[t % TOPICS.length]}?` }] }, { "x-conversation-id": id });
    for (let t = 0; t < 10; t++) await turn(t); // warm-up
    await inspector.call("Profiler.enable");
    await inspector.call("Profiler.setSamplingInterval", { interval: intervalUs });
    await inspector.call("Profiler.start");
    for (let t = 0; t < turns; t++) {
      await turn(t);
      if ((t + 1) % 50 === 0) log(`  ${t + 1}/${turns} turns`);
    }
    const { profile } = (await inspector.call("Profiler.stop")) as { profile: CpuProfile };
    if (flags["--save"]) writeFileSync(flags["--save"], JSON.stringify(profile));
    const times = profileTimes(profile).filter((r) => r.name !== "(idle) (native):0" && !r.name.startsWith("(program)"));
    const busy = times.reduce((s, r) => s + r.self, 0);
    const rows = times.sort((a, b) => b[sort] - a[sort]).slice(0, top).map((r) => [r.name, (r.self / turns / 1000).toFixed(3), (r.total / turns / 1000).toFixed(3), `${((100 * r.self) / busy).toFixed(1)}%`]);
    process.stdout.write(`\nCPU profile of ${turns} context-mode turns at ${messages} messages (workerd isolate, sampled every ${intervalUs} µs): ${(busy / turns / 1000).toFixed(2)} ms of JS/WASM per turn\n\n`);
    process.stdout.write(markdownTable(["function", "self ms/turn", "total ms/turn", "self share"], rows) + "\n");
  } finally {
    inspector.close();
    await server.stop();
    await testDouble.close();
    rmSync(bundleDir, { recursive: true, force: true });
    rmSync(persistTo, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith("profile-turns.ts")) await main();

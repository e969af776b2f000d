// `npm run faults`: runs the fault tests and prints the fault table (every
// fault, the outcome its test asserts, and whether it was observed in this
// run); --write-docs puts it into docs/reliability.md. The outcome column is
// the test's own title, which names what the test checks — error, status,
// and that no message was lost or duplicated.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

interface Row {
  fault: string;
  file: string;
  /** Matches the test's full name. */
  test: RegExp;
}

const ROWS: Row[] = [
  { fault: "backend down (5xx), another backend up", file: "test/worker/faults-backends.test.ts", test: /backend down \(5xx\)/ },
  { fault: "every backend down", file: "test/worker/faults-backends.test.ts", test: /every backend down/ },
  { fault: "backend unreachable (connection refused)", file: "test/worker/faults-backends.test.ts", test: /connection refused/ },
  { fault: "backend answers non-2xx (single backend)", file: "test/worker/chat-upstream-failure.test.ts", test: /non-2xx backend/ },
  { fault: "backend hangs", file: "test/worker/faults-backends.test.ts", test: /backend hangs/ },
  { fault: "stream cut mid-way (not retried)", file: "test/worker/faults-backends.test.ts", test: /stream cut after the first chunk/ },
  { fault: "stream cut mid-way (single backend)", file: "test/worker/chat-upstream-failure.test.ts", test: /stream broken mid-way \(test-double-cut-stream\)/ },
  { fault: "malformed SSE (invalid JSON event)", file: "test/worker/faults-backends.test.ts", test: /malformed SSE/ },
  { fault: "malformed SSE (single backend)", file: "test/worker/chat-upstream-failure.test.ts", test: /stream broken mid-way \(test-double-bad-json\)/ },
  { fault: "malformed safetensors frames, lying headers, huge sizes", file: "test/node/backend-protocol.test.ts", test: /truncated frames, lying headers/ },
  { fault: "NaN / wrong-shape tensors to the backend", file: "test/node/backend-protocol.test.ts", test: /NaN, wrong shapes/ },
  { fault: "random bytes as safetensors", file: "test/node/backend-safetensors.test.ts", test: /random bytes/ },
  { fault: "Durable Object restarted mid-turn", file: "test/worker/faults-backends.test.ts", test: /restarted mid-turn/ },
  { fault: "client disconnects mid-stream", file: "test/worker/chat-streaming.test.ts", test: /client disconnects/ },
  { fault: "client disconnects before a non-streaming reply", file: "test/worker/faults-backends.test.ts", test: /client disconnects before/ },
  { fault: "client retries a turn (same Idempotency-Key)", file: "test/worker/idempotency-turns.test.ts", test: /retried non-streaming turn/ },
  { fault: "concurrent turns on one conversation", file: "test/worker/concurrency-turns.test.ts", test: /simultaneous turns/ },
  { fault: "random bytes / JSON at every edge parser", file: "test/node/property-parsers.test.ts", test: /chat requests/ },
  { fault: "malformed bodies: same 4xx on both chat routes", file: "test/worker/property-chat-routes.test.ts", test: /same 4xx status, code and param/ },
  // Against wrangler dev and the reference backend (test/e2e/client-habits.test.ts).
  { fault: "kv: client hangs up mid-stream", file: "test/e2e/client-habits.test.ts", test: /kv hang-up mid-stream/ },
  { fault: "kv: backend down", file: "test/e2e/client-habits.test.ts", test: /kv backend down/ },
  { fault: "kv: client retries (same Idempotency-Key)", file: "test/e2e/client-habits.test.ts", test: /kv retry with the same Idempotency-Key/ },
  { fault: "regenerate (history without the last reply)", file: "test/e2e/client-habits.test.ts", test: /regenerate: the last reply/ },
  { fault: "edit of the first message", file: "test/e2e/client-habits.test.ts", test: /edit of the first message/ },
  { fault: "edit of a middle message", file: "test/e2e/client-habits.test.ts", test: /edit of a middle message/ },
  { fault: "diverging resend, history \"strict\"", file: "test/e2e/client-habits.test.ts", test: /strict mode/ },
  { fault: "20 concurrent resends of one history", file: "test/e2e/client-habits.test.ts", test: /20 concurrent resends/ },
  { fault: "tool_calls nested 10,000 deep", file: "test/e2e/client-habits.test.ts", test: /nested tool_calls 10,000 deep/ },
];

interface JsonReport {
  testResults: { name: string; assertionResults: { fullName: string; status: string; duration?: number }[] }[];
}

function run(project: string, files: string[], out: string): JsonReport {
  const r = spawnSync(join(root, "node_modules/.bin/vitest"), ["run", "--project", project, "--reporter=json", `--outputFile=${out}`, ...files], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  try {
    return JSON.parse(readFileSync(out, "utf8")) as JsonReport;
  } catch {
    throw new Error(`vitest (${project}) wrote no report: ${r.stderr.slice(-2000)}`);
  }
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), "epikv-faults-"));
  try {
    const files = (prefix: string) => [...new Set(ROWS.map((r) => r.file).filter((f) => f.startsWith(prefix)))];
    process.stderr.write("running fault tests (worker, node, e2e against wrangler dev)…\n");
    const reports = [run("worker", files("test/worker/"), join(dir, "worker.json")), run("node", files("test/node/"), join(dir, "node.json")), run("e2e", files("test/e2e/"), join(dir, "e2e.json"))];
    const results = reports.flatMap((rep) =>
      rep.testResults.flatMap((f) => f.assertionResults.map((a) => ({ file: f.name, ...a }))),
    );
    const lines = ["| fault | test (what it asserts) | observed in this run |", "| --- | --- | --- |"];
    let failed = 0;
    for (const row of ROWS) {
      const hit = results.find((a) => a.file.endsWith(row.file) && row.test.test(a.fullName));
      const observed = !hit ? "NOT RUN" : hit.status === "passed" ? `as asserted (${Math.round(hit.duration ?? 0)} ms)` : `FAILED (${hit.status})`;
      if (!hit || hit.status !== "passed") failed++;
      lines.push(`| ${row.fault} | \`${row.file.replace("test/", "")}\`: ${hit?.fullName.replace(/\|/g, "/") ?? row.test.source} | ${observed} |`);
    }
    const table = lines.join("\n");
    process.stdout.write(table + "\n");
    if (process.argv.includes("--write-docs")) {
      const path = join(root, "docs/reliability.md");
      const text = readFileSync(path, "utf8");
      const begin = "<!-- fault-table:begin -->";
      const end = "<!-- fault-table:end -->";
      const i = text.indexOf(begin);
      const j = text.indexOf(end);
      if (i < 0 || j < 0) throw new Error(`docs/reliability.md lacks ${begin} … ${end}`);
      writeFileSync(path, `${text.slice(0, i + begin.length)}\n${table}\n${text.slice(j)}`);
    }
    if (failed > 0) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();

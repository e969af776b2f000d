// npm run bench:kernels [-- --json] [--filter NAME] [--quick]
//
// Runs every case from scripts/bench/kernels/*.ts (each file exports
// `cases(options): BenchCase[] | Promise<BenchCase[]>`), timing each
// implementation of a kernel side by side on the same inputs (warm-up, then
// interleaved rounds, medians; scripts/bench/measure.ts). Prints progress to
// stderr and a table to stdout: median ms and GB/s per implementation, the
// speed-up of "wasm" over every other implementation, and each target from
// the issue, met or not. --json prints one JSON object instead of the table.
// --filter keeps cases whose file, kernel or shape contains NAME (case-insensitive);
// --quick uses small inputs and few rounds (smoke test; numbers meaningless).
import { readdirSync } from "node:fs";
import { cpus } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchCase, BenchOptions } from "./bench/bench-case";
import { measureCase, type ImplTiming, type MeasureSettings } from "./bench/measure";

interface Args {
  json: boolean;
  quick: boolean;
  filter?: string;
}

interface TargetResult {
  versus: string;
  atLeast: number;
  ratio: number | null;
  met: boolean;
  /** The implementation checked: "wasm", or the case's production build when measured. */
  checked: string;
}

interface CaseResult {
  file: string;
  kernel: string;
  shape: string;
  bytes?: number;
  impls: Record<string, ImplTiming>;
  /** "wasm/X": how many times faster wasm is than X (X's median / wasm's median). */
  ratios: Record<string, number>;
  targets: TargetResult[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") args.json = true;
    else if (a === "--quick") args.quick = true;
    else if (a === "--filter") {
      const v = argv[++i];
      if (!v) throw new Error("--filter needs a NAME");
      args.filter = v;
    } else if (a.startsWith("--filter=")) args.filter = a.slice("--filter=".length);
    else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: tsx scripts/bench-kernels.ts [--json] [--filter NAME] [--quick]\n");
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return args;
}

const here = dirname(fileURLToPath(import.meta.url));

async function loadCases(options: BenchOptions): Promise<{ file: string; c: BenchCase }[]> {
  const dir = join(here, "bench/kernels");
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).sort();
  const all: { file: string; c: BenchCase }[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { cases?: (o: BenchOptions) => BenchCase[] | Promise<BenchCase[]> };
    if (typeof mod.cases !== "function") throw new Error(`${f} does not export cases()`);
    for (const c of await mod.cases(options)) all.push({ file: basename(f, ".ts"), c });
  }
  return all;
}

function evaluate(c: BenchCase, impls: Record<string, ImplTiming>): Pick<CaseResult, "ratios" | "targets"> {
  const ratios: Record<string, number> = {};
  const wasm = impls.wasm;
  if (wasm) for (const [name, t] of Object.entries(impls)) if (name !== "wasm") ratios[`wasm/${name}`] = t.medianMs / wasm.medianMs;
  // Targets are about what the Worker runs: the relaxed build where it differs and was measured.
  const checked = c.production && impls[c.production] ? c.production : "wasm";
  for (const [name, t] of Object.entries(impls)) if (checked !== "wasm" && name !== checked && name !== "wasm") ratios[`${checked}/${name}`] = t.medianMs / impls[checked]!.medianMs;
  const targets = (c.targets ?? []).map(({ versus, atLeast }) => {
    const ratio = ratios[`${checked}/${versus}`] ?? null;
    return { versus, atLeast, ratio, met: ratio !== null && ratio >= atLeast, checked };
  });
  return { ratios, targets };
}

const fmtRatio = (r: number): string => (r >= 10 ? r.toFixed(1) : r.toFixed(2));
const fmtMs = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms >= 0.01 ? ms.toFixed(3) : ms.toExponential(2));

function table(results: CaseResult[]): string {
  const implNames = [...new Set(results.flatMap((r) => Object.keys(r.impls)))].sort((a, b) => (a === "wasm" ? -1 : b === "wasm" ? 1 : a.localeCompare(b)));
  const ratioNames = [...new Set(results.flatMap((r) => Object.keys(r.ratios)))];
  const header = ["kernel", "shape", ...implNames.map((n) => `${n} ms (GB/s)`), ...ratioNames.map((n) => `${n} ×`), "targets"];
  const rows = results.map((r) => [
    r.kernel,
    r.shape,
    ...implNames.map((n) => {
      const t = r.impls[n];
      return t ? `${fmtMs(t.medianMs)}${t.gbps !== undefined ? ` (${t.gbps.toFixed(1)})` : ""}` : "";
    }),
    ...ratioNames.map((n) => (r.ratios[n] !== undefined ? fmtRatio(r.ratios[n]!) : "")),
    r.targets.map((t) => `${t.checked === "wasm" ? "" : `${t.checked} `}vs ${t.versus} ≥ ${t.atLeast}×: ${t.ratio === null ? "n/a" : fmtRatio(t.ratio) + "×"} ${t.met ? "met" : "MISSED"}`).join("; "),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const settings: MeasureSettings = args.quick
    ? { samples: 3, minSampleMs: 0.2, warmupMs: 5, maxCaseMs: 300 }
    : { samples: 21, minSampleMs: 5, warmupMs: 300, maxCaseMs: 8000 };
  process.stderr.write(`loading bench cases${args.quick ? " (quick)" : ""}…\n`);
  let cases = await loadCases({ quick: args.quick });
  if (args.filter) {
    const f = args.filter.toLowerCase();
    cases = cases.filter(({ file, c }) => [file, c.kernel, c.shape].some((s) => s.toLowerCase().includes(f)));
  }
  if (cases.length === 0) throw new Error(`no bench case matches${args.filter ? ` --filter ${args.filter}` : ""}`);
  const results: CaseResult[] = [];
  for (const [i, { file, c }] of cases.entries()) {
    process.stderr.write(`[${i + 1}/${cases.length}] ${c.kernel} ${c.shape} (${Object.keys(c.impls).join(", ")})… `);
    const impls = measureCase(c, settings);
    const r: CaseResult = { file, kernel: c.kernel, shape: c.shape, ...(c.bytes ? { bytes: c.bytes } : {}), impls, ...evaluate(c, impls) };
    results.push(r);
    process.stderr.write(Object.entries(impls).map(([n, t]) => `${n} ${fmtMs(t.medianMs)} ms`).join(", ") + "\n");
  }
  const machine = { node: process.version, cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, platform: `${process.platform}-${process.arch}` };
  const missed = results.flatMap((r) => r.targets.filter((t) => !t.met).map((t) => `${r.kernel} ${r.shape} vs ${t.versus}`));
  if (args.json) {
    process.stdout.write(JSON.stringify({ machine, quick: args.quick, settings, cases: results, targetsMissed: missed }) + "\n");
  } else {
    process.stdout.write(`\n${table(results)}\n\n`);
    process.stdout.write(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}${args.quick ? "  (--quick: small inputs, numbers not meaningful)" : ""}\n`);
    process.stdout.write(missed.length ? `targets missed: ${missed.join("; ")}\n` : "all targets met\n");
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-kernels: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

// npm run bench:backend [-- --json] [--quick] [--sizes tiny,small]
//
// Throughput of the reference backend's forward pass (backend/model/), WASM
// SIMD kernels vs the plain-TS ones, per model size, timed side by side in one
// run (scripts/bench/measure.ts: warm-up, interleaved rounds, medians):
// - prefill: one block of B tokens at positions 0..B-1, no supplied KV;
// - decode: one token against C supplied KV positions (what kv mode does per token).
// Prints progress to stderr and a table to stdout (tokens/s and the WASM/JS
// ratio); --json prints one JSON object. Bounded: each case stops after
// about 2 s of samples (0.4 s with --quick).
import { cpus } from "node:os";
import { MODEL_SIZES } from "../backend/model/config";
import { createModel, loadWeights } from "../backend/model/load";
import { mulberry32 } from "../protocol/mulberry32";
import { measureCase, type MeasureSettings } from "./bench/measure";

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const quick = argv.includes("--quick");
const sizesArg = argv.find((a) => a.startsWith("--sizes="))?.slice(8) ?? (argv.includes("--sizes") ? argv[argv.indexOf("--sizes") + 1] : undefined);
for (const a of argv) if (a.startsWith("--") && !["--json", "--quick", "--sizes"].includes(a) && !a.startsWith("--sizes=")) throw new Error(`unknown argument ${a}`);
const sizes = sizesArg ? sizesArg.split(",") : quick ? ["tiny"] : Object.keys(MODEL_SIZES);
const settings: MeasureSettings = quick
  ? { samples: 3, minSampleMs: 5, warmupMs: 10, maxCaseMs: 400 }
  : { samples: 7, minSampleMs: 40, warmupMs: 60, maxCaseMs: 2000 };
const BLOCK = quick ? 16 : 64;
const CONTEXT = quick ? 64 : 512;

interface Row {
  size: string;
  params: number;
  phase: "prefill" | "decode";
  shape: string;
  tokensPerSecond: { wasm: number; js: number };
  ratio: number;
}

const rows: Row[] = [];
for (const size of sizes) {
  if (!MODEL_SIZES[size]) throw new Error(`unknown size ${size} (known: ${Object.keys(MODEL_SIZES).join(", ")})`);
  const weights = loadWeights(`epikv-${size}`);
  const params = [weights.embed, weights.lmHead, weights.finalNorm, ...weights.layers.flatMap((l) => Object.values(l))].reduce((s, a) => s + a.length, 0);
  const models = { wasm: createModel(weights, "wasm"), js: createModel(weights, "js") };
  const rand = mulberry32(5);
  const tokens = Array.from({ length: Math.max(BLOCK, CONTEXT) + 1 }, () => Math.floor(rand() * 256));
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const past = models.wasm.forward({ tokens: tokens.slice(0, CONTEXT), positions: range(CONTEXT), logits: "none" }).kv;
  const cases = [
    { phase: "prefill" as const, shape: `block ${BLOCK} tokens`, tokens: BLOCK, run: (m: typeof models.wasm) => () => m.forward({ tokens: tokens.slice(0, BLOCK), positions: range(BLOCK), logits: "last" }) },
    { phase: "decode" as const, shape: `1 token vs ${CONTEXT} KV`, tokens: 1, run: (m: typeof models.wasm) => () => m.forward({ tokens: [tokens[CONTEXT]], positions: [CONTEXT], past }) },
  ];
  for (const c of cases) {
    process.stderr.write(`bench:backend ${size} ${c.phase} (${c.shape})…\n`);
    const t = measureCase({ kernel: c.phase, shape: c.shape, impls: { wasm: c.run(models.wasm), js: c.run(models.js) } }, settings);
    const tps = { wasm: (c.tokens * 1000) / t.wasm.medianMs, js: (c.tokens * 1000) / t.js.medianMs };
    rows.push({ size, params, phase: c.phase, shape: c.shape, tokensPerSecond: tps, ratio: tps.wasm / tps.js });
  }
}

if (json) {
  process.stdout.write(JSON.stringify({ bench: "backend", quick, cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, rows }) + "\n");
} else {
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const lines = [
    "| model | params | phase | shape | WASM SIMD tok/s | plain JS tok/s | WASM / JS |",
    "| --- | ---: | --- | --- | ---: | ---: | ---: |",
    ...rows.map((r) => `| epikv-${r.size} | ${(r.params / 1e6).toFixed(2)} M | ${r.phase} | ${r.shape} | ${fmt(r.tokensPerSecond.wasm)} | ${fmt(r.tokensPerSecond.js)} | ${r.ratio.toFixed(2)}× |`),
  ];
  process.stdout.write(`${lines.join("\n")}\n\n${cpus().length} CPUs (${cpus()[0]?.model}), Node ${process.version}${quick ? ", --quick (numbers meaningless)" : ""}\n`);
}

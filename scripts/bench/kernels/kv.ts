// Bench cases of the kv kernels (group quantization, attention scoring,
// eviction selection, layer budgets) for `npm run bench:kernels`.
// "wasm" is the SIMD module through its bindings; for quantization it runs
// on values resident in WASM memory and reads the result in place (the
// zero-copy path, kvDirect), while "wasm+copies" is the plain binding that
// copies inputs in and results out. "js" is the best plain-JS loop we could
// write (scripts/bench/js/), with outputs preallocated. Same inputs for all.
import type { BenchCase, BenchOptions } from "../bench-case";
import { f16Table, jsDequantize, jsQuantize, jsQuantizeF16 } from "../js/quantize";
import { jsAttentionMax } from "../js/attention";
import { jsSelectPooled } from "../js/select";
import { loadWasmModule } from "../../../wasm/src/node-module";
import { instantiateKernels } from "../../../wasm/src/instance";
import { wasmKernelsFromInstance } from "../../../wasm/src/wasm-kernels";
import { kvDirect } from "../../../wasm/src/bindings/kv";
import { oracleKernels } from "../../../wasm/oracle";
import { createRng } from "../../../testing/random";

const GROUP = 64;

export function cases(options: BenchOptions = { quick: false }): BenchCase[] {
  const rng = createRng(2509_17396);
  const instance = instantiateKernels(loadWasmModule());
  const kernels = wasmKernelsFromInstance(instance);
  const direct = kvDirect(instance);
  const out: BenchCase[] = [];

  // --- quantization: 4M values, like 16 layers × 8 KV heads × 256 tokens × 128 dims ---
  const n = options.quick ? 1 << 16 : 1 << 22;
  const values = Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * 4);
  // Resident values stay below everything the other calls allocate (the arena is a stack).
  const resident = direct.resident(n);
  resident.values().set(values);
  const groups = n / GROUP;
  const scales = new Float32Array(groups);
  const zeros = new Float32Array(groups);
  for (const bits of [8, 4] as const) {
    const data = new Uint8Array(bits === 8 ? n : n / 2);
    out.push({
      kernel: "quantize",
      shape: `${n} fp32 → int${bits}, group ${GROUP}`,
      bytes: n * 4,
      impls: {
        wasm: () => resident.quantizeTo(bits, GROUP, (q) => q.scales[0]),
        "wasm+copies": () => kernels.quantize(values, bits, GROUP),
        js: () => jsQuantize(values, bits, GROUP, data, scales, zeros),
      },
      targets: bits === 8 ? [{ versus: "js", atLeast: 15 }] : undefined,
    });
  }

  // One KV page as the Durable Object stores it (rows stay well under 2 MB):
  // 256K values = 1 MiB of fp32, cache-resident unlike the 16 MiB case above.
  const pageN = options.quick ? 1 << 14 : 1 << 18;
  const page = values.subarray(0, pageN);
  const residentPage = direct.resident(pageN);
  residentPage.values().set(page);
  const pageData = new Uint8Array(pageN);
  out.push({
    kernel: "quantize",
    shape: `${pageN} fp32 → int8, group ${GROUP} (one KV page)`,
    bytes: pageN * 4,
    impls: {
      wasm: () => residentPage.quantizeTo(8, GROUP, (q) => q.scales[0]),
      "wasm+copies": () => kernels.quantize(page, 8, GROUP),
      js: () => jsQuantize(page, 8, GROUP, pageData, scales, zeros),
    },
  });

  const halves = Uint16Array.from({ length: n }, () => rng.int(0, 0x7bff) | (rng.chance(0.5) ? 0x8000 : 0));
  const table = f16Table();
  const scratch = new Float32Array(n);
  const data8 = new Uint8Array(n);
  out.push({
    kernel: "quantizeF16",
    shape: `${n} fp16 → int8, group ${GROUP}`,
    bytes: n * 2,
    impls: {
      wasm: () => direct.quantizeF16From(n, 8, GROUP, (dst) => dst.set(halves)),
      js: () => jsQuantizeF16(halves, table, scratch, 8, GROUP, data8, scales, zeros),
    },
  });

  const q8 = kernels.quantize(values, 8, GROUP);
  const restored = new Float32Array(n);
  out.push({
    kernel: "dequantize",
    shape: `${n} int8 → fp32, group ${GROUP}`,
    bytes: n,
    impls: {
      wasm: () => direct.dequantizeTo(q8, (v) => v[0]),
      "wasm+copies": () => kernels.dequantize(q8),
      js: () => jsDequantize(q8.data, 8, GROUP, q8.scales, q8.zeros, restored),
    },
  });

  // --- attention scoring for one KV head: G = 4 query heads × 64 prompt positions ---
  const rows = options.quick ? 32 : 4 * 64;
  const keys = options.quick ? 512 : 4096;
  const d = 64;
  const q = Float32Array.from({ length: rows * d }, () => rng.next() * 2 - 1);
  const k = Float32Array.from({ length: keys * d }, () => rng.next() * 2 - 1);
  const jsScores = new Float32Array(keys);
  const jsRow = new Float64Array(keys);
  out.push({
    kernel: "attentionScores",
    shape: `${rows} x ${d} queries over ${keys} keys, max`,
    bytes: (rows + keys) * d * 4,
    impls: {
      wasm: () => kernels.attentionScores(q, k, d, { kind: "max" }),
      js: () => jsAttentionMax(q, k, d, jsScores, jsRow),
    },
  });

  // --- selection: one layer, 8 KV heads × 4096 positions, sinks + recent window ---
  const heads = 8;
  const positions = options.quick ? 512 : 4096;
  const scores = Float32Array.from({ length: heads * positions }, () => rng.next() ** 4);
  const protect = Uint8Array.from({ length: positions }, (_, i) => (i < 4 || i >= positions - 64 ? 1 : 0));
  const budget = positions / 4;
  const mask = new Uint8Array(heads * positions);
  const keyScratch = new Uint32Array(heads * positions);
  const listScratch = new Uint32Array(heads * positions);
  out.push({
    kernel: "selectKeep",
    shape: `${heads} x ${positions}, pooled, budget ${budget}, 68 protected`,
    bytes: heads * positions * 4,
    impls: {
      wasm: () => kernels.selectKeep(scores, heads, { budget, mode: "pooled", protect }),
      js: () => jsSelectPooled(scores, heads, budget, protect, mask, keyScratch, listScratch),
    },
  });

  // --- layer budgets: 32 layers (tiny; listed so every kernel has a row) ---
  const sensitivity = Float64Array.from({ length: 32 }, () => 0.5 + rng.next() * 0.5);
  out.push({
    kernel: "allocateLayerBudgets",
    shape: "32 layers, M = 1024, α = 1.1",
    impls: {
      wasm: () => kernels.allocateLayerBudgets(sensitivity, 1024, 1.1),
      js: () => oracleKernels.allocateLayerBudgets(sensitivity, 1024, 1.1),
    },
  });
  return out;
}

// Compiles every AssemblyScript entry module in wasm/assembly/ to wasm/build/.
// `kernels` is the module the Worker and Durable Objects import statically
// (workerd refuses to compile WebAssembly from bytes at run time).
// It is also built with relaxed SIMD enabled, as kernels.relaxed.wasm
// (k-means scoring uses f32x4.relaxed_madd there; docs/kernels.md): tests run
// the oracle suite on it in Node and workerd, and the benchmark times it.
// Usage: node scripts/build-wasm.mjs [--relaxed]  (--relaxed: only the relaxed-SIMD builds)
import { execFileSync } from "node:child_process";
import { mkdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const asc = join(root, "node_modules/.bin/asc");
const out = join(root, "wasm/build");
mkdirSync(out, { recursive: true });

/** Entry modules: name → source. One module per consumer keeps each small. */
const modules = { kernels: "wasm/assembly/index.ts", model: "wasm/assembly/model/index.ts" };
/** Modules also built with relaxed SIMD. */
const relaxedModules = ["kernels"];
const onlyRelaxed = process.argv.includes("--relaxed");

const builds = [
  ...(onlyRelaxed ? [] : Object.keys(modules).map((name) => ({ name, relaxed: false }))),
  ...relaxedModules.map((name) => ({ name, relaxed: true })),
];
for (const { name, relaxed } of builds) {
  const target = join(out, `${name}${relaxed ? ".relaxed" : ""}.wasm`);
  const args = [
    modules[name], "--outFile", target,
    "--runtime", "stub", "-O3", "--noAssert", "--enable", "simd",
    "--initialMemory", "2", "--config", "/dev/null",
    ...(relaxed ? ["--enable", "relaxed-simd"] : []),
  ];
  execFileSync(asc, args, { cwd: root, stdio: "inherit" });
  console.log(`built ${target.slice(root.length + 1)} (${statSync(target).size} bytes)`);
}

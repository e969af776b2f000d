// Compiles every AssemblyScript entry module in wasm/assembly/ to wasm/build/.
// `kernels` is the module the Worker and Durable Objects import statically
// (workerd refuses to compile WebAssembly from bytes at run time).
// Usage: node scripts/build-wasm.mjs [--relaxed]  (relaxed-SIMD build is optional)
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
const relaxed = process.argv.includes("--relaxed");

for (const [name, entry] of Object.entries(modules)) {
  const target = join(out, `${name}${relaxed ? ".relaxed" : ""}.wasm`);
  const args = [
    entry, "--outFile", target,
    "--runtime", "stub", "-O3", "--noAssert", "--enable", "simd",
    "--initialMemory", "2", "--config", "/dev/null",
    ...(relaxed ? ["--enable", "relaxed-simd"] : []),
  ];
  execFileSync(asc, args, { cwd: root, stdio: "inherit" });
  console.log(`built ${target.slice(root.length + 1)} (${statSync(target).size} bytes)`);
}

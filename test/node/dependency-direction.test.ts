// The direction of imports between the top-level folders (README "How it
// works", docs/architecture.md): worker → durable-objects → wasm; protocol/
// is shared by all; backend/ depends on wasm/ and protocol/ only; testing/
// (the harness scripts and tests share) on production code only; nothing
// outside test/ imports test/; and no production code imports the test
// oracles in wasm/oracle/. Every relative import of every source file is
// read and checked, so a new import against the direction fails here.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** The folders each top-level folder may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  worker: ["durable-objects", "wasm", "protocol"],
  "durable-objects": ["wasm", "protocol"],
  wasm: ["protocol"],
  protocol: [],
  backend: ["wasm", "protocol"],
  testing: ["worker", "durable-objects", "backend", "wasm", "protocol"],
  scripts: ["worker", "durable-objects", "backend", "wasm", "protocol", "testing"],
  test: ["worker", "durable-objects", "backend", "wasm", "protocol", "testing", "scripts"],
  // Root files (vitest.config.ts) configure the tests: the shared harness only.
  ".": ["testing"],
};
/** Folders that ship or serve (deploy bundle, reference backend): they may not import the test oracles. */
const PRODUCTION = ["worker", "durable-objects", "backend", "protocol", "wasm/src"];
const ORACLES = "wasm/oracle";
const SKIP = new Set(["node_modules", ".git", "dist", ".wrangler", "build", "weights"]);
const SOURCE = /\.(ts|mts|mjs|js)$/;

interface Import {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = dir === "." ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) return SKIP.has(entry.name) || entry.name.startsWith(".") ? [] : sourceFiles(path);
    return SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Relative specifiers of static imports, re-exports, side-effect imports and dynamic imports (also `import("…")` types). */
function relativeImports(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g)) found.push(m[1]!);
  return found;
}

function topFolder(path: string): string {
  return path.includes("/") ? path.split("/")[0]! : ".";
}

const within = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

/** Each import that goes against the direction, as "from → to (rule)". */
function violations(imports: readonly Import[]): string[] {
  const out: string[] = [];
  for (const { from, to } of imports) {
    const a = topFolder(from), b = topFolder(to);
    if (a !== b && !(ALLOWED[a] ?? []).includes(b)) out.push(`${from} → ${to} (${a} may import ${(ALLOWED[a] ?? []).join(", ") || "nothing"})`);
    if (within(to, ORACLES) && PRODUCTION.some((p) => within(from, p))) out.push(`${from} → ${to} (production code imports a test oracle)`);
  }
  return out;
}

function repositoryImports(): Import[] {
  return sourceFiles(".").flatMap((from) =>
    relativeImports(readFileSync(join(root, from), "utf8")).map((spec) => ({ from, to: normalize(relative(root, join(root, dirname(from), spec))) })));
}

describe("dependency direction", () => {
  it("holds for every relative import in the repository", () => {
    const imports = repositoryImports();
    expect(imports.length).toBeGreaterThan(500); // the scan did find the sources
    expect(violations(imports)).toEqual([]);
  });

  it("flags imports against the direction, into test/, and of oracles from production code", () => {
    expect(violations([{ from: "durable-objects/conversation/x.ts", to: "worker/env" }])).toHaveLength(1);
    expect(violations([{ from: "wasm/src/kernels.ts", to: "durable-objects/episodes/episodes" }])).toHaveLength(1);
    expect(violations([{ from: "backend/server.ts", to: "worker/index" }])).toHaveLength(1);
    expect(violations([{ from: "scripts/bench.ts", to: "test/suites/random-arrays" }])).toHaveLength(1);
    expect(violations([{ from: "testing/wrangler-dev.ts", to: "scripts/start.mjs" }])).toHaveLength(1);
    expect(violations([{ from: "backend/model/ops-js.ts", to: "wasm/oracle/index" }])).toHaveLength(1);
    expect(violations([{ from: "wasm/src/bundled.ts", to: "wasm/oracle/kmeans" }])).toHaveLength(1);
    expect(violations([{ from: "test/node/x.test.ts", to: "wasm/oracle/index" }, { from: "worker/index.ts", to: "durable-objects/conversation/conversation-do" }])).toEqual([]);
  });

  it("reads every import form", () => {
    const source = [
      `import { a } from "./a";`,
      `import type { B } from '../b';`,
      `export { c } from "./c.ts";`,
      `import "./d.mjs";`,
      `const e = await import("./e");`,
      `let f: typeof import("../f").F;`,
      `import {\n  g,\n  h,\n} from "./gh";`,
      `import x from "node:fs"; import y from "vitest";`,
    ].join("\n");
    expect(relativeImports(source)).toEqual(["./a", "../b", "./c.ts", "./d.mjs", "./e", "../f", "./gh"]);
  });
});

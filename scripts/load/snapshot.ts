// The Worker as one pre-built bundle in a temp dir (`wrangler deploy
// --dry-run --outdir`), served by `wrangler dev --config <that dir>`: a load
// run then measures a fixed build, immune to the live reload `wrangler dev`
// does when files in the working tree change mid-run (which answers 503
// "Your worker restarted mid-request").
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
// @ts-expect-error plain .mjs helper without types
import { wranglerEnv } from "../../testing/wrangler-env.mjs";

export function buildSnapshot(root: string, dir: string): string {
  const r = spawnSync(join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", dir], { cwd: root, env: wranglerEnv(), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${r.stdout}\n${r.stderr}`);
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8").replace(/^main\s*=.*$/m, 'main = "index.js"\nno_bundle = true\nrules = [{ type = "CompiledWasm", globs = ["**/*.wasm"] }]');
  const config = join(dir, "wrangler.toml");
  writeFileSync(config, toml);
  return config;
}

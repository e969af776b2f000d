// `npm start`: the whole service on this machine, no GPU and no network.
// 1. the embedded reference backend (backend/server.ts) on 127.0.0.1:$EPIKV_BACKEND_PORT
//    (default PORT + 1), waited on until /healthz answers;
// 2. `wrangler dev` on 127.0.0.1:$PORT (default 8787) with
//    --var BACKEND_URL:http://127.0.0.1:<backend port>/v1 --var BACKEND_MODEL:<model>.
// Two on one machine (README, "Two local instances"): each PORT gets its own
// backend port, its own state (.dev-data, or .dev-data-<PORT> off the default
// port) and its own worker name in wrangler's dev registry (epikv, or
// epikv-<PORT>), so `PORT=8797 npm start` runs beside a plain `npm start`.
// Set BACKEND_URL (and BACKEND_MODEL) to use another backend instead of the
// embedded one. Ctrl-C stops both.
// Auth is on: API_KEYS from the environment, else the local dev key
// DEV_API_KEY (tenant "dev"), documented in the README. Production sets the
// API_KEYS secret (`wrangler secret put API_KEYS`); the dev key never ships.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { wranglerEnv } from "../testing/wrangler-env.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_PORT = 8787;
const port = process.env.PORT || String(DEFAULT_PORT);
if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65534) {
  console.error(`epikv: PORT must be a port number (1-65534), got "${port}"`);
  process.exit(1);
}
const backendPort = process.env.EPIKV_BACKEND_PORT || String(Number(port) + 1);
const onDefaultPort = Number(port) === DEFAULT_PORT;
// Each instance its own state and its own name in wrangler's dev registry (two workers both named "epikv" race there).
const persistTo = join(root, onDefaultPort ? ".dev-data" : `.dev-data-${port}`);
const workerName = onDefaultPort ? "epikv" : `epikv-${port}`;
const children = [];
export const DEV_API_KEY = "sk-epikv-local-dev-key";
const apiKeys = process.env.API_KEYS ?? `${DEV_API_KEY}:dev`;
let stopping = false;

function run(cmd, args, extraEnv = {}) {
  const child = spawn(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...extraEnv } });
  children.push(child);
  child.on("exit", (code) => {
    if (stopping) return;
    console.log(`${args[0] ?? cmd} exited (${code}); stopping`);
    stop(code ?? 1);
  });
  return child;
}

function stop(code = 0) {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

async function waitHealthy(url, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !stopping) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return await res.json();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`backend at ${url} did not become healthy within ${timeoutMs / 1000} s`);
}

let backendUrl = process.env.BACKEND_URL;
let backendModel = process.env.BACKEND_MODEL;
if (!backendUrl) {
  const backendBase = `http://127.0.0.1:${backendPort}`;
  // BACKEND_URL follows the OpenAI-client convention: the base URL ending in /v1.
  backendUrl = `${backendBase}/v1`;
  run(join(root, "node_modules/.bin/tsx"), [join(root, "backend/server.ts")], { EPIKV_BACKEND_PORT: backendPort });
  try {
    const health = await waitHealthy(backendBase);
    backendModel ??= health.models[0];
  } catch (e) {
    console.error(String(e));
    stop(1);
  }
}
if (!stopping) {
  // kv mode (docs/kv-mode.md): KV_BACKEND_URL, else the embedded reference backend (it speaks epikv-kv/1 too).
  const kvBackendUrl = process.env.KV_BACKEND_URL ?? (process.env.BACKEND_URL ? undefined : backendUrl.replace(/\/v1$/, ""));
  const vars = [`BACKEND_URL:${backendUrl}`, ...(backendModel ? [`BACKEND_MODEL:${backendModel}`] : []), ...(kvBackendUrl ? [`KV_BACKEND_URL:${kvBackendUrl}`] : []), `API_KEYS:${apiKeys}`, `METRICS_TENANTS:${process.env.METRICS_TENANTS ?? "dev"}`];
  if (!process.env.API_KEYS) console.log(`epikv: auth on; local dev key: Authorization: Bearer ${DEV_API_KEY}`);
  run(join(root, "node_modules/.bin/wrangler"), [
    "dev", "--ip", "127.0.0.1", "--port", port, "--persist-to", persistTo, "--name", workerName,
    ...vars.flatMap((v) => ["--var", v]),
  ], wranglerEnv());
}

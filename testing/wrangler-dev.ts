// Starts `wrangler dev` for end-to-end tests and benchmarks: loopback only,
// its own process group (so stopping it also stops workerd), persistence in
// a directory the caller owns, vars passed with --var, a free port from the
// range assigned to this work (8820–8839) or one the OS picks.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error plain .mjs helper without types
import { wranglerEnv } from "./wrangler-env.mjs";
import { stopProcessGroup } from "./process-group";
import { TEST_API_KEYS, TEST_TENANT } from "./test-api-keys";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");

export interface WranglerDev {
  url: string;
  port: number;
  pid: number;
  /** Everything wrangler printed (for failure messages). */
  log: () => string;
  stop: () => Promise<void>;
}

/** First port in [from, to] that 127.0.0.1 can bind now, else one the OS assigns. */
export async function freePort(from = 8820, to = 8839, skip: number[] = []): Promise<number> {
  for (let p = from; p <= to; p++) if (!skip.includes(p) && (await canBind(p))) return p;
  return osPort();
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

function osPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startWranglerDev(opts: { persistTo: string; vars: Record<string, string>; readyTimeoutMs?: number; /** Ports to try first (default 8820–8839). */ portRange?: [number, number]; /** A wrangler config other than ./wrangler.toml (e.g. a pre-built bundle's). */ configPath?: string }): Promise<WranglerDev> {
  const [from, to] = opts.portRange ?? [8820, 8839];
  const port = await freePort(from, to);
  const inspectorPort = await freePort(from, to, [port]);
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort), "--persist-to", opts.persistTo, "--show-interactive-dev-session=false", "--log-level", "warn"];
  if (opts.configPath) args.push("--config", opts.configPath);
  // Auth is always on: the test keys unless the caller passes its own API_KEYS.
  for (const [k, v] of Object.entries({ API_KEYS: TEST_API_KEYS, METRICS_TENANTS: TEST_TENANT, ...opts.vars })) args.push("--var", `${k}:${v}`);
  const child: ChildProcess = spawn(join(root, "node_modules/.bin/wrangler"), args, {
    cwd: root,
    env: wranglerEnv(),
    detached: true, // own process group: stop() signals wrangler and workerd together
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const pid = child.pid!;
  const url = `http://127.0.0.1:${port}`;

  const stop = () => stopProcessGroup(child);

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 45_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early (${child.exitCode}):\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev not ready on ${url} after ${opts.readyTimeoutMs ?? 45_000} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, port, pid, log: () => output, stop };
}

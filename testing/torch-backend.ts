// Starts the PyTorch backend (backends/torch/, docs/torch-backend.md) as a
// child process on a free port, for tests. It runs on Debian's python3 with
// python3-torch and python3-numpy; when those are missing this throws a
// message saying so, so the tests that need the backend fail rather than skip.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stopProcessGroup } from "./process-group";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
/** Debian's interpreter (python3-torch is a Debian package), not whatever python3 is first on PATH. */
export const TORCH_PYTHON = process.env.EPIKV_TORCH_PYTHON ?? "/usr/bin/python3";

export interface TorchBackend {
  url: string;
  /** Everything the process printed (for failure messages). */
  log: () => string;
  close: () => Promise<void>;
}

/** Throws unless the interpreter imports torch and numpy. */
export function requireTorch(): void {
  const probe = spawnSync(TORCH_PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
  if (probe.status !== 0) {
    throw new Error(
      `the torch backend needs ${TORCH_PYTHON} with PyTorch and numpy (Debian: apt-get install python3-torch python3-numpy; .ci/run installs them): ` +
        (probe.error?.message ?? probe.stderr.trim().split("\n").at(-1)),
    );
  }
}

/** `python3 -m epikv_torch --port 0 ...args`, resolved once it prints its URL. */
export async function startTorchBackend(args: string[] = [], readyTimeoutMs = 90_000): Promise<TorchBackend> {
  requireTorch();
  const child: ChildProcess = spawn(TORCH_PYTHON, ["-m", "epikv_torch", "--port", "0", "--threads", "1", ...args], {
    cwd: join(root, "backends/torch"),
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", OMP_NUM_THREADS: "1" },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`torch backend not ready after ${readyTimeoutMs} ms:\n${output}`)), readyTimeoutMs);
    const onData = (d: Buffer) => {
      output += d;
      const m = /torch backend on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d) => (output += d));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`torch backend exited (${code}) before listening:\n${output}`));
    });
  });
  return { url, log: () => output, close: () => stopProcessGroup(child) };
}

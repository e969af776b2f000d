// `npm start`: the whole service on this machine, no GPU and no network.
// Starts the embedded reference backend (when built) and `wrangler dev` on
// 127.0.0.1:$PORT (default 8787); Ctrl-C stops both.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { wranglerEnv } from "./wrangler-env.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const port = process.env.PORT ?? "8787";
const children = [];

function run(cmd, args, extraEnv = {}) {
  const child = spawn(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...extraEnv } });
  children.push(child);
  child.on("exit", (code) => {
    console.log(`${args[0] ?? cmd} exited (${code}); stopping`);
    stop(code ?? 1);
  });
  return child;
}

function stop(code = 0) {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

run(join(root, "node_modules/.bin/wrangler"), [
  "dev", "--ip", "127.0.0.1", "--port", port, "--persist-to", join(root, ".dev-data"),
], wranglerEnv());

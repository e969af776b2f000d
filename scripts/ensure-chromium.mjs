// Before `npm test`: the browser tests (test/browser/) drive Debian's
// Chromium through playwright-core (never a downloaded browser). On a fresh
// machine it is installed from the system's package manager when missing and
// we may install packages (root with apt-get); otherwise the test run stops
// here with the one command that fixes it. EPIKV_CHROMIUM points at another
// Chromium binary. Uses only Node built-ins.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";

const path = process.env.EPIKV_CHROMIUM ?? "/usr/bin/chromium";

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  return r.status === 0;
}

if (!existsSync(path)) {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasApt = spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (isRoot && hasApt && !process.env.EPIKV_CHROMIUM) {
    console.log("epikv: the browser tests need Chromium; installing Debian's chromium (apt-get install -y chromium)…");
    // Package lists may be empty on a fresh image: refresh them once if the first try fails.
    const ok = run("apt-get", ["install", "-y", "-qq", "chromium"]) || (run("apt-get", ["update", "-qq"]) && run("apt-get", ["install", "-y", "-qq", "chromium"]));
    if (!ok || !existsSync(path)) {
      console.error(`epikv: installing chromium failed; install it yourself (apt-get install -y chromium) or set EPIKV_CHROMIUM to a Chromium binary.`);
      process.exit(1);
    }
  } else {
    console.error(
      `epikv: Chromium not found at ${path}; the browser tests (test/browser/) need it.\n` +
        `  Install Debian's package:   sudo apt-get install -y chromium\n` +
        `  or point at another build:  EPIKV_CHROMIUM=/path/to/chromium npm test`,
    );
    process.exit(1);
  }
}

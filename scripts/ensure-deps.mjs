// Installs the locked dependencies when node_modules is missing, so the
// README's two commands (`npm start`, `npm test`) work on a fresh clone.
// Uses only Node built-ins: it runs before anything is installed.
import { existsSync } from "node:fs";
import { execSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (!existsSync(join(root, "node_modules/.bin/wrangler")) || !existsSync(join(root, "node_modules/.bin/asc"))) {
  console.log("epikv: installing dependencies (npm ci)…");
  execSync("npm ci --no-audit --no-fund", { cwd: root, stdio: "inherit" });
}

// The torch backend's message framing (backends/torch/tests/test_chat_framing.py):
// role prefixes and message suffix computed from the ChatML and Llama 3
// template pieces, and a chat template that is prefix + content + suffix for
// every message, checked with a stand-in for the `tokenizers` package. Plain
// Python, no torch: it runs wherever the torch backend's interpreter does.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TORCH_PYTHON } from "../../testing/torch-backend";

const torchDir = join(fileURLToPath(new URL(".", import.meta.url)), "../../backends/torch");

describe("torch backend: chat framing", () => {
  it("passes its Python unit tests", () => {
    const run = spawnSync(TORCH_PYTHON, ["-m", "unittest", "discover", "-s", "tests"], { cwd: torchDir, encoding: "utf8", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Ran [1-9]\d* tests?[\s\S]*OK/);
  });
});

// End to end, memory: the Worker's deploy bundle in real workerd (SQLite
// Durable Objects, scripts/load/workerd-server.ts), a long conversation
// imported over HTTP, its deferred re-clustering run by the alarm, then chat
// turns against the TEST DOUBLE backend. The conversation object's isolate is
// read through workerd's V8 inspector, the path `npm run bench:memory` uses
// (scripts/load/isolate-inspector.ts): heap used + ArrayBuffer backing stores
// + WebAssembly memory must stay under 96 MB (a margin under a Durable
// Object's 128 MB, docs/memory.md) at every sample taken during the import,
// the re-clustering and the turns, and after them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../testing/wrangler-dev";
import { serveBundle, WORKER_INSPECTOR_TARGET, type WorkerdServer } from "../../scripts/load/workerd-server";
import { IsolateInspector, isolateTotal, samplePeak } from "../../scripts/load/isolate-inspector";
import { API_KEY, importConversation, postJson, settle } from "../../scripts/bench/conversation-driver";
// @ts-expect-error plain .mjs test double without types
import { startTestDoubleServer } from "../../testing/test-double-server.mjs";

const LIMIT_BYTES = 96 * 1000 * 1000;
/**
 * Past the segment index's window (MAX_INDEXED_SEGMENTS = 12288 segments,
 * ≈ 49k messages at window 4), so the import also moves the window and the
 * re-clustering reads only it: the regime every longer conversation stays
 * in (docs/memory.md, measured to 300k there). About 12 s of import on 2
 * cores.
 */
const MESSAGES = 60_000;

let server: WorkerdServer;
let backend: { url: string; close: () => Promise<void> };
let inspector: IsolateInspector;
const dirs: string[] = [];

beforeAll(async () => {
  backend = await startTestDoubleServer();
  const persistTo = mkdtempSync(join(tmpdir(), "epikv-mem-e2e-"));
  const bundleDir = mkdtempSync(join(tmpdir(), "epikv-mem-e2e-bundle-"));
  dirs.push(persistTo, bundleDir);
  const inspectorPort = await freePort(8970, 8979);
  const vars = { BACKEND_URL: backend.url, BACKEND_MODEL: "test-double-model", BACKEND_TIMEOUT_MS: "30000", API_KEYS: `${API_KEY}:e2e` };
  server = await serveBundle({ root: process.cwd(), bundleDir, persistTo, vars, inspectorPort });
  await (await fetch(`${server.url}/healthz`)).arrayBuffer();
  inspector = await IsolateInspector.connect(inspectorPort, WORKER_INSPECTOR_TARGET);
  await inspector.trackWasm();
});

afterAll(async () => {
  inspector?.close();
  await server?.stop();
  await backend?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("the conversation object's isolate (heap + backing stores + WASM, via workerd's inspector)", () => {
  it(`stays under 96 MB while importing ${MESSAGES} messages, re-clustering and answering turns`, async () => {
    const baseline = await inspector.read();
    const id = `mem-e2e-${Date.now().toString(36)}`;
    const sampler = samplePeak(inspector, 100);
    await importConversation(server.url, id, MESSAGES, 4096);
    await settle(server.url, id, 120_000);
    for (let t = 0; t < 5; t++) {
      await postJson(`${server.url}/v1/chat/completions`, { model: "epikv", messages: [{ role: "user", content: `turn ${t}: what about the tax deadline?` }] }, { "x-conversation-id": id });
    }
    const { total: peak, samples } = await sampler.stop();
    const after = await inspector.read();
    console.log(`isolate memory: baseline ${mb(isolateTotal(baseline))} MB, after ${mb(isolateTotal(after))} MB (heap ${mb(after.used)}, backing ${mb(after.backing)}, wasm ${mb(after.wasm)}), sampled peak ${mb(peak)} MB over ${samples} samples`);
    // The reading is of the object's isolate: the conversation's index and state show up in it.
    expect(isolateTotal(after)).toBeGreaterThan(isolateTotal(baseline) + 1e6);
    expect(after.wasm).toBeGreaterThan(0);
    expect(samples).toBeGreaterThan(5);
    expect(peak).toBeLessThan(LIMIT_BYTES);
    expect(isolateTotal(after)).toBeLessThan(LIMIT_BYTES);
  });
});

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

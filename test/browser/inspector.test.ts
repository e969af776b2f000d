// The inspector page (GET /ui) in a real browser: Debian's Chromium through
// playwright-core, against `wrangler dev` (real workerd, SQLite Durable
// Objects) in front of a TEST DOUBLE OpenAI-compatible backend on loopback.
// A conversation is imported with the CLI (scripts/epikv-cli.ts, batched,
// over HTTP); the page must list it, draw its episodes as the API reports
// them, and show for a typed query exactly the selection POST /context
// returns. A screenshot is kept in test-artifacts/ (gitignored).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../../testing/wrangler-dev";
// @ts-expect-error plain .mjs test double without types
import { startTestDoubleServer } from "../../testing/test-double-server.mjs";
import { launchChromium } from "./support/chromium";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "../..");
const ARTIFACTS = join(root, "test-artifacts");
const PORTS: [number, number] = [8880, 8899];
const run = promisify(execFile);

interface Episode { id: number; segments: { id: number }[]; representative_segments: number[]; top_terms: string[] }
interface Selection { messages: { id: string | null; seq: number | null; provenance: { kind: string; episode?: number } }[]; matched_episode: number | null; used_tokens: number }

const TOPICS = [
  "sourdough starter hydration flour levain crumb",
  "kubernetes pod eviction node pressure kubelet",
  "violin bow rosin strings luthier bridge",
  "alpine hut trek glacier crampons summit",
];
function history(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    role: i % 2 === 0 ? "user" : "assistant",
    content: `turn ${i}: ${TOPICS[Math.floor(i / 16) % TOPICS.length]} note ${(i * 7919) % 997}`,
  }));
}

let backend: { url: string; close: () => Promise<void> };
let wrangler: WranglerDev;
let browser: Browser;
let page: Page;
let persistTo: string;
const conversation = `ui-${Date.now().toString(36)}`;
const MESSAGES = 192;
const API_KEY = "sk-inspector-test-key-0001";
const BUDGET = 300;
const externalRequests: string[] = [];
const authorizations = new Set<string>();

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(wrangler.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(join(root, "node_modules/.bin/tsx"), [join(root, "scripts/epikv-cli.ts"), ...args, "--url", wrangler.url, "--key", API_KEY, "--json"], { cwd: root, timeout: 60_000 });
  return stdout;
}

beforeAll(async () => {
  // Fail first, with the reason, when there is no browser (never skipped).
  browser = await launchChromium();
  backend = await startTestDoubleServer();
  persistTo = mkdtempSync(join(tmpdir(), "epikv-ui-"));
  wrangler = await startWranglerDev({
    persistTo,
    portRange: PORTS,
    vars: { BACKEND_URL: backend.url, BACKEND_MODEL: "test-double-model", BACKEND_TIMEOUT_MS: "15000", API_KEYS: `${API_KEY}:default` },
  });

  // Import through the CLI, in 4 batches, from a JSONL file.
  const file = join(persistTo, "history.jsonl");
  writeFileSync(file, history(MESSAGES).map((m) => JSON.stringify(m)).join("\n") + "\n");
  const imported = JSON.parse(await cli("import", file, "--conversation", conversation, "--batch", "48", "--budget", String(BUDGET)));
  expect(imported).toMatchObject({ conversation, messages: MESSAGES, batches: 4, appended: MESSAGES, message_count: MESSAGES });
  // Re-running the same import replays every batch (Idempotency-Key per batch) and adds nothing.
  const again = JSON.parse(await cli("import", file, "--conversation", conversation, "--batch", "48"));
  expect(again).toMatchObject({ appended: 0, replayed_batches: 4, message_count: MESSAGES });

  // Episodes are assigned online at import; the full re-clustering (representatives,
  // top terms) runs in a Durable Object alarm ~5 s later. Wait for it.
  const deadline = Date.now() + 30_000;
  const clustered = (eps: Episode[]) => eps.length >= 2 && eps.some((e) => e.representative_segments.length > 0);
  while (!clustered((await api<{ data: Episode[] }>("GET", `/v1/conversations/${conversation}/episodes`)).data)) {
    if (Date.now() > deadline) throw new Error("the re-clustering did not run within 30 s of the import");
    await new Promise((r) => setTimeout(r, 250));
  }

  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.on("request", (req) => {
    if (!req.url().startsWith(wrangler.url)) externalRequests.push(req.url());
    const auth = req.headers()["authorization"];
    if (auth) authorizations.add(auth);
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await wrangler?.stop();
  await backend?.close();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("inspector page in Chromium", () => {
  it("loads, asks for the API key, and then lists the imported conversation", async () => {
    await page.goto(`${wrangler.url}/ui`);
    await page.waitForSelector("body[data-ready='1']");
    expect(await page.title()).toBe("epikv inspector");
    // Without a key the API refuses, and the page says why.
    await page.waitForSelector("#status.error");
    expect(await page.textContent("#status")).toMatch(/401.*check the API key/);
    await page.fill("#api-key", API_KEY);
    await page.click("#key-form button[type=submit]");
    const item = page.locator(`#conversation-list li[data-conversation-id='${conversation}']`);
    await item.waitFor();
    expect(await item.textContent()).toContain(`${MESSAGES} messages`);
  });

  it("shows the conversation's episodes on the timeline as the API reports them", async () => {
    await page.click(`#conversation-list li[data-conversation-id='${conversation}']`);
    await page.waitForSelector(`#conversation[data-loaded='${conversation}']`);
    const episodes = (await api<{ data: Episode[] }>("GET", `/v1/conversations/${conversation}/episodes`)).data;
    const drawn = await page.$$eval("#timeline rect[data-episode]", (rects) => rects.map((r) => `${r.getAttribute("data-episode")}:${r.getAttribute("data-segment")}`));
    const expected = episodes.flatMap((e) => e.segments.map((s) => `${e.id}:${s.id}`));
    expect(drawn.sort()).toEqual(expected.sort());
    // one colour per episode, distinct between episodes
    const colours = await page.$$eval("#timeline rect[data-episode]", (rects) => Object.fromEntries(rects.map((r) => [r.getAttribute("data-episode"), r.getAttribute("fill")])));
    expect(new Set(Object.values(colours)).size).toBe(episodes.length);
    expect(await page.locator("[data-legend-episode]").count()).toBe(episodes.length);
    const reps = await page.$$eval("#timeline rect[data-representative]", (rects) => rects.map((r) => Number(r.getAttribute("data-representative"))));
    expect(reps.sort((a, b) => a - b)).toEqual(episodes.flatMap((e) => e.representative_segments).sort((a, b) => a - b));
    for (const e of episodes) expect(await page.textContent(`[data-legend-episode='${e.id}']`)).toContain(e.top_terms.slice(0, 5).join(", "));
    expect(await page.textContent("[data-figure='messages'] .v")).toBe(String(MESSAGES));
    expect(await page.getAttribute("#budget-chart", "data-source")).toBe("context");
  });

  it("renders for a typed query exactly the selection the API returns, with provenance", async () => {
    const query = "how is the sourdough starter hydration going?";
    await page.fill("#query", query);
    await page.click("#query-form button[type=submit]");
    await page.waitForSelector(`#context-table[data-query='${query}']:not([hidden])`);
    const shown = await page.$$eval("#context-table tbody tr", (rows) => rows.map((r) => ({ id: r.getAttribute("data-message-id"), seq: r.getAttribute("data-seq"), provenance: r.getAttribute("data-provenance") })));

    const api_ = await api<Selection>("POST", `/v1/conversations/${conversation}/context`, { query });
    const expected = api_.messages.map((m) => ({ id: m.id ?? "", seq: m.seq === null ? "" : String(m.seq), provenance: m.provenance.kind === "episode" ? `episode:${m.provenance.episode}` : m.provenance.kind }));
    expect(shown).toEqual(expected);
    expect(shown.some((r) => r.provenance === "ranked")).toBe(true);
    // ranked rows explain their scores
    expect(await page.textContent("#context-table tbody")).toMatch(/bm25 \d+\.\d\d · dense (–|-?\d\.\d{3}) · fused -?\d\.\d{3}/);
    expect(await page.textContent("#context-summary")).toContain(`${api_.used_tokens}`);
    // the chosen messages are marked on the timeline, and the budget chart has a bar per provenance group
    expect(await page.locator("#timeline rect[data-selected-seq]").count()).toBe(api_.messages.filter((m) => m.seq !== null).length);
    expect(await page.locator("#budget-chart rect[data-bar]").count()).toBeGreaterThanOrEqual(2);

    // The CLI prints the same selection.
    const fromCli = JSON.parse(await cli("context", query, "--conversation", conversation)) as Selection;
    expect(fromCli.messages.map((m) => m.id)).toEqual(api_.messages.map((m) => m.id));

    // The saved key rides along as a bearer token; nothing left this origin.
    expect(authorizations).toEqual(new Set([`Bearer ${API_KEY}`]));
    expect(externalRequests).toEqual([]);
  });

  it("saves a screenshot as a test artifact", async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, "inspector.png");
    await page.screenshot({ path, fullPage: true });
    expect(statSync(path).size).toBeGreaterThan(10_000);
  });

  it("draws per-layer KV budgets from the conversation's `kv` field once kv mode fills it", async () => {
    // kv mode is not wired to this conversation here, so a TEST DOUBLE adds the
    // field to the real GET /v1/conversations/{id} answer: what is tested is
    // that the chart and the memory cards read exactly that one field.
    const kv = { layer_budgets: [96, 64, 128, 40, 112, 80], bytes_stored: 3_145_728, full_bytes: 25_165_824, encoding: "int8" };
    await page.route(`${wrangler.url}/v1/conversations/${conversation}`, async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, json: { ...(await res.json()), kv } });
    });
    await page.click(`#conversation-list li[data-conversation-id='${conversation}']`);
    await page.waitForSelector("#budget-chart[data-source='kv']");
    const bars = await page.$$eval("#budget-chart rect[data-bar]", (rects) => rects.map((r) => Number(r.getAttribute("data-value"))));
    expect(bars).toEqual(kv.layer_budgets);
    expect(await page.textContent("#conv-mode")).toBe("kv mode");
    expect(await page.textContent("[data-figure='kv_bytes'] .v")).toBe("3.0 MiB");
    expect(await page.textContent("[data-figure='kv_compression'] .v")).toBe("8.00×");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "inspector-kv.png"), fullPage: true });
    await page.unroute(`${wrangler.url}/v1/conversations/${conversation}`);
  });
});

// npm run bench:kv [-- --json] [--quick] [--model epikv-tiny] [--tokens N] [--block B] [--backend URL]
//   --model epikv-recall…: answer accuracy on a recall model instead (scripts/bench/kv-recall-bench.ts;
//   [--full] [--topics K] [--ratios 2,4,6,8] [--modes blockwise,oneshot] [--prompt-tokens P] [--seed S] [--episodes cluster|topics]
//   [--facts once] [--form what|is] [--select pooled|per-head] [--reduce max|mean] [--protect S,R] [--alpha A])
//   ablations (docs/kv-mode.md, "Why EpiCache loses here"): [--policies recent,epicache] [--ratios 4]
//   [--alpha A] (EpiCache's layer-budget skew, 0 = uniform M) [--protect S,R] (sinks, recent kept by EpiCache)
//   [--reduce max|mean] [--select pooled|per-head] [--prompt rep|question] (question: the matched question's own tokens)
//   [--oracle] adds reference selections cut once from the full cache per question (scripts/bench/kv-oracle-cache.ts)
//
// KV eviction policies (full, recent, h2o, snapkv, epicache) at 2×, 4× and
// 6× compression on a long multi-episode conversation, through the real kv
// path: the reference backend over HTTP (port 0), block-wise prefill with
// eviction after every block, int8 pages in a page store, frames streamed
// from pages. For each policy and ratio, over one question per episode:
//
// - attention-output relative error: per layer and query head, the query's
//   last token attends over (policy cache + uncompressed tail) vs (full cache
//   + tail), with the same queries and tail KV taken from the full run:
//   ‖o_policy − o_full‖ / ‖o_full‖, averaged;
// - next-token logit KL(p_full ‖ p_policy);
// - bytes stored per conversation (all episode caches) and bytes sent per turn;
// - time to first token in kv mode vs re-prefilling the whole history through
//   the same backend (streaming decode, side by side in one run; ratio).
//
// The reference models have seeded random weights: their attention carries
// no meaning, so these numbers check the machinery and show each policy's
// bias (recency wins on such a model), not EpiCache's QA accuracy. Point
// --backend at a kv backend serving a trained model for that.
//
// EpiCache gets per-layer budgets from the model's sensitivity profile
// (α = 1.1, same total); baselines get M in every layer.
// Baselines keep one cache (their scores do not depend on the episode);
// EpiCache keeps one per episode (E = 4), so it stores E× the bytes at the
// same per-cache budget, as in the paper. Progress on stderr, a table on
// stdout; --json prints one JSON object. Bounded (~1–3 min on 2 cores).
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { startBackend } from "../backend/server";
import { readF32, requireTensor, type SafetensorsFile } from "../protocol/safetensors";
import { KvBackendClient } from "../durable-objects/kv/backend-client";
import { prefillBlock, type KvEngine } from "../durable-objects/kv/block-prefill";
import { chatOpening, episodeKv, messageTokens, rolePrefix } from "../durable-objects/kv/conversation-kv";
import { DEFAULT_ALPHA, layerBudgets } from "../durable-objects/kv/budgets";
import { MemoryPageStore } from "../durable-objects/kv/page-store";
import type { PageEncoding } from "../durable-objects/kv/pages";
import { POLICIES, policyByName, type PolicyName } from "../durable-objects/kv/policies/index";
import { clipPrompt, representativeSegments, representativeText } from "../durable-objects/kv/representative-prompt";
import { fitEpisodes, matchQueryEpisode } from "../durable-objects/episodes/episodes";
import { segmentText } from "../durable-objects/episodes/segmentation";
import { loadWasmModule } from "../wasm/src/node-module";
import { wasmKernels } from "../wasm/src/wasm-kernels";
import { benchConversation, benchQuestions } from "./bench/kv-conversation";
import { epicacheVariant, parseEpicacheVariant } from "./bench/epicache-variant";
import { lastTokenAttentionSpread, ORACLE_KINDS, writeOracleCache } from "./bench/kv-oracle-cache";
import { parseRecallArgs, recallTable, runRecallBench } from "./bench/kv-recall-bench";
import { attentionError as attentionErrorOf, kl, softmax, type CacheRef } from "./bench/kv-metrics";

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(name + "="))?.slice(name.length + 1);
};
// A recall model (docs/recall-model.md): answer accuracy on a synthetic multi-session chat (scripts/bench/kv-recall-bench.ts).
if ((flag("--model") ?? "").startsWith("epikv-recall")) {
  const recallKnown = ["--json", "--full", "--model", "--backend", "--tokens", "--topics", "--block", "--ratios", "--policies", "--modes", "--prompt-tokens", "--seed", "--alpha", "--episodes", "--select", "--reduce", "--protect", "--form", "--facts"];
  for (const a of argv) if (a.startsWith("--") && !recallKnown.includes(a.split("=")[0])) throw new Error(`unknown argument ${a} for a recall model (known: ${recallKnown.join(" ")})`);
  const t0 = performance.now();
  const result = await runRecallBench(parseRecallArgs(argv, flag), (s) => process.stderr.write(s + "\n"));
  console.log(argv.includes("--json") ? JSON.stringify(result) : `\n${recallTable(result)}\n\n(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  process.exit(0);
}
const known = ["--json", "--quick", "--model", "--tokens", "--block", "--backend", "--policies", "--ratios", "--alpha", "--protect", "--reduce", "--select", "--prompt", "--oracle"];
for (const a of argv) if (a.startsWith("--") && !known.includes(a.split("=")[0])) throw new Error(`unknown argument ${a} (known: ${known.join(" ")})`);
const json = argv.includes("--json");
const oracle = argv.includes("--oracle");
const quick = argv.includes("--quick");
const MODEL = flag("--model") ?? "epikv-tiny";
const TOKENS = Number(flag("--tokens") ?? (quick ? 1024 : 3072));
const BLOCK = Number(flag("--block") ?? (quick ? 128 : 256));
const EPISODES = 4;
const RATIOS = (flag("--ratios") ?? "2,4,6").split(",").map(Number);
const PROMPT_TOKENS = 384;
const ENCODING: PageEncoding = { dtype: "int8", groupSize: 64 };
const POLICY_ORDER = (flag("--policies") ?? "recent,h2o,snapkv,epicache").split(",").filter((n): n is PolicyName => policyByName(n).name !== "full");
if (RATIOS.some((r) => !(r > 1))) throw new RangeError(`--ratios must be numbers > 1, got ${flag("--ratios")}`);
// EpiCache ablations: the published settings unless a flag says otherwise.
const ALPHA = Number(flag("--alpha") ?? DEFAULT_ALPHA);
if (!(ALPHA >= 0)) throw new RangeError(`--alpha must be ≥ 0, got ${flag("--alpha")}`);
const VARIANT = parseEpicacheVariant(flag);
const PROTECT = VARIANT.protect, REDUCE = VARIANT.reduce, SELECT = VARIANT.select;
const PROMPT_SOURCE = flag("--prompt") ?? "rep";
if (PROMPT_SOURCE !== "rep" && PROMPT_SOURCE !== "question") throw new RangeError(`--prompt must be rep or question, got ${PROMPT_SOURCE}`);
const epicache = epicacheVariant(VARIANT);
const log = (s: string) => process.stderr.write(s + "\n");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const external = flag("--backend");
const backend = external ? null : await startBackend(0, { models: [MODEL] });
const client = new KvBackendClient(external ?? backend!.url);
const model = await client.model(MODEL);
const kernels = wasmKernels(loadWasmModule());
const engineWith = (store: MemoryPageStore): KvEngine => ({ client, store, model, kernels, encoding: ENCODING });

// The conversation, its segments, episodes and representative prompts (docs/architecture.md, EpiCache steps 1–3).
const messages = benchConversation(TOKENS);
const stream = [...chatOpening(model), ...messages.flatMap((m) => messageTokens(model, m.role, [...new TextEncoder().encode(m.content)]))];
const folded = Math.floor(stream.length / BLOCK) * BLOCK;
const segments: string[] = [];
for (let i = 0; i + 4 <= messages.length; i += 4) segments.push(segmentText(messages.slice(i, i + 4).map((m, j) => ({ seq: i + j, role: m.role, content: m.content }))));
const dim = 384;
const embeddings = segments.map((s) => kernels.embedText(s, { dim }));
const rows = new Float32Array(embeddings.length * dim);
embeddings.forEach((e, i) => rows.set(e, i * dim));
const centroidsFlat = fitEpisodes(kernels, rows, dim, EPISODES);
const centroids = Array.from({ length: centroidsFlat.length / dim }, (_, i) => centroidsFlat.subarray(i * dim, (i + 1) * dim));
let prompts = representativeSegments(embeddings, centroids).map((ids) => clipPrompt([...new TextEncoder().encode(representativeText(segments, ids))], Math.min(PROMPT_TOKENS, model.maxPromptTokens)));
log(`bench:kv — ${MODEL}, ${stream.length} tokens (${folded / BLOCK} blocks of ${BLOCK}, tail ${stream.length - folded}), ${segments.length} segments, ${centroids.length} episodes, int8 pages`);

// Layer sensitivity, profiled once on the conversation (docs/architecture.md, EpiCache step 6).
const sensitivity = await client.profile(model.id, [stream.slice(0, Math.min(stream.length, model.maxProfileTokens))], BLOCK);
log(`layer sensitivity: ${sensitivity.map((x) => x.toFixed(3)).join(", ")}`);

/** Builds caches for a policy at per-head budget M: one per episode for epicache, one otherwise. */
async function buildCaches(policy: PolicyName, m: number): Promise<{ store: MemoryPageStore; caches: string[]; seconds: number }> {
  const store = new MemoryPageStore();
  const engine = engineWith(store);
  const caches = policy === "epicache" ? prompts.map((_, e) => `e${e}`) : ["all"];
  const t0 = performance.now();
  for (let at = 0; at < folded; at += BLOCK) {
    for (const [e, cache] of caches.entries()) {
      const budgets = policy === "epicache" ? layerBudgets(kernels, model.layers, m, sensitivity, ALPHA) : Array.from({ length: model.layers }, () => m);
      await prefillBlock(engine, { cache, policy: policy === "epicache" ? epicache : POLICIES[policy], budgets, promptTokens: prompts[e] }, stream.slice(at, at + BLOCK), at);
    }
  }
  return { store, caches, seconds: (performance.now() - t0) / 1000 };
}

const attentionError = (full: CacheRef, pol: CacheRef, run: SafetensorsFile, T: number) => attentionErrorOf({ model, encoding: ENCODING, kernels }, full, pol, run, T);

async function logitsOf(request: Record<string, unknown>, store: MemoryPageStore, cache: string): Promise<{ file: SafetensorsFile; logits: Float32Array; sent: number }> {
  const r = await client.frameCall("/kv/v1/prefill", request, episodeKv(engineWith(store), cache));
  return { file: r.file, logits: readF32(requireTensor(r.file, "logits", "F32")), sent: r.bytesSent };
}

/** Time to the first streamed token (median of TTFT_REPEATS tries: this machine's timings drift). */
const TTFT_REPEATS = 3;
async function ttft(request: Record<string, unknown>, store: MemoryPageStore | null, cache: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < TTFT_REPEATS; i++) times.push(await ttftOnce(request, store, cache));
  return median(times);
}

async function ttftOnce(request: Record<string, unknown>, store: MemoryPageStore | null, cache: string): Promise<number> {
  const t0 = performance.now();
  const it = client.decodeStream({ ...request, max_tokens: 1 }, store ? episodeKv(engineWith(store), cache) : { frame: null });
  let first = NaN;
  for (;;) {
    const n = await it.next();
    if (Number.isNaN(first)) first = performance.now() - t0;
    if (n.done) break;
  }
  return first;
}

const questions = benchQuestions().map((q) => {
  const query = [...messageTokens(model, "user", [...new TextEncoder().encode(q.text)]), ...rolePrefix(model, "assistant")];
  const match = matchQueryEpisode(kernels, kernels.embedText(q.text, { dim }), centroidsFlat, dim).index;
  return { ...q, query, episode: Math.max(0, match), request: { model: model.id, tokens: [...stream.slice(folded), ...query], start_position: folded } };
});

// --prompt question: each episode scores with the tokens of a question matched to it (an upper bound on what a prompt can know).
if (PROMPT_SOURCE === "question") prompts = prompts.map((p, e) => questions.find((q) => q.episode === e)?.query ?? p);
log("building the full (uncompressed) cache…");
const full = await buildCaches("full", 1 << 30);
const fullRuns: { file: SafetensorsFile; p: Float64Array; sent: number }[] = [];
for (const q of questions) {
  const r = await logitsOf({ ...q.request, return_logits: "last", return_kv: true, return_block_queries: true }, full.store, "all");
  fullRuns.push({ file: r.file, p: softmax(r.logits), sent: r.sent });
}
const fullStored = full.store.bytes();

interface Row {
  policy: PolicyName | `oracle:${string}`;
  ratio: number;
  budget: number;
  attnRelErr: number;
  logitKl: number;
  bytesStored: number;
  bytesSentPerTurn: number;
  ttftKvMs: number;
  ttftReprefillMs: number;
  ttftRatio: number;
  buildSeconds: number;
}
const rowsOut: Row[] = [];
let attentionSpread: { entropyRatio: number; maxWeight: number } | null = null;

// TTFT of re-prefilling the whole history, measured once per question (same for every policy).
const reprefill: number[] = [];
for (const q of questions) reprefill.push(await ttft({ model: model.id, tokens: [...stream, ...q.query], start_position: 0 }, null, ""));

{
  const kvTimes: number[] = [];
  for (const q of questions) kvTimes.push(await ttft(q.request, full.store, "all"));
  rowsOut.push({
    policy: "full", ratio: 1, budget: folded, attnRelErr: 0, logitKl: 0, bytesStored: fullStored, bytesSentPerTurn: median(fullRuns.map((r) => r.sent)),
    ttftKvMs: median(kvTimes), ttftReprefillMs: median(reprefill), ttftRatio: median(kvTimes) / median(reprefill), buildSeconds: full.seconds,
  });
}

for (const ratio of RATIOS) {
  const budget = Math.max(1, Math.floor(folded / ratio));
  for (const policy of POLICY_ORDER) {
    log(`${policy} at ${ratio}× (budget ${budget} per head per layer)…`);
    const built = await buildCaches(policy, budget);
    let err = 0, div = 0;
    const sent: number[] = [], kvTimes: number[] = [];
    for (const [i, q] of questions.entries()) {
      const cache = built.caches.length > 1 ? built.caches[q.episode] : built.caches[0];
      const r = await logitsOf({ ...q.request, return_logits: "last", return_kv: false }, built.store, cache);
      div += kl(fullRuns[i].p, softmax(r.logits));
      err += attentionError({ store: full.store, cache: "all" }, { store: built.store, cache }, fullRuns[i].file, q.request.tokens.length);
      sent.push(r.sent);
      kvTimes.push(await ttft(q.request, built.store, cache));
    }
    rowsOut.push({
      policy, ratio, budget,
      attnRelErr: err / questions.length,
      logitKl: div / questions.length,
      bytesStored: built.store.bytes(),
      bytesSentPerTurn: median(sent),
      ttftKvMs: median(kvTimes),
      ttftReprefillMs: median(reprefill),
      ttftRatio: median(kvTimes) / median(reprefill),
      buildSeconds: built.seconds,
    });
  }
  // Reference selections (--oracle): no policy can know the question's queries; these show what ranking by them buys on this model.
  if (oracle) {
    if (ratio === RATIOS[0]) {
      const spread = questions.map((q, i) => lastTokenAttentionSpread({ kernels, model, encoding: ENCODING, store: full.store, fullCache: "all", queries: (l) => readF32(requireTensor(fullRuns[i].file, `block.queries.${l}`, "F32")), rows: q.request.tokens.length }));
      attentionSpread = { entropyRatio: spread.reduce((s, x) => s + x.entropyRatio, 0) / spread.length, maxWeight: Math.max(...spread.map((x) => x.maxWeight)) };
      log(`questions' last-token attention over the full cache: entropy/ln n ${attentionSpread.entropyRatio.toFixed(3)} (1 = uniform), largest weight ${attentionSpread.maxWeight.toFixed(4)} of ${folded} keys`);
    }
    for (const kind of ORACLE_KINDS) {
      log(`oracle ${kind} at ${ratio}×…`);
      let err = 0, div = 0;
      for (const [i, q] of questions.entries()) {
        const T = q.request.tokens.length;
        writeOracleCache({ kernels, model, encoding: ENCODING, store: full.store, fullCache: "all", target: `o${i}`, queries: (l) => readF32(requireTensor(fullRuns[i].file, `block.queries.${l}`, "F32")), rows: T, questionRows: q.query.length, budget, kind });
        const r = await logitsOf({ ...q.request, return_logits: "last", return_kv: false }, full.store, `o${i}`);
        div += kl(fullRuns[i].p, softmax(r.logits));
        err += attentionError({ store: full.store, cache: "all" }, { store: full.store, cache: `o${i}` }, fullRuns[i].file, T);
        full.store.dropCache(`o${i}`);
      }
      rowsOut.push({ policy: `oracle:${kind}`, ratio, budget, attnRelErr: err / questions.length, logitKl: div / questions.length, bytesStored: NaN, bytesSentPerTurn: NaN, ttftKvMs: NaN, ttftReprefillMs: NaN, ttftRatio: NaN, buildSeconds: 0 });
    }
  }
}
await backend?.close();

const config = { model: MODEL, alpha: ALPHA, protect: PROTECT, reduce: REDUCE, select: SELECT, prompt: PROMPT_SOURCE, tokens: stream.length, block: BLOCK, folded, tail: stream.length - folded, episodes: centroids.length, encoding: ENCODING, promptTokens: PROMPT_TOKENS, questions: questions.length, cpus: cpus().length };
if (json) console.log(JSON.stringify({ config, rows: rowsOut, ...(attentionSpread ? { attentionSpread } : {}) }));
else {
  const kib = (b: number) => (b / 1024).toFixed(1);
  if (attentionSpread) console.log(`\nquestions' last-token attention over the full cache: entropy/ln n ${attentionSpread.entropyRatio.toFixed(3)} (1 = uniform), largest weight ${attentionSpread.maxWeight.toFixed(4)} of ${folded} keys`);
  console.log(`\n${MODEL}: ${stream.length} tokens, B = ${BLOCK}, ${centroids.length} episodes, int8 pages, ${questions.length} questions (medians for bytes sent and TTFT)\n`);
  console.log("| policy | compression | budget/head/layer | attn-output rel. err | next-token KL | stored KiB | sent KiB/turn | TTFT kv ms | TTFT re-prefill ms | kv/re-prefill |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rowsOut) {
    const cell = (x: number, f: (x: number) => string) => (Number.isFinite(x) ? f(x) : "—"); // oracle rows have no stored cache or TTFT
    console.log(`| ${r.policy} | ${r.ratio}× | ${r.budget} | ${r.attnRelErr.toFixed(4)} | ${r.logitKl.toExponential(2)} | ${cell(r.bytesStored, kib)} | ${cell(r.bytesSentPerTurn, kib)} | ${cell(r.ttftKvMs, (x) => x.toFixed(1))} | ${cell(r.ttftReprefillMs, (x) => x.toFixed(1))} | ${cell(r.ttftRatio, (x) => x.toFixed(2))} |`);
  }
}
